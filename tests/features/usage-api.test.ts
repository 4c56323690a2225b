/**
 * Usage metering through the running stack the way the PWA and the scheduler reach it: the RPCs over PostgREST
 * with HTTP statuses, the usage-aggregate edge function (platform admin vs owner), alert emails arriving once in
 * the email outbox, and the cron job calling the function through pg_net with the key from Vault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCronJobNow } from '../../local/db/scheduler.ts';
import { closeDb, db } from '../helpers/db.ts';
import { env } from '../helpers/env.ts';
import { createApiWorld, must, type ApiWorld } from '../helpers/personas.ts';

let w: ApiWorld;

interface OutboxEmail { to: string[]; subject: string; text: string | null }
async function emailsTo(address: string): Promise<OutboxEmail[]> {
  const res = await fetch(`${env.emailOutboxUrl}/_emulator/emails`);
  const all = (await res.json()) as OutboxEmail[];
  return all.filter((e) => e.to.includes(address));
}

beforeAll(async () => {
  w = await createApiWorld();
});

afterAll(async () => {
  await db().query('update public.tenant_quota set sms_segments_used = 0 where tenant_id = $1', [w.tenantA]);
  await closeDb();
});

describe('usage over the API', () => {
  it('members read their summary and limits; other shops get 403', async () => {
    const s = must(await w.ownerA.client.rpc('usage_summary', { tenant_id: w.tenantA }), 'summary') as Record<string, unknown>;
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['currentPlan', 'planLimits', 'currentPeriod', 'totalsForPeriod', 'dailyUsage', 'forecast']));
    const l = must(await w.techA.client.rpc('check_limits', { tenant_id: w.tenantA }), 'limits') as { limits: unknown[] };
    expect(l.limits).toHaveLength(6);
    const denied = await w.ownerB.client.rpc('usage_summary', { tenant_id: w.tenantA });
    expect(denied.error?.code).toBe('42501');
    expect((await w.ownerB.client.from('billing_usage_daily').select('*').eq('tenant_id', w.tenantA)).data).toEqual([]);
    expect((await w.anon.rpc('check_limits', { tenant_id: w.tenantA })).error?.code).toBe('42501');
    const overview = await w.ownerA.client.rpc('admin_usage_overview', {});
    expect(overview.error?.code).toBe('42501');
    const mine = must(await w.platformAdmin.client.rpc('admin_usage_overview', {}), 'overview') as Array<{ tenant_id: string }>;
    expect(mine.map((r) => r.tenant_id)).toEqual(expect.arrayContaining([w.tenantA, w.tenantB]));
    expect(must(await w.platformAdmin.client.rpc('am_i_platform_admin'), 'admin?')).toBe(true);
  });

  it('usage-aggregate: platform admins run it, owners get 403, alerts are emailed once', async () => {
    const owner = await w.ownerA.client.functions.invoke('usage-aggregate', { body: {} });
    expect((owner.error as { context?: Response } | null)?.context?.status).toBe(403);
    await db().query('update public.tenant_quota set sms_segments_used = 40 where tenant_id = $1', [w.tenantA]); // 80 % of 50
    const today = new Date().toISOString().slice(0, 10);
    const run = await w.platformAdmin.client.functions.invoke('usage-aggregate', { body: { from: today, to: today } });
    expect(run.error).toBeNull();
    expect(run.data).toMatchObject({ aggregation: { from: today, to: today } });
    const again = await w.platformAdmin.client.functions.invoke('usage-aggregate', { body: { from: today, to: today } });
    expect(again.error).toBeNull();
    const mails = (await emailsTo(w.ownerA.email)).filter((m) => m.subject.includes('80% of this month'));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('40 of 50 segments');
    const bad = await w.platformAdmin.client.functions.invoke('usage-aggregate', { body: { from: 'yesterday' } });
    expect((bad.error as { context?: Response } | null)?.context?.status).toBe(400);
  });

  it('the cron job reaches the function through pg_net with the Vault key', async () => {
    const { rows: [{ max }] } = await db().query('select coalesce(max(id), 0) as max from net._http_response');
    const r = await runCronJobNow(env.dbUrl, 'usage-aggregate');
    expect(r.status).toBe('succeeded');
    let status: number | null = null;
    for (let i = 0; i < 100 && status === null; i++) {
      const { rows } = await db().query(
        `select status_code from net._http_response where id > $1 and content like '%alertsEmailed%' order by id desc limit 1`, [max]);
      status = rows[0]?.status_code ?? null;
      if (status === null) await new Promise((res) => setTimeout(res, 100));
    }
    expect(status).toBe(200);
  });
});
