-- create_overage_reporting: metered SMS overage reported to Stripe Billing Meters, exactly once.
--   billing_overage_periods   server-only ledger: per shop and paid quota period, the overage segments billable
--                             (monotone) and the part Stripe acknowledged
--   billing_overage_reports   server-only: one row per meter event (a delta with a deterministic identifier),
--                             claimed → sent to Stripe → marked sent; a failed send is re-claimed with the SAME
--                             identifier and value, so Stripe's identifier dedupe makes retries harmless
--   billing_overage_items     server-only: the metered overage subscription item each shop's subscription carries
-- What counts: for a paying shop whose owner chose `metered`, overage = the highest (sms_segments_used − cap −
-- offset) seen in the period. The offset is set when the policy or the plan changes, so segments that went past the
-- cap while the shop was on hard stop (pickup notices nobody chose to block), or that were within the plan before a
-- downgrade, are never billed, and an upgrade does not forgive overage already billed. Counters reset at renewal:
-- a trigger closes the old period with its final value first, so the tail is reported after the reset.
-- Stripe calls happen in the stripe-overage edge function (pg_cron → pg_net every 15 minutes, and on demand when the
-- owner switches policy); nothing here talks HTTP except the cron tick's queued pg_net request.

-- ============================================================================================ tables
create table public.billing_overage_periods (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  period_start timestamptz not null,
  period_end timestamptz not null,
  billable_segments integer not null default 0
    constraint billing_overage_periods_billable_check check (billable_segments >= 0),
  offset_segments integer not null default 0,
  reported_segments integer not null default 0
    constraint billing_overage_periods_reported_check check (reported_segments >= 0),
  closed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint billing_overage_periods_pkey primary key (tenant_id, period_start),
  constraint billing_overage_periods_period_check check (period_end > period_start),
  constraint billing_overage_periods_reported_le_billable check (reported_segments <= billable_segments)
);
alter table public.billing_overage_periods enable row level security;
comment on table public.billing_overage_periods is
  'Server-only: RLS on and no policies. Metered SMS overage per shop and paid quota period: billable_segments '
  '(never decreases) = max over time of sms_segments_used − plan cap − offset_segments while the shop is metered; '
  'reported_segments = the cumulative total Stripe acknowledged (meter events sent). closed_at: the period rolled '
  'over and billable_segments is final.';
comment on column public.billing_overage_periods.offset_segments is
  'Segments over the cap that are not billable (sent before metering was chosen, or within the plan before a '
  'downgrade); negative after an upgrade so overage already billed stays billed. Set by the policy/plan trigger.';

create table public.billing_overage_reports (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  period_start timestamptz not null,
  identifier text not null
    constraint billing_overage_reports_identifier_key unique
    constraint billing_overage_reports_identifier_check check (char_length(identifier) between 1 and 100),
  cumulative_segments integer not null
    constraint billing_overage_reports_cumulative_check check (cumulative_segments > 0),
  segments integer not null constraint billing_overage_reports_segments_check check (segments > 0),
  stripe_customer_id text not null
    constraint billing_overage_reports_customer_check check (stripe_customer_id ~ '^cus_[A-Za-z0-9]+$'),
  event_timestamp timestamptz not null,
  status text not null default 'pending'
    constraint billing_overage_reports_status_check check (status in ('pending', 'sent')),
  claim_token uuid,
  claimed_until timestamptz,
  attempts integer not null default 0,
  last_error text constraint billing_overage_reports_error_check check (char_length(last_error) <= 2000),
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  constraint billing_overage_reports_period_fkey foreign key (tenant_id, period_start)
    references public.billing_overage_periods (tenant_id, period_start) on delete cascade,
  constraint billing_overage_reports_cumulative_key unique (tenant_id, period_start, cumulative_segments)
);
alter table public.billing_overage_reports enable row level security;
comment on table public.billing_overage_reports is
  'Server-only: RLS on and no policies. One Stripe meter event per row: `segments` (the delta) brings the period''s '
  'reported total to cumulative_segments; identifier = <tenant>:<period start, unix>:<cumulative>, so a retry, a '
  'lost answer or an overlapping run sends the same identifier and Stripe counts it once. status pending → sent.';

create table public.billing_overage_items (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  subscription_id text not null
    constraint billing_overage_items_subscription_check check (subscription_id ~ '^sub_[A-Za-z0-9]+$'),
  item_id text not null constraint billing_overage_items_item_check check (item_id ~ '^si_[A-Za-z0-9]+$'),
  price_id text not null constraint billing_overage_items_price_check check (char_length(price_id) between 1 and 255),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.billing_overage_items enable row level security;
comment on table public.billing_overage_items is
  'Server-only: RLS on and no policies. The metered overage subscription item (Stripe si_…) on the shop''s '
  'subscription, added when the owner chose metered overage (at checkout or by stripe-overage), removed when the '
  'shop is back on hard stop and every reported segment has been invoiced.';

-- ============================================================================================ indexes
create index billing_overage_periods_open_idx on public.billing_overage_periods (tenant_id)
  where billable_segments > reported_segments;
create index billing_overage_reports_pending_idx on public.billing_overage_reports (tenant_id, period_start)
  where status = 'pending';

-- ============================================================================================ triggers
create trigger forbid_tenant_change before update on public.billing_overage_periods
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.billing_overage_periods
  for each row execute function private.set_updated_at();
create trigger forbid_tenant_change before update on public.billing_overage_reports
  for each row execute function private.forbid_tenant_change();
create trigger forbid_tenant_change before update on public.billing_overage_items
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.billing_overage_items
  for each row execute function private.set_updated_at();

-- ============================================================================================ private helpers
-- Whether a quota period of this shop is a paid (Stripe) period: the shop pays (active or past_due) and the period
-- started with or after its subscription (the trial's calendar month starts before it and is never billed).
create function private.overage_paid_period(tenant_id uuid, period_start timestamptz)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.tenants t
      join public.tenant_billing b on b.tenant_id = t.id
     where t.id = overage_paid_period.tenant_id
       and t.status in ('active', 'past_due')
       and b.stripe_subscription_id is not null
       and b.subscription_created_at is not null
       and overage_paid_period.period_start >= b.subscription_created_at - interval '1 minute');
$$;

-- Policy or plan changed: first settle what the old state made billable, then rebase the offset for the new one
-- (only while metered does the offset matter; it is recomputed at every switch to metered).
create function private.overage_on_tenant_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_q public.tenant_quota%rowtype;
  v_p public.billing_overage_periods%rowtype;
  v_old_cap integer;
  v_new_cap integer;
  v_billable integer;
  v_offset integer;
begin
  select * into v_q from public.tenant_quota q where q.tenant_id = new.id;
  if not found or not private.overage_paid_period(new.id, v_q.period_start) then
    return null;
  end if;
  select p.sms_segments into v_old_cap from public.plans p where p.id = old.plan;
  select p.sms_segments into v_new_cap from public.plans p where p.id = new.plan;
  insert into public.billing_overage_periods (tenant_id, period_start, period_end)
  values (new.id, v_q.period_start, v_q.period_end)
  on conflict on constraint billing_overage_periods_pkey do nothing;
  select * into v_p from public.billing_overage_periods o
   where o.tenant_id = new.id and o.period_start = v_q.period_start for update;
  v_billable := v_p.billable_segments;
  v_offset := v_p.offset_segments;
  if old.overage_policy = 'metered' then
    v_billable := greatest(v_billable, v_q.sms_segments_used - v_old_cap - v_offset);
  end if;
  if new.overage_policy = 'metered' then
    v_offset := greatest(v_q.sms_segments_used - v_new_cap, 0) - v_billable;
  end if;
  update public.billing_overage_periods o
     set billable_segments = v_billable, offset_segments = v_offset
   where o.tenant_id = new.id and o.period_start = v_q.period_start
     and (o.billable_segments, o.offset_segments) is distinct from (v_billable, v_offset);
  return null;
end;
$$;
comment on function private.overage_on_tenant_change() is
  'Trigger (tenants, overage_policy or plan changed): settle the overage the old state made billable, then set '
  'the offset so only segments past the cap in force, sent while metered, are billed.';

create trigger overage_on_tenant_change after update of overage_policy, plan on public.tenants
  for each row when (old.overage_policy is distinct from new.overage_policy or old.plan is distinct from new.plan)
  execute function private.overage_on_tenant_change();

-- The quota period moved (renewal): close the old period with its final value BEFORE the reset is visible, so the
-- tail is reported afterwards from the ledger.
create function private.overage_on_period_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_policy text;
  v_cap integer;
begin
  select t.overage_policy, p.sms_segments into v_policy, v_cap
    from public.tenants t join public.plans p on p.id = t.plan where t.id = old.tenant_id;
  if v_policy = 'metered' and private.overage_paid_period(old.tenant_id, old.period_start) then
    insert into public.billing_overage_periods (tenant_id, period_start, period_end)
    values (old.tenant_id, old.period_start, old.period_end)
    on conflict on constraint billing_overage_periods_pkey do nothing;
    update public.billing_overage_periods o
       set billable_segments = greatest(o.billable_segments, old.sms_segments_used - v_cap - o.offset_segments),
           period_end = old.period_end,
           closed_at = coalesce(o.closed_at, now())
     where o.tenant_id = old.tenant_id and o.period_start = old.period_start;
  else
    update public.billing_overage_periods o
       set period_end = old.period_end, closed_at = coalesce(o.closed_at, now())
     where o.tenant_id = old.tenant_id and o.period_start = old.period_start and o.closed_at is null;
  end if;
  return null;
end;
$$;
comment on function private.overage_on_period_change() is
  'Trigger (tenant_quota period moved): fix the old period''s final billable overage from the counters as they '
  'were before the reset, and close it.';

create trigger overage_on_period_change after update of period_start on public.tenant_quota
  for each row when (old.period_start is distinct from new.period_start)
  execute function private.overage_on_period_change();

-- ============================================================================================ RPCs
-- Claim the meter events to send now (stripe-overage, service role). Serialised by a transaction advisory lock, so
-- two overlapping runs never both claim the same delta; a claim is a lease (claimed_until): a run that died is
-- replaced after the lease by a resend of the SAME identifier and value.
create function public.billing_overage_claim(
  max_rows integer default 100, lease_seconds integer default 120, for_tenant uuid default null
)
returns table (
  report_id uuid, tenant_id uuid, period_start timestamptz, period_end timestamptz, closed boolean,
  identifier text, segments integer, cumulative_segments integer, stripe_customer_id text,
  event_timestamp timestamptz, claim_token uuid
)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_only uuid := billing_overage_claim.for_tenant;
  v_lease interval := make_interval(secs => greatest(10, least(coalesce(billing_overage_claim.lease_seconds, 120), 3600)));
  v_max integer := greatest(1, least(coalesce(billing_overage_claim.max_rows, 100), 1000));
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('public.billing_overage_claim'));

  -- 1. The current period of every paying, metered shop: create its row, raise billable to the counters.
  insert into public.billing_overage_periods (tenant_id, period_start, period_end)
  select q.tenant_id, q.period_start, q.period_end
    from public.tenant_quota q join public.tenants t on t.id = q.tenant_id
   where t.overage_policy = 'metered' and (v_only is null or q.tenant_id = v_only)
     and private.overage_paid_period(q.tenant_id, q.period_start)
  on conflict on constraint billing_overage_periods_pkey do nothing;

  update public.billing_overage_periods o
     set billable_segments = q.sms_segments_used - p.sms_segments - o.offset_segments,
         period_end = q.period_end
    from public.tenant_quota q
    join public.tenants t on t.id = q.tenant_id
    join public.plans p on p.id = t.plan
   where o.tenant_id = q.tenant_id and o.period_start = q.period_start and o.closed_at is null
     and t.overage_policy = 'metered' and (v_only is null or o.tenant_id = v_only)
     and q.sms_segments_used - p.sms_segments - o.offset_segments > o.billable_segments;

  -- 2. A new delta for each period with unreported overage and no report still pending, when the shop's current
  --    subscription carries the overage item (usage without it would not be billed) and Stripe knows the customer.
  insert into public.billing_overage_reports (tenant_id, period_start, identifier, cumulative_segments, segments,
                                              stripe_customer_id, event_timestamp)
  select o.tenant_id, o.period_start,
         o.tenant_id::text || ':' || extract(epoch from o.period_start)::bigint::text || ':' || o.billable_segments::text,
         o.billable_segments, o.billable_segments - o.reported_segments, b.stripe_customer_id,
         case when o.closed_at is not null or now() >= o.period_end
              then least(now(), o.period_end - interval '1 second')
              else greatest(now(), o.period_start) end
    from public.billing_overage_periods o
    join public.tenant_billing b on b.tenant_id = o.tenant_id
    join public.billing_overage_items i on i.tenant_id = o.tenant_id and i.subscription_id = b.stripe_subscription_id
   where o.billable_segments > o.reported_segments
     and b.stripe_customer_id is not null
     and (v_only is null or o.tenant_id = v_only)
     and not exists (select 1 from public.billing_overage_reports r
                      where r.tenant_id = o.tenant_id and r.period_start = o.period_start and r.status = 'pending')
  on conflict do nothing;

  -- 3. Claim pending reports whose lease is free (new ones, failed ones, ones whose run died), oldest first.
  return query
  with picked as (
    select r.id from public.billing_overage_reports r
     where r.status = 'pending' and (r.claimed_until is null or r.claimed_until < now())
       and (v_only is null or r.tenant_id = v_only)
     order by r.created_at, r.id
     limit v_max
     for update skip locked
  )
  update public.billing_overage_reports r
     set claim_token = gen_random_uuid(), claimed_until = now() + v_lease, attempts = r.attempts + 1
    from picked, public.billing_overage_periods o
   where r.id = picked.id and o.tenant_id = r.tenant_id and o.period_start = r.period_start
  returning r.id, r.tenant_id, r.period_start, o.period_end, o.closed_at is not null, r.identifier, r.segments,
            r.cumulative_segments, r.stripe_customer_id, r.event_timestamp, r.claim_token;
end;
$$;
comment on function public.billing_overage_claim(integer, integer, uuid) is
  'Server-only (stripe-overage): refresh the metered shops'' current overage from tenant_quota, create the next '
  'delta per period (deterministic identifier) and lease up to max_rows pending meter events to send. Serialised.';

-- The outcome of one send. ok: Stripe accepted the identifier (or already had it) → sent, whoever holds the lease
-- (the same identifier and value were sent). Failure: only the current lease holder releases it for the next run.
create function public.billing_overage_mark(
  report_id uuid, claim_token uuid, ok boolean, error text default null
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_r public.billing_overage_reports%rowtype;
begin
  select * into v_r from public.billing_overage_reports r where r.id = billing_overage_mark.report_id for update;
  if not found then
    raise exception 'not_found: no such overage report' using errcode = 'P0002';
  end if;
  if billing_overage_mark.ok then
    if v_r.status = 'sent' then
      return false;
    end if;
    update public.billing_overage_reports r
       set status = 'sent', sent_at = now(), claim_token = null, claimed_until = null, last_error = null
     where r.id = v_r.id;
    update public.billing_overage_periods o
       set reported_segments = greatest(o.reported_segments, v_r.cumulative_segments)
     where o.tenant_id = v_r.tenant_id and o.period_start = v_r.period_start;
    return true;
  end if;
  update public.billing_overage_reports r
     set claim_token = null, claimed_until = null, last_error = left(billing_overage_mark.error, 2000)
   where r.id = v_r.id and r.status = 'pending' and r.claim_token = billing_overage_mark.claim_token;
  return found;
end;
$$;
comment on function public.billing_overage_mark(uuid, uuid, boolean, text) is
  'Server-only (stripe-overage): record a meter event as sent (idempotent; moves reported_segments up) or release '
  'a failed claim for the next run.';

-- Shops whose subscription shape is not what their policy asks for (or one shop, for the owner's switch).
create function public.billing_overage_item_work(for_tenant uuid default null)
returns table (
  tenant_id uuid, overage_policy text, policy_chosen_at timestamptz, stripe_customer_id text,
  subscription_id text, subscription_status text, item_id text, item_price_id text, removable boolean
)
language sql
stable
security definer
set search_path = ''
as $$
  select t.id, t.overage_policy, t.overage_policy_chosen_at, b.stripe_customer_id, b.stripe_subscription_id,
         b.subscription_status, i.item_id, i.price_id,
         not exists (select 1 from public.billing_overage_periods o
                      where o.tenant_id = t.id
                        and (o.billable_segments > o.reported_segments
                             or (o.closed_at is null and o.reported_segments > 0)))
    from public.tenants t
    join public.tenant_billing b on b.tenant_id = t.id
    left join public.billing_overage_items i on i.tenant_id = t.id and i.subscription_id = b.stripe_subscription_id
   where b.stripe_subscription_id is not null
     and b.subscription_status in ('active', 'trialing', 'past_due')
     and (billing_overage_item_work.for_tenant is null or t.id = billing_overage_item_work.for_tenant)
     and (billing_overage_item_work.for_tenant is not null
          or (t.overage_policy = 'metered' and i.item_id is null)
          or (t.overage_policy = 'hard_stop' and i.item_id is not null))
   order by t.id;
$$;
comment on function public.billing_overage_item_work(uuid) is
  'Server-only (stripe-overage): live subscriptions whose overage item does not match the policy (metered without '
  'the item, hard stop with it; removable = nothing reported is still waiting to be invoiced), or one shop.';

-- Record (item_id set) or forget (item_id null) the shop's overage subscription item.
create function public.billing_overage_item_set(
  tenant_id uuid, subscription_id text, item_id text default null, price_id text default null
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if billing_overage_item_set.item_id is null then
    delete from public.billing_overage_items i
     where i.tenant_id = billing_overage_item_set.tenant_id
       and i.subscription_id = billing_overage_item_set.subscription_id;
    return;
  end if;
  insert into public.billing_overage_items as i (tenant_id, subscription_id, item_id, price_id)
  values (billing_overage_item_set.tenant_id, billing_overage_item_set.subscription_id,
          billing_overage_item_set.item_id, billing_overage_item_set.price_id)
  on conflict on constraint billing_overage_items_pkey do update
    set subscription_id = excluded.subscription_id, item_id = excluded.item_id, price_id = excluded.price_id;
end;
$$;
comment on function public.billing_overage_item_set(uuid, text, text, text) is
  'Server-only (stripe-overage, stripe-checkout): store the shop''s overage subscription item, or remove it.';

-- What pg_cron runs: when Vault holds project_url and cron_function_key and pg_net is there, a POST to the
-- stripe-overage function. Its own job rather than a step of usage-aggregate: reporting needs the Stripe secret
-- and reads tenant_quota (live counters), not the daily aggregates; a slow or failing Stripe must neither hold up
-- nor be held up by the usage emails; and it has its own cadence.
create function private.overage_cron_tick()
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
  v_request bigint;
begin
  if to_regclass('vault.decrypted_secrets') is null
     or to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null then
    return null;
  end if;
  execute $q$select
      (select decrypted_secret from vault.decrypted_secrets where name = 'project_url' limit 1),
      (select decrypted_secret from vault.decrypted_secrets where name = 'cron_function_key' limit 1)$q$
    into v_url, v_key;
  if v_url is null or v_key is null then
    return null;
  end if;
  execute $q$select net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := 60000)$q$
    into v_request
    using rtrim(v_url, '/') || '/functions/v1/stripe-overage', '{}'::jsonb,
          jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || v_key);
  return v_request;
end;
$$;
comment on function private.overage_cron_tick() is
  'pg_cron: POST /functions/v1/stripe-overage (service key from Vault) to sync overage items and report usage.';

-- ============================================================================================ schedule
-- Every 15 minutes, offset from usage-aggregate: a renewal's tail reaches Stripe well within the hour Stripe
-- leaves a new invoice in draft.
do $do$
begin
  if to_regprocedure('cron.schedule(text, text, text)') is not null then
    perform cron.schedule('stripe-overage-report', '5,20,35,50 * * * *', 'select private.overage_cron_tick()');
  end if;
end;
$do$;

-- ============================================================================================ grants
revoke all on table public.billing_overage_periods, public.billing_overage_reports, public.billing_overage_items
  from anon, authenticated;
grant all on table public.billing_overage_periods, public.billing_overage_reports, public.billing_overage_items
  to service_role;

revoke all on function private.overage_paid_period(uuid, timestamptz), private.overage_on_tenant_change(),
  private.overage_on_period_change(), private.overage_cron_tick() from public, anon, authenticated;
revoke all on function public.billing_overage_claim(integer, integer, uuid),
  public.billing_overage_mark(uuid, uuid, boolean, text), public.billing_overage_item_work(uuid),
  public.billing_overage_item_set(uuid, text, text, text) from public, anon, authenticated;
grant execute on function public.billing_overage_claim(integer, integer, uuid),
  public.billing_overage_mark(uuid, uuid, boolean, text), public.billing_overage_item_work(uuid),
  public.billing_overage_item_set(uuid, text, text, text) to service_role;
