-- create_messaging: SMS/MMS send path with atomic quota, delivery status, inbound replies, opt-outs, quiet-hours
-- scheduling, review requests with short links.
--   messages                 every outbound and inbound text of a shop (members read; the server writes)
--   message_status_events    server-only: each (MessageSid, MessageStatus) Twilio reported, once
--   messaging_settings       per shop: quiet-hours window (narrow only), templates, review reminder delay
--   review_requests          one request per customer per 90 days, short link code, click/reply tracking
--   send_rate_counters       server-only: sends per (shop, minute) for the plan's sends_per_minute
--   shared_number_opt_outs   server-only: STOP sent to the platform's shared number (applies to every shop)
-- The edge functions (send-sms, twilio-status, twilio-inbound, message-dispatcher, r) reach this only through
-- the public security-definer RPCs at the end, granted to service_role alone.

-- ============================================================================================ tables
create table public.messages (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  customer_id uuid references public.customers (id) on delete set null,
  direction text not null constraint messages_direction_check check (direction in ('outbound', 'inbound')),
  to_phone text not null constraint messages_to_check check (to_phone ~ '^\+[1-9][0-9]{6,14}$'),
  from_phone text constraint messages_from_check check (from_phone ~ '^\+[1-9][0-9]{6,14}$'),
  from_shared boolean not null default true,
  body text not null default '' constraint messages_body_check check (char_length(body) <= 1600),
  media_paths text[] not null default '{}'
    constraint messages_media_check check (cardinality(media_paths) <= 10),
  template text constraint messages_template_check
    check (template in ('pickup_ready', 'review_request', 'review_reminder', 'custom')),
  status text not null constraint messages_status_check check (status in (
    'scheduled', 'pending', 'accepted', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed',
    'unknown', 'received', 'canceled')),
  segments integer not null default 1 constraint messages_segments_check check (segments between 1 and 20),
  encoding text constraint messages_encoding_check check (encoding in ('GSM-7', 'UCS-2')),
  quota_metric public.usage_metric,
  quota_amount integer not null default 0 constraint messages_quota_amount_check check (quota_amount >= 0),
  twilio_sid text constraint messages_sid_key unique
    constraint messages_sid_check check (twilio_sid ~ '^(SM|MM)[0-9a-fA-F]{32}$'),
  twilio_segments integer,
  error_code integer,
  error_message text constraint messages_error_message_check check (char_length(error_message) <= 500),
  idempotency_key text constraint messages_idempotency_check check (char_length(idempotency_key) between 1 and 200),
  send_at timestamptz,
  attempts integer not null default 0,
  repair_order_id uuid,
  review_request_id uuid,
  keyword text constraint messages_keyword_check check (keyword in ('stop', 'start', 'help')),
  read_at timestamptz,
  sent_at timestamptz,
  delivered_at timestamptz,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint messages_tenant_idempotency_key unique (tenant_id, idempotency_key)
);
alter table public.messages enable row level security;
comment on table public.messages is
  'Every text of a shop, outbound and inbound. Members read their shop''s thread and mark inbound ones read '
  '(read_at); everything else is written by the send path RPCs (service role) so quota, usage and consent stay '
  'consistent. Unread inbound messages are the in-app notification.';

create table public.message_status_events (
  id bigint generated always as identity primary key,
  message_sid text not null constraint message_status_events_sid_check check (char_length(message_sid) <= 64),
  status text not null constraint message_status_events_status_check check (char_length(status) <= 32),
  error_code integer,
  account_sid text,
  idempotency_token text,
  raw jsonb not null default '{}',
  received_at timestamptz not null default now(),
  constraint message_status_events_sid_status_key unique (message_sid, status)
);
alter table public.message_status_events enable row level security;
comment on table public.message_status_events is
  'Server-only: RLS on and no policies on purpose. Each (MessageSid, MessageStatus) Twilio reported, recorded '
  'once (callbacks are retried, duplicated and unordered); the message row keeps the furthest status.';

create table public.messaging_settings (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  quiet_start time not null default '08:00',
  quiet_end time not null default '21:00',
  pickup_template text not null
    default 'Hi {first_name}, your {vehicle} is ready for pickup at {shop_name}. Reply STOP to opt out.'
    constraint messaging_settings_pickup_check check (char_length(pickup_template) between 1 and 1000),
  review_template text not null
    default 'Hi {first_name}, thanks for choosing {shop_name}! Would you share a quick review? {review_link}'
    constraint messaging_settings_review_check check (char_length(review_template) between 1 and 1000),
  review_reminder_days integer default 3
    constraint messaging_settings_reminder_check check (review_reminder_days between 1 and 30),
  updated_at timestamptz not null default now(),
  -- The shop may narrow the 08:00-21:00 window, never widen it (state rules narrow it further per recipient).
  constraint messaging_settings_window_check
    check (quiet_start >= '08:00' and quiet_end <= '21:00' and quiet_start < quiet_end)
);
alter table public.messaging_settings enable row level security;
comment on table public.messaging_settings is
  'Per-shop messaging settings: the sending window (may only narrow 08:00-21:00), the two templates with merge '
  'fields {first_name} {shop_name} {vehicle} {review_link}, and the review reminder delay (null: no reminder). '
  'Members read; owners and admins write. A shop without a row uses the defaults.';

create table public.review_requests (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  customer_id uuid not null references public.customers (id) on delete cascade,
  code text not null constraint review_requests_code_key unique
    constraint review_requests_code_check check (code ~ '^[A-Za-z0-9]{8,16}$'),
  message_id uuid references public.messages (id) on delete set null,
  reminder_message_id uuid references public.messages (id) on delete set null,
  reminder_at timestamptz,
  status text not null default 'queued'
    constraint review_requests_status_check check (status in ('queued', 'sent', 'failed', 'canceled')),
  paused_at timestamptz,
  clicked_at timestamptz,
  click_count integer not null default 0,
  replied_at timestamptz,
  sent_at timestamptz,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.review_requests enable row level security;
comment on table public.review_requests is
  'Review requests: the same Google review link for every customer (no sentiment gating), sent through our '
  'short link /r/<code> that records clicks. At most one per customer per 90 days and one reminder unless '
  'clicked or replied. Members read; owners/admins pause through messaging_pause_review_request().';

create table public.send_rate_counters (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  minute timestamptz not null,
  sends integer not null default 0,
  primary key (tenant_id, minute)
);
alter table public.send_rate_counters enable row level security;
comment on table public.send_rate_counters is
  'Server-only: RLS on and no policies on purpose. Sends per shop and minute, incremented by one conditional '
  'upsert against the plan''s sends_per_minute; old minutes are pruned by the dispatcher.';

create table public.shared_number_opt_outs (
  phone text not null constraint shared_number_opt_outs_phone_check check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  number text not null constraint shared_number_opt_outs_number_check check (number ~ '^\+[1-9][0-9]{6,14}$'),
  opted_out_at timestamptz not null default now(),
  primary key (phone, number)
);
alter table public.shared_number_opt_outs enable row level security;
comment on table public.shared_number_opt_outs is
  'Server-only: RLS on and no policies on purpose. A STOP sent to the platform''s shared number: the carrier '
  'blocks that pair for every shop using the number, so no shop sends to it from there until START.';

-- ============================================================================================ indexes
create index messages_tenant_customer_idx on public.messages (tenant_id, customer_id, created_at desc);
create index messages_tenant_created_idx on public.messages (tenant_id, created_at desc);
create index messages_customer_id_idx on public.messages (customer_id);
create index messages_created_by_idx on public.messages (created_by);
create index messages_due_idx on public.messages (send_at) where status = 'scheduled';
create index messages_unknown_idx on public.messages (created_at) where status = 'unknown';
create index messages_shared_route_idx on public.messages (to_phone, created_at desc)
  where direction = 'outbound' and from_shared;
create index messages_unread_idx on public.messages (tenant_id) where direction = 'inbound' and read_at is null;
create index review_requests_tenant_customer_idx on public.review_requests (tenant_id, customer_id, created_at desc);
create index review_requests_customer_id_idx on public.review_requests (customer_id);
create index review_requests_message_id_idx on public.review_requests (message_id);
create index review_requests_reminder_message_id_idx on public.review_requests (reminder_message_id);
create index review_requests_created_by_idx on public.review_requests (created_by);
create index review_requests_reminder_due_idx on public.review_requests (sent_at)
  where status = 'sent' and reminder_at is null and clicked_at is null and replied_at is null;

-- ============================================================================================ triggers
create trigger forbid_tenant_change before update on public.messages
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.messages
  for each row execute function private.set_updated_at();
create trigger forbid_tenant_change before update on public.messaging_settings
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.messaging_settings
  for each row execute function private.set_updated_at();
create trigger forbid_tenant_change before update on public.review_requests
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.review_requests
  for each row execute function private.set_updated_at();
create trigger forbid_tenant_change before update on public.send_rate_counters
  for each row execute function private.forbid_tenant_change();

-- ============================================================================================ private helpers
-- Fix for core_domain's private.consume_quota: it tested FOUND after EXECUTE, but EXECUTE never sets FOUND
-- (PL/pgSQL docs), so every reservation was reported ok=false while the counter had been incremented. Same
-- signature and semantics; the outcome now comes from GET DIAGNOSTICS ROW_COUNT of the one conditional UPDATE.
create or replace function private.consume_quota(
  tenant_id uuid, metric public.usage_metric, amount integer, allow_overage boolean default false
)
returns table (ok boolean, used integer, cap integer, period_end timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_counter text := private.quota_column(consume_quota.metric);
  v_cap integer;
  v_used integer;
  v_end timestamptz;
  v_rows integer;
begin
  if consume_quota.amount is null or consume_quota.amount <= 0 then
    raise exception 'invalid_amount: the amount to reserve must be positive' using errcode = '22023';
  end if;
  if v_counter is null then
    return query select true, 0, null::integer, null::timestamptz;
    return;
  end if;
  execute format(
    'update public.tenant_quota q
        set %1$I = q.%1$I + $2
       from public.tenants t join public.plans p on p.id = t.plan
      where q.tenant_id = $1 and t.id = q.tenant_id
        and ($3 or q.%1$I + $2 <= p.%2$I)
     returning q.%1$I, p.%2$I, q.period_end',
    v_counter || '_used', case v_counter when 'mms' then 'mms_messages' else v_counter end)
    into v_used, v_cap, v_end
    using consume_quota.tenant_id, consume_quota.amount, consume_quota.allow_overage;
  get diagnostics v_rows = row_count;
  if v_rows > 0 then
    return query select true, v_used, v_cap, v_end;
    return;
  end if;
  execute format(
    'select q.%1$I, p.%2$I, q.period_end from public.tenant_quota q
       join public.tenants t on t.id = q.tenant_id join public.plans p on p.id = t.plan
      where q.tenant_id = $1',
    v_counter || '_used', case v_counter when 'mms' then 'mms_messages' else v_counter end)
    into v_used, v_cap, v_end
    using consume_quota.tenant_id;
  return query select false, v_used, v_cap, v_end;
end;
$$;
revoke all on function private.consume_quota(uuid, public.usage_metric, integer, boolean) from public;

-- Forward-only status order. Terminal statuses (rank 9) never change again.
create function private.message_status_rank(status text)
returns integer
language sql
immutable
set search_path = ''
as $$
  select case message_status_rank.status
    when 'scheduled' then 0 when 'pending' then 1 when 'unknown' then 1 when 'accepted' then 2
    when 'queued' then 3 when 'sending' then 4 when 'sent' then 5
    when 'delivered' then 9 when 'undelivered' then 9 when 'failed' then 9 when 'canceled' then 9
    when 'received' then 9 when 'read' then 9
    else -1 end;
$$;

-- THE one place that decides whether billing standing allows an outbound message of this kind.
-- private.tenant_standing (billing) answers ok | past_due | locked | suspended.
--   past_due: review requests blocked, transactional/conversational messages still go;
--   locked (trial over), suspended/canceled: no outbound at all.
create function private.messaging_standing_allows(tenant_id uuid, template text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select case private.tenant_standing(messaging_standing_allows.tenant_id)
    when 'ok' then true
    when 'past_due' then coalesce(messaging_standing_allows.template, 'custom')
                         not in ('review_request', 'review_reminder')
    else false end;
$$;

-- THE one place that decides whether a send may go past the monthly cap.
-- metered overage: yes. Transactional pickup notices: yes unless the owner explicitly chose hard stop
-- (billing records that choice in tenants.overage_policy_chosen_at when it adds the setting; until then the
-- hard stop is the default nobody chose, and pickup notices are never blocked by it).
create function private.messaging_allow_overage(tenant_id uuid, template text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select t.overage_policy = 'metered'
      or (messaging_allow_overage.template = 'pickup_ready'
          and (to_jsonb(t) ->> 'overage_policy_chosen_at') is null)
  from public.tenants t
  where t.id = messaging_allow_overage.tenant_id;
$$;

-- Which shop owns an inbound number that is not the shared one: the telephony migration's
-- public.tenant_phone_numbers (tenant_id, e164, status), created after this one, hence the dynamic lookup.
create function private.messaging_tenant_for_number(number text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v uuid;
begin
  if to_regclass('public.tenant_phone_numbers') is null then
    return null;
  end if;
  execute 'select tenant_id from public.tenant_phone_numbers where e164 = $1 and status <> ''released'' limit 1'
    into v using messaging_tenant_for_number.number;
  return v;
exception when undefined_column then
  return null;
end;
$$;

-- Give back what a message reserved and reverse its usage event (a definite non-send or a cancel).
create function private.messaging_release(message_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  m public.messages;
begin
  select * into m from public.messages where id = messaging_release.message_id for update;
  if not found or m.quota_amount = 0 or m.quota_metric is null then
    return;
  end if;
  perform private.release_quota(m.tenant_id, m.quota_metric, m.quota_amount);
  perform private.record_usage(m.tenant_id, m.quota_metric, -m.quota_amount, 'message_reversal', m.id::text);
  update public.messages set quota_amount = 0 where id = m.id;
end;
$$;

-- One conditional upsert: the minute's counter grows only while it is below the plan's limit.
create function private.messaging_take_rate(tenant_id uuid)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_limit integer;
  v_n integer;
begin
  select p.sends_per_minute into v_limit
  from public.tenants t join public.plans p on p.id = t.plan where t.id = messaging_take_rate.tenant_id;
  insert into public.send_rate_counters as c (tenant_id, minute, sends)
  values (messaging_take_rate.tenant_id, date_trunc('minute', now()), 1)
  on conflict on constraint send_rate_counters_pkey do update set sends = c.sends + 1 where c.sends < v_limit
  returning c.sends into v_n;
  return v_n is not null;
end;
$$;

-- ============================================================================================ policies
create policy messages_select_members on public.messages for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));
create policy messages_update_members on public.messages for update to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]))
  with check (tenant_id = any ((select private.current_tenant_ids())::uuid[]));

create policy messaging_settings_select_members on public.messaging_settings for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));
create policy messaging_settings_insert_admins on public.messaging_settings for insert to authenticated
  with check (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));
create policy messaging_settings_update_admins on public.messaging_settings for update to authenticated
  using (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]))
  with check (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));

create policy review_requests_select_members on public.review_requests for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));

-- ============================================================================================ RPCs
-- What send-sms needs before it renders: membership, customer, shop, settings, opt-out. Read-only.
create function public.messaging_send_context(
  user_id uuid, tenant_id uuid, customer_id uuid default null, to_phone text default null
)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_customer public.customers;
  v_tenant public.tenants;
  v_settings public.messaging_settings;
  v_phone text := messaging_send_context.to_phone;
begin
  if not exists (select 1 from public.memberships m
                 where m.tenant_id = messaging_send_context.tenant_id and m.user_id = messaging_send_context.user_id) then
    raise exception 'forbidden: you are not a member of this shop' using errcode = '42501';
  end if;
  select * into v_tenant from public.tenants t where t.id = messaging_send_context.tenant_id;
  if messaging_send_context.customer_id is not null then
    select * into v_customer from public.customers c
    where c.id = messaging_send_context.customer_id and c.tenant_id = messaging_send_context.tenant_id;
    if not found then
      raise exception 'customer_not_found: no such customer in this shop' using errcode = 'P0001';
    end if;
    v_phone := v_customer.phone;
  elsif v_phone is not null then
    select * into v_customer from public.customers c
    where c.tenant_id = messaging_send_context.tenant_id and c.phone = v_phone;
  end if;
  select * into v_settings from public.messaging_settings s where s.tenant_id = messaging_send_context.tenant_id;
  return jsonb_build_object(
    'tenant', jsonb_build_object('id', v_tenant.id, 'name', v_tenant.name, 'time_zone', v_tenant.time_zone,
                                 'google_review_url', v_tenant.google_review_url, 'phone', v_tenant.phone),
    'customer', case when v_customer.id is null then null else jsonb_build_object(
      'id', v_customer.id, 'name', v_customer.name, 'phone', v_customer.phone, 'vehicles', v_customer.vehicles) end,
    'phone', v_phone,
    'opted_out', v_phone is not null and private.is_opted_out(messaging_send_context.tenant_id, v_phone),
    'settings', jsonb_build_object(
      'quiet_start', to_char(coalesce(v_settings.quiet_start, '08:00'::time), 'HH24:MI'),
      'quiet_end', to_char(coalesce(v_settings.quiet_end, '21:00'::time), 'HH24:MI'),
      'pickup_template', coalesce(v_settings.pickup_template,
        'Hi {first_name}, your {vehicle} is ready for pickup at {shop_name}. Reply STOP to opt out.'),
      'review_template', coalesce(v_settings.review_template,
        'Hi {first_name}, thanks for choosing {shop_name}! Would you share a quick review? {review_link}'),
      'review_reminder_days', case when v_settings.tenant_id is null then 3 else v_settings.review_reminder_days end)
  );
end;
$$;
comment on function public.messaging_send_context(uuid, uuid, uuid, text) is
  'Server-only (send-sms): checks the acting user''s membership and returns what rendering needs.';

-- The send path's one transaction: membership, standing, opt-out, idempotency, quota (atomic, in segments or
-- MMS), rate limit, the message row and its usage event. Errors: '<code>: <sentence>' with a JSON detail.
-- user_id null = the platform itself (dispatcher reminders); every other caller passes the verified JWT's sub.
create function public.messaging_reserve_send(
  user_id uuid, tenant_id uuid, customer_id uuid, to_phone text, from_phone text, from_shared boolean,
  template text, body text, media_paths text[], segments integer, encoding text, idempotency_key text,
  send_at timestamptz default null, repair_order_id uuid default null, review_code text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_tenant uuid := messaging_reserve_send.tenant_id;
  v_existing public.messages;
  v_id uuid := gen_random_uuid();
  v_metric public.usage_metric;
  v_amount integer;
  v_quota record;
  v_scheduled boolean := messaging_reserve_send.send_at is not null and messaging_reserve_send.send_at > now();
  v_review uuid;
  v_customer uuid := messaging_reserve_send.customer_id;
begin
  if messaging_reserve_send.user_id is not null and not exists (
    select 1 from public.memberships m where m.tenant_id = v_tenant and m.user_id = messaging_reserve_send.user_id) then
    raise exception 'forbidden: you are not a member of this shop' using errcode = '42501';
  end if;
  if messaging_reserve_send.idempotency_key is null or messaging_reserve_send.idempotency_key !~ '^.{1,200}$' then
    raise exception 'invalid_idempotency_key: send an idempotency_key of 1 to 200 characters' using errcode = '22023';
  end if;
  if messaging_reserve_send.to_phone is null or messaging_reserve_send.to_phone !~ '^\+[1-9][0-9]{6,14}$' then
    raise exception 'invalid_phone: the recipient must be an E.164 number' using errcode = '22023';
  end if;
  if messaging_reserve_send.segments is null or messaging_reserve_send.segments not between 1 and 20 then
    raise exception 'invalid_body: a message is 1 to 20 segments' using errcode = '22023';
  end if;
  if v_customer is not null and not exists (
    select 1 from public.customers c where c.id = v_customer and c.tenant_id = v_tenant) then
    raise exception 'customer_not_found: no such customer in this shop' using errcode = 'P0001';
  end if;

  -- Idempotency first: a retry answers with the first message, whatever has changed since.
  select * into v_existing from public.messages m
  where m.tenant_id = v_tenant and m.idempotency_key = messaging_reserve_send.idempotency_key;
  if found then
    return jsonb_build_object('id', v_existing.id, 'status', v_existing.status, 'segments', v_existing.segments,
      'send_at', v_existing.send_at, 'replayed', true);
  end if;

  if not private.messaging_standing_allows(v_tenant, messaging_reserve_send.template) then
    raise exception 'billing_inactive: this shop''s subscription is not in good standing for this message'
      using errcode = 'P0001', detail = jsonb_build_object('standing', private.tenant_standing(v_tenant))::text;
  end if;
  if private.is_opted_out(v_tenant, messaging_reserve_send.to_phone)
     or (messaging_reserve_send.from_shared and exists (
       select 1 from public.shared_number_opt_outs o
       where o.phone = messaging_reserve_send.to_phone and o.number = messaging_reserve_send.from_phone)) then
    raise exception 'opted_out: this customer has opted out of text messages' using errcode = 'P0001';
  end if;

  if messaging_reserve_send.template = 'review_request' then
    if v_customer is null then
      raise exception 'customer_required: review requests go to a saved customer' using errcode = '22023';
    end if;
    -- Serialise review requests per customer so two concurrent ones cannot both pass the 90-day check.
    perform pg_advisory_xact_lock(hashtextextended('review_request:' || v_tenant::text || ':' || v_customer::text, 0));
    -- A concurrent retry of the same request committed while we waited: answer with it.
    select * into v_existing from public.messages m
    where m.tenant_id = v_tenant and m.idempotency_key = messaging_reserve_send.idempotency_key;
    if found then
      return jsonb_build_object('id', v_existing.id, 'status', v_existing.status, 'segments', v_existing.segments,
        'send_at', v_existing.send_at, 'replayed', true);
    end if;
    if exists (select 1 from public.review_requests r
               where r.tenant_id = v_tenant and r.customer_id = v_customer and r.status <> 'canceled'
                 and r.status <> 'failed' and r.created_at > now() - interval '90 days') then
      raise exception 'review_recently_requested: this customer got a review request in the last 90 days'
        using errcode = 'P0001';
    end if;
  end if;

  -- Claim the key. Concurrent twins block here on the unique index; the loser returns the winner's message.
  insert into public.messages (id, tenant_id, customer_id, direction, to_phone, from_phone, from_shared, body,
    media_paths, template, status, segments, encoding, idempotency_key, send_at, repair_order_id, created_by)
  values (v_id, v_tenant, v_customer, 'outbound', messaging_reserve_send.to_phone, messaging_reserve_send.from_phone,
    coalesce(messaging_reserve_send.from_shared, true), coalesce(messaging_reserve_send.body, ''),
    coalesce(messaging_reserve_send.media_paths, '{}'), messaging_reserve_send.template,
    case when v_scheduled then 'scheduled' else 'pending' end, messaging_reserve_send.segments,
    messaging_reserve_send.encoding, messaging_reserve_send.idempotency_key,
    case when v_scheduled then messaging_reserve_send.send_at end, messaging_reserve_send.repair_order_id,
    messaging_reserve_send.user_id)
  on conflict on constraint messages_tenant_idempotency_key do nothing;
  if not found then
    select * into v_existing from public.messages m
    where m.tenant_id = v_tenant and m.idempotency_key = messaging_reserve_send.idempotency_key;
    return jsonb_build_object('id', v_existing.id, 'status', v_existing.status, 'segments', v_existing.segments,
      'send_at', v_existing.send_at, 'replayed', true);
  end if;

  -- Quota: one conditional UPDATE (private.consume_quota), in segments, or one MMS.
  if cardinality(coalesce(messaging_reserve_send.media_paths, '{}')) > 0 then
    v_metric := 'mms_outbound'; v_amount := 1;
  else
    v_metric := 'sms_outbound'; v_amount := messaging_reserve_send.segments;
  end if;
  select * into v_quota from private.consume_quota(v_tenant, v_metric, v_amount,
    coalesce(private.messaging_allow_overage(v_tenant, messaging_reserve_send.template), false));
  if not v_quota.ok then
    raise exception 'quota_exceeded: this month''s % allowance is used up; upgrade your plan or turn on overage',
      case v_metric when 'mms_outbound' then 'MMS' else 'SMS' end
      using errcode = 'P0001', detail = jsonb_build_object('metric', v_metric, 'used', v_quota.used,
        'cap', v_quota.cap, 'period_end', v_quota.period_end, 'upgrade_hint',
        (select jsonb_build_object('plan', p.id, 'label', p.label, 'sms_segments', p.sms_segments)
         from public.plans p, public.tenants t
         join public.plans cur on cur.id = t.plan
         where t.id = v_tenant and p.is_public and p.sort_order > cur.sort_order
         order by p.sort_order limit 1))::text;
  end if;

  -- Rate limit only what goes out now; the dispatcher takes the same counter when a scheduled one leaves.
  if not v_scheduled and not private.messaging_take_rate(v_tenant) then
    raise exception 'rate_limited: this shop is sending too fast; try again in a minute'
      using errcode = 'P0001', detail = jsonb_build_object(
        'retry_after', 60 - floor(extract(epoch from now()) - extract(epoch from date_trunc('minute', now()))))::text;
  end if;

  update public.messages set quota_metric = v_metric, quota_amount = v_amount where id = v_id;
  perform private.record_usage(v_tenant, v_metric, v_amount, 'message', v_id::text);

  if messaging_reserve_send.template = 'review_request' then
    insert into public.review_requests (tenant_id, customer_id, code, message_id, created_by)
    values (v_tenant, v_customer, messaging_reserve_send.review_code, v_id, messaging_reserve_send.user_id)
    returning id into v_review;
    update public.messages set review_request_id = v_review where id = v_id;
  end if;

  return jsonb_build_object('id', v_id, 'status', case when v_scheduled then 'scheduled' else 'pending' end,
    'segments', messaging_reserve_send.segments, 'send_at',
    case when v_scheduled then messaging_reserve_send.send_at end, 'replayed', false);
end;
$$;
comment on function public.messaging_reserve_send(uuid, uuid, uuid, text, text, boolean, text, text, text[],
  integer, text, text, timestamptz, uuid, text) is
  'Server-only (send-sms, dispatcher): reserve → (Twilio) → messaging_settle_send. One transaction.';

-- The outcome of the Twilio call. outcome: 'sent' (Twilio accepted: sid + status), 'failed' (a definite
-- non-send: the reservation is released and the usage reversed; 21610 also records the carrier opt-out),
-- 'unknown' (ambiguous: quota kept, reconciled later, never resent), 'retry' (never processed, e.g. 20429
-- after the bounded retries: back to scheduled in a minute, quota kept).
create function public.messaging_settle_send(
  message_id uuid, outcome text, twilio_sid text default null, status text default null,
  error_code integer default null, error_message text default null, twilio_segments integer default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  m public.messages;
  v_status text;
  e record;
begin
  select * into m from public.messages where id = messaging_settle_send.message_id for update;
  if not found then
    raise exception 'message_not_found: no such message' using errcode = 'P0001';
  end if;
  if messaging_settle_send.outcome = 'sent' then
    v_status := coalesce(messaging_settle_send.status, 'queued');
    update public.messages set twilio_sid = messaging_settle_send.twilio_sid,
      status = case when private.message_status_rank(v_status) > private.message_status_rank(status)
                    then v_status else status end,
      twilio_segments = messaging_settle_send.twilio_segments, sent_at = coalesce(sent_at, now()),
      attempts = attempts + 1
    where id = m.id;
    -- Callbacks that arrived before this answer (recorded by sid) are applied now.
    for e in select s.status, s.error_code from public.message_status_events s
             where s.message_sid = messaging_settle_send.twilio_sid order by s.id loop
      update public.messages set
        status = case when private.message_status_rank(e.status) > private.message_status_rank(status)
                      and private.message_status_rank(status) < 9 then e.status else status end,
        error_code = coalesce(error_code, e.error_code),
        delivered_at = case when e.status = 'delivered' then coalesce(delivered_at, now()) else delivered_at end
      where id = m.id;
    end loop;
    if m.review_request_id is not null then
      update public.review_requests set status = 'sent', sent_at = coalesce(sent_at, now())
      where id = m.review_request_id and status = 'queued';
    end if;
  elsif messaging_settle_send.outcome = 'failed' then
    update public.messages set status = 'failed', error_code = messaging_settle_send.error_code,
      error_message = left(messaging_settle_send.error_message, 500), attempts = attempts + 1
    where id = m.id;
    perform private.messaging_release(m.id);
    if messaging_settle_send.error_code = 21610 then
      insert into public.consent_events (tenant_id, customer_id, phone, action, source, source_detail)
      values (m.tenant_id, m.customer_id, m.to_phone, 'opt_out', 'carrier', 'Twilio error 21610 from ' || m.from_phone);
      if m.from_shared and m.from_phone is not null then
        insert into public.shared_number_opt_outs (phone, number) values (m.to_phone, m.from_phone)
        on conflict do nothing;
      end if;
    end if;
    if m.review_request_id is not null then
      update public.review_requests set status = 'failed' where id = m.review_request_id;
    end if;
  elsif messaging_settle_send.outcome = 'unknown' then
    update public.messages set status = 'unknown', error_message = left(messaging_settle_send.error_message, 500),
      attempts = attempts + 1
    where id = m.id and status in ('pending', 'unknown');
  elsif messaging_settle_send.outcome = 'retry' then
    update public.messages set status = 'scheduled', send_at = now() + interval '1 minute',
      error_code = messaging_settle_send.error_code, attempts = attempts + 1
    where id = m.id and status = 'pending';
  else
    raise exception 'invalid_argument: outcome is sent, failed, unknown or retry' using errcode = '22023';
  end if;
  select * into m from public.messages where id = m.id;
  return jsonb_build_object('id', m.id, 'status', m.status, 'segments', m.segments, 'send_at', m.send_at,
    'error_code', m.error_code);
end;
$$;

-- A Twilio status callback (signature already verified by twilio-status). Each (sid, status) once; the
-- message moves only forward; terminal statuses never regress; error codes are kept.
create function public.messaging_record_status(
  message_sid text, status text, error_code integer default null, account_sid text default null,
  idempotency_token text default null, raw jsonb default '{}'
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_status text := lower(messaging_record_status.status);
  v_id uuid;
  v_now text;
begin
  if messaging_record_status.message_sid is null or messaging_record_status.message_sid !~ '^(SM|MM)[0-9a-fA-F]{32}$' then
    raise exception 'invalid_argument: MessageSid is missing or malformed' using errcode = '22023';
  end if;
  if private.message_status_rank(v_status) < 0 then
    raise exception 'invalid_argument: unknown MessageStatus' using errcode = '22023';
  end if;
  insert into public.message_status_events (message_sid, status, error_code, account_sid, idempotency_token, raw)
  values (messaging_record_status.message_sid, v_status, messaging_record_status.error_code,
          messaging_record_status.account_sid, messaging_record_status.idempotency_token,
          coalesce(messaging_record_status.raw, '{}'))
  on conflict on constraint message_status_events_sid_status_key do nothing;
  if not found then
    return jsonb_build_object('duplicate', true);
  end if;
  update public.messages m set
    status = case when private.message_status_rank(v_status) > private.message_status_rank(m.status)
                  and private.message_status_rank(m.status) < 9 then v_status else m.status end,
    error_code = coalesce(m.error_code, messaging_record_status.error_code),
    delivered_at = case when v_status = 'delivered' then coalesce(m.delivered_at, now()) else m.delivered_at end
  where m.twilio_sid = messaging_record_status.message_sid
  returning m.id, m.status into v_id, v_now;
  return jsonb_build_object('duplicate', false, 'message_id', v_id, 'status', v_now);
end;
$$;

-- An inbound text (signature verified by twilio-inbound). Routes to a shop, applies keywords, stores the
-- message in the thread (a new customer when the number is unknown), counts sms_inbound usage.
-- keyword: 'stop' | 'start' | 'help' | null (classified by the function).
create function public.messaging_record_inbound(
  sms_sid text, from_phone text, to_phone text, body text, media_urls text[], to_shared boolean,
  keyword text default null, num_segments integer default 1
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_tenant uuid;
  v_customer uuid;
  v_id uuid;
  v_name text;
  v_phone text;
  v_shops uuid[];
  t uuid;
begin
  if messaging_record_inbound.from_phone !~ '^\+[1-9][0-9]{6,14}$' or messaging_record_inbound.to_phone !~ '^\+[1-9][0-9]{6,14}$' then
    raise exception 'invalid_phone: From and To must be E.164 numbers' using errcode = '22023';
  end if;
  if messaging_record_inbound.to_shared then
    -- The shop that most recently texted this person from the shared number.
    select m.tenant_id into v_tenant from public.messages m
    where m.direction = 'outbound' and m.from_shared and m.to_phone = messaging_record_inbound.from_phone
      and m.status <> 'canceled'
    order by m.created_at desc limit 1;
    select coalesce(array_agg(distinct m.tenant_id), '{}') into v_shops from public.messages m
    where m.direction = 'outbound' and m.from_shared and m.to_phone = messaging_record_inbound.from_phone;
  else
    v_tenant := private.messaging_tenant_for_number(messaging_record_inbound.to_phone);
    v_shops := case when v_tenant is null then '{}'::uuid[] else array[v_tenant] end;
  end if;

  -- Opt-out scope: a keyword to the shared number concerns every shop using it; to a shop's number, that shop.
  if messaging_record_inbound.keyword in ('stop', 'start') then
    if messaging_record_inbound.to_shared then
      if messaging_record_inbound.keyword = 'stop' then
        insert into public.shared_number_opt_outs (phone, number)
        values (messaging_record_inbound.from_phone, messaging_record_inbound.to_phone) on conflict do nothing;
      else
        delete from public.shared_number_opt_outs o
        where o.phone = messaging_record_inbound.from_phone and o.number = messaging_record_inbound.to_phone;
      end if;
    end if;
    foreach t in array v_shops loop
      insert into public.consent_events (tenant_id, customer_id, phone, action, source, source_detail)
      values (t, (select c.id from public.customers c where c.tenant_id = t and c.phone = messaging_record_inbound.from_phone),
              messaging_record_inbound.from_phone,
              case messaging_record_inbound.keyword when 'stop' then 'opt_out' else 'opt_in' end::public.consent_action,
              'keyword', left(upper(btrim(messaging_record_inbound.body)), 40) || ' to ' || messaging_record_inbound.to_phone);
    end loop;
  end if;

  if v_tenant is null then
    return jsonb_build_object('tenant_id', null, 'duplicate', false);
  end if;

  select c.id into v_customer from public.customers c
  where c.tenant_id = v_tenant and c.phone = messaging_record_inbound.from_phone;
  if v_customer is null then
    insert into public.customers (tenant_id, name, phone, created_by)
    values (v_tenant, messaging_record_inbound.from_phone, messaging_record_inbound.from_phone, null)
    on conflict on constraint customers_tenant_phone_key do nothing
    returning id into v_customer;
    if v_customer is null then
      select c.id into v_customer from public.customers c
      where c.tenant_id = v_tenant and c.phone = messaging_record_inbound.from_phone;
    end if;
  end if;

  insert into public.messages (tenant_id, customer_id, direction, to_phone, from_phone, from_shared, body,
    media_paths, status, segments, twilio_sid, keyword)
  values (v_tenant, v_customer, 'inbound', messaging_record_inbound.to_phone, messaging_record_inbound.from_phone,
    messaging_record_inbound.to_shared, left(coalesce(messaging_record_inbound.body, ''), 1600),
    coalesce(messaging_record_inbound.media_urls, '{}'), 'received',
    least(greatest(coalesce(messaging_record_inbound.num_segments, 1), 1), 20),
    messaging_record_inbound.sms_sid, messaging_record_inbound.keyword)
  on conflict on constraint messages_sid_key do nothing
  returning id into v_id;
  select t2.name, t2.phone into v_name, v_phone from public.tenants t2 where t2.id = v_tenant;
  if v_id is null then
    return jsonb_build_object('tenant_id', v_tenant, 'tenant_name', v_name, 'tenant_phone', v_phone, 'duplicate', true);
  end if;
  perform private.record_usage(v_tenant, 'sms_inbound', least(greatest(coalesce(messaging_record_inbound.num_segments, 1), 1), 20),
    'message', v_id::text);
  if messaging_record_inbound.keyword is null then
    update public.review_requests r set replied_at = coalesce(r.replied_at, now())
    where r.tenant_id = v_tenant and r.customer_id = v_customer and r.status = 'sent';
  end if;
  return jsonb_build_object('tenant_id', v_tenant, 'tenant_name', v_name, 'tenant_phone', v_phone,
    'duplicate', false, 'message_id', v_id, 'customer_id', v_customer);
end;
$$;

-- Dispatcher: claim due scheduled messages (skip locked, so overlapping runs never claim one twice), within each
-- shop's per-minute rate; paused review requests stay put.
create function public.messaging_claim_due(max_rows integer default 100)
returns setof public.messages
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  m public.messages;
begin
  for m in
    select * from public.messages x
    where x.status = 'scheduled' and x.send_at <= now()
      and not exists (select 1 from public.review_requests r where r.id = x.review_request_id and r.paused_at is not null)
    order by x.send_at
    limit greatest(1, least(coalesce(messaging_claim_due.max_rows, 100), 1000))
    for update skip locked
  loop
    if not private.messaging_standing_allows(m.tenant_id, m.template) then
      update public.messages set status = 'failed', error_message = 'billing_inactive' where id = m.id;
      perform private.messaging_release(m.id);
      continue;
    end if;
    if private.is_opted_out(m.tenant_id, m.to_phone) then
      update public.messages set status = 'canceled', error_message = 'opted_out' where id = m.id;
      perform private.messaging_release(m.id);
      continue;
    end if;
    if not private.messaging_take_rate(m.tenant_id) then
      continue;
    end if;
    update public.messages set status = 'pending' where id = m.id returning * into m;
    return next m;
  end loop;
  delete from public.send_rate_counters c where c.minute < now() - interval '1 hour';
end;
$$;

-- Dispatcher: messages left 'unknown' (a create call that timed out) to reconcile against Twilio.
create function public.messaging_unknown_messages(older_than interval default '1 minute', max_rows integer default 100)
returns setof public.messages
language sql
stable
security definer
set search_path = ''
as $$
  select * from public.messages m
  where m.status = 'unknown' and m.created_at < now() - messaging_unknown_messages.older_than
  order by m.created_at limit greatest(1, least(coalesce(messaging_unknown_messages.max_rows, 100), 1000));
$$;

-- Dispatcher: review requests due for their one reminder (not clicked, not replied, not paused).
create function public.messaging_due_review_reminders(max_rows integer default 100)
returns table (review_request_id uuid, tenant_id uuid, customer_id uuid, code text)
language sql
stable
security definer
set search_path = ''
as $$
  select r.id, r.tenant_id, r.customer_id, r.code
  from public.review_requests r
  left join public.messaging_settings s on s.tenant_id = r.tenant_id
  where r.status = 'sent' and r.reminder_at is null and r.clicked_at is null and r.replied_at is null
    and r.paused_at is null
    and (s.tenant_id is null or s.review_reminder_days is not null)
    and r.sent_at <= now() - make_interval(days => coalesce(s.review_reminder_days, 3))
  order by r.sent_at
  limit greatest(1, least(coalesce(messaging_due_review_reminders.max_rows, 100), 1000));
$$;

create function public.messaging_link_reminder(review_request_id uuid, message_id uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  -- message_id null: the reminder was skipped (opted out, over quota…); it is not tried again either way.
  update public.review_requests set reminder_message_id = messaging_link_reminder.message_id, reminder_at = now()
  where id = messaging_link_reminder.review_request_id and reminder_at is null;
$$;

-- The short link /r/<code>: records the click and answers the shop's review URL (null: unknown code).
create function public.messaging_review_click(code text)
returns text
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_url text;
begin
  update public.review_requests r set click_count = r.click_count + 1, clicked_at = coalesce(r.clicked_at, now())
  from public.tenants t
  where r.code = messaging_review_click.code and t.id = r.tenant_id
  returning t.google_review_url into v_url;
  return v_url;
end;
$$;

-- Members: pause or resume a review request (owners/admins), cancel a scheduled message (any member).
create function public.messaging_pause_review_request(tenant_id uuid, review_request_id uuid, paused boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  if not private.has_tenant_role(messaging_pause_review_request.tenant_id, 'admin') then
    raise exception 'forbidden: only owners and admins pause review requests' using errcode = '42501';
  end if;
  update public.review_requests r
  set paused_at = case when messaging_pause_review_request.paused then coalesce(r.paused_at, now()) end
  where r.id = messaging_pause_review_request.review_request_id
    and r.tenant_id = messaging_pause_review_request.tenant_id and r.status = 'queued';
  if not found then
    raise exception 'review_request_not_found: no queued review request with that id in this shop'
      using errcode = 'P0001';
  end if;
end;
$$;

create function public.messaging_cancel_message(tenant_id uuid, message_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  if not private.has_tenant_role(messaging_cancel_message.tenant_id, 'technician') then
    raise exception 'forbidden: you are not a member of this shop' using errcode = '42501';
  end if;
  update public.messages m set status = 'canceled'
  where m.id = messaging_cancel_message.message_id and m.tenant_id = messaging_cancel_message.tenant_id
    and m.status = 'scheduled';
  if not found then
    raise exception 'message_not_cancelable: only a scheduled message of this shop can be canceled'
      using errcode = 'P0001';
  end if;
  perform private.messaging_release(messaging_cancel_message.message_id);
  update public.review_requests r set status = 'canceled'
  where r.message_id = messaging_cancel_message.message_id and r.status = 'queued';
end;
$$;

-- ============================================================================================ grants
revoke all on table public.messages from anon, authenticated;
grant select on table public.messages to authenticated;
grant update (read_at) on table public.messages to authenticated;
grant all on table public.messages to service_role;
grant all on table public.message_status_events to service_role;
revoke all on table public.messaging_settings from anon, authenticated;
grant select, insert on table public.messaging_settings to authenticated;
grant update (quiet_start, quiet_end, pickup_template, review_template, review_reminder_days)
  on table public.messaging_settings to authenticated;
grant all on table public.messaging_settings to service_role;
revoke all on table public.review_requests from anon, authenticated;
grant select on table public.review_requests to authenticated;
grant all on table public.review_requests to service_role;
grant all on table public.send_rate_counters to service_role;
grant all on table public.shared_number_opt_outs to service_role;

grant execute on function public.messaging_send_context(uuid, uuid, uuid, text) to service_role;
grant execute on function public.messaging_reserve_send(uuid, uuid, uuid, text, text, boolean, text, text, text[],
  integer, text, text, timestamptz, uuid, text) to service_role;
grant execute on function public.messaging_settle_send(uuid, text, text, text, integer, text, integer) to service_role;
grant execute on function public.messaging_record_status(text, text, integer, text, text, jsonb) to service_role;
grant execute on function public.messaging_record_inbound(text, text, text, text, text[], boolean, text, integer)
  to service_role;
grant execute on function public.messaging_claim_due(integer) to service_role;
grant execute on function public.messaging_unknown_messages(interval, integer) to service_role;
grant execute on function public.messaging_due_review_reminders(integer) to service_role;
grant execute on function public.messaging_link_reminder(uuid, uuid) to service_role;
grant execute on function public.messaging_review_click(text) to service_role;
grant execute on function public.messaging_pause_review_request(uuid, uuid, boolean) to authenticated, service_role;
grant execute on function public.messaging_cancel_message(uuid, uuid) to authenticated, service_role;

-- ============================================================================================ schedule
-- The dispatcher runs every minute: pg_cron calls the message-dispatcher function through pg_net, with the
-- project URL and a key from Vault (secrets 'project_url' and 'cron_function_key'; hosted: create them once with
-- vault.create_secret; locally the stack's bootstrap provides stand-ins). Created only where pg_cron and pg_net
-- exist, so the migration applies anywhere.
do $do$
begin
  if to_regprocedure('cron.schedule(text,text,text)') is not null and to_regnamespace('net') is not null then
    perform cron.schedule('messaging-dispatcher', '* * * * *', $job$
      select net.http_post(
        url := (select decrypted_secret from vault.decrypted_secrets where name = 'project_url')
               || '/functions/v1/message-dispatcher',
        headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization',
          'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = 'cron_function_key')),
        body := '{}'::jsonb,
        timeout_milliseconds := 55000)
    $job$);
  end if;
end
$do$;
