/**
 * The sender resolver (supabase/functions/_shared/messaging/sender.ts), the webhook account check
 * (_shared/messaging/webhook.ts + twilio.ts) and the dispatcher's handling of re-pointed / unreadable senders,
 * with fake directories and RPCs (no stack).
 */
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../supabase/functions/_shared/http.ts';
import { createLogger } from '../../supabase/functions/_shared/log.ts';
import {
  isCredentialError, lazyKeyring, senderResolver, type SenderDirectory, type ShopNumber,
} from '../../supabase/functions/_shared/messaging/sender.ts';
import { verifiedForm } from '../../supabase/functions/_shared/messaging/webhook.ts';
import { keyringFromEnv } from '../../supabase/functions/_shared/telephony/crypto.ts';
import { platformAccountResolver, type AccountResolver, type TwilioConfig } from '../../supabase/functions/_shared/twilio.ts';
import { createHandler as dispatcherHandler, type DispatcherDeps } from '../../supabase/functions/message-dispatcher/handler.ts';
import { createHandler as statusHandler } from '../../supabase/functions/twilio-status/handler.ts';
import { createHandler as inboundHandler } from '../../supabase/functions/twilio-inbound/handler.ts';

const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const PLATFORM: TwilioConfig = { apiUrl: 'http://twilio.test', accountSid: 'AC' + '0'.repeat(32), authToken: 'platform-token' };
const SHARED = '+15005550006';
const SUB1 = 'AC' + '1'.repeat(32);
const SUB2 = 'AC' + '2'.repeat(32);
const silent = createLogger('t', { sink: () => {} });

function directory(numbers: ShopNumber[], creds: Record<string, { accountSid: string; authToken: string } | 'unreadable'>): SenderDirectory {
  return {
    activeNumber: async (t) => numbers.find((n) => n.tenant_id === t && n.status === 'active') ?? null,
    numberRecord: async (t, e164) => [...numbers].reverse().find((n) => n.tenant_id === t && n.e164 === e164) ?? null,
    credentials: async (t, kind) => {
      const c = creds[`${t}:${kind}`];
      if (c === 'unreadable') throw new HttpError(503, 'credential_unreadable', 'cannot be read');
      return c ? { tenantId: t, kind, ...c } : null;
    },
  };
}
const num = (tenant: string, e164: string, status: ShopNumber['status'], account: string, kind: 'subaccount' | 'byo' = 'subaccount'): ShopNumber =>
  ({ tenant_id: tenant, e164, status, account_sid: account, credential_kind: kind });

describe('senderResolver', () => {
  const dir = directory(
    [num(T1, '+13035550100', 'active', SUB1), num(T2, '+15125550100', 'released', SUB2), num(T2, '+15125550199', 'suspended', SUB2)],
    { [`${T1}:subaccount`]: { accountSid: SUB1, authToken: 'tok1' }, [`${T2}:subaccount`]: { accountSid: SUB2, authToken: 'tok2' } },
  );
  const r = senderResolver({ platform: PLATFORM, sharedNumber: SHARED, directory: dir });

  it('an active own number sends from it with the shop\'s own account and token; the API URL stays the platform\'s', async () => {
    const s = await r.forTenant(T1);
    expect(s).toEqual({ from: '+13035550100', shared: false, kind: 'subaccount',
      twilio: { ...PLATFORM, accountSid: SUB1, authToken: 'tok1' } });
  });

  it('no number, a released one or a suspended one → the shared number on the platform account', async () => {
    expect(await r.forTenant(T2)).toEqual({ from: SHARED, shared: true, kind: 'platform', twilio: PLATFORM });
    expect(await r.forTenant('33333333-3333-4333-8333-333333333333')).toMatchObject({ from: SHARED, shared: true });
  });

  it('a BYO number uses the BYO account; credentials of another account than the number\'s are refused (503)', async () => {
    const byo = 'AC' + 'b'.repeat(32);
    const ok = senderResolver({ platform: PLATFORM, sharedNumber: SHARED, directory: directory(
      [num(T1, '+13035550101', 'active', byo, 'byo')], { [`${T1}:byo`]: { accountSid: byo, authToken: 'byo-token' } }) });
    expect(await ok.forTenant(T1)).toMatchObject({ kind: 'byo', twilio: { accountSid: byo, authToken: 'byo-token' } });
    const mismatch = senderResolver({ platform: PLATFORM, sharedNumber: SHARED, directory: directory(
      [num(T1, '+13035550101', 'active', byo, 'byo')], { [`${T1}:byo`]: { accountSid: SUB1, authToken: 'x' } }) });
    await expect(mismatch.forTenant(T1)).rejects.toMatchObject({ status: 503, code: 'credential_unreadable' });
  });

  it('missing or unreadable credentials are a 503 credential_unreadable, never a silent switch to the shared number', async () => {
    const none = senderResolver({ platform: PLATFORM, sharedNumber: SHARED, directory: directory([num(T1, '+13035550100', 'active', SUB1)], {}) });
    const err = await none.forTenant(T1).catch((e) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect([err.status, err.code, isCredentialError(err)]).toEqual([503, 'credential_unreadable', true]);
    const bad = senderResolver({ platform: PLATFORM, sharedNumber: SHARED,
      directory: directory([num(T1, '+13035550100', 'active', SUB1)], { [`${T1}:subaccount`]: 'unreadable' }) });
    await expect(bad.forTenant(T1)).rejects.toMatchObject({ code: 'credential_unreadable' });
    expect(isCredentialError(new HttpError(503, 'database_unavailable', 'x'))).toBe(false);
  });

  it('forReserved keeps the reserved number while it is active; the shared number stays shared', async () => {
    expect(await r.forReserved({ tenant_id: T1, from_phone: '+13035550100', from_shared: false }))
      .toMatchObject({ from: '+13035550100', shared: false, changed: false, twilio: { accountSid: SUB1 } });
    // Reserved on the shared number before the shop got its own: it goes from the shared number.
    expect(await r.forReserved({ tenant_id: T1, from_phone: SHARED, from_shared: true }))
      .toEqual({ from: SHARED, shared: true, kind: 'platform', twilio: PLATFORM, changed: false });
    // The platform's number changed (configuration): re-pointed to the current one.
    expect(await r.forReserved({ tenant_id: T1, from_phone: '+15005550001', from_shared: true })).toMatchObject({ from: SHARED, changed: true });
  });

  it('forReserved re-resolves a released or suspended number: the shop\'s new number, else the shared one', async () => {
    expect(await r.forReserved({ tenant_id: T2, from_phone: '+15125550100', from_shared: false }))
      .toMatchObject({ from: SHARED, shared: true, changed: true, twilio: PLATFORM });
    const moved = senderResolver({ platform: PLATFORM, sharedNumber: SHARED, directory: directory(
      [num(T1, '+13035550100', 'released', SUB1), num(T1, '+13035550177', 'active', SUB1)],
      { [`${T1}:subaccount`]: { accountSid: SUB1, authToken: 'tok1' } }) });
    expect(await moved.forReserved({ tenant_id: T1, from_phone: '+13035550100', from_shared: false }))
      .toMatchObject({ from: '+13035550177', shared: false, changed: true });
  });

  it('accountThatSent: the platform for shared texts; for a shop number, its account even after release', async () => {
    expect(await r.accountThatSent({ tenant_id: T1, from_phone: SHARED, from_shared: true })).toEqual(PLATFORM);
    expect(await r.accountThatSent({ tenant_id: T2, from_phone: '+15125550100', from_shared: false }))
      .toEqual({ ...PLATFORM, accountSid: SUB2, authToken: 'tok2' });
    await expect(r.accountThatSent({ tenant_id: T1, from_phone: '+19995550100', from_shared: false }))
      .rejects.toMatchObject({ code: 'credential_unreadable' });
  });

  it('lazyKeyring: a missing TELEPHONY_KEYS is a 503 credential_unreadable when first needed, retried after', async () => {
    const env: Record<string, string> = {};
    const ring = lazyKeyring(() => keyringFromEnv((k) => env[k]));
    const err = await ring().catch((e) => e);
    expect([err.status, err.code]).toEqual([503, 'credential_unreadable']);
    expect(err.message).toMatch(/TELEPHONY_KEYS/);
    env.TELEPHONY_KEYS = JSON.stringify({ dev: Buffer.alloc(32, 7).toString('base64') });
    env.TELEPHONY_ACTIVE_KEY_ID = 'dev';
    expect((await ring()).activeKeyId).toBe('dev');
    expect(err.message).not.toContain(env.TELEPHONY_KEYS);
  });
});

// ------------------------------------------------------------------------------------------------ webhooks
const BASE = 'https://proj.example/functions/v1';
const shops: AccountResolver = {
  async accountFor(sid) {
    if (sid === SUB1) return { accountSid: SUB1, authToken: 'tok1', tenantId: T1 };
    if (sid === SUB2) return { accountSid: SUB2, authToken: 'tok2', tenantId: T2 };
    return null;
  },
};
const accounts = platformAccountResolver(PLATFORM.accountSid, PLATFORM.authToken, shops);
function signed(fnName: string, params: Record<string, string>, token: string): Request {
  const url = `${BASE}/${fnName}`;
  return new Request(`http://internal/${fnName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params) },
    body: new URLSearchParams(params).toString(),
  });
}

describe('webhook accounts', () => {
  it('verifiedForm names the signing account: platform (also without AccountSid) or the shop\'s', async () => {
    const deps = { rpc: async () => null, accounts, webhookBase: BASE, log: silent };
    const p = { MessageSid: 'SM' + 'a'.repeat(32), MessageStatus: 'sent' };
    expect((await verifiedForm(signed('twilio-status', { ...p, AccountSid: SUB1 }, 'tok1'), deps, 'twilio-status')).account)
      .toEqual({ accountSid: SUB1, authToken: 'tok1', tenantId: T1 });
    expect((await verifiedForm(signed('twilio-status', p, PLATFORM.authToken), deps, 'twilio-status')).account.tenantId).toBeNull();
    await expect(verifiedForm(signed('twilio-status', { ...p, AccountSid: SUB1 }, 'tok2'), deps, 'twilio-status'))
      .rejects.toMatchObject({ status: 403 });
    await expect(verifiedForm(signed('twilio-status', { ...p, AccountSid: 'AC' + 'f'.repeat(32) }, 'tok2'), deps, 'twilio-status'))
      .rejects.toMatchObject({ status: 403 });
  });

  it('twilio-status: a shop\'s valid signature about another shop\'s (or a shared-number) message is 403, nothing recorded', async () => {
    const recorded: unknown[] = [];
    const owners: Record<string, { tenant_id: string; from_shared: boolean }> = {
      ['SM' + '1'.repeat(32)]: { tenant_id: T1, from_shared: false },
      ['SM' + '3'.repeat(32)]: { tenant_id: T2, from_shared: true },
    };
    const h = statusHandler({
      rpc: async (_fn, args) => { recorded.push(args); return { duplicate: false }; }, accounts, webhookBase: BASE, log: silent,
      messageOwner: async (sid) => owners[sid] ?? null,
    });
    const cb = (sid: string, account: string) => ({ MessageSid: sid, MessageStatus: 'delivered', AccountSid: account });
    expect((await h(signed('twilio-status', cb('SM' + '1'.repeat(32), SUB2), 'tok2'))).status).toBe(403);
    expect((await h(signed('twilio-status', cb('SM' + '3'.repeat(32), SUB2), 'tok2'))).status).toBe(403);
    expect(recorded).toEqual([]);
    expect((await h(signed('twilio-status', cb('SM' + '1'.repeat(32), SUB1), 'tok1'))).status).toBe(200);
    // Not recorded yet (the callback beat the settle): kept by SID.
    expect((await h(signed('twilio-status', cb('SM' + '9'.repeat(32), SUB2), 'tok2'))).status).toBe(200);
    expect((await h(signed('twilio-status', cb('SM' + '3'.repeat(32), PLATFORM.accountSid), PLATFORM.authToken))).status).toBe(200);
    expect(recorded).toHaveLength(3);
  });

  it('twilio-inbound: a shop\'s account speaks only for its own numbers', async () => {
    const recorded: Array<Record<string, unknown>> = [];
    const h = inboundHandler({
      rpc: async (_fn, args) => { recorded.push(args); return { tenant_id: T1, duplicate: false }; }, accounts, webhookBase: BASE,
      log: silent, sharedNumber: SHARED, numberOwner: async (e164) => (e164 === '+13035550100' ? T1 : null),
    });
    const msg = (to: string, account: string) => ({ MessageSid: 'SM' + 'c'.repeat(32), From: '+18765550123', To: to, Body: 'STOP', AccountSid: account });
    expect((await h(signed('twilio-inbound', msg('+13035550100', SUB2), 'tok2'))).status).toBe(403);
    expect((await h(signed('twilio-inbound', msg(SHARED, SUB1), 'tok1'))).status).toBe(403);
    expect(recorded).toEqual([]);
    expect((await h(signed('twilio-inbound', msg('+13035550100', SUB1), 'tok1'))).status).toBe(200);
    expect(recorded[0]).toMatchObject({ to_phone: '+13035550100', to_shared: false, keyword: 'stop' });
    expect((await h(signed('twilio-inbound', msg(SHARED, PLATFORM.accountSid), PLATFORM.authToken))).status).toBe(200);
    expect(recorded[1]).toMatchObject({ to_shared: true });
  });
});

// ------------------------------------------------------------------------------------------------ dispatcher
describe('dispatcher senders (fake deps)', () => {
  const claimed = (id: string, from: string, shared: boolean) => ({
    id, tenant_id: T1, to_phone: '+18765550123', from_phone: from, from_shared: shared, body: 'hi', media_paths: [],
    created_at: new Date().toISOString(), updated_at: new Date().toISOString(),
  });
  function run(rows: ReturnType<typeof claimed>[], dir: SenderDirectory, repoint: DispatcherDeps['repoint'] = async () => 'ok') {
    const settles: Array<Record<string, unknown>> = [];
    const sent: Array<{ url: string; auth: string; form: URLSearchParams }> = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      sent.push({ url: String(url), auth: String((init.headers as Record<string, string>).Authorization), form: new URLSearchParams(String(init.body)) });
      return new Response(JSON.stringify({ sid: 'SM' + 'd'.repeat(32), status: 'queued', num_segments: '1' }), { status: 201 });
    }) as typeof fetch;
    const platform = { ...PLATFORM, fetch: fakeFetch };
    const deps: DispatcherDeps = {
      rpc: async (fn, args) => {
        if (fn === 'messaging_claim_due') return rows;
        if (fn === 'messaging_settle_send') { settles.push(args); return { id: args.message_id, status: 'x', segments: 1, send_at: null, error_code: null }; }
        return [];
      },
      twilio: platform, statusCallback: `${BASE}/twilio-status`, serviceKeys: ['svc'], shortLinkBase: 'https://x/r',
      senders: senderResolver({ platform, sharedNumber: SHARED, directory: dir }), repoint,
      now: () => new Date(), reminderContext: async () => null, mediaUrl: async () => null, log: silent,
    };
    return {
      settles, sent,
      go: async () => (await dispatcherHandler(deps)(new Request('http://x/message-dispatcher', { method: 'POST', headers: { Authorization: 'Bearer svc' } }))).json(),
    };
  }

  it('sends from the reserved own number with the shop account\'s Basic auth and URL', async () => {
    const d = run([claimed('m1', '+13035550100', false)], directory([num(T1, '+13035550100', 'active', SUB1)],
      { [`${T1}:subaccount`]: { accountSid: SUB1, authToken: 'tok1' } }));
    expect(await d.go()).toMatchObject({ sent: 1, failed: 0 });
    expect(d.sent).toHaveLength(1);
    expect(d.sent[0]!.url).toBe(`http://twilio.test/2010-04-01/Accounts/${SUB1}/Messages.json`);
    expect(d.sent[0]!.auth).toBe('Basic ' + Buffer.from(`${SUB1}:tok1`).toString('base64'));
    expect(d.sent[0]!.form.get('From')).toBe('+13035550100');
  });

  it('unreadable credentials fail the text (quota released by the settle), a database error reschedules it', async () => {
    const d = run([claimed('m2', '+13035550100', false)], directory([num(T1, '+13035550100', 'active', SUB1)], { [`${T1}:subaccount`]: 'unreadable' }));
    expect(await d.go()).toMatchObject({ sent: 0, failed: 1 });
    expect(d.sent).toEqual([]);
    expect(d.settles).toEqual([expect.objectContaining({ message_id: 'm2', outcome: 'failed', error_message: expect.stringMatching(/^credential_unreadable/) })]);
    const broken: SenderDirectory = { ...directory([], {}), numberRecord: async () => { throw new HttpError(503, 'database_unavailable', 'down'); } };
    const d2 = run([claimed('m3', '+13035550100', false)], broken);
    expect(await d2.go()).toMatchObject({ rescheduled: 1 });
    expect(d2.settles).toEqual([expect.objectContaining({ message_id: 'm3', outcome: 'retry' })]);
  });

  it('a released number: re-pointed to the shared number, or failed when the recipient opted out of it', async () => {
    const dir = directory([num(T1, '+13035550100', 'released', SUB1)], {});
    const points: unknown[] = [];
    const d = run([claimed('m4', '+13035550100', false)], dir, async (id, to, s) => { points.push([id, to, s.from, s.shared]); return 'ok'; });
    expect(await d.go()).toMatchObject({ sent: 1 });
    expect(points).toEqual([['m4', '+18765550123', SHARED, true]]);
    expect(d.sent[0]!.form.get('From')).toBe(SHARED);
    expect(d.sent[0]!.url).toContain(`/Accounts/${PLATFORM.accountSid}/`);
    const d2 = run([claimed('m5', '+13035550100', false)], dir, async () => 'opted_out');
    expect(await d2.go()).toMatchObject({ sent: 0, failed: 1 });
    expect(d2.sent).toEqual([]);
    expect(d2.settles[0]).toMatchObject({ message_id: 'm5', outcome: 'failed' });
  });
});
