-- create_usage_metering: daily aggregates of the usage ledger, their scheduled aggregation, the owner's usage
-- summary, the limits API, usage alerts and the operator's overview.
--   billing_usage_daily        one row per (shop, UTC day) with one column per metric (members read their own)
--   usage_aggregation_state    server-only: per UTC day, the recorded_at watermark the day is aggregated through
--   usage_alerts               80 % / 100 % of a cap, once per (shop, cap, threshold, period)
--   usage_settings             per shop: the optional daily usage email
--   usage_cost_rates           the one place provider unit costs live (admin overview's cost and margin)
-- The ledger (usage_events), tenant_quota and plans come from create_core_domain and are only read here
-- (plus one index on usage_events.occurred_at for the day scans).

-- ============================================================================================ tables
create table public.billing_usage_daily (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  day date not null,
  sms_outbound_segments bigint not null default 0,
  sms_inbound bigint not null default 0,
  mms_outbound bigint not null default 0,
  voice_minutes_inbound bigint not null default 0,
  voice_minutes_outbound bigint not null default 0,
  emails_sent bigint not null default 0,
  ai_requests bigint not null default 0,
  ocr_pages bigint not null default 0,
  event_count bigint not null default 0,
  max_recorded_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint billing_usage_daily_pkey primary key (tenant_id, day)
);
alter table public.billing_usage_daily enable row level security;
comment on table public.billing_usage_daily is
  'Usage per shop per UTC day, one column per metric (sums of usage_events.quantity, reversals included), '
  'recomputed from the ledger by public.aggregate_usage() — never incremented. max_recorded_at is the newest '
  'ledger write the row reflects. Members read their own shop''s rows; only the aggregation writes. A day without '
  'events has no row (read it as zeros).';

create table public.usage_aggregation_state (
  day date primary key,
  watermark timestamptz not null,
  aggregated_at timestamptz not null default now(),
  rows_changed integer not null default 0
);
alter table public.usage_aggregation_state enable row level security;
comment on table public.usage_aggregation_state is
  'Server-only: RLS on and no policies. Per UTC day: every usage event of that day recorded at or before '
  'watermark is reflected in billing_usage_daily. A day without a row has never been aggregated.';

create table public.usage_alerts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  metric text not null constraint usage_alerts_metric_check
    check (metric in ('sms_segments', 'mms', 'voice_minutes', 'emails', 'ai_requests', 'ocr_pages')),
  threshold smallint not null constraint usage_alerts_threshold_check check (threshold in (80, 100)),
  period_start timestamptz not null,
  period_end timestamptz not null,
  used integer not null,
  cap integer not null,
  email_claimed_at timestamptz,
  emailed_at timestamptz,
  created_at timestamptz not null default now(),
  constraint usage_alerts_once_key unique (tenant_id, metric, threshold, period_start)
);
alter table public.usage_alerts enable row level security;
comment on table public.usage_alerts is
  'A shop reached 80 % or 100 % of a monthly cap: one row per (shop, cap, threshold, period), so owners are told '
  'once per period. Written by the aggregation; the usage-aggregate function emails the owners (emailed_at). '
  'Owners and admins read their shop''s alerts.';

create table public.usage_settings (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  daily_email boolean not null default false,
  last_daily_email_on date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.usage_settings enable row level security;
comment on table public.usage_settings is
  'Per shop usage preferences: daily_email sends the owners a daily usage email (used / remaining). Owners and '
  'admins read and change it; last_daily_email_on is the server''s.';

create table public.usage_cost_rates (
  item text primary key constraint usage_cost_rates_item_check check (item ~ '^[a-z][a-z0-9_]{0,40}$'),
  unit text not null,
  cents_per_unit numeric(10, 4) not null constraint usage_cost_rates_cents_check check (cents_per_unit >= 0),
  note text not null,
  updated_at timestamptz not null default now()
);
alter table public.usage_cost_rates enable row level security;
comment on table public.usage_cost_rates is
  'Server-only: RLS on and no policies. Estimated provider unit costs (US list prices, 2025) for the operator''s '
  'margin view; edit with an UPDATE when a provider changes prices. Items are usage metrics plus phone_number '
  '(per dedicated number per month).';

insert into public.usage_cost_rates (item, unit, cents_per_unit, note) values
  ('sms_outbound', 'segment', 0.83, 'Twilio US SMS outbound per segment (0.0079 USD + ~0.0004 carrier fee)'),
  ('sms_inbound', 'message', 0.83, 'Twilio US SMS inbound per segment'),
  ('mms_outbound', 'message', 2.20, 'Twilio US MMS outbound incl. carrier fee'),
  ('voice_minutes_inbound', 'minute', 0.85, 'Twilio US inbound voice per minute'),
  ('voice_minutes_outbound', 'minute', 1.40, 'Twilio US outbound voice per minute'),
  ('emails_sent', 'email', 0.09, 'Resend Pro overage per email'),
  ('ai_requests', 'request', 0.20, 'OpenAI small-model request (~1.5k tokens)'),
  ('ocr_pages', 'page', 0.50, 'OpenAI vision OCR per page (fallback engine)'),
  ('phone_number', 'number_month', 115.00, 'Twilio US local number per month (plans with dedicated_number)');

-- ============================================================================================ indexes
-- Day scans of the ledger for days never aggregated (all shops at once).
create index usage_events_occurred_at_idx on public.usage_events (occurred_at);
create index billing_usage_daily_day_idx on public.billing_usage_daily (day);
create index usage_alerts_pending_email_idx on public.usage_alerts (created_at) where emailed_at is null;

-- ============================================================================================ triggers
create trigger forbid_tenant_change before update on public.billing_usage_daily
  for each row execute function private.forbid_tenant_change();
create trigger forbid_tenant_change before update on public.usage_alerts
  for each row execute function private.forbid_tenant_change();
create trigger forbid_tenant_change before update on public.usage_settings
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.usage_settings
  for each row execute function private.set_updated_at();

-- ============================================================================================ private helpers
-- Where carrier outcomes come from: the extension point of the overview's carrier-error rate. Defined over
-- public.messages when that table exists (below); otherwise empty — the rate is then null ("no data"), never a
-- made-up 0 — and whoever changes the message model replaces this view (same columns).
create view private.carrier_outcomes_daily with (security_invoker = true) as
  select null::uuid as tenant_id, null::date as day, 0::bigint as sent, 0::bigint as failed
  where false;
comment on view private.carrier_outcomes_daily is
  'Per shop and UTC day: outbound messages handed to the carrier (sent) and those it refused or could not deliver '
  '(failed: failed/undelivered), from public.messages. Empty when there is no message table.';

-- When the messaging schema is already there (public.messages with direction/status), read it right away.
do $do$
begin
  if (select count(*) from pg_catalog.pg_attribute a
       where a.attrelid = to_regclass('public.messages') and not a.attisdropped
         and a.attname in ('tenant_id', 'direction', 'status', 'created_at')) = 4 then
    execute $v$
      create or replace view private.carrier_outcomes_daily with (security_invoker = true) as
        select m.tenant_id, (m.created_at at time zone 'UTC')::date as day,
               count(*) filter (where m.status in ('accepted', 'queued', 'sending', 'sent', 'delivered',
                                                   'undelivered', 'failed'))::bigint as sent,
               count(*) filter (where m.status in ('undelivered', 'failed'))::bigint as failed
        from public.messages m
        where m.direction = 'outbound'
        group by 1, 2
    $v$;
  end if;
end;
$do$;

-- The metrics of one ledger slice of one shop, summed, as a JSON object with camelCase keys.
create function private.usage_ledger_totals(tenant_id uuid, from_ts timestamptz, to_ts timestamptz)
returns table (
  sms_outbound_segments bigint, sms_inbound bigint, mms_outbound bigint, voice_minutes_inbound bigint,
  voice_minutes_outbound bigint, emails_sent bigint, ai_requests bigint, ocr_pages bigint
)
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(sum(e.quantity) filter (where e.metric = 'sms_outbound'), 0)::bigint,
         coalesce(sum(e.quantity) filter (where e.metric = 'sms_inbound'), 0)::bigint,
         coalesce(sum(e.quantity) filter (where e.metric = 'mms_outbound'), 0)::bigint,
         coalesce(sum(e.quantity) filter (where e.metric = 'voice_minutes_inbound'), 0)::bigint,
         coalesce(sum(e.quantity) filter (where e.metric = 'voice_minutes_outbound'), 0)::bigint,
         coalesce(sum(e.quantity) filter (where e.metric = 'emails_sent'), 0)::bigint,
         coalesce(sum(e.quantity) filter (where e.metric = 'ai_requests'), 0)::bigint,
         coalesce(sum(e.quantity) filter (where e.metric = 'ocr_pages'), 0)::bigint
  from public.usage_events e
  where e.tenant_id = usage_ledger_totals.tenant_id
    and e.occurred_at >= usage_ledger_totals.from_ts and e.occurred_at < usage_ledger_totals.to_ts;
$$;

-- Exact totals of one shop over [from_ts, to_ts): whole UTC days before today from billing_usage_daily, the
-- partial days at either edge (a Stripe period starts mid-day) and today from the ledger (index range scans on
-- (tenant_id, occurred_at)). Past days reflect the last aggregation run (every 15 minutes).
create function private.usage_totals(tenant_id uuid, from_ts timestamptz, to_ts timestamptz)
returns table (
  sms_outbound_segments bigint, sms_inbound bigint, mms_outbound bigint, voice_minutes_inbound bigint,
  voice_minutes_outbound bigint, emails_sent bigint, ai_requests bigint, ocr_pages bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_today date := (now() at time zone 'UTC')::date;
  -- first whole day inside the range, and the end (exclusive) of the whole days served from aggregates
  v_lo date := (usage_totals.from_ts at time zone 'UTC')::date
               + case when (usage_totals.from_ts at time zone 'UTC')::time = '00:00' then 0 else 1 end;
  v_hi date := least((usage_totals.to_ts at time zone 'UTC')::date, v_today);
begin
  if usage_totals.to_ts <= usage_totals.from_ts then
    return query select 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint;
    return;
  end if;
  if v_hi <= v_lo then
    return query select * from private.usage_ledger_totals(usage_totals.tenant_id, usage_totals.from_ts, usage_totals.to_ts);
    return;
  end if;
  return query
    with parts as (
      select d.sms_outbound_segments, d.sms_inbound, d.mms_outbound, d.voice_minutes_inbound,
             d.voice_minutes_outbound, d.emails_sent, d.ai_requests, d.ocr_pages
      from public.billing_usage_daily d
      where d.tenant_id = usage_totals.tenant_id and d.day >= v_lo and d.day < v_hi
      union all
      select * from private.usage_ledger_totals(usage_totals.tenant_id, usage_totals.from_ts,
                                                (v_lo::timestamp at time zone 'UTC'))
      union all
      select * from private.usage_ledger_totals(usage_totals.tenant_id, (v_hi::timestamp at time zone 'UTC'),
                                                usage_totals.to_ts)
    )
    select sum(p.sms_outbound_segments)::bigint, sum(p.sms_inbound)::bigint, sum(p.mms_outbound)::bigint,
           sum(p.voice_minutes_inbound)::bigint, sum(p.voice_minutes_outbound)::bigint, sum(p.emails_sent)::bigint,
           sum(p.ai_requests)::bigint, sum(p.ocr_pages)::bigint
    from parts p;
end;
$$;
comment on function private.usage_totals(uuid, timestamptz, timestamptz) is
  'Exact per-metric totals of one shop over [from_ts, to_ts): aggregates for whole past days, the ledger for '
  'partial edge days and today.';

-- Record 80 % / 100 % crossings of every capped counter, for every shop, in one statement. Idempotent through
-- usage_alerts_once_key; returns how many new alerts were recorded.
create function private.detect_usage_alerts()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_n integer;
begin
  insert into public.usage_alerts (tenant_id, metric, threshold, period_start, period_end, used, cap)
  select q.tenant_id, c.metric, th.threshold, q.period_start, q.period_end, c.used, c.cap
  from public.tenant_quota q
  join public.tenants t on t.id = q.tenant_id
  join public.plans p on p.id = t.plan
  cross join lateral (values
    ('sms_segments', q.sms_segments_used, p.sms_segments),
    ('mms', q.mms_used, p.mms_messages),
    ('voice_minutes', q.voice_minutes_used, p.voice_minutes),
    ('emails', q.emails_used, p.emails),
    ('ai_requests', q.ai_requests_used, p.ai_requests),
    ('ocr_pages', q.ocr_pages_used, p.ocr_pages)
  ) as c (metric, used, cap)
  cross join (values (80::smallint), (100::smallint)) as th (threshold)
  where c.cap > 0 and c.used::bigint * 100 >= th.threshold::bigint * c.cap
    and now() < q.period_end
  on conflict on constraint usage_alerts_once_key do nothing;
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;

-- The limits of one shop, from tenant_quota and plans only (one primary-key lookup each).
create function private.limits_json(tenant_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'tenantId', t.id,
    'plan', p.id,
    'planLabel', p.label,
    'status', t.status,
    'overagePolicy', t.overage_policy,
    'period', jsonb_build_object('start', q.period_start, 'end', q.period_end),
    'limits', (
      select jsonb_agg(jsonb_build_object(
               'key', c.key, 'used', c.used, 'cap', c.cap, 'remaining', greatest(c.cap - c.used, 0),
               'percent', case when c.cap > 0 then round(c.used * 100.0 / c.cap, 1) else null end,
               'exceeded', c.used >= c.cap)
             order by c.ord)
      from (values
        (1, 'sms_segments', q.sms_segments_used, p.sms_segments),
        (2, 'mms', q.mms_used, p.mms_messages),
        (3, 'voice_minutes', q.voice_minutes_used, p.voice_minutes),
        (4, 'emails', q.emails_used, p.emails),
        (5, 'ai_requests', q.ai_requests_used, p.ai_requests),
        (6, 'ocr_pages', q.ocr_pages_used, p.ocr_pages)
      ) as c (ord, key, used, cap)),
    'features', to_jsonb(p.features),
    'sendsPerMinute', p.sends_per_minute,
    'checkedAt', now())
  from public.tenants t
  join public.plans p on p.id = t.plan
  join public.tenant_quota q on q.tenant_id = t.id
  where t.id = limits_json.tenant_id;
$$;

-- ============================================================================================ policies
create policy billing_usage_daily_select_members on public.billing_usage_daily
  for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));

create policy usage_alerts_select_admins on public.usage_alerts
  for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));

create policy usage_settings_select_admins on public.usage_settings
  for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));

create policy usage_settings_insert_admins on public.usage_settings
  for insert to authenticated
  with check (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));

create policy usage_settings_update_admins on public.usage_settings
  for update to authenticated
  using (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]))
  with check (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));

-- ============================================================================================ RPCs
-- The aggregation. Recomputes (never increments) the (shop, day) rows of [from_date, to_date] that need it:
--   * days never aggregated: every shop with events that day, grouped straight from one range scan;
--   * days aggregated before: only the (shop, day) pairs with an event recorded after the day's watermark
--     (a late event, a late status callback, a reversal), found through the recorded_at index.
-- ONE insert … select … group by … on conflict do update statement for all shops, writing only rows whose values
-- changed. The watermark is the start of the oldest transaction still open (an uncommitted event's recorded_at
-- is never older than its transaction), at most now() - 5 minutes; so nothing in flight is skipped and a rerun
-- rewrites nothing. Overlapping runs are serialised by a transaction-scoped advisory lock: the second waits and
-- then finds nothing to do. Defaults: the trailing 62 days through today (UTC).
create function public.aggregate_usage(from_date date default null, to_date date default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_today date := (clock_timestamp() at time zone 'UTC')::date;
  v_from date := coalesce(aggregate_usage.from_date, v_today - 62);
  v_to date := coalesce(aggregate_usage.to_date, v_today);
  v_started timestamptz := clock_timestamp();
  v_watermark timestamptz;
  v_new_days date[];
  v_min_mark timestamptz;
  v_rows integer;
  v_alerts integer;
begin
  -- callers: the service role, platform admins, or a direct database session without a JWT (pg_cron, psql as
  -- postgres); EXECUTE is granted to nobody else, and PostgREST (session user authenticator) always sets claims
  if not (coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role', '') = 'service_role'
          or (coalesce(current_setting('request.jwt.claims', true), '') = '' and session_user::text <> 'authenticator')
          or private.is_platform_admin()) then
    raise exception 'forbidden: platform admins only' using errcode = '42501';
  end if;
  if v_from > v_to then
    raise exception 'invalid_argument: from_date must not be after to_date' using errcode = '22023';
  end if;
  if v_to > v_today + 1 or v_to - v_from > 400 then
    raise exception 'invalid_argument: the range must end by tomorrow (UTC) and span at most 400 days'
      using errcode = '22023';
  end if;

  perform pg_advisory_xact_lock(hashtext('public.aggregate_usage')::bigint);

  select least(clock_timestamp() - interval '5 minutes',
               coalesce(min(a.xact_start), 'infinity'))
    into v_watermark
    from pg_catalog.pg_stat_activity a
   where a.pid <> pg_catalog.pg_backend_pid() and a.xact_start is not null and a.datname = current_database();

  -- (min over days that have a watermark; new days are scanned whole)
  select coalesce(array_agg(g.d::date order by g.d) filter (where s.day is null), '{}'),
         min(s.watermark)
    into v_new_days, v_min_mark
    from generate_series(v_from, v_to, interval '1 day') as g (d)
    left join public.usage_aggregation_state s on s.day = g.d::date;

  with marks as (
    select s.day, s.watermark from public.usage_aggregation_state s where s.day between v_from and v_to
  ),
  fresh as (
    -- days never aggregated: one range scan over those days, all shops
    select e.tenant_id, (e.occurred_at at time zone 'UTC')::date as day, e.metric, e.quantity, e.recorded_at
    from public.usage_events e
    where cardinality(v_new_days) > 0
      and e.occurred_at >= (v_new_days[1]::timestamp at time zone 'UTC')
      and e.occurred_at < ((v_new_days[cardinality(v_new_days)] + 1)::timestamp at time zone 'UTC')
      and (e.occurred_at at time zone 'UTC')::date = any (v_new_days)
  ),
  dirty as (
    -- aggregated days with events recorded after their watermark
    select distinct e.tenant_id, m.day
    from public.usage_events e
    join marks m on m.day = (e.occurred_at at time zone 'UTC')::date
    where v_min_mark is not null and e.recorded_at > v_min_mark and e.recorded_at > m.watermark
  ),
  redo as (
    select e.tenant_id, d.day, e.metric, e.quantity, e.recorded_at
    from dirty d
    join public.usage_events e
      on e.tenant_id = d.tenant_id
     and e.occurred_at >= (d.day::timestamp at time zone 'UTC')
     and e.occurred_at < ((d.day + 1)::timestamp at time zone 'UTC')
  ),
  agg as (
    select x.tenant_id, x.day,
           coalesce(sum(x.quantity) filter (where x.metric = 'sms_outbound'), 0) as sms_outbound_segments,
           coalesce(sum(x.quantity) filter (where x.metric = 'sms_inbound'), 0) as sms_inbound,
           coalesce(sum(x.quantity) filter (where x.metric = 'mms_outbound'), 0) as mms_outbound,
           coalesce(sum(x.quantity) filter (where x.metric = 'voice_minutes_inbound'), 0) as voice_minutes_inbound,
           coalesce(sum(x.quantity) filter (where x.metric = 'voice_minutes_outbound'), 0) as voice_minutes_outbound,
           coalesce(sum(x.quantity) filter (where x.metric = 'emails_sent'), 0) as emails_sent,
           coalesce(sum(x.quantity) filter (where x.metric = 'ai_requests'), 0) as ai_requests,
           coalesce(sum(x.quantity) filter (where x.metric = 'ocr_pages'), 0) as ocr_pages,
           count(*) as event_count,
           max(x.recorded_at) as max_recorded_at
    from (select * from fresh union all select * from redo) x
    group by x.tenant_id, x.day
  )
  insert into public.billing_usage_daily as b
    (tenant_id, day, sms_outbound_segments, sms_inbound, mms_outbound, voice_minutes_inbound,
     voice_minutes_outbound, emails_sent, ai_requests, ocr_pages, event_count, max_recorded_at)
  select * from agg
  on conflict (tenant_id, day) do update
     set sms_outbound_segments = excluded.sms_outbound_segments,
         sms_inbound = excluded.sms_inbound,
         mms_outbound = excluded.mms_outbound,
         voice_minutes_inbound = excluded.voice_minutes_inbound,
         voice_minutes_outbound = excluded.voice_minutes_outbound,
         emails_sent = excluded.emails_sent,
         ai_requests = excluded.ai_requests,
         ocr_pages = excluded.ocr_pages,
         event_count = excluded.event_count,
         max_recorded_at = excluded.max_recorded_at,
         updated_at = now()
   where (b.sms_outbound_segments, b.sms_inbound, b.mms_outbound, b.voice_minutes_inbound,
          b.voice_minutes_outbound, b.emails_sent, b.ai_requests, b.ocr_pages, b.event_count, b.max_recorded_at)
         is distinct from
         (excluded.sms_outbound_segments, excluded.sms_inbound, excluded.mms_outbound,
          excluded.voice_minutes_inbound, excluded.voice_minutes_outbound, excluded.emails_sent,
          excluded.ai_requests, excluded.ocr_pages, excluded.event_count, excluded.max_recorded_at);
  get diagnostics v_rows = row_count;

  insert into public.usage_aggregation_state as s (day, watermark, aggregated_at, rows_changed)
  select g.d::date, v_watermark, clock_timestamp(), v_rows
  from generate_series(v_from, v_to, interval '1 day') as g (d)
  on conflict (day) do update
     set watermark = greatest(s.watermark, excluded.watermark),
         aggregated_at = excluded.aggregated_at,
         rows_changed = excluded.rows_changed;

  v_alerts := private.detect_usage_alerts();

  return jsonb_build_object(
    'from', v_from, 'to', v_to, 'daysScannedWhole', cardinality(v_new_days), 'rowsChanged', v_rows,
    'alertsRecorded', v_alerts, 'watermark', v_watermark,
    'durationMs', round(extract(epoch from clock_timestamp() - v_started) * 1000, 1));
end;
$$;
comment on function public.aggregate_usage(date, date) is
  'Aggregate the usage ledger into billing_usage_daily for [from_date, to_date] (UTC; default the trailing 62 '
  'days through today): days never aggregated and days with events recorded since. One set-based upsert, '
  'idempotent, serialised. Service role, platform admins and pg_cron.';

-- What pg_cron runs (as postgres, no JWT): the aggregation, then — when Vault holds project_url and
-- cron_function_key and pg_net is there — a POST to the usage-aggregate function so it emails pending alerts
-- (and, with {"digest": true}, the daily usage emails). The aggregation never depends on HTTP.
create function private.usage_cron_tick(digest boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_result jsonb := public.aggregate_usage();
  v_url text;
  v_key text;
  v_request bigint;
begin
  if to_regclass('vault.decrypted_secrets') is not null
     and to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is not null then
    execute $q$select
        (select decrypted_secret from vault.decrypted_secrets where name = 'project_url' limit 1),
        (select decrypted_secret from vault.decrypted_secrets where name = 'cron_function_key' limit 1)$q$
      into v_url, v_key;
    if v_url is not null and v_key is not null then
      execute $q$select net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := 60000)$q$
        into v_request
        using rtrim(v_url, '/') || '/functions/v1/usage-aggregate',
              jsonb_build_object('aggregate', false, 'digest', usage_cron_tick.digest),
              jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || v_key);
    end if;
  end if;
  return v_result || jsonb_build_object('emailRequest', v_request);
end;
$$;

-- The owner's Usage & Billing page.
create function public.usage_summary(tenant_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_now timestamptz := now();
  v_today date := (v_now at time zone 'UTC')::date;
  t record;
  v_totals jsonb;
  v_daily jsonb;
  v_elapsed numeric;
  v_length numeric;
begin
  if not private.has_tenant_role(usage_summary.tenant_id, 'technician') then
    raise exception 'not_a_member: you are not a member of this shop' using errcode = '42501';
  end if;
  select p.id as plan_id, p.label, p.monthly_price_cents, p.sms_segments, p.mms_messages, p.voice_minutes, p.emails,
         p.ai_requests as ai_cap, p.ocr_pages as ocr_cap, p.overage_cents_per_segment, tn.overage_policy, tn.status,
         q.period_start, q.period_end
    into t
    from public.tenants tn
    join public.plans p on p.id = tn.plan
    join public.tenant_quota q on q.tenant_id = tn.id
   where tn.id = usage_summary.tenant_id;

  select jsonb_build_object(
           'smsOutboundSegments', u.sms_outbound_segments, 'smsInbound', u.sms_inbound,
           'mmsOutbound', u.mms_outbound, 'voiceMinutesInbound', u.voice_minutes_inbound,
           'voiceMinutesOutbound', u.voice_minutes_outbound,
           'voiceMinutes', u.voice_minutes_inbound + u.voice_minutes_outbound,
           'emailsSent', u.emails_sent, 'aiRequests', u.ai_requests, 'ocrPages', u.ocr_pages)
    into v_totals
    from private.usage_totals(usage_summary.tenant_id, t.period_start, least(t.period_end, v_now + interval '1 day')) u;

  with days as (
    select g.d::date as day from generate_series(v_today - 29, v_today, interval '1 day') g (d)
  ),
  today as (
    select * from private.usage_ledger_totals(usage_summary.tenant_id, (v_today::timestamp at time zone 'UTC'),
                                               ((v_today + 1)::timestamp at time zone 'UTC'))
  ),
  rows as (
    select d.day,
           coalesce(case when d.day = v_today then td.sms_outbound_segments else b.sms_outbound_segments end, 0) as sms,
           coalesce(case when d.day = v_today then td.sms_inbound else b.sms_inbound end, 0) as sms_in,
           coalesce(case when d.day = v_today then td.mms_outbound else b.mms_outbound end, 0) as mms,
           coalesce(case when d.day = v_today then td.voice_minutes_inbound + td.voice_minutes_outbound
                         else b.voice_minutes_inbound + b.voice_minutes_outbound end, 0) as voice,
           coalesce(case when d.day = v_today then td.emails_sent else b.emails_sent end, 0) as emails,
           coalesce(case when d.day = v_today then td.ai_requests else b.ai_requests end, 0) as ai,
           coalesce(case when d.day = v_today then td.ocr_pages else b.ocr_pages end, 0) as ocr
    from days d
    cross join today td
    left join public.billing_usage_daily b on b.tenant_id = usage_summary.tenant_id and b.day = d.day
  )
  select jsonb_agg(jsonb_build_object('day', r.day, 'smsOutboundSegments', r.sms, 'smsInbound', r.sms_in,
                                      'mmsOutbound', r.mms, 'voiceMinutes', r.voice, 'emailsSent', r.emails,
                                      'aiRequests', r.ai, 'ocrPages', r.ocr) order by r.day)
    into v_daily
    from rows r;

  v_length := extract(epoch from t.period_end - t.period_start);
  -- at least one hour elapsed, so the first minutes of a period do not project absurd numbers
  v_elapsed := greatest(extract(epoch from least(v_now, t.period_end) - t.period_start), 3600);

  return jsonb_build_object(
    'tenantId', usage_summary.tenant_id,
    'currentPlan', jsonb_build_object('name', t.plan_id, 'label', t.label, 'monthlyPrice', t.monthly_price_cents / 100.0,
                                      'monthlyPriceCents', t.monthly_price_cents, 'currency', 'usd',
                                      'status', t.status, 'overagePolicy', t.overage_policy,
                                      'overageCentsPerSegment', t.overage_cents_per_segment),
    'planLimits', jsonb_build_object('smsSegments', t.sms_segments, 'mmsMessages', t.mms_messages,
                                     'voiceMinutes', t.voice_minutes, 'emails', t.emails,
                                     'aiRequests', t.ai_cap, 'ocrPages', t.ocr_cap),
    'currentPeriod', jsonb_build_object('start', t.period_start, 'end', t.period_end,
                                        'daysElapsed', round(v_elapsed / 86400, 2),
                                        'daysTotal', round(v_length / 86400, 2)),
    'totalsForPeriod', v_totals,
    'dailyUsage', v_daily,
    'forecast', (
      select jsonb_object_agg(k.key, jsonb_build_object(
               'projected', round(k.used * v_length / v_elapsed),
               'cap', k.cap,
               'projectedPercent', case when k.cap > 0 then round(k.used * v_length / v_elapsed * 100 / k.cap, 1) end,
               'willExceed', k.cap is not null and round(k.used * v_length / v_elapsed) > k.cap))
      from (values
        ('smsOutboundSegments', (v_totals ->> 'smsOutboundSegments')::numeric, t.sms_segments),
        ('mmsOutbound', (v_totals ->> 'mmsOutbound')::numeric, t.mms_messages),
        ('voiceMinutes', (v_totals ->> 'voiceMinutes')::numeric, t.voice_minutes),
        ('emailsSent', (v_totals ->> 'emailsSent')::numeric, t.emails),
        ('aiRequests', (v_totals ->> 'aiRequests')::numeric, t.ai_cap),
        ('ocrPages', (v_totals ->> 'ocrPages')::numeric, t.ocr_cap),
        ('smsInbound', (v_totals ->> 'smsInbound')::numeric, null::integer)
      ) as k (key, used, cap)),
    'alerts', coalesce((
      select jsonb_agg(jsonb_build_object('metric', a.metric, 'threshold', a.threshold, 'used', a.used,
                                          'cap', a.cap, 'at', a.created_at) order by a.created_at)
      from public.usage_alerts a
      where a.tenant_id = usage_summary.tenant_id and a.period_start = t.period_start), '[]'),
    'generatedAt', v_now);
end;
$$;
comment on function public.usage_summary(uuid) is
  'The shop''s plan, limits, current period, period totals (aggregates + today''s ledger), the last 30 days and a '
  'linear forecast to period end. Members of the shop only.';

create function public.check_limits(tenant_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not private.has_tenant_role(check_limits.tenant_id, 'technician') then
    raise exception 'not_a_member: you are not a member of this shop' using errcode = '42501';
  end if;
  return private.limits_json(check_limits.tenant_id);
end;
$$;
comment on function public.check_limits(uuid) is
  'Every capped counter of the shop for the current period (used, cap, remaining, percent) from tenant_quota and '
  'plans: two primary-key lookups, no ledger scan. Members only.';

-- The decision the server enforces: plan features through private.has_feature; metered caps through
-- tenant_quota (consume_quota's rule: used + 1 <= cap, or past the cap when the shop chose metered SMS overage).
create function public.can_use(tenant_id uuid, feature text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_key text;
  v_limit jsonb;
  v_policy text;
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
  select l, lj ->> 'overagePolicy' into v_limit, v_policy
    from private.limits_json(can_use.tenant_id) lj
    cross join lateral jsonb_array_elements(lj -> 'limits') l
   where l ->> 'key' = v_key;
  return jsonb_build_object('feature', can_use.feature, 'kind', 'metered', 'key', v_key,
    'used', (v_limit ->> 'used')::integer, 'cap', (v_limit ->> 'cap')::integer,
    'remaining', (v_limit ->> 'remaining')::integer,
    'allowed', (v_limit ->> 'used')::integer < (v_limit ->> 'cap')::integer
               or (v_key = 'sms_segments' and v_policy = 'metered'),
    'reason', case when (v_limit ->> 'used')::integer < (v_limit ->> 'cap')::integer then 'within_cap'
                   when v_key = 'sms_segments' and v_policy = 'metered' then 'metered_overage'
                   else 'cap_reached' end);
end;
$$;
comment on function public.can_use(uuid, text) is
  'Would the server allow one more use? Plan features (plan_feature names) or metered resources (sms, mms, '
  'voice_minutes, emails, ai_requests, ocr_pages and the metric names). Members only.';

create function public.am_i_platform_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select private.is_platform_admin();
$$;
comment on function public.am_i_platform_admin() is 'For the PWA: show the operator pages? (The RPCs check again.)';

-- The operator's overview: every shop with period totals, estimated provider cost, revenue, overage, margin,
-- opt-out and carrier-error rates. Period: [from_date, to_date] in UTC days (default this calendar month).
create function public.admin_usage_overview(from_date date default null, to_date date default null)
returns table (
  tenant_id uuid, name text, plan text, plan_label text, status public.tenant_status, overage_policy text,
  sms_outbound_segments bigint, sms_inbound bigint, mms_outbound bigint, voice_minutes_inbound bigint,
  voice_minutes_outbound bigint, emails_sent bigint, ai_requests bigint, ocr_pages bigint,
  sms_cap integer, provider_cost_cents numeric, plan_revenue_cents numeric, overage_cents numeric,
  margin_cents numeric, opt_outs bigint, opt_out_rate numeric, carrier_sent bigint, carrier_failed bigint,
  carrier_error_rate numeric
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_today date := (now() at time zone 'UTC')::date;
  v_from date := coalesce(admin_usage_overview.from_date, date_trunc('month', v_today)::date);
  v_to date := coalesce(admin_usage_overview.to_date, (date_trunc('month', v_today) + interval '1 month - 1 day')::date);
  v_months numeric;
begin
  if not private.is_platform_admin() then
    raise exception 'forbidden: platform admins only' using errcode = '42501';
  end if;
  if v_from > v_to or v_to - v_from > 400 then
    raise exception 'invalid_argument: from_date must not be after to_date, and the range at most 400 days'
      using errcode = '22023';
  end if;
  -- plan revenue and number rental are monthly: prorate to the range
  v_months := (v_to - v_from + 1) / 30.4375;
  return query
  with totals as (
    select x.tenant_id,
           sum(x.sms)::bigint as sms, sum(x.sms_in)::bigint as sms_in, sum(x.mms)::bigint as mms,
           sum(x.vin)::bigint as vin, sum(x.vout)::bigint as vout, sum(x.em)::bigint as em,
           sum(x.ai)::bigint as ai, sum(x.ocr)::bigint as ocr
    from (
      select b.tenant_id, b.sms_outbound_segments as sms, b.sms_inbound as sms_in, b.mms_outbound as mms,
             b.voice_minutes_inbound as vin, b.voice_minutes_outbound as vout, b.emails_sent as em,
             b.ai_requests as ai, b.ocr_pages as ocr
      from public.billing_usage_daily b
      where b.day >= v_from and b.day <= v_to and b.day < v_today
      union all
      select e.tenant_id,
             case when e.metric = 'sms_outbound' then e.quantity else 0 end,
             case when e.metric = 'sms_inbound' then e.quantity else 0 end,
             case when e.metric = 'mms_outbound' then e.quantity else 0 end,
             case when e.metric = 'voice_minutes_inbound' then e.quantity else 0 end,
             case when e.metric = 'voice_minutes_outbound' then e.quantity else 0 end,
             case when e.metric = 'emails_sent' then e.quantity else 0 end,
             case when e.metric = 'ai_requests' then e.quantity else 0 end,
             case when e.metric = 'ocr_pages' then e.quantity else 0 end
      from public.usage_events e
      where v_today between v_from and v_to
        and e.occurred_at >= (v_today::timestamp at time zone 'UTC')
        and e.occurred_at < ((v_today + 1)::timestamp at time zone 'UTC')
    ) x
    group by x.tenant_id
  ),
  rates as (select jsonb_object_agg(r.item, r.cents_per_unit) as r from public.usage_cost_rates r),
  optouts as (
    select c.tenant_id, count(*) as n
    from public.consent_events c
    where c.action = 'opt_out'
      and c.occurred_at >= (v_from::timestamp at time zone 'UTC')
      and c.occurred_at < ((v_to + 1)::timestamp at time zone 'UTC')
    group by c.tenant_id
  ),
  carrier as (
    select o.tenant_id, sum(o.sent)::bigint as sent, sum(o.failed)::bigint as failed
    from private.carrier_outcomes_daily o
    where o.day between v_from and v_to
    group by o.tenant_id
  ),
  base as (
    select tn.id, tn.name, p.id as plan, p.label, tn.status, tn.overage_policy,
           coalesce(tt.sms, 0) as sms, coalesce(tt.sms_in, 0) as sms_in, coalesce(tt.mms, 0) as mms,
           coalesce(tt.vin, 0) as vin, coalesce(tt.vout, 0) as vout, coalesce(tt.em, 0) as em,
           coalesce(tt.ai, 0) as ai, coalesce(tt.ocr, 0) as ocr,
           p.sms_segments as sms_cap, p.overage_cents_per_segment, p.monthly_price_cents,
           'dedicated_number' = any (p.features) as has_number,
           coalesce(oo.n, 0) as opt_outs, ca.sent, ca.failed
    from public.tenants tn
    join public.plans p on p.id = tn.plan
    left join totals tt on tt.tenant_id = tn.id
    left join optouts oo on oo.tenant_id = tn.id
    left join carrier ca on ca.tenant_id = tn.id
  ),
  money as (
    select b.*,
           round(b.sms * (rt.r ->> 'sms_outbound')::numeric + b.sms_in * (rt.r ->> 'sms_inbound')::numeric
                 + b.mms * (rt.r ->> 'mms_outbound')::numeric
                 + b.vin * (rt.r ->> 'voice_minutes_inbound')::numeric
                 + b.vout * (rt.r ->> 'voice_minutes_outbound')::numeric
                 + b.em * (rt.r ->> 'emails_sent')::numeric + b.ai * (rt.r ->> 'ai_requests')::numeric
                 + b.ocr * (rt.r ->> 'ocr_pages')::numeric
                 + case when b.has_number then (rt.r ->> 'phone_number')::numeric * v_months else 0 end, 2) as cost,
           round(b.monthly_price_cents * v_months, 2) as revenue,
           case when b.overage_policy = 'metered' and b.sms > b.sms_cap
                then round((b.sms - b.sms_cap) * b.overage_cents_per_segment, 2) else 0 end as overage
    from base b cross join rates rt
  )
  select m.id, m.name, m.plan, m.label, m.status, m.overage_policy,
         m.sms, m.sms_in, m.mms, m.vin, m.vout, m.em, m.ai, m.ocr, m.sms_cap,
         m.cost, m.revenue, m.overage, m.revenue + m.overage - m.cost,
         m.opt_outs,
         case when m.sms > 0 then round(m.opt_outs::numeric / m.sms, 4) end,
         m.sent, m.failed,
         case when m.sent > 0 then round(m.failed::numeric / m.sent, 4) end
  from money m
  order by m.name, m.id;
end;
$$;
comment on function public.admin_usage_overview(date, date) is
  'Platform admins: every shop with period totals, estimated provider cost (usage_cost_rates), prorated plan '
  'revenue, metered overage, margin, opt-outs per outbound segment and the carrier-error rate '
  '(private.carrier_outcomes_daily). Cents.';

create function public.admin_tenant_daily(tenant_id uuid, from_date date default null, to_date date default null)
returns table (
  day date, sms_outbound_segments bigint, sms_inbound bigint, mms_outbound bigint, voice_minutes_inbound bigint,
  voice_minutes_outbound bigint, emails_sent bigint, ai_requests bigint, ocr_pages bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_today date := (now() at time zone 'UTC')::date;
  v_from date := coalesce(admin_tenant_daily.from_date, v_today - 29);
  v_to date := coalesce(admin_tenant_daily.to_date, v_today);
begin
  if not private.is_platform_admin() then
    raise exception 'forbidden: platform admins only' using errcode = '42501';
  end if;
  if v_from > v_to or v_to - v_from > 400 then
    raise exception 'invalid_argument: from_date must not be after to_date, and the range at most 400 days'
      using errcode = '22023';
  end if;
  return query
    select g.d::date,
           coalesce(case when g.d::date = v_today then td.sms_outbound_segments else b.sms_outbound_segments end, 0),
           coalesce(case when g.d::date = v_today then td.sms_inbound else b.sms_inbound end, 0),
           coalesce(case when g.d::date = v_today then td.mms_outbound else b.mms_outbound end, 0),
           coalesce(case when g.d::date = v_today then td.voice_minutes_inbound else b.voice_minutes_inbound end, 0),
           coalesce(case when g.d::date = v_today then td.voice_minutes_outbound else b.voice_minutes_outbound end, 0),
           coalesce(case when g.d::date = v_today then td.emails_sent else b.emails_sent end, 0),
           coalesce(case when g.d::date = v_today then td.ai_requests else b.ai_requests end, 0),
           coalesce(case when g.d::date = v_today then td.ocr_pages else b.ocr_pages end, 0)
    from generate_series(v_from, v_to, interval '1 day') g (d)
    cross join private.usage_ledger_totals(admin_tenant_daily.tenant_id, (v_today::timestamp at time zone 'UTC'),
                                           ((v_today + 1)::timestamp at time zone 'UTC')) td
    left join public.billing_usage_daily b on b.tenant_id = admin_tenant_daily.tenant_id and b.day = g.d::date
    order by 1;
end;
$$;
comment on function public.admin_tenant_daily(uuid, date, date) is
  'Platform admins: one shop''s usage per UTC day (zeros for days without events; today from the ledger).';

-- Server-only (the usage-aggregate function): claim alerts to email, with the owners' addresses.
create function public.usage_claim_alert_emails(max_rows integer default 100)
returns table (
  alert_id uuid, tenant_id uuid, tenant_name text, metric text, threshold smallint, used integer, cap integer,
  period_start timestamptz, period_end timestamptz, owner_emails text[]
)
language sql
volatile
security definer
set search_path = ''
as $$
  with claimed as (
    update public.usage_alerts a
       set email_claimed_at = now()
     where a.id in (
       select x.id from public.usage_alerts x
        where x.emailed_at is null
          and (x.email_claimed_at is null or x.email_claimed_at < now() - interval '10 minutes')
        order by x.created_at
        limit least(greatest(coalesce(usage_claim_alert_emails.max_rows, 100), 1), 500)
        for update skip locked)
    returning a.*
  )
  select c.id, c.tenant_id, t.name, c.metric, c.threshold, c.used, c.cap, c.period_start, c.period_end,
         coalesce((select array_agg(u.email::text order by m.created_at)
                     from public.memberships m join auth.users u on u.id = m.user_id
                    where m.tenant_id = c.tenant_id and m.role = 'owner' and u.email is not null), '{}')
  from claimed c join public.tenants t on t.id = c.tenant_id;
$$;

create function public.usage_mark_alerts_emailed(alert_ids uuid[])
returns integer
language sql
volatile
security definer
set search_path = ''
as $$
  with done as (
    update public.usage_alerts a set emailed_at = now()
     where a.id = any (usage_mark_alerts_emailed.alert_ids) and a.emailed_at is null
    returning 1)
  select count(*)::integer from done;
$$;

-- Server-only: shops whose daily usage email is due today (UTC), with their owners and limits; marks them sent.
create function public.usage_claim_daily_emails(max_rows integer default 200)
returns table (tenant_id uuid, tenant_name text, owner_emails text[], limits jsonb)
language sql
volatile
security definer
set search_path = ''
as $$
  with due as (
    update public.usage_settings s
       set last_daily_email_on = (now() at time zone 'UTC')::date
     where s.tenant_id in (
       select x.tenant_id from public.usage_settings x
        where x.daily_email and x.last_daily_email_on is distinct from (now() at time zone 'UTC')::date
        order by x.tenant_id
        limit least(greatest(coalesce(usage_claim_daily_emails.max_rows, 200), 1), 1000)
        for update skip locked)
    returning s.tenant_id
  )
  select d.tenant_id, t.name,
         coalesce((select array_agg(u.email::text order by m.created_at)
                     from public.memberships m join auth.users u on u.id = m.user_id
                    where m.tenant_id = d.tenant_id and m.role = 'owner' and u.email is not null), '{}'),
         private.limits_json(d.tenant_id)
  from due d join public.tenants t on t.id = d.tenant_id
  where t.status not in ('canceled', 'suspended');
$$;

-- Owners and admins turn the daily usage email on or off.
create function public.set_usage_settings(tenant_id uuid, daily_email boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not private.has_tenant_role(set_usage_settings.tenant_id, 'admin') then
    raise exception 'forbidden: owners and admins only' using errcode = '42501';
  end if;
  if set_usage_settings.daily_email is null then
    raise exception 'invalid_argument: daily_email must be true or false' using errcode = '22023';
  end if;
  insert into public.usage_settings (tenant_id, daily_email)
  values (set_usage_settings.tenant_id, set_usage_settings.daily_email)
  on conflict (tenant_id) do update set daily_email = excluded.daily_email;
end;
$$;

-- ============================================================================================ schedule
-- Real schedule where pg_cron exists (hosted: enable the extension first; local: the stack's pg_cron or its
-- stand-in): every 15 minutes (today's numbers and late events) and at 00:10 UTC (the day just ended, plus the
-- daily usage emails). Both run the same idempotent code.
do $do$
begin
  if to_regprocedure('cron.schedule(text, text, text)') is not null then
    perform cron.schedule('usage-aggregate', '*/15 * * * *', 'select private.usage_cron_tick(false)');
    perform cron.schedule('usage-aggregate-nightly', '10 0 * * *', 'select private.usage_cron_tick(true)');
  end if;
end;
$do$;

-- ============================================================================================ grants
revoke all on table public.billing_usage_daily, public.usage_aggregation_state, public.usage_alerts,
  public.usage_settings, public.usage_cost_rates from anon, authenticated;
grant select on table public.billing_usage_daily to authenticated;
grant select on table public.usage_alerts to authenticated;
grant select, insert on table public.usage_settings to authenticated;
grant update (daily_email) on table public.usage_settings to authenticated;
grant all on table public.billing_usage_daily, public.usage_aggregation_state, public.usage_alerts,
  public.usage_settings, public.usage_cost_rates to service_role;

revoke all on function
  private.usage_ledger_totals(uuid, timestamptz, timestamptz), private.usage_totals(uuid, timestamptz, timestamptz),
  private.detect_usage_alerts(), private.limits_json(uuid), private.usage_cron_tick(boolean)
  from public, anon, authenticated;
revoke all on private.carrier_outcomes_daily from public, anon, authenticated;

revoke all on function
  public.aggregate_usage(date, date), public.usage_summary(uuid), public.check_limits(uuid),
  public.can_use(uuid, text), public.am_i_platform_admin(), public.admin_usage_overview(date, date),
  public.admin_tenant_daily(uuid, date, date), public.usage_claim_alert_emails(integer),
  public.usage_mark_alerts_emailed(uuid[]), public.usage_claim_daily_emails(integer),
  public.set_usage_settings(uuid, boolean)
  from public, anon, authenticated;
grant execute on function
  public.aggregate_usage(date, date), public.usage_summary(uuid), public.check_limits(uuid),
  public.can_use(uuid, text), public.am_i_platform_admin(), public.admin_usage_overview(date, date),
  public.admin_tenant_daily(uuid, date, date), public.set_usage_settings(uuid, boolean)
  to authenticated, service_role;
grant execute on function
  public.usage_claim_alert_emails(integer), public.usage_mark_alerts_emailed(uuid[]),
  public.usage_claim_daily_emails(integer)
  to service_role;
