-- fix_trial_overage: metered overage lets a send go past the cap only when the extra segments will be billed.
-- Before this, a trialing shop (no card, no subscription) whose owner set overage_policy = 'metered' through the
-- API could text past the trial's 50 segments for free: overage is only ever reported for a paid period
-- (private.overage_paid_period), so the decision to allow it must ask the same question. The PWA offers the choice
-- only with a live subscription; this closes the server side. Pickup notices nobody chose to block keep their rule.

-- ============================================================================================ private helpers
-- Would a segment past the cap, sent now, be billed? The shop chose metered AND its current quota period is a
-- paid period (active or past_due with a subscription that started no later than the period).
create function private.overage_billable_now(tenant_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((
    select t.overage_policy = 'metered' and private.overage_paid_period(t.id, q.period_start)
      from public.tenants t
      join public.tenant_quota q on q.tenant_id = t.id
     where t.id = overage_billable_now.tenant_id), false);
$$;
comment on function private.overage_billable_now(uuid) is
  'Metered overage applies now: the shop chose metered and its current quota period is a paid (Stripe) period. '
  'The one test behind messaging_allow_overage and can_use, matching what billing_overage_claim reports.';

-- THE one place that decides whether a send may go past the monthly cap (replaces create_messaging's version):
-- billable metered overage: yes. Transactional pickup notices: yes unless the owner explicitly chose a policy.
create or replace function private.messaging_allow_overage(tenant_id uuid, template text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select private.overage_billable_now(t.id)
      or (messaging_allow_overage.template = 'pickup_ready' and t.overage_policy_chosen_at is null)
  from public.tenants t
  where t.id = messaging_allow_overage.tenant_id;
$$;

-- ============================================================================================ RPCs
-- can_use gives the same answer the send path enforces (replaces create_usage_metering's version; only the
-- metered-overage test changed).
create or replace function public.can_use(tenant_id uuid, feature text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_key text;
  v_limit jsonb;
  v_overage boolean;
begin
  if not private.has_tenant_role(can_use.tenant_id, 'technician') then
    raise exception 'not_a_member: you are not a member of this shop' using errcode = '42501';
  end if;
  if can_use.feature is null then
    raise exception 'invalid_feature: name a feature or a metered resource' using errcode = '22023';
  end if;
  if can_use.feature = any (enum_range(null::public.plan_feature)::text[]) then
    return jsonb_build_object('feature', can_use.feature, 'kind', 'feature',
      'allowed', private.has_feature(can_use.tenant_id, can_use.feature::public.plan_feature),
      'reason', case when private.has_feature(can_use.tenant_id, can_use.feature::public.plan_feature)
                     then 'included' else 'not_in_plan' end);
  end if;
  v_key := case
    when can_use.feature in ('sms', 'sms_outbound', 'sms_segments') then 'sms_segments'
    when can_use.feature in ('mms', 'mms_outbound') then 'mms'
    when can_use.feature in ('voice', 'voice_minutes', 'voice_minutes_inbound', 'voice_minutes_outbound') then 'voice_minutes'
    when can_use.feature in ('email', 'emails', 'emails_sent') then 'emails'
    when can_use.feature in ('ai', 'ai_requests') then 'ai_requests'
    when can_use.feature in ('ocr', 'ocr_pages') then 'ocr_pages'
  end;
  if v_key is null then
    raise exception 'invalid_feature: unknown feature "%"', left(can_use.feature, 60) using errcode = '22023';
  end if;
  select l into v_limit
    from private.limits_json(can_use.tenant_id) lj
    cross join lateral jsonb_array_elements(lj -> 'limits') l
   where l ->> 'key' = v_key;
  v_overage := v_key = 'sms_segments' and private.overage_billable_now(can_use.tenant_id);
  return jsonb_build_object('feature', can_use.feature, 'kind', 'metered', 'key', v_key,
    'used', (v_limit ->> 'used')::integer, 'cap', (v_limit ->> 'cap')::integer,
    'remaining', (v_limit ->> 'remaining')::integer,
    'allowed', (v_limit ->> 'used')::integer < (v_limit ->> 'cap')::integer or v_overage,
    'reason', case when (v_limit ->> 'used')::integer < (v_limit ->> 'cap')::integer then 'within_cap'
                   when v_overage then 'metered_overage'
                   else 'cap_reached' end);
end;
$$;
comment on function public.can_use(uuid, text) is
  'Would the server allow one more use? Plan features (plan_feature names) or metered resources (sms, mms, '
  'voice_minutes, emails, ai_requests, ocr_pages and the metric names). Members only. Metered SMS overage counts '
  'only when it would be billed (a paying shop that chose metered).';

-- ============================================================================================ grants
-- create or replace keeps can_use's existing grant to authenticated; the new private helper is not exposed.
revoke all on function private.overage_billable_now(uuid) from public, anon, authenticated;
