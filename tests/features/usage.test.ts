/**
 * Usage metering against the stack's database: the daily aggregation (idempotent, concurrent-safe, late events,
 * UTC day and period boundaries), the owner's summary and limits, tenant isolation, the admin RPCs, alerts and
 * the real cron job.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCronJobNow } from '../../local/db/scheduler.ts';
import { asUser, closeDb, db, sqlError } from '../helpers/db.ts';
import { env } from '../helpers/env.ts';
import { createSqlWorld, sqlRpc, type SqlWorld } from '../helpers/personas.ts';

let w: SqlWorld;

const DAY = 86_400_000;
const utcDay = (offsetDays: number) => new Date(Math.floor(Date.now() / DAY) * DAY + offsetDays * DAY);
const iso = (d: Date) => d.toISOString();
const dateOf = (d: Date) => d.toISOString().slice(0, 10);

async function record(tenant: string, metric: string, qty: number, at: Date | string, source: string = randomUUID()) {
  const { rows } = await db().query(
    `select private.record_usage($1, $2::public.usage_metric, $3, 'test', $4, $5::timestamptz) as ok`,
    [tenant, metric, qty, source, typeof at === 'string' ? at : iso(at)]);
  return rows[0].ok as boolean;
}

/** As the service role (the way the edge function and server jobs call it). */
async function aggregate(from: string | null, to: string | null): Promise<Record<string, unknown>> {
  return asUser(null, async (c) => (await c.query('select public.aggregate_usage($1, $2) as r', [from, to])).rows[0].r,
    { claims: { role: 'service_role' } as never });
}

async function dailyRows(tenant: string) {
  const { rows } = await db().query(
    `select day::text, sms_outbound_segments::int, sms_inbound::int, mms_outbound::int, voice_minutes_inbound::int,
            voice_minutes_outbound::int, emails_sent::int, ai_requests::int, ocr_pages::int, event_count::int,
            max_recorded_at, created_at, updated_at
       from public.billing_usage_daily where tenant_id = $1 order by day`, [tenant]);
  return rows;
}

async function directCount(tenant: string, from: string, to: string) {
  const { rows } = await db().query(
    `select metric::text, sum(quantity)::int as n from public.usage_events
      where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 group by 1`, [tenant, from, to]);
  return Object.fromEntries(rows.map((r) => [r.metric, r.n])) as Record<string, number>;
}

beforeAll(async () => {
  w = await createSqlWorld();
});

afterAll(async () => {
  await closeDb();
});

describe('aggregate_usage', () => {
  it('is idempotent: a rerun, and two runs at once, leave identical rows', async () => {
    const t = w.tenantA;
    await record(t, 'sms_outbound', 3, new Date(utcDay(-1).getTime() + 3_600_000));
    await record(t, 'sms_outbound', 2, new Date(utcDay(-1).getTime() + 7_200_000));
    await record(t, 'ai_requests', 1, new Date(utcDay(-3).getTime() + 60_000));
    await record(t, 'voice_minutes_inbound', 7, new Date(utcDay(-3).getTime() + 120_000));
    const from = dateOf(utcDay(-5));
    const to = dateOf(utcDay(0));
    await aggregate(from, to);
    const first = await dailyRows(t);
    expect(first.map((r) => [r.day, r.sms_outbound_segments, r.ai_requests, r.voice_minutes_inbound, r.event_count])).toEqual([
      [dateOf(utcDay(-3)), 0, 1, 7, 2],
      [dateOf(utcDay(-1)), 5, 0, 0, 2],
    ]);
    await aggregate(from, to);
    expect(await dailyRows(t)).toEqual(first); // same values, same updated_at: nothing rewritten

    await record(t, 'emails_sent', 4, new Date(utcDay(-2).getTime() + 1000));
    await Promise.all([aggregate(from, to), aggregate(from, to)]);
    const rows = await dailyRows(t);
    expect(rows.map((r) => [r.day, r.emails_sent])).toEqual([
      [dateOf(utcDay(-3)), 0], [dateOf(utcDay(-2)), 4], [dateOf(utcDay(-1)), 0],
    ]);
    // the rows untouched by the new event kept their updated_at through both concurrent runs
    expect(rows.filter((r) => r.day !== dateOf(utcDay(-2)))).toEqual(first);
    await aggregate(from, to);
    expect(await dailyRows(t)).toEqual(rows);
  });

  it('re-aggregates the day of a late event (and of a reversal) on the next run', async () => {
    const t = w.tenantB;
    const day = utcDay(-10);
    const msg1 = `msg-${randomUUID()}`;
    expect(await record(t, 'sms_outbound', 2, new Date(day.getTime() + 1000), msg1)).toBe(true);
    await aggregate(dateOf(utcDay(-12)), dateOf(utcDay(0)));
    const before = (await dailyRows(t)).find((r) => r.day === dateOf(day));
    expect(before?.sms_outbound_segments).toBe(2);
    // a late status callback: the event happened 10 days ago and is recorded now; then a reversal of msg-1
    await record(t, 'sms_outbound', 3, new Date(day.getTime() + 5000));
    await db().query(`select private.record_usage($1, 'sms_outbound', -2, 'test_reversal', $2, $3)`, [t, msg1, iso(new Date(day.getTime() + 1000))]);
    await aggregate(null, null);
    const after = (await dailyRows(t)).find((x) => x.day === dateOf(day));
    expect(after).toMatchObject({ sms_outbound_segments: 3, event_count: 3 });
    expect(new Date(after!.updated_at).getTime()).toBeGreaterThan(new Date(before!.updated_at).getTime());
  });

  it('puts 23:59:59.9 in its UTC day and 00:00 in the next; the period totals follow the period bounds', async () => {
    const t = w.tenantB;
    const periodStart = utcDay(-20);
    const periodEnd = utcDay(-6); // a closed period in the past, bounds at midnight
    await record(t, 'ai_requests', 1, new Date(periodEnd.getTime() - 100)); // 23:59:59.9 on the last day
    await record(t, 'ai_requests', 10, periodEnd); // 00:00 of the next day: next period
    await record(t, 'ai_requests', 100, periodStart); // first instant of the period
    await record(t, 'ai_requests', 1000, new Date(periodStart.getTime() - 100)); // last instant before it
    await aggregate(dateOf(utcDay(-25)), dateOf(utcDay(0)));
    const rows = await dailyRows(t);
    const at = (d: Date) => rows.find((r) => r.day === dateOf(d))?.ai_requests ?? 0;
    expect(at(new Date(periodEnd.getTime() - DAY))).toBe(1);
    expect(at(periodEnd)).toBe(10);
    expect(at(periodStart)).toBe(100);
    expect(at(new Date(periodStart.getTime() - DAY))).toBe(1000);

    // the summary over that period (moved there for the test) counts exactly [start, end)
    const { rows: [saved] } = await db().query('select period_start, period_end from public.tenant_quota where tenant_id = $1', [t]);
    try {
      await db().query('update public.tenant_quota set period_start = $2, period_end = $3 where tenant_id = $1', [t, iso(periodStart), iso(periodEnd)]);
      const s = await sqlRpc<{ totalsForPeriod: Record<string, number> }>(w.ownerB.id, 'select public.usage_summary($1)', [t]);
      expect(s.totalsForPeriod.aiRequests).toBe(101);
      // a period that starts and ends mid-day (Stripe anchors): the partial edge days come from the ledger
      const midStart = new Date(periodStart.getTime() - 100); // 23:59:59.9 the day before
      const midEnd = new Date(periodEnd.getTime() - 50);
      await db().query('update public.tenant_quota set period_start = $2, period_end = $3 where tenant_id = $1', [t, iso(midStart), iso(midEnd)]);
      const s2 = await sqlRpc<{ totalsForPeriod: Record<string, number> }>(w.ownerB.id, 'select public.usage_summary($1)', [t]);
      expect(s2.totalsForPeriod.aiRequests).toBe(1000 + 100 + 1);
      const direct = await directCount(t, iso(midStart), iso(midEnd));
      expect(s2.totalsForPeriod.aiRequests).toBe(direct.ai_requests);
    } finally {
      await db().query('update public.tenant_quota set period_start = $2, period_end = $3 where tenant_id = $1', [t, saved.period_start, saved.period_end]);
    }
  });

  it('rejects bad ranges with a clear error', async () => {
    const e = await sqlError(aggregate('2026-05-02', '2026-05-01'));
    expect(e.code).toBe('22023');
    expect(e.message).toMatch(/^invalid_argument:/);
  });
});

describe('usage_summary, check_limits, can_use', () => {
  it('the summary equals a direct count of the ledger, with today live and 30 days of history', async () => {
    const t = w.tenantA;
    const { rows: [q] } = await db().query('select period_start, period_end from public.tenant_quota where tenant_id = $1', [t]);
    const start = new Date(q.period_start);
    const end = new Date(q.period_end);
    // inside the period: the period's first day (if before today) and now
    await record(t, 'sms_outbound', 6, new Date(start.getTime() + 1000));
    await record(t, 'mms_outbound', 2, new Date());
    await record(t, 'sms_inbound', 1, new Date());
    await record(t, 'ocr_pages', 3, new Date(Date.now() - 1000));
    await aggregate(null, null);
    await record(t, 'sms_outbound', 1, new Date()); // after the run: today comes from the ledger
    const s = await sqlRpc<Record<string, any>>(w.techA.id, 'select public.usage_summary($1)', [t]);
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['currentPlan', 'planLimits', 'currentPeriod', 'totalsForPeriod', 'dailyUsage', 'forecast']));
    const direct = await directCount(t, iso(start), iso(end));
    expect(s.totalsForPeriod).toMatchObject({
      smsOutboundSegments: direct.sms_outbound ?? 0,
      mmsOutbound: direct.mms_outbound ?? 0,
      smsInbound: direct.sms_inbound ?? 0,
      ocrPages: direct.ocr_pages ?? 0,
      aiRequests: direct.ai_requests ?? 0,
      emailsSent: direct.emails_sent ?? 0,
      voiceMinutes: (direct.voice_minutes_inbound ?? 0) + (direct.voice_minutes_outbound ?? 0),
    });
    expect(s.currentPlan).toMatchObject({ name: 'trial', label: 'Free trial', monthlyPrice: 0 });
    expect(s.planLimits).toMatchObject({ smsSegments: 50, aiRequests: 100 });
    expect(new Date(s.currentPeriod.start).getTime()).toBe(start.getTime());
    expect(s.dailyUsage).toHaveLength(30);
    const today = s.dailyUsage[29];
    expect(today.day).toBe(dateOf(utcDay(0)));
    const todayDirect = await directCount(t, iso(utcDay(0)), iso(utcDay(1)));
    expect(today.smsOutboundSegments).toBe(todayDirect.sms_outbound ?? 0);
    const sumDaily = s.dailyUsage.filter((d: any) => d.day >= dateOf(start)).reduce((n: number, d: any) => n + d.mmsOutbound, 0);
    expect(sumDaily).toBe(direct.mms_outbound);
    expect(s.forecast.smsOutboundSegments.projected).toBeGreaterThanOrEqual(s.totalsForPeriod.smsOutboundSegments);
    expect(s.forecast.smsOutboundSegments.cap).toBe(50);
  });

  it('check_limits reports every cap from tenant_quota; can_use gives the server\'s decision', async () => {
    const t = w.tenantA;
    const { rows: [{ status }] } = await db().query('select status::text from public.tenants where id = $1', [t]);
    await db().query('update public.tenant_quota set sms_segments_used = 50, emails_used = 3 where tenant_id = $1', [t]);
    try {
      const l = await sqlRpc<any>(w.techA.id, 'select public.check_limits($1)', [t]);
      expect(l.limits.map((x: any) => x.key)).toEqual(['sms_segments', 'mms', 'voice_minutes', 'emails', 'ai_requests', 'ocr_pages']);
      expect(l.limits[0]).toMatchObject({ used: 50, cap: 50, remaining: 0, exceeded: true, percent: 100 });
      expect(l.limits[3]).toMatchObject({ used: 3, cap: 200, remaining: 197, exceeded: false });
      expect(await sqlRpc(w.techA.id, 'select public.can_use($1, $2)', [t, 'sms'])).toMatchObject({ allowed: false, reason: 'cap_reached' });
      expect(await sqlRpc(w.techA.id, 'select public.can_use($1, $2)', [t, 'emails_sent'])).toMatchObject({ allowed: true, remaining: 197 });
      expect(await sqlRpc(w.techA.id, 'select public.can_use($1, $2)', [t, 'ai_sms_agent'])).toMatchObject({ kind: 'feature', allowed: true });
      expect(await sqlRpc(w.techA.id, 'select public.can_use($1, $2)', [t, 'ai_voice_agent'])).toMatchObject({ allowed: false, reason: 'not_in_plan' });
      // the same decision consume_quota makes
      const { rows: [c] } = await db().query(`select ok from private.consume_quota($1, 'sms_outbound', 1)`, [t]);
      expect(c.ok).toBe(false);
      // Metered overage counts only where it would be billed: not on a trial (no subscription) …
      await db().query(`update public.tenants set overage_policy = 'metered' where id = $1`, [t]);
      expect(await sqlRpc(w.techA.id, 'select public.can_use($1, $2)', [t, 'sms'])).toMatchObject({ allowed: false, reason: 'cap_reached' });
      // … but on a paying shop whose subscription covers the current period.
      await db().query(
        `insert into public.tenant_billing (tenant_id, stripe_customer_id, stripe_subscription_id, subscription_status, subscription_created_at)
         select $1::uuid, 'cus_usagetest' || substr(md5($1::text), 1, 8), 'sub_usagetest' || substr(md5($1::text), 1, 8), 'active', q.period_start
           from public.tenant_quota q where q.tenant_id = $1::uuid`, [t]);
      await db().query(`update public.tenants set status = 'active' where id = $1`, [t]);
      expect(await sqlRpc(w.techA.id, 'select public.can_use($1, $2)', [t, 'sms'])).toMatchObject({ allowed: true, reason: 'metered_overage' });
      const e = await sqlError(sqlRpc(w.techA.id, 'select public.can_use($1, $2)', [t, 'teleportation']));
      expect([e.code, e.message.split(':')[0]]).toEqual(['22023', 'invalid_feature']);
    } finally {
      await db().query('delete from public.tenant_billing where tenant_id = $1', [t]);
      await db().query(`update public.tenants set overage_policy = 'hard_stop', status = $2 where id = $1`, [t, status]);
      await db().query('delete from public.billing_overage_periods where tenant_id = $1', [t]);
      await db().query('update public.tenant_quota set sms_segments_used = 0, emails_used = 0 where tenant_id = $1', [t]);
    }
  });
});

describe('isolation and admin access', () => {
  it("a member of shop A cannot read shop B's aggregates, summary or limits", async () => {
    await aggregate(null, null);
    const own = await asUser(w.ownerA.id, async (c) => (await c.query('select tenant_id from public.billing_usage_daily')).rows);
    expect(own.length).toBeGreaterThan(0);
    expect(new Set(own.map((r) => r.tenant_id))).toEqual(new Set([w.tenantA]));
    const other = await asUser(w.ownerA.id, async (c) =>
      (await c.query('select * from public.billing_usage_daily where tenant_id = $1', [w.tenantB])).rows);
    expect(other).toEqual([]);
    for (const fn of ['usage_summary', 'check_limits']) {
      const e = await sqlError(sqlRpc(w.ownerA.id, `select public.${fn}($1)`, [w.tenantB]));
      expect([e.code, e.message.split(':')[0]]).toEqual(['42501', 'not_a_member']);
    }
    const e = await sqlError(sqlRpc(w.ownerA.id, 'select public.can_use($1, $2)', [w.tenantB, 'sms']));
    expect(e.code).toBe('42501');
    // a platform admin is no member either
    expect((await sqlError(sqlRpc(w.platformAdmin.id, 'select public.usage_summary($1)', [w.tenantB]))).code).toBe('42501');
    // anon: nothing
    expect((await sqlError(sqlRpc(null, 'select public.usage_summary($1)', [w.tenantA]))).code).toBe('42501');
    expect((await sqlError(asUser(null, (c) => c.query('select * from public.billing_usage_daily')))).code).toBe('42501');
  });

  it('only platform admins (and the service role) call the admin RPCs', async () => {
    for (const sql of ['select public.aggregate_usage()', 'select count(*) from public.admin_usage_overview()',
      `select count(*) from public.admin_tenant_daily('${w.tenantA}')`]) {
      for (const u of [w.ownerA.id, w.techA.id]) {
        const e = await sqlError(sqlRpc(u, sql));
        expect([e.code, e.message.split(':')[0]]).toEqual(['42501', 'forbidden']);
      }
      expect((await sqlError(sqlRpc(null, sql))).code).toBe('42501');
    }
    expect(await sqlRpc(w.ownerA.id, 'select public.am_i_platform_admin()')).toBe(false);
    expect(await sqlRpc(w.platformAdmin.id, 'select public.am_i_platform_admin()')).toBe(true);
    const rows = await asUser(w.platformAdmin.id, async (c) =>
      (await c.query('select * from public.admin_usage_overview() where tenant_id = any($1)', [[w.tenantA, w.tenantB]])).rows);
    expect(rows).toHaveLength(2);
    const a = rows.find((r) => r.tenant_id === w.tenantA);
    const { rows: [month] } = await db().query(`select date_trunc('month', now() at time zone 'UTC') as s`);
    const direct = await directCount(w.tenantA, new Date(month.s + 'Z').toISOString(), iso(utcDay(1)));
    expect(Number(a.sms_outbound_segments)).toBe(direct.sms_outbound ?? 0);
    expect(a).toMatchObject({ plan: 'trial', status: 'trialing' });
    expect(Number(a.provider_cost_cents)).toBeGreaterThan(0);
    expect(Number(a.margin_cents)).toBeCloseTo(Number(a.plan_revenue_cents) + Number(a.overage_cents) - Number(a.provider_cost_cents), 2);
    const daily = await asUser(w.platformAdmin.id, async (c) =>
      (await c.query('select * from public.admin_tenant_daily($1, $2, $3)', [w.tenantA, dateOf(utcDay(-5)), dateOf(utcDay(0))])).rows);
    expect(daily).toHaveLength(6);
    expect(daily.find((d) => d.day.toISOString?.().slice(0, 10) === dateOf(utcDay(-2)) || d.day === dateOf(utcDay(-2)))).toBeTruthy();
    const r = await sqlRpc<Record<string, unknown>>(w.platformAdmin.id, 'select public.aggregate_usage()');
    expect(r).toHaveProperty('rowsChanged');
  });
});

describe('alerts', () => {
  it('fire once per threshold per period', async () => {
    const t = w.tenantB; // trial: 50 SMS segments
    const count = async () => (await db().query(
      `select metric, threshold from public.usage_alerts where tenant_id = $1 order by metric, threshold`, [t])).rows;
    await db().query('update public.tenant_quota set sms_segments_used = 39 where tenant_id = $1', [t]);
    await aggregate(null, null);
    expect(await count()).toEqual([]);
    await db().query('update public.tenant_quota set sms_segments_used = 40 where tenant_id = $1', [t]);
    await aggregate(null, null);
    await aggregate(null, null);
    expect(await count()).toEqual([{ metric: 'sms_segments', threshold: 80 }]);
    await db().query('update public.tenant_quota set sms_segments_used = 50, ai_requests_used = 100 where tenant_id = $1', [t]);
    await Promise.all([aggregate(null, null), aggregate(null, null)]);
    expect(await count()).toEqual([
      { metric: 'ai_requests', threshold: 80 }, { metric: 'ai_requests', threshold: 100 },
      { metric: 'sms_segments', threshold: 80 }, { metric: 'sms_segments', threshold: 100 },
    ]);
    // the owner sees them (in the app); a member of another shop does not
    const seen = await asUser(w.ownerB.id, async (c) => (await c.query('select metric from public.usage_alerts')).rows);
    expect(seen).toHaveLength(4);
    expect(await asUser(w.ownerA.id, async (c) => (await c.query('select * from public.usage_alerts where tenant_id = $1', [t])).rows)).toEqual([]);
    const s = await sqlRpc<any>(w.ownerB.id, 'select public.usage_summary($1)', [t]);
    expect(s.alerts).toHaveLength(4);
    // the email path claims each alert once
    const claimed = await asUser(null, async (c) => (await c.query('select * from public.usage_claim_alert_emails(100) where tenant_id = $1', [t])).rows,
      { claims: { role: 'service_role' } as never });
    expect(claimed).toHaveLength(4);
    expect(claimed[0].owner_emails).toEqual([w.ownerB.email]);
    const again = await asUser(null, async (c) => (await c.query('select * from public.usage_claim_alert_emails(100) where tenant_id = $1', [t])).rows,
      { claims: { role: 'service_role' } as never });
    expect(again).toEqual([]);
    // a new period: told again
    await db().query(`update public.tenant_quota set period_start = period_start + interval '1 second' where tenant_id = $1`, [t]);
    await aggregate(null, null);
    expect(await count()).toHaveLength(8);
    await db().query(`update public.tenant_quota set period_start = period_start - interval '1 second', sms_segments_used = 0, ai_requests_used = 0 where tenant_id = $1`, [t]);
  });
});

describe('schedule', () => {
  it('the cron jobs exist and run the aggregation', async () => {
    const { rows: jobs } = await db().query(
      `select jobname, schedule, command, active from cron.job where jobname like 'usage-aggregate%' order by jobname`);
    expect(jobs).toEqual([
      { jobname: 'usage-aggregate', schedule: '*/15 * * * *', command: 'select private.usage_cron_tick(false)', active: true },
      { jobname: 'usage-aggregate-nightly', schedule: '10 0 * * *', command: 'select private.usage_cron_tick(true)', active: true },
    ]);
    const t = w.tenantA;
    const day = utcDay(-4);
    await record(t, 'voice_minutes_outbound', 9, new Date(day.getTime() + 1000));
    const r = await runCronJobNow(env.dbUrl, 'usage-aggregate');
    expect(r.status).toBe('succeeded');
    const row = (await dailyRows(t)).find((x) => x.day === dateOf(day));
    expect(row?.voice_minutes_outbound).toBe(9);
    const { rows: [last] } = await db().query(
      `select d.status from cron.job_run_details d join cron.job j on j.jobid = d.jobid
        where j.jobname = 'usage-aggregate' order by d.runid desc limit 1`);
    expect(last.status).toBe('succeeded');
  });
});

describe('daily usage email setting', () => {
  it('owners and admins switch it; the scheduler claims each shop once per UTC day', async () => {
    const t = w.tenantA;
    const e = await sqlError(sqlRpc(w.techA.id, 'select public.set_usage_settings($1, true)', [t]));
    expect([e.code, e.message.split(':')[0]]).toEqual(['42501', 'forbidden']);
    expect((await sqlError(sqlRpc(w.ownerB.id, 'select public.set_usage_settings($1, true)', [t]))).code).toBe('42501');
    await sqlRpc(w.adminA.id, 'select public.set_usage_settings($1, true)', [t]);
    const seen = await asUser(w.ownerA.id, async (c) => (await c.query('select daily_email from public.usage_settings where tenant_id = $1', [t])).rows);
    expect(seen).toEqual([{ daily_email: true }]);
    const claim = () => asUser(null, async (c) => (await c.query('select * from public.usage_claim_daily_emails(1000) where tenant_id = $1', [t])).rows,
      { claims: { role: 'service_role' } as never });
    const first = await claim();
    expect(first).toHaveLength(1);
    expect(first[0].owner_emails).toEqual([w.ownerA.email]);
    expect(first[0].limits.limits).toHaveLength(6);
    expect(await claim()).toEqual([]);
    // members cannot claim (server-only RPC)
    expect((await sqlError(sqlRpc(w.ownerA.id, 'select count(*) from public.usage_claim_daily_emails(10)'))).code).toBe('42501');
    await sqlRpc(w.ownerA.id, 'select public.set_usage_settings($1, false)', [t]);
  });
});
