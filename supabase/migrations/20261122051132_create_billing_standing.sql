-- create_billing_standing: where a shop stands with its subscription, before anything else of billing lands.
--   tenant_billing   the shop's Stripe mirror (customer, subscription, period, latest invoice, last payment)
--   stripe_events    server-only dedupe ledger of Stripe webhook events (insert the event id before any work)
--   private.tenant_standing(tenant_id) → 'ok' | 'past_due' | 'locked' | 'suspended': the one answer every
--   gate asks (messaging, exports, the PWA through public.my_tenant_standing).
-- The status machine (RPCs the stripe-webhook function calls) lands in create_billing_state_machine.

-- ============================================================================================ tables
create table public.tenant_billing (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  stripe_customer_id text
    constraint tenant_billing_customer_key unique
    constraint tenant_billing_customer_check check (stripe_customer_id ~ '^cus_[A-Za-z0-9]+$'),
  stripe_subscription_id text
    constraint tenant_billing_subscription_key unique
    constraint tenant_billing_subscription_check check (stripe_subscription_id ~ '^sub_[A-Za-z0-9]+$'),
  subscription_status text
    constraint tenant_billing_status_check check (subscription_status in (
      'incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')),
  price_id text constraint tenant_billing_price_check check (char_length(price_id) between 1 and 255),
  plan text references public.plans (id),
  current_period_start timestamptz,
  current_period_end timestamptz,
  cancel_at_period_end boolean not null default false,
  canceled_at timestamptz,
  latest_invoice_id text constraint tenant_billing_invoice_check check (char_length(latest_invoice_id) between 1 and 255),
  latest_invoice_status text
    constraint tenant_billing_invoice_status_check check (latest_invoice_status in (
      'draft', 'open', 'paid', 'uncollectible', 'void', 'payment_failed')),
  last_payment_at timestamptz,
  past_due_since timestamptz,
  grace_days integer not null default 7 constraint tenant_billing_grace_check check (grace_days between 0 and 60),
  activated_at timestamptz,
  welcomed_at timestamptz,
  synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tenant_billing_period_check check (current_period_end is null or current_period_end > current_period_start)
);
alter table public.tenant_billing enable row level security;
comment on table public.tenant_billing is
  'A shop''s Stripe mirror: one customer per shop, its subscription, price, period, latest invoice and last payment. '
  'Owners and admins read it; only the service role writes (checkout creates the customer, the stripe-webhook '
  'function applies re-fetched subscriptions through billing_apply_subscription()). grace_days: how long past_due '
  'lasts before the shop is suspended (default 7).';
comment on column public.tenant_billing.past_due_since is
  'When the shop went past_due (first failed invoice); cleared by any successful payment.';
comment on column public.tenant_billing.activated_at is 'First time the shop became active (onboarding runs once).';

create table public.stripe_events (
  id text primary key constraint stripe_events_id_check check (id ~ '^evt_[A-Za-z0-9_]+$'),
  type text not null constraint stripe_events_type_check check (char_length(type) between 1 and 200),
  stripe_created_at timestamptz,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  result text constraint stripe_events_result_check check (char_length(result) <= 2000)
);
alter table public.stripe_events enable row level security;
comment on table public.stripe_events is
  'Server-only: RLS on and no policies on purpose. Every Stripe webhook event id, inserted before any work '
  '(insert … on conflict do nothing: a repeat is answered 200 without acting). processed_at/result record the '
  'outcome; an event whose processing failed is deleted again so Stripe''s retry can run it.';

-- ============================================================================================ indexes
create index stripe_events_received_at_idx on public.stripe_events (received_at);
create index tenant_billing_plan_idx on public.tenant_billing (plan);
create index tenant_billing_past_due_idx on public.tenant_billing (past_due_since) where past_due_since is not null;

-- ============================================================================================ triggers
create trigger forbid_tenant_change before update on public.tenant_billing
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.tenant_billing
  for each row execute function private.set_updated_at();

-- ============================================================================================ private helpers
-- 'ok'        trialing within the trial, or active
-- 'past_due'  a failed invoice, inside the grace period: banner; review requests blocked, pickup notices allowed
-- 'locked'    the trial ended without payment: read-only, billing open
-- 'suspended' suspended or canceled, or past_due beyond the grace period: no outbound messages, read-only,
--             billing and data export open
-- null        no such shop
create function private.tenant_standing(tenant_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when t.status in ('suspended', 'canceled') then 'suspended'
    when t.status = 'past_due'
         and b.past_due_since is not null
         and b.past_due_since + make_interval(days => b.grace_days) <= now() then 'suspended'
    when t.status = 'past_due' then 'past_due'
    when t.status = 'trialing' and t.trial_ends_at is not null and t.trial_ends_at <= now() then 'locked'
    else 'ok'
  end
  from public.tenants t
  left join public.tenant_billing b on b.tenant_id = t.id
  where t.id = tenant_standing.tenant_id;
$$;
comment on function private.tenant_standing(uuid) is
  'Where the shop stands: ok | past_due | locked (trial over, unpaid) | suspended (or null: no such shop). '
  'Evaluated at call time, so the trial end and the past_due grace period need no job to take effect.';

-- ============================================================================================ policies
create policy tenant_billing_select_admins on public.tenant_billing
  for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));

-- ============================================================================================ RPCs
create function public.tenant_standing(tenant_id uuid)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not private.has_tenant_role(tenant_standing.tenant_id, 'technician') then
    raise exception 'not_a_member: you are not a member of this shop' using errcode = '42501';
  end if;
  return private.tenant_standing(tenant_standing.tenant_id);
end;
$$;
comment on function public.tenant_standing(uuid) is
  'For the PWA (banners, read-only mode) and functions acting for a user: the same standing the server enforces.';

-- ============================================================================================ grants
revoke all on table public.tenant_billing from anon, authenticated;
grant select on table public.tenant_billing to authenticated;
grant all on table public.tenant_billing to service_role;
revoke all on table public.stripe_events from anon, authenticated;
grant all on table public.stripe_events to service_role;
revoke all on function private.tenant_standing(uuid) from public;
grant execute on function public.tenant_standing(uuid) to authenticated, service_role;
