/**
 * The usage-aggregate function's handler with fake deps: who may call it, body validation, the aggregation call,
 * alert emails (idempotency keys, marked only when every owner got it) and the daily emails.
 */
import { describe, expect, it } from 'vitest';
import { createHandler, parseBody, type RpcClient, type UsageAggregateDeps } from '../../supabase/functions/usage-aggregate/handler.ts';
import { createLogger } from '../../supabase/functions/_shared/log.ts';
import { alertEmail } from '../../supabase/functions/_shared/usage/emails.ts';

const SERVICE = 'service-role-key-for-tests';
const jwt = (claims: Record<string, unknown>) => `x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.y`;
const ADMIN = jwt({ role: 'authenticated', sub: 'admin-1' });
const OWNER = jwt({ role: 'authenticated', sub: 'owner-1' });

const alert = (id: string, emails: string[]) => ({
  alert_id: id, tenant_id: 't1', tenant_name: 'Joe\'s Garage', metric: 'sms_segments', threshold: 80, used: 40, cap: 50,
  period_start: '2026-11-01T00:00:00Z', period_end: '2026-12-01T00:00:00Z', owner_emails: emails,
});

function world(opts: { alerts?: unknown[]; failFor?: string; digests?: unknown[] } = {}) {
  const calls: Array<{ who: string; fn: string; args?: Record<string, unknown> }> = [];
  const sent: Array<{ to: string; subject: string; key?: string }> = [];
  const rpc = (who: string): RpcClient => ({
    async rpc(fn, args) {
      calls.push({ who, fn, args });
      if (fn === 'am_i_platform_admin') return { data: who === `user:Bearer ${ADMIN}`, error: null };
      if (fn === 'aggregate_usage') return { data: { rowsChanged: 3 }, error: null };
      if (fn === 'usage_claim_alert_emails') return { data: opts.alerts ?? [], error: null };
      if (fn === 'usage_mark_alerts_emailed') return { data: (args!.alert_ids as string[]).length, error: null };
      if (fn === 'usage_claim_daily_emails') return { data: opts.digests ?? [], error: null };
      return { data: null, error: { code: '42883', message: 'no such function' } };
    },
  });
  const deps: UsageAggregateDeps = {
    serviceRoleKey: SERVICE,
    auth: { async getUser(token) { return token === ADMIN || token === OWNER ? { id: 'u', email: null, phone: null, role: 'authenticated', appMetadata: {} } : null; } },
    userRpc: (authorization) => rpc(`user:${authorization}`),
    serviceRpc: rpc('service'),
    email: {
      async send(msg, o) {
        const to = String(msg.to);
        if (to === opts.failFor) throw new Error('provider down');
        sent.push({ to, subject: msg.subject, key: o?.idempotencyKey });
        return { id: `em_${sent.length}` };
      },
    },
    appUrl: 'https://app.example.test',
    log: createLogger('usage-aggregate-test', { sink: () => {} }),
  };
  return { handler: createHandler(deps), calls, sent };
}

const post = (token: string | null, body: unknown) => new Request('http://local/functions/v1/usage-aggregate', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('usage-aggregate handler', () => {
  it('lets the service key and platform admins run it; others get 401/403', async () => {
    const w = world();
    expect((await w.handler(post(SERVICE, {}))).status).toBe(200);
    const admin = await w.handler(post(ADMIN, { from: '2026-11-01', to: '2026-11-20' }));
    expect(admin.status).toBe(200);
    expect(await admin.json()).toMatchObject({ aggregation: { rowsChanged: 3 }, alertsEmailed: 0 });
    // the admin's run goes through the admin's own token, so the RPC checks the caller again
    expect(w.calls.find((c) => c.fn === 'aggregate_usage' && c.who.startsWith('user:'))?.args).toEqual({ from_date: '2026-11-01', to_date: '2026-11-20' });
    const owner = await w.handler(post(OWNER, {}));
    expect(owner.status).toBe(403);
    expect(await owner.json()).toMatchObject({ code: 'forbidden' });
    expect((await w.handler(post(null, {}))).status).toBe(401);
    expect((await w.handler(post('not-a-key', {}))).status).toBe(401);
    expect((await w.handler(new Request('http://local/x', { method: 'GET', headers: { Authorization: `Bearer ${SERVICE}` } }))).status).toBe(405);
    // only the scheduler sends the daily emails
    expect((await w.handler(post(ADMIN, { digest: true }))).status).toBe(403);
  });

  it('rejects bad bodies with clear errors', async () => {
    const w = world();
    for (const body of ['{', [], { from: '2026-13-01' }, { from: '2026-11-05', to: '2026-11-01' }, { aggregate: 'yes' }, { tenant: 'x' }]) {
      const r = await w.handler(post(SERVICE, body));
      expect(r.status).toBe(400);
      expect((await r.json()).code).toMatch(/^(invalid_argument|invalid_json)$/);
    }
    expect(parseBody({})).toEqual({ from: null, to: null, aggregate: true, digest: false });
    expect(parseBody({ aggregate: false, digest: true })).toMatchObject({ aggregate: false, digest: true });
  });

  it('emails each owner once per alert (idempotency key) and marks only fully sent alerts', async () => {
    const w = world({ alerts: [alert('a1', ['o1@x.test', 'o2@x.test']), alert('a2', ['bad@x.test']), alert('a3', [])], failFor: 'bad@x.test' });
    const r = await w.handler(post(SERVICE, { aggregate: false }));
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body).toMatchObject({ aggregation: null, alertsEmailed: 1, failures: [{ kind: 'alert', id: 'a2', code: 'email_failed' }] });
    expect(w.sent.map((s) => [s.to, s.key])).toEqual([['o1@x.test', 'usage-alert/a1/o1@x.test'], ['o2@x.test', 'usage-alert/a1/o2@x.test']]);
    expect(w.calls.find((c) => c.fn === 'usage_mark_alerts_emailed')?.args).toEqual({ alert_ids: ['a1'] });
    expect(w.calls.some((c) => c.fn === 'aggregate_usage')).toBe(false);
  });

  it('sends the daily usage emails when the scheduler asks', async () => {
    const w = world({ digests: [{ tenant_id: 't9', tenant_name: 'Shop', owner_emails: ['o@x.test'], limits: { limits: [{ key: 'sms_segments', used: 3, cap: 50, remaining: 47, percent: 6 }] } }] });
    const r = await w.handler(post(SERVICE, { digest: true }));
    expect(await r.json()).toMatchObject({ digestsEmailed: 1 });
    expect(w.sent[0]!.subject).toBe('Shop: your usage today');
    expect(w.sent[0]!.key).toMatch(/^usage-daily\/t9\/\d{4}-\d{2}-\d{2}\/o@x.test$/);
  });

  it('writes alert emails people understand, with the shop name escaped in HTML', () => {
    const m = alertEmail({ ...alert('a', []), tenant_name: '<Joe & Co>', threshold: 100, used: 50 }, 'https://app.example.test/');
    expect(m.subject).toBe("<Joe & Co>: you have used all of this month's text messages (sms)");
    expect(m.html).toContain('&lt;Joe &amp; Co&gt;');
    expect(m.text).toContain('50 of 50 segments');
    expect(m.text).toContain('https://app.example.test/usage');
  });
});
