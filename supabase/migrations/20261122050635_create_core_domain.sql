-- create_core_domain: the shared pieces every shop feature plugs into.
--   plans           the one catalog of plan limits and feature flags (billing sells them, everything reads them)
--   tenant_quota    the current period's counters per shop; reserved atomically by private.consume_quota()
--   customers       a shop's customers (capture creates them, messaging texts them)
--   consent_events  the append-only SMS consent ledger (capture records consent, messaging records opt-outs)
--   usage_events    the billable-usage ledger, written by the server in the same transaction as the action
-- Later migrations (billing, messaging, capture, usage) add their own tables and only extend these.

-- ============================================================================================ types
create type public.usage_metric as enum (
  'sms_outbound', 'sms_inbound', 'mms_outbound', 'voice_minutes_inbound', 'voice_minutes_outbound',
  'emails_sent', 'ai_requests', 'ocr_pages'
);
comment on type public.usage_metric is 'What the usage ledger counts. sms_outbound is counted in segments.';

create type public.plan_feature as enum (
  'ai_sms_agent', 'ai_voice_agent', 'dedicated_number', 'campaigns', 'data_export', 'website_generator'
);

create type public.consent_action as enum ('opt_in', 'opt_out');
create type public.consent_source as enum (
  'signed_ro', 'verbal', 'web_form', 'keyword', 'csv_import', 'carrier', 'staff'
);

-- ============================================================================================ tables
create table public.plans (
  id text primary key constraint plans_id_check check (id ~ '^[a-z][a-z0-9_]{0,30}$'),
  label text not null,
  monthly_price_cents integer not null constraint plans_price_check check (monthly_price_cents >= 0),
  trial_days integer constraint plans_trial_days_check check (trial_days > 0),
  -- monthly caps
  sms_segments integer not null constraint plans_sms_check check (sms_segments >= 0),
  mms_messages integer not null constraint plans_mms_check check (mms_messages >= 0),
  voice_minutes integer not null constraint plans_voice_check check (voice_minutes >= 0),
  emails integer not null constraint plans_emails_check check (emails >= 0),
  ai_requests integer not null constraint plans_ai_check check (ai_requests >= 0),
  ocr_pages integer not null constraint plans_ocr_check check (ocr_pages >= 0),
  sends_per_minute integer not null constraint plans_spm_check check (sends_per_minute > 0),
  overage_cents_per_segment numeric(6, 2) not null default 3
    constraint plans_overage_check check (overage_cents_per_segment >= 0),
  features public.plan_feature[] not null default '{}',
  is_public boolean not null default true,
  sort_order integer not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.plans enable row level security;
comment on table public.plans is
  'The one place plan limits and features live (server, PWA and admin views read it; nothing writes a limit '
  'twice). Written by migrations only; Stripe price ids come from configuration (STRIPE_PRICE_<PLAN>), not here.';

insert into public.plans
  (id, label, monthly_price_cents, trial_days, sms_segments, mms_messages, voice_minutes, emails, ai_requests,
   ocr_pages, sends_per_minute, features, sort_order)
values
  ('trial', 'Free trial', 0, 14, 50, 10, 60, 200, 100, 100, 10,
   '{ai_sms_agent,dedicated_number,campaigns,data_export,website_generator}', 0),
  ('starter', 'Starter', 4900, null, 300, 50, 200, 1000, 200, 300, 20,
   '{data_export,website_generator}', 1),
  ('pro', 'Pro', 9900, null, 1000, 200, 1000, 5000, 1000, 1000, 60,
   '{ai_sms_agent,dedicated_number,campaigns,data_export,website_generator}', 2),
  ('elite', 'Elite', 19900, null, 3000, 600, 3000, 20000, 5000, 3000, 120,
   '{ai_sms_agent,ai_voice_agent,dedicated_number,campaigns,data_export,website_generator}', 3);

alter table public.tenants
  add constraint tenants_plan_fkey foreign key (plan) references public.plans (id),
  add column overage_policy text not null default 'hard_stop'
    constraint tenants_overage_policy_check check (overage_policy in ('hard_stop', 'metered'));
comment on column public.tenants.overage_policy is
  'What happens past the SMS cap: hard_stop (default; the send is refused with an upgrade prompt) or metered '
  '(each extra segment is billed as overage on the Stripe subscription). Owners and admins choose.';

create table public.tenant_quota (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  period_start timestamptz not null,
  period_end timestamptz not null,
  sms_segments_used integer not null default 0 constraint tenant_quota_sms_check check (sms_segments_used >= 0),
  mms_used integer not null default 0 constraint tenant_quota_mms_check check (mms_used >= 0),
  voice_minutes_used integer not null default 0 constraint tenant_quota_voice_check check (voice_minutes_used >= 0),
  emails_used integer not null default 0 constraint tenant_quota_emails_check check (emails_used >= 0),
  ai_requests_used integer not null default 0 constraint tenant_quota_ai_check check (ai_requests_used >= 0),
  ocr_pages_used integer not null default 0 constraint tenant_quota_ocr_check check (ocr_pages_used >= 0),
  updated_at timestamptz not null default now(),
  constraint tenant_quota_period_check check (period_end > period_start)
);
alter table public.tenant_quota enable row level security;
comment on table public.tenant_quota is
  'The current quota period''s counters per shop. Members read their own; only the server writes, through '
  'private.consume_quota()/private.release_quota() (one conditional UPDATE each, so concurrent sends cannot '
  'overshoot) and the billing period roll. Trial periods are calendar months; paid ones follow Stripe.';

create table public.customers (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null constraint customers_name_check check (name = btrim(name) and char_length(name) between 1 and 200),
  phone text not null constraint customers_phone_check check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  email text constraint customers_email_check
    check (email = lower(btrim(email)) and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
  vehicles jsonb not null default '[]'
    constraint customers_vehicles_check check (jsonb_typeof(vehicles) = 'array' and jsonb_array_length(vehicles) <= 100),
  notes text constraint customers_notes_check check (char_length(notes) <= 5000),
  archived_at timestamptz,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint customers_tenant_phone_key unique (tenant_id, phone)
);
alter table public.customers enable row level security;
comment on table public.customers is
  'A shop''s customers, one per (shop, E.164 phone). Members create, read and edit; nobody deletes through the '
  'API — archive instead (archived_at), so message history and consent evidence stay.';
comment on column public.customers.vehicles is
  'Vehicles or devices, newest first: [{"label": "2014 BMW 328i", "vin": "…"} | {"label": "Pixel 7"}].';

create table public.consent_events (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  customer_id uuid references public.customers (id) on delete set null,
  phone text not null constraint consent_events_phone_check check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  action public.consent_action not null,
  source public.consent_source not null,
  source_detail text constraint consent_events_detail_check check (char_length(source_detail) <= 500),
  recorded_by uuid references auth.users (id) on delete set null,
  occurred_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
alter table public.consent_events enable row level security;
comment on table public.consent_events is
  'Append-only SMS consent ledger: who agreed or opted out, how (source, e.g. the CSV file name or the keyword), '
  'when, and which member recorded it. Members add consent they collected; keyword and carrier opt-outs are '
  'written by the server. No updates or deletes: it is evidence. The latest event per (shop, phone) decides.';

create table public.usage_events (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  metric public.usage_metric not null,
  quantity integer not null constraint usage_events_quantity_check check (quantity <> 0),
  source_type text not null constraint usage_events_source_type_check check (source_type ~ '^[a-z][a-z0-9_]{0,40}$'),
  source_id text not null constraint usage_events_source_id_check check (char_length(source_id) between 1 and 200),
  occurred_at timestamptz not null default now(),
  recorded_at timestamptz not null default clock_timestamp(),
  constraint usage_events_source_key unique (metric, source_type, source_id)
);
alter table public.usage_events enable row level security;
comment on table public.usage_events is
  'Server-only: RLS on and no policies on purpose. The billable-usage ledger, one row per (metric, source), '
  'written in the same transaction as the action (a message, a call, an OCR run) so it is idempotent per source. '
  'A negative quantity reverses an earlier event (source_type ''<type>_reversal''). Read through RPCs.';

-- ============================================================================================ indexes
create index tenants_plan_idx on public.tenants (plan);
create index customers_tenant_id_name_idx on public.customers (tenant_id, lower(name));
create index customers_created_by_idx on public.customers (created_by);
create index consent_events_tenant_phone_idx on public.consent_events (tenant_id, phone, occurred_at desc);
create index consent_events_customer_id_idx on public.consent_events (customer_id);
create index consent_events_recorded_by_idx on public.consent_events (recorded_by);
create index usage_events_tenant_occurred_idx on public.usage_events (tenant_id, occurred_at);
create index usage_events_recorded_at_idx on public.usage_events (recorded_at);

-- ============================================================================================ triggers
create trigger set_updated_at before update on public.plans
  for each row execute function private.set_updated_at();

create trigger forbid_tenant_change before update on public.tenant_quota
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.tenant_quota
  for each row execute function private.set_updated_at();

create trigger forbid_tenant_change before update on public.customers
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.customers
  for each row execute function private.set_updated_at();

create trigger forbid_tenant_change before update on public.consent_events
  for each row execute function private.forbid_tenant_change();

create trigger forbid_tenant_change before update on public.usage_events
  for each row execute function private.forbid_tenant_change();

-- Every shop has a quota row from its first moment: the trial's period is the calendar month (UTC).
create function private.init_tenant_quota()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.tenant_quota (tenant_id, period_start, period_end)
  values (new.id, date_trunc('month', now() at time zone 'UTC') at time zone 'UTC',
          (date_trunc('month', now() at time zone 'UTC') + interval '1 month') at time zone 'UTC')
  on conflict (tenant_id) do nothing;
  return new;
end;
$$;
comment on function private.init_tenant_quota() is 'Trigger: a new shop gets its quota row (calendar-month period).';

create trigger init_tenant_quota after insert on public.tenants
  for each row execute function private.init_tenant_quota();

insert into public.tenant_quota (tenant_id, period_start, period_end)
select t.id, date_trunc('month', now() at time zone 'UTC') at time zone 'UTC',
       (date_trunc('month', now() at time zone 'UTC') + interval '1 month') at time zone 'UTC'
from public.tenants t
on conflict (tenant_id) do nothing;

-- ============================================================================================ private helpers
create function private.has_feature(tenant_id uuid, feature public.plan_feature)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((
    select has_feature.feature = any (p.features)
    from public.tenants t
    join public.plans p on p.id = t.plan
    where t.id = has_feature.tenant_id
  ), false);
$$;
comment on function private.has_feature(uuid, public.plan_feature) is
  'The one server-side feature gate: does the shop''s plan include the feature? (Standing — trial expiry, '
  'past_due, suspended — is decided by the billing migration''s entitlement checks.)';

create function private.quota_column(metric public.usage_metric)
returns text
language sql
immutable
set search_path = ''
as $$
  select case quota_column.metric
    when 'sms_outbound' then 'sms_segments'
    when 'mms_outbound' then 'mms'
    when 'voice_minutes_inbound' then 'voice_minutes'
    when 'voice_minutes_outbound' then 'voice_minutes'
    when 'emails_sent' then 'emails'
    when 'ai_requests' then 'ai_requests'
    when 'ocr_pages' then 'ocr_pages'
  end;
$$;
comment on function private.quota_column(public.usage_metric) is
  'Which tenant_quota counter a metric draws on (null: the metric is counted but not capped, e.g. sms_inbound).';

-- Reserve `amount` of a metric's monthly cap in ONE conditional UPDATE: two concurrent callers can never both
-- pass the check, so the counter cannot overshoot the plan's cap. allow_overage lets the caller go past the cap
-- (the owner chose metered overage, or the message is transactional and never blocked by a soft policy).
create function private.consume_quota(
  tenant_id uuid, metric public.usage_metric, amount integer, allow_overage boolean default false
)
returns table (ok boolean, used integer, cap integer, period_end timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_counter text := private.quota_column(consume_quota.metric);
  v_cap integer;
  v_used integer;
  v_end timestamptz;
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
  if found then
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
comment on function private.consume_quota(uuid, public.usage_metric, integer, boolean) is
  'Atomically reserve amount of the metric''s monthly cap; ok=false (nothing changed) when it would exceed the '
  'cap. Called only by security-definer RPCs (the send path), never directly by clients.';

create function private.release_quota(tenant_id uuid, metric public.usage_metric, amount integer)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_counter text := private.quota_column(release_quota.metric);
begin
  if v_counter is null or release_quota.amount is null or release_quota.amount <= 0 then
    return;
  end if;
  execute format('update public.tenant_quota q set %1$I = greatest(q.%1$I - $2, 0) where q.tenant_id = $1',
                 v_counter || '_used')
    using release_quota.tenant_id, release_quota.amount;
end;
$$;
comment on function private.release_quota(uuid, public.usage_metric, integer) is
  'Give back a reservation that was not used (a send that definitely failed). Server-only.';

create function private.record_usage(
  tenant_id uuid, metric public.usage_metric, quantity integer, source_type text, source_id text,
  occurred_at timestamptz default now()
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.usage_events (tenant_id, metric, quantity, source_type, source_id, occurred_at)
  values (record_usage.tenant_id, record_usage.metric, record_usage.quantity, record_usage.source_type,
          record_usage.source_id, record_usage.occurred_at)
  on conflict on constraint usage_events_source_key do nothing;
  return found;
end;
$$;
comment on function private.record_usage(uuid, public.usage_metric, integer, text, text, timestamptz) is
  'Write a usage event once per (metric, source): true when recorded, false when it already was. Server-only.';

create function private.is_opted_out(tenant_id uuid, phone text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((
    select e.action = 'opt_out'
    from public.consent_events e
    where e.tenant_id = is_opted_out.tenant_id and e.phone = is_opted_out.phone
    order by e.occurred_at desc, e.created_at desc
    limit 1
  ), false);
$$;
comment on function private.is_opted_out(uuid, text) is
  'Has this phone opted out of the shop''s messages? The latest consent event decides.';

-- ============================================================================================ policies
create policy plans_select_public on public.plans
  for select to authenticated
  using (is_public);

create policy tenant_quota_select_members on public.tenant_quota
  for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));

create policy customers_select_members on public.customers
  for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));

create policy customers_insert_members on public.customers
  for insert to authenticated
  with check (
    tenant_id = any ((select private.current_tenant_ids())::uuid[])
    and created_by = (select auth.uid())
  );

create policy customers_update_members on public.customers
  for update to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]))
  with check (tenant_id = any ((select private.current_tenant_ids())::uuid[]));

create policy consent_events_select_members on public.consent_events
  for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));

-- Members record consent they collected themselves, in their own name; opt-outs by keyword or carrier are the
-- server's to write.
create policy consent_events_insert_members on public.consent_events
  for insert to authenticated
  with check (
    tenant_id = any ((select private.current_tenant_ids())::uuid[])
    and recorded_by = (select auth.uid())
    and source in ('signed_ro', 'verbal', 'web_form', 'csv_import', 'staff')
  );

-- ============================================================================================ RPCs
create function public.has_feature(tenant_id uuid, feature public.plan_feature)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not private.has_tenant_role(has_feature.tenant_id, 'technician') then
    raise exception 'not_a_member: you are not a member of this shop' using errcode = '42501';
  end if;
  return private.has_feature(has_feature.tenant_id, has_feature.feature);
end;
$$;
comment on function public.has_feature(uuid, public.plan_feature) is
  'For the PWA: the same decision the server enforces. Members of the shop only.';

-- ============================================================================================ grants
grant update (overage_policy) on public.tenants to authenticated;
grant select on public.plans to authenticated, service_role;
grant select on public.tenant_quota to authenticated;
grant all on public.tenant_quota to service_role;
grant select, insert, update (name, phone, email, vehicles, notes, archived_at) on public.customers to authenticated;
grant all on public.customers to service_role;
grant select, insert on public.consent_events to authenticated;
grant all on public.consent_events to service_role;
grant all on public.usage_events to service_role;
grant execute on function public.has_feature(uuid, public.plan_feature) to authenticated, service_role;
-- The private helpers are granted to no one: PostgREST cannot reach schema private, and the feature RPCs that
-- need them (security definer, owned by postgres) call them with their owner's rights.
