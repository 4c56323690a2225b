/**
 * A shop with its own number sends from it, on its own Twilio subaccount, and is verified with that subaccount's
 * token (issue 4 "Numbers", issue 9 "Credentials") — end to end on the running stack: provision-number buys the
 * number in the Twilio emulator, send-sms / message-dispatcher send through the gateway, the emulator posts status
 * callbacks and inbound texts to twilio-status / twilio-inbound signed with the owning subaccount's token.
 */
import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, db } from '../helpers/db.ts';
import { env } from '../helpers/env.ts';
import { SHOP_DEFAULTS, createApiWorld, must, type ApiWorld, type Persona } from '../helpers/personas.ts';

const SHARED = '+15005550006';
const fn = (name: string) => `${env.apiUrl}/functions/v1/${name}`;
let w: ApiWorld;

function middayZone(): string {
  let h = 12 - new Date().getUTCHours();
  if (h > 14) h -= 24;
  if (h < -12) h += 24;
  return h === 0 ? 'Etc/UTC' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
}
/** Jamaica (+1 876): NANP but not US/Canada, so quiet hours follow the shop's (midday) zone. */
let seq = 0;
const openPhone = () => `+1876${String(2000000 + Math.floor(Math.random() * 7_000_000) + (seq++ % 1000)).slice(0, 7)}`;
const fakeSid = () => 'SM' + randomUUID().replace(/-/g, '');

async function setupTenant(tenant: string) {
  await db().query(`update public.tenants set plan = 'elite', status = 'active', time_zone = $2 where id = $1`, [tenant, middayZone()]);
  await db().query(`update public.tenant_quota set sms_segments_used = 0, mms_used = 0 where tenant_id = $1`, [tenant]);
}
async function customer(tenant: string, phone = openPhone(), name = 'Dana Lee') {
  const { rows } = await db().query(
    `insert into public.customers (tenant_id, name, phone, vehicles) values ($1, $2, $3, '[{"label":"2014 BMW 328i"}]') returning id`,
    [tenant, name, phone]);
  return { id: rows[0].id as string, phone };
}
const token = async (p: Persona) => (await p.client.auth.getSession()).data.session!.access_token;

async function post(name: string, p: Persona, body: Record<string, unknown>) {
  const res = await fetch(fn(name), {
    method: 'POST',
    headers: { Authorization: `Bearer ${await token(p)}`, apikey: env.anonKey, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as any };
}
const send = (p: Persona, body: Record<string, unknown>) =>
  post('send-sms', p, { template: 'custom', idempotency_key: randomUUID(), ...body });
const dispatch = async () => {
  const r = await fetch(fn('message-dispatcher'), { method: 'POST', headers: { Authorization: `Bearer ${env.serviceRoleKey}`, apikey: env.anonKey } });
  return { status: r.status, body: await r.json() as Record<string, number> };
};

async function emu(path: string, body?: unknown) {
  const res = await fetch(`${env.twilioApiUrl}${path}`, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return res.json() as Promise<any>;
}
type EmuMessage = { sid: string; to: string; from: string; body: string; account_sid: string; status: string };
const emuMessagesTo = async (to: string) => ((await emu('/_emulator/messages')) as EmuMessage[]).filter((m) => m.to === to);
const emuToken = async (accountSid: string) =>
  ((await emu('/_emulator/accounts')) as { sid: string; auth_token: string }[]).find((a) => a.sid === accountSid)!.auth_token;

const messageRow = async (id: string) => (await db().query('select * from public.messages where id = $1', [id])).rows[0];
const quotaUsed = async (tenant: string) =>
  (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [tenant])).rows[0].sms_segments_used as number;
async function waitFor<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POST a form to one of our webhooks, signed like Twilio over the configured public URL with `signer`'s token. */
async function webhook(name: string, params: Record<string, string>, signerToken: string) {
  const url = `${env.twilioWebhookBaseUrl}/${name}`;
  const res = await fetch(fn(name), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(signerToken, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, text: await res.text() };
}

interface Shop { id: string; owner: Persona; number: string; account: string; token: string }
async function provision(owner: Persona, tenant: string, areaCode: string): Promise<Shop> {
  const r = await post('provision-number', owner, { tenant_id: tenant, area_code: areaCode });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const { rows } = await db().query(
    `select subaccount_sid from public.tenant_phone_numbers where tenant_id = $1 and status = 'active'`, [tenant]);
  const account = rows[0].subaccount_sid as string;
  return { id: tenant, owner, number: r.body.phone_number, account, token: await emuToken(account) };
}

let A: Shop;
let B: Shop;
let C: { id: string; owner: Persona };

beforeAll(async () => {
  // The emulator forgets its numbers on restart while the database keeps them: retire rows it no longer knows.
  const known = ((await emu('/_emulator/numbers')) as { phone_number: string }[]).map((n) => n.phone_number);
  await db().query(`update public.tenant_phone_numbers set status = 'released', released_at = now()
                     where status <> 'released' and not (e164 = any ($1::text[]))`, [known]);
  await emu('/_emulator/config', { sharedNumberSmsUrl: `${env.twilioWebhookBaseUrl}/twilio-inbound` });
  w = await createApiWorld();
  const shopC = must(await w.ownerB.client.rpc('create_tenant', { name: `Shop C ${randomUUID().slice(0, 6)}`, ...SHOP_DEFAULTS }), 'shop C') as string;
  for (const t of [w.tenantA, w.tenantB, shopC]) await setupTenant(t);
  A = await provision(w.ownerA, w.tenantA, '303');
  B = await provision(w.ownerB, w.tenantB, '512');
  C = { id: shopC, owner: w.ownerB };
  expect(A.account).not.toBe(B.account);
  expect(A.account).not.toBe(env.twilioAccountSid);
}, 60_000);
afterAll(async () => { await closeDb(); });

describe('sending from the shop\'s own number', () => {
  it('a pickup notice goes From the shop\'s number on its subaccount; the subaccount-signed callbacks deliver it', async () => {
    const c = await customer(A.id);
    const before = await quotaUsed(A.id);
    const r = await send(w.techA, { tenant_id: A.id, customer_id: c.id, template: 'pickup_ready' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const row = await messageRow(r.body.message.id);
    expect([row.from_phone, row.from_shared]).toEqual([A.number, false]);
    const at = await emuMessagesTo(c.phone);
    expect(at).toHaveLength(1);
    expect([at[0]!.from, at[0]!.account_sid, at[0]!.sid]).toEqual([A.number, A.account, row.twilio_sid]);
    expect(await quotaUsed(A.id) - before).toBe(1);
    // The emulator signs each status callback with the subaccount's own token; twilio-status accepts it.
    const delivered = await waitFor(() => messageRow(row.id), (m) => m.status === 'delivered');
    expect(delivered.status).toBe('delivered');
    const ev = await db().query('select status, account_sid from public.message_status_events where message_sid = $1 order by id', [row.twilio_sid]);
    expect(ev.rows).toEqual([{ status: 'sent', account_sid: A.account }, { status: 'delivered', account_sid: A.account }]);
  });

  it('a status callback signed with ANOTHER shop\'s subaccount token is 403 and changes nothing', async () => {
    const c = await customer(A.id);
    const r = await send(w.ownerA, { tenant_id: A.id, customer_id: c.id, body: 'Your invoice is ready' });
    expect(r.status).toBe(200);
    const sid = (await messageRow(r.body.message.id)).twilio_sid as string;
    const sent = await waitFor(() => messageRow(r.body.message.id), (m) => m.status === 'delivered');
    const params = (account: string) => ({
      SmsSid: sid, SmsStatus: 'undelivered', MessageStatus: 'undelivered', ErrorCode: '30003', To: c.phone,
      MessageSid: sid, AccountSid: account, From: A.number, ApiVersion: '2010-04-01',
    });
    // A's AccountSid, B's token: the signature does not match A's token.
    expect((await webhook('twilio-status', params(A.account), B.token)).status).toBe(403);
    // B's AccountSid and B's valid signature, about A's message: still 403.
    expect((await webhook('twilio-status', params(B.account), B.token)).status).toBe(403);
    // The platform's token does not pass for A's AccountSid either.
    expect((await webhook('twilio-status', params(A.account), env.twilioAuthToken)).status).toBe(403);
    const after = await messageRow(r.body.message.id);
    expect([after.status, after.error_code]).toEqual([sent.status, sent.error_code]);
    const ev = await db().query(`select 1 from public.message_status_events where message_sid = $1 and status = 'undelivered'`, [sid]);
    expect(ev.rows).toEqual([]);
    // The same callback signed by A's own subaccount is accepted (and, as 'delivered' is terminal, moves nothing back).
    expect((await webhook('twilio-status', params(A.account), A.token)).status).toBe(200);
    expect((await messageRow(r.body.message.id)).status).toBe('delivered');
  });

  it('a shop without its own number still sends from the shared number on the platform account', async () => {
    const c = await customer(C.id);
    const r = await send(C.owner, { tenant_id: C.id, customer_id: c.id, body: 'Ready when you are' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const row = await messageRow(r.body.message.id);
    expect([row.from_phone, row.from_shared]).toEqual([SHARED, true]);
    const at = await emuMessagesTo(c.phone);
    expect([at[0]!.from, at[0]!.account_sid]).toEqual([SHARED, env.twilioAccountSid]);
    expect((await waitFor(() => messageRow(row.id), (m) => m.status === 'delivered')).status).toBe('delivered');
  });
});

describe('inbound to the shop\'s own number', () => {
  it('STOP to shop A\'s number opts the person out for A only; B (own number) and C (shared) can still text them', async () => {
    const phone = openPhone();
    const ca = await customer(A.id, phone);
    const cb = await customer(B.id, phone);
    const cc = await customer(C.id, phone);
    expect((await send(w.ownerA, { tenant_id: A.id, customer_id: ca.id, body: 'from A' })).status).toBe(200);
    const r = await emu('/_emulator/inbound', { from: phone, to: A.number, body: '  Stop ' });
    expect([r.status, r.url]).toEqual([200, `${env.twilioWebhookBaseUrl}/twilio-inbound`]);
    const ev = await db().query(`select tenant_id, action, source from public.consent_events where phone = $1`, [phone]);
    expect(ev.rows).toEqual([{ tenant_id: A.id, action: 'opt_out', source: 'keyword' }]);
    const stop = await db().query(`select tenant_id, from_shared from public.messages where direction = 'inbound' and from_phone = $1`, [phone]);
    expect(stop.rows).toEqual([{ tenant_id: A.id, from_shared: false }]);
    const again = await send(w.ownerA, { tenant_id: A.id, customer_id: ca.id, body: 'after stop' });
    expect([again.status, again.body.code]).toEqual([422, 'opted_out']);
    const fromB = await send(w.ownerB, { tenant_id: B.id, customer_id: cb.id, body: 'from B' });
    expect(fromB.status, JSON.stringify(fromB.body)).toBe(200);
    const fromC = await send(C.owner, { tenant_id: C.id, customer_id: cc.id, body: 'from C' });
    expect(fromC.status, JSON.stringify(fromC.body)).toBe(200);
    const at = await emuMessagesTo(phone);
    expect(at.map((m) => m.from).sort()).toEqual([A.number, B.number, SHARED].sort());
    // A reply to A's number lands in A's thread.
    await emu('/_emulator/inbound', { from: phone, to: A.number, body: 'START' });
    expect((await send(w.ownerA, { tenant_id: A.id, customer_id: ca.id, body: 'welcome back' })).status).toBe(200);
  });

  it('an inbound post about A\'s number signed by B\'s subaccount (or naming the shared number) is 403, nothing written', async () => {
    const phone = openPhone();
    const params = (to: string, account: string) => ({
      MessageSid: fakeSid(), SmsSid: fakeSid(), AccountSid: account, From: phone, To: to, Body: 'STOP', NumMedia: '0', NumSegments: '1',
      ApiVersion: '2010-04-01',
    });
    expect((await webhook('twilio-inbound', params(A.number, B.account), B.token)).status).toBe(403);
    expect((await webhook('twilio-inbound', params(SHARED, B.account), B.token)).status).toBe(403);
    expect((await webhook('twilio-inbound', params(A.number, A.account), B.token)).status).toBe(403);
    const written = await db().query(`select 1 from public.messages where from_phone = $1 union all select 1 from public.consent_events where phone = $1`, [phone]);
    expect(written.rows).toEqual([]);
    // Signed by A's subaccount: accepted, A's thread.
    expect((await webhook('twilio-inbound', { ...params(A.number, A.account), Body: 'hello' }, A.token)).status).toBe(200);
    const { rows } = await db().query(`select tenant_id from public.messages where from_phone = $1`, [phone]);
    expect(rows).toEqual([{ tenant_id: A.id }]);
  });
});

describe('the dispatcher and the shop\'s number', () => {
  it('a scheduled message is dispatched from the shop\'s number on its subaccount', async () => {
    const c = await customer(A.id);
    const r = await send(w.ownerA, { tenant_id: A.id, customer_id: c.id, body: 'Scheduled from A' });
    expect(r.status).toBe(200);
    // Make it a due scheduled message, as if it had been deferred overnight (reserved with A's number).
    await db().query(`update public.messages set status = 'scheduled', send_at = now() - interval '1 second', twilio_sid = null where id = $1`, [r.body.message.id]);
    const before = (await emuMessagesTo(c.phone)).length;
    expect((await dispatch()).status).toBe(200);
    const at = await emuMessagesTo(c.phone);
    expect(at).toHaveLength(before + 1);
    const last = at[at.length - 1]!;
    expect([last.from, last.account_sid]).toEqual([A.number, A.account]);
    const row = await messageRow(r.body.message.id);
    expect([row.twilio_sid, row.from_phone, row.from_shared]).toEqual([last.sid, A.number, false]);
  });

  it('an unknown outcome is reconciled against the subaccount that sent it', async () => {
    const c = await customer(A.id);
    await emu('/_emulator/failures', { to: c.phone, code: 'timeout', times: 1, hang_ms: 15_000 });
    const r = await send(w.ownerA, { tenant_id: A.id, customer_id: c.id, body: 'maybe sent from A' });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const row = await messageRow(r.body.message.id);
    expect([row.status, row.twilio_sid, row.from_phone]).toEqual(['unknown', null, A.number]);
    await db().query(`update public.messages set created_at = now() - interval '2 minutes' where id = $1`, [row.id]);
    expect((await dispatch()).status).toBe(200);
    const at = await emuMessagesTo(c.phone);
    expect(at).toHaveLength(1);
    expect(at[0]!.account_sid).toBe(A.account);
    const after = await messageRow(row.id);
    expect(after.twilio_sid).toBe(at[0]!.sid);
    expect(after.status).not.toBe('unknown');
  }, 40_000);

  it('credentials that cannot be opened: send-sms answers 503 credential_unreadable and reserves nothing', async () => {
    const shop = must(await w.ownerA.client.rpc('create_tenant', { name: `Shop D ${randomUUID().slice(0, 6)}`, ...SHOP_DEFAULTS }), 'shop D') as string;
    await setupTenant(shop);
    const D = await provision(w.ownerA, shop, '720');
    // A key removed too early (see the rotation runbook): the row names a key the server does not have.
    await db().query(`update public.tenant_twilio_credentials set key_id = 'retired' where tenant_id = $1`, [shop]);
    const c = await customer(shop);
    const before = await quotaUsed(shop);
    const r = await send(w.ownerA, { tenant_id: shop, customer_id: c.id, body: 'will not go' });
    expect([r.status, r.body.code]).toEqual([503, 'credential_unreadable']);
    expect(JSON.stringify(r.body)).not.toContain(D.token);
    expect(await quotaUsed(shop)).toBe(before);
    expect((await db().query('select 1 from public.messages where tenant_id = $1', [shop])).rows).toEqual([]);
    expect(await emuMessagesTo(c.phone)).toEqual([]);
  });

  it('a scheduled message whose number was released meanwhile goes from what the shop sends from now', async () => {
    const c = await customer(B.id);
    const r = await send(w.ownerB, { tenant_id: B.id, customer_id: c.id, body: 'Scheduled from B' });
    expect(r.status).toBe(200);
    await db().query(`update public.messages set status = 'scheduled', send_at = now() - interval '1 second', twilio_sid = null where id = $1`, [r.body.message.id]);
    const released = await post('provision-number', w.ownerB, { tenant_id: B.id, action: 'release', confirm: true });
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    const before = (await emuMessagesTo(c.phone)).length;
    expect((await dispatch()).status).toBe(200);
    const at = await emuMessagesTo(c.phone);
    expect(at).toHaveLength(before + 1);
    expect([at[at.length - 1]!.from, at[at.length - 1]!.account_sid]).toEqual([SHARED, env.twilioAccountSid]);
    const row = await messageRow(r.body.message.id);
    expect([row.from_phone, row.from_shared, row.twilio_sid]).toEqual([SHARED, true, at[at.length - 1]!.sid]);
    // And new sends from B now use the shared number too.
    const next = await send(w.ownerB, { tenant_id: B.id, customer_id: c.id, body: 'after release' });
    expect(next.status).toBe(200);
    expect((await messageRow(next.body.message.id)).from_shared).toBe(true);
  });
});
