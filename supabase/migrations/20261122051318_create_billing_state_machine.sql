-- create_billing_state_machine: the subscription status machine as SQL, called only by the Stripe functions
-- (service role). Each RPC locks the shop's row, so concurrent webhook deliveries apply one after the other.
--
--   Stripe subscription status (re-fetched)  →  tenants.status
--   active, trialing                          →  active      (plan follows the price; quota period follows Stripe)
--   past_due                                  →  past_due    (past_due_since set once; grace_days later: suspended)
--   unpaid, canceled, incomplete_expired, paused → suspended (plan kept, no data touched)
--   incomplete                                →  unchanged   (the first payment has not gone through yet)
-- Quota counters reset only when an active subscription starts a period later than the current quota period
-- (a successful renewal, or the first payment after the trial); an upgrade mid-period changes the caps at once
-- (consume_quota reads them from the plan) and keeps the counters.

-- ============================================================================================ tables
alter table public.tenant_billing
  add column latest_invoice_created_at timestamptz,
  add column subscription_created_at timestamptz;

-- ============================================================================================ private helpers
create function private.billing_tenant_status(subscription_status text)
returns public.tenant_status
language sql
immutable
set search_path = ''
as $$
  select case billing_tenant_status.subscription_status
    when 'active' then 'active'::public.tenant_status
    when 'trialing' then 'active'::public.tenant_status
    when 'past_due' then 'past_due'::public.tenant_status
    when 'unpaid' then 'suspended'::public.tenant_status
    when 'canceled' then 'suspended'::public.tenant_status
    when 'incomplete_expired' then 'suspended'::public.tenant_status
    when 'paused' then 'suspended'::public.tenant_status
  end;
$$;
comment on function private.billing_tenant_status(text) is
  'The shop status a Stripe subscription status maps to (null for incomplete: nothing changes yet).';

-- ============================================================================================ RPCs
-- Dedupe before work: true when this call recorded the event (go ahead), false when it was already recorded.
create function public.billing_claim_event(event_id text, event_type text, event_created timestamptz)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.stripe_events (id, type, stripe_created_at)
  values (billing_claim_event.event_id, billing_claim_event.event_type, billing_claim_event.event_created)
  on conflict (id) do nothing;
  return found;
end;
$$;
comment on function public.billing_claim_event(text, text, timestamptz) is
  'Server-only (stripe-webhook): record a Stripe event id before acting; false means a repeat (answer 200).';

-- ok: the outcome is stored; not ok: the claim is withdrawn so Stripe's retry processes the event again.
create function public.billing_finish_event(event_id text, ok boolean, result text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if billing_finish_event.ok then
    update public.stripe_events
       set processed_at = now(), result = left(billing_finish_event.result, 2000)
     where id = billing_finish_event.event_id;
  else
    delete from public.stripe_events where id = billing_finish_event.event_id and processed_at is null;
  end if;
end;
$$;
comment on function public.billing_finish_event(text, boolean, text) is
  'Server-only (stripe-webhook): mark an event processed, or withdraw its claim after a retryable failure.';

-- The shop a Stripe customer belongs to (null: not ours).
create function public.billing_tenant_for_customer(customer_id text)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select b.tenant_id from public.tenant_billing b where b.stripe_customer_id = billing_tenant_for_customer.customer_id;
$$;
comment on function public.billing_tenant_for_customer(text) is 'Server-only: Stripe customer id → shop.';

-- Remember the shop's one Stripe customer. Answers the customer id stored (the existing one if there was one).
create function public.billing_link_customer(tenant_id uuid, customer_id text)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_customer text;
begin
  if billing_link_customer.customer_id is null or billing_link_customer.customer_id !~ '^cus_[A-Za-z0-9]+$' then
    raise exception 'invalid_argument: a Stripe customer id (cus_…) is required' using errcode = '22023';
  end if;
  insert into public.tenant_billing (tenant_id, stripe_customer_id)
  values (billing_link_customer.tenant_id, billing_link_customer.customer_id)
  on conflict on constraint tenant_billing_pkey do update
    set stripe_customer_id = coalesce(public.tenant_billing.stripe_customer_id, excluded.stripe_customer_id)
  returning stripe_customer_id into v_customer;
  return v_customer;
end;
$$;
comment on function public.billing_link_customer(uuid, text) is
  'Server-only (stripe-checkout): store the shop''s Stripe customer once; a second customer never replaces it.';

-- Apply a subscription as just re-fetched from Stripe. Idempotent: applying the same state twice changes nothing
-- (changed=false). Returns json {changed, previous_status, status, plan, period_reset, first_activation, ignored}.
create function public.billing_apply_subscription(
  tenant_id uuid,
  customer_id text,
  subscription_id text,
  subscription_status text,
  price_id text,
  plan text,
  period_start timestamptz,
  period_end timestamptz,
  cancel_at_period_end boolean default false,
  canceled_at timestamptz default null,
  subscription_created timestamptz default null
)
returns json
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_tenant public.tenants%rowtype;
  v_billing public.tenant_billing%rowtype;
  v_quota public.tenant_quota%rowtype;
  v_status public.tenant_status;
  v_plan text;
  v_reset boolean := false;
  v_first boolean := false;
  v_changed boolean := false;
  v_ok_status constant text[] := array['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due',
                                         'canceled', 'unpaid', 'paused'];
begin
  if billing_apply_subscription.subscription_id is null
     or billing_apply_subscription.subscription_id !~ '^sub_[A-Za-z0-9]+$' then
    raise exception 'invalid_argument: a Stripe subscription id (sub_…) is required' using errcode = '22023';
  end if;
  if not (billing_apply_subscription.subscription_status = any (v_ok_status)) then
    raise exception 'invalid_argument: unknown subscription status %', billing_apply_subscription.subscription_status
      using errcode = '22023';
  end if;
  if billing_apply_subscription.plan is not null
     and not exists (select 1 from public.plans p where p.id = billing_apply_subscription.plan and p.id <> 'trial') then
    raise exception 'invalid_argument: % is not a paid plan', billing_apply_subscription.plan using errcode = '22023';
  end if;

  select * into v_tenant from public.tenants t where t.id = billing_apply_subscription.tenant_id for no key update;
  if not found then
    raise exception 'tenant_not_found: no shop with this id' using errcode = 'P0001';
  end if;
  insert into public.tenant_billing (tenant_id, stripe_customer_id)
  values (v_tenant.id, billing_apply_subscription.customer_id)
  on conflict on constraint tenant_billing_pkey do nothing;
  select * into v_billing from public.tenant_billing b where b.tenant_id = v_tenant.id for update;
  if v_billing.stripe_customer_id is distinct from billing_apply_subscription.customer_id then
    raise exception 'customer_mismatch: the subscription belongs to another Stripe customer than this shop''s'
      using errcode = 'P0001';
  end if;

  -- Another subscription of the same customer: an ended one never overrides the shop's current subscription;
  -- a live one (a re-subscription after a cancellation) takes over.
  if v_billing.stripe_subscription_id is not null
     and v_billing.stripe_subscription_id <> billing_apply_subscription.subscription_id then
    if billing_apply_subscription.subscription_status in ('canceled', 'incomplete_expired', 'incomplete')
       or (v_billing.subscription_status in ('active', 'trialing', 'past_due')
           and billing_apply_subscription.subscription_created < v_billing.subscription_created_at) then
      return json_build_object('changed', false, 'ignored', true, 'previous_status', v_tenant.status,
                               'status', v_tenant.status, 'plan', v_tenant.plan, 'period_reset', false,
                               'first_activation', false);
    end if;
  end if;

  v_status := coalesce(private.billing_tenant_status(billing_apply_subscription.subscription_status), v_tenant.status);
  v_plan := case when v_status in ('active', 'past_due') then coalesce(billing_apply_subscription.plan, v_tenant.plan)
                 else v_tenant.plan end;

  update public.tenant_billing b
     set stripe_subscription_id = billing_apply_subscription.subscription_id,
         subscription_status = billing_apply_subscription.subscription_status,
         subscription_created_at = coalesce(billing_apply_subscription.subscription_created, b.subscription_created_at),
         price_id = coalesce(billing_apply_subscription.price_id, b.price_id),
         plan = coalesce(billing_apply_subscription.plan, b.plan),
         current_period_start = coalesce(billing_apply_subscription.period_start, b.current_period_start),
         current_period_end = coalesce(billing_apply_subscription.period_end, b.current_period_end),
         cancel_at_period_end = coalesce(billing_apply_subscription.cancel_at_period_end, false),
         canceled_at = billing_apply_subscription.canceled_at,
         past_due_since = case when v_status = 'past_due' then coalesce(b.past_due_since, now())
                               when v_status = 'active' then null else b.past_due_since end,
         activated_at = case when v_status = 'active' then coalesce(b.activated_at, now()) else b.activated_at end,
         synced_at = now()
   where b.tenant_id = v_tenant.id
     and (b.stripe_subscription_id, b.subscription_status, b.price_id, b.plan, b.current_period_start,
          b.current_period_end, b.cancel_at_period_end, b.canceled_at, b.activated_at is null)
         is distinct from
         (billing_apply_subscription.subscription_id, billing_apply_subscription.subscription_status,
          coalesce(billing_apply_subscription.price_id, b.price_id), coalesce(billing_apply_subscription.plan, b.plan),
          coalesce(billing_apply_subscription.period_start, b.current_period_start),
          coalesce(billing_apply_subscription.period_end, b.current_period_end),
          coalesce(billing_apply_subscription.cancel_at_period_end, false), billing_apply_subscription.canceled_at,
          v_status <> 'active' and b.activated_at is null);
  v_changed := found;
  v_first := v_status = 'active' and v_billing.activated_at is null;

  if (v_tenant.status, v_tenant.plan) is distinct from (v_status, v_plan) then
    update public.tenants t set status = v_status, plan = v_plan where t.id = v_tenant.id;
    v_changed := true;
  end if;

  -- The quota period: a paid, active subscription whose period starts after the current quota period's start
  -- is a successful renewal (or the first payment): move the period and reset the counters.
  if v_status = 'active' and billing_apply_subscription.period_start is not null
     and billing_apply_subscription.period_end is not null then
    select * into v_quota from public.tenant_quota q where q.tenant_id = v_tenant.id for update;
    if not found then
      insert into public.tenant_quota (tenant_id, period_start, period_end)
      values (v_tenant.id, billing_apply_subscription.period_start, billing_apply_subscription.period_end);
      v_reset := true;
    elsif billing_apply_subscription.period_start > v_quota.period_start
          or (v_first and billing_apply_subscription.period_start <> v_quota.period_start) then
      update public.tenant_quota q
         set period_start = billing_apply_subscription.period_start,
             period_end = billing_apply_subscription.period_end,
             sms_segments_used = 0, mms_used = 0, voice_minutes_used = 0, emails_used = 0,
             ai_requests_used = 0, ocr_pages_used = 0
       where q.tenant_id = v_tenant.id;
      v_reset := true;
    elsif billing_apply_subscription.period_start = v_quota.period_start
          and billing_apply_subscription.period_end <> v_quota.period_end then
      update public.tenant_quota q set period_end = billing_apply_subscription.period_end
       where q.tenant_id = v_tenant.id;
    end if;
    v_changed := v_changed or v_reset;
  end if;

  return json_build_object('changed', v_changed, 'ignored', false, 'previous_status', v_tenant.status,
                           'status', v_status, 'plan', v_plan, 'period_reset', v_reset, 'first_activation', v_first);
end;
$$;
comment on function public.billing_apply_subscription(uuid, text, text, text, text, text, timestamptz, timestamptz,
                                                       boolean, timestamptz, timestamptz) is
  'Server-only (stripe-webhook, stripe-change-plan): apply a subscription re-fetched from Stripe to the shop''s '
  'status, plan, billing mirror and quota period. Idempotent and order-proof (it never reads the event payload).';

-- Record an invoice outcome (paid | payment_failed | …); an older invoice never overwrites a newer one.
create function public.billing_record_invoice(
  tenant_id uuid, invoice_id text, invoice_status text, invoice_created timestamptz, paid_at timestamptz default null
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if billing_record_invoice.invoice_status not in ('draft', 'open', 'paid', 'uncollectible', 'void', 'payment_failed') then
    raise exception 'invalid_argument: unknown invoice status %', billing_record_invoice.invoice_status
      using errcode = '22023';
  end if;
  update public.tenant_billing b
     set latest_invoice_id = billing_record_invoice.invoice_id,
         latest_invoice_status = billing_record_invoice.invoice_status,
         latest_invoice_created_at = billing_record_invoice.invoice_created,
         last_payment_at = case when billing_record_invoice.paid_at is not null
                                then greatest(b.last_payment_at, billing_record_invoice.paid_at)
                                else b.last_payment_at end
   where b.tenant_id = billing_record_invoice.tenant_id
     and (b.latest_invoice_created_at is null or b.latest_invoice_created_at <= billing_record_invoice.invoice_created)
     and (b.latest_invoice_id, b.latest_invoice_status)
         is distinct from (billing_record_invoice.invoice_id, billing_record_invoice.invoice_status);
  return found;
end;
$$;
comment on function public.billing_record_invoice(uuid, text, text, timestamptz, timestamptz) is
  'Server-only (stripe-webhook): latest invoice status and last payment of the shop.';

-- Onboarding runs once: true for the one caller that claims it (welcomed_at set); release = false undoes a claim
-- whose sending failed, so a later event tries again.
create function public.billing_claim_welcome(tenant_id uuid, release boolean default false)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if billing_claim_welcome.release then
    update public.tenant_billing b set welcomed_at = null where b.tenant_id = billing_claim_welcome.tenant_id;
    return false;
  end if;
  update public.tenant_billing b set welcomed_at = now()
   where b.tenant_id = billing_claim_welcome.tenant_id and b.activated_at is not null and b.welcomed_at is null;
  return found;
end;
$$;
comment on function public.billing_claim_welcome(uuid, boolean) is
  'Server-only: claim (or release) the one-time welcome email/SMS of a newly active shop.';

-- Who to welcome: the shop's name and phone, its first owner's email and phone.
create function public.billing_onboarding_contact(tenant_id uuid)
returns table (tenant_name text, shop_phone text, owner_email text, owner_phone text)
language sql
stable
security definer
set search_path = ''
as $$
  select t.name, t.phone, u.email::text, nullif(u.phone::text, '')
  from public.tenants t
  left join lateral (
    select m.user_id from public.memberships m
    where m.tenant_id = t.id and m.role = 'owner' order by m.created_at limit 1
  ) o on true
  left join auth.users u on u.id = o.user_id
  where t.id = billing_onboarding_contact.tenant_id;
$$;
comment on function public.billing_onboarding_contact(uuid) is 'Server-only: contact details for the welcome.';

-- The daily job: shops past_due beyond their grace period become suspended (tenant_standing already treats them
-- so; this makes the stored status agree). Returns how many changed.
create function public.billing_suspend_overdue()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_n integer;
begin
  update public.tenants t set status = 'suspended'
    from public.tenant_billing b
   where b.tenant_id = t.id and t.status = 'past_due' and b.past_due_since is not null
     and b.past_due_since + make_interval(days => b.grace_days) <= now();
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;
comment on function public.billing_suspend_overdue() is
  'Server-only daily job: past_due beyond grace_days → suspended. Any later payment makes the shop active again.';

-- ============================================================================================ grants
revoke all on function private.billing_tenant_status(text) from public;
revoke all on function public.billing_claim_event(text, text, timestamptz), public.billing_finish_event(text, boolean, text),
  public.billing_tenant_for_customer(text), public.billing_link_customer(uuid, text),
  public.billing_apply_subscription(uuid, text, text, text, text, text, timestamptz, timestamptz, boolean, timestamptz, timestamptz),
  public.billing_record_invoice(uuid, text, text, timestamptz, timestamptz), public.billing_claim_welcome(uuid, boolean),
  public.billing_onboarding_contact(uuid), public.billing_suspend_overdue()
  from public, anon, authenticated;
grant execute on function public.billing_claim_event(text, text, timestamptz), public.billing_finish_event(text, boolean, text),
  public.billing_tenant_for_customer(text), public.billing_link_customer(uuid, text),
  public.billing_apply_subscription(uuid, text, text, text, text, text, timestamptz, timestamptz, boolean, timestamptz, timestamptz),
  public.billing_record_invoice(uuid, text, text, timestamptz, timestamptz), public.billing_claim_welcome(uuid, boolean),
  public.billing_onboarding_contact(uuid), public.billing_suspend_overdue()
  to service_role;

-- Run the suspension daily where pg_cron is installed (hosted Supabase; the local stack's stand-in).
do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'cron') then
    perform cron.schedule('billing-suspend-overdue', '17 3 * * *', 'select public.billing_suspend_overdue()');
  end if;
end;
$$;

-- Functions acting for the server (service role, no user) ask for a shop's standing too; members still may.
create or replace function public.tenant_standing(tenant_id uuid)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if coalesce((select auth.role()), '') <> 'service_role'
     and not private.has_tenant_role(tenant_standing.tenant_id, 'technician') then
    raise exception 'not_a_member: you are not a member of this shop' using errcode = '42501';
  end if;
  return private.tenant_standing(tenant_standing.tenant_id);
end;
$$;
