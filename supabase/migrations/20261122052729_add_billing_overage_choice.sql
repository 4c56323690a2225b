-- add_billing_overage_choice: record when an owner explicitly chose the overage policy (messaging lets pickup
-- notices past the cap only while nobody chose hard stop), and order concurrent subscription reads: an apply
-- carries the time its Stripe read started, and an older read never overwrites a newer one.

-- ============================================================================================ tables
alter table public.tenants add column overage_policy_chosen_at timestamptz;
comment on column public.tenants.overage_policy_chosen_at is
  'When an owner/admin last set overage_policy (null: the hard-stop default nobody chose; pickup notices are then '
  'never blocked by it). Set by a trigger; clients cannot write it.';

alter table public.tenant_billing add column subscription_fetched_at timestamptz;
comment on column public.tenant_billing.subscription_fetched_at is
  'Start time of the newest Stripe read applied: an apply carrying an older read is ignored.';

-- ============================================================================================ triggers
create function private.record_overage_choice()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.overage_policy_chosen_at := now();
  return new;
end;
$$;
comment on function private.record_overage_choice() is
  'Trigger: an update naming overage_policy is an explicit choice (even when it keeps the value).';

create trigger record_overage_choice before update of overage_policy on public.tenants
  for each row execute function private.record_overage_choice();

-- ============================================================================================ RPCs
drop function public.billing_apply_subscription(uuid, text, text, text, text, text, timestamptz, timestamptz, boolean, timestamptz, timestamptz);

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
  subscription_created timestamptz default null,
  fetched_at timestamptz default null
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

  -- A read older than the one already applied (two deliveries re-fetched concurrently and the older answer
  -- arrived last) never overwrites it.
  if billing_apply_subscription.fetched_at is not null
     and v_billing.stripe_subscription_id = billing_apply_subscription.subscription_id
     and v_billing.subscription_fetched_at is not null
     and billing_apply_subscription.fetched_at < v_billing.subscription_fetched_at then
    return json_build_object('changed', false, 'ignored', true, 'stale', true, 'previous_status', v_tenant.status,
                             'status', v_tenant.status, 'plan', v_tenant.plan, 'period_reset', false,
                             'first_activation', false);
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
  if billing_apply_subscription.fetched_at is not null then
    update public.tenant_billing b
       set subscription_fetched_at = greatest(b.subscription_fetched_at, billing_apply_subscription.fetched_at)
     where b.tenant_id = v_tenant.id;
  end if;
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
comment on function public.billing_apply_subscription(uuid, text, text, text, text, text, timestamptz, timestamptz, boolean, timestamptz, timestamptz, timestamptz) is
  'Server-only (stripe-webhook, stripe-change-plan): apply a subscription re-fetched from Stripe to the shop''s '
  'status, plan, billing mirror and quota period. Idempotent and order-proof: it never reads the event payload, '
  'and a read that started before the last applied one (fetched_at) is ignored.';

-- ============================================================================================ grants
revoke all on function private.record_overage_choice() from public;
revoke all on function public.billing_apply_subscription(uuid, text, text, text, text, text, timestamptz, timestamptz, boolean, timestamptz, timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function public.billing_apply_subscription(uuid, text, text, text, text, text, timestamptz, timestamptz, boolean, timestamptz, timestamptz, timestamptz) to service_role;
