/**
 * Messaging end to end against the running stack: send-sms through the gateway with real JWTs, the Twilio
 * emulator (failures, callbacks, inbound), twilio-status / twilio-inbound with signatures checked by the twilio
 * SDK as the oracle, the short link, the dispatcher, and cross-tenant attempts on every new table and RPC.
 */
import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCronJobNow } from '../../local/db/scheduler.ts';
import { quietHoursDecision } from '../../supabase/functions/_shared/messaging/quiet-hours.ts';
import { asUser, closeDb, db, sqlError } from '../helpers/db.ts';
import { env } from '../helpers/env.ts';
import { createApiWorld, must, type ApiWorld, type Persona } from '../helpers/personas.ts';

let w: ApiWorld;
const SHARED = '+15005550006';
const fn = (name: string) => `${env.apiUrl}/functions/v1/${name}`;

/** A zone where it is about 12:00 now, so sends to numbers without a known area code go out at once. */
function middayZone(): string {
  let h = 12 - new Date().getUTCHours();
  if (h > 14) h -= 24;
  if (h < -12) h += 24;
  return h === 0 ? 'Etc/UTC' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
}
/** Jamaica (+1 876) is NANP but not US/Canada: quiet hours fall back to the shop's zone. */
let seq = 0;
const openPhone = () => `+1876${String(2000000 + Math.floor(Math.random() * 7_000_000) + (seq++ % 1000)).slice(0, 7)}`;

async function setupTenant(tenant: string, opts: { plan?: string; zone?: string } = {}) {
  await db().query(`update public.tenants set plan = $2, status = 'active', time_zone = $3 where id = $1`,
    [tenant, opts.plan ?? 'elite', opts.zone ?? middayZone()]);
  await db().query(`update public.tenant_quota set sms_segments_used = 0, mms_used = 0 where tenant_id = $1`, [tenant]);
}

async function customer(tenant: string, phone = openPhone(), name = 'Dana Lee') {
  const { rows } = await db().query(
    `insert into public.customers (tenant_id, name, phone, vehicles) values ($1, $2, $3, '[{"label":"2014 BMW 328i"}]')
     returning id`, [tenant, name, phone]);
  return { id: rows[0].id as string, phone };
}

async function token(p: Persona) {
  const { data } = await p.client.auth.getSession();
  return data.session!.access_token;
}

async function send(p: Persona, body: Record<string, unknown>) {
  const res = await fetch(fn('send-sms'), {
    method: 'POST',
    headers: { Authorization: `Bearer ${await token(p)}`, apikey: env.anonKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ template: 'custom', idempotency_key: randomUUID(), ...body }),
  });
  return { status: res.status, body: await res.json() as any, headers: res.headers };
}

async function emu(path: string, body?: unknown) {
  const res = await fetch(`${env.twilioApiUrl}${path}`, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return res.json() as Promise<any>;
}

async function emuMessagesTo(to: string) {
  const all = await emu('/_emulator/messages') as any;
  const list = (Array.isArray(all) ? all : all.messages ?? []) as Array<{ to: string; sid: string; body: string }>;
  return list.filter((m) => m.to === to);
}

async function messageRow(id: string) {
  return (await db().query('select * from public.messages where id = $1', [id])).rows[0];
}

async function waitFor<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POST a form to one of our webhooks, signed (by default) like Twilio over the configured public URL. */
async function webhook(name: string, params: Record<string, string>, opts: { token?: string; url?: string; sign?: boolean; headers?: Record<string, string> } = {}) {
  const url = opts.url ?? `${env.twilioWebhookBaseUrl}/${name}`;
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', ...opts.headers };
  if (opts.sign !== false) headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(opts.token ?? env.twilioAuthToken, url, params);
  const res = await fetch(fn(name), { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  return { status: res.status, text: await res.text() };
}

const fakeSid = () => 'SM' + randomUUID().replace(/-/g, '');

beforeAll(async () => {
  w = await createApiWorld();
  await setupTenant(w.tenantA);
  await setupTenant(w.tenantB);
  await db().query(`update public.tenants set google_review_url = 'https://g.page/r/demo-review/review' where id = $1`, [w.tenantA]);
});
afterAll(async () => { await closeDb(); });

describe('send-sms', () => {
  it('sends a pickup notice: rendered template, segments, usage and quota in one go, delivered via callbacks', async () => {
    const c = await customer(w.tenantA);
    const before = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    const r = await send(w.techA, { tenant_id: w.tenantA, customer_id: c.id, template: 'pickup_ready' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.message).toMatchObject({ segments: 1, send_at: null });
    expect(['queued', 'accepted', 'sent', 'delivered']).toContain(r.body.message.status);
    const row = await messageRow(r.body.message.id);
    expect(row.body).toBe('Hi Dana, your 2014 BMW 328i is ready for pickup at ' + (await db().query('select name from public.tenants where id=$1', [w.tenantA])).rows[0].name + '. Reply STOP to opt out.');
    expect(row.twilio_sid).toMatch(/^SM/);
    const after = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    expect(after - before).toBe(1);
    const usage = await db().query(`select quantity from public.usage_events where source_type = 'message' and source_id = $1`, [row.id]);
    expect(usage.rows).toEqual([{ quantity: 1 }]);
    const delivered = await waitFor(() => messageRow(row.id), (m) => m.status === 'delivered');
    expect(delivered.status).toBe('delivered');
    const events = await db().query('select status from public.message_status_events where message_sid = $1 order by id', [row.twilio_sid]);
    expect(events.rows.map((e) => e.status)).toEqual(['sent', 'delivered']);
  });

  it('rejects a non-member (403), an invalid phone (422 invalid_phone) and a missing token (401)', async () => {
    const r1 = await send(w.ownerB, { tenant_id: w.tenantA, to: openPhone(), body: 'hi' });
    expect([r1.status, r1.body.code]).toEqual([403, 'forbidden']);
    const r2 = await send(w.ownerA, { tenant_id: w.tenantA, to: '12345', body: 'hi' });
    expect([r2.status, r2.body.code]).toEqual([422, 'invalid_phone']);
    const r3 = await fetch(fn('send-sms'), { method: 'POST', headers: { apikey: env.anonKey, 'Content-Type': 'application/json' }, body: '{}' });
    expect(r3.status).toBe(401);
    // B's customer id from A's shop: not found, nothing sent.
    const cb = await customer(w.tenantB);
    const r4 = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: cb.id, body: 'hi' });
    expect([r4.status, r4.body.code]).toEqual([404, 'customer_not_found']);
    expect(await emuMessagesTo(cb.phone)).toEqual([]);
  });

  it('normalises a typed number to E.164', async () => {
    const p = openPhone();
    const typed = `(${p.slice(2, 5)}) ${p.slice(5, 8)}-${p.slice(8)}`;
    const r = await send(w.ownerA, { tenant_id: w.tenantA, to: typed, body: 'Your estimate is ready' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await messageRow(r.body.message.id)).to_phone).toBe(p);
  });

  it('the same idempotency key, 10 times concurrently: one message, one Twilio call, one quota charge', async () => {
    const c = await customer(w.tenantA);
    const key = randomUUID();
    const q0 = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    const rs = await Promise.all(Array.from({ length: 10 }, () => send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'Same one', idempotency_key: key })));
    expect(rs.map((r) => r.status).every((s) => s === 200)).toBe(true);
    expect(new Set(rs.map((r) => r.body.message.id)).size).toBe(1);
    expect((await emuMessagesTo(c.phone)).length).toBe(1);
    const q1 = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    expect(q1 - q0).toBe(1);
    const again = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'Same one', idempotency_key: key });
    expect(again.body.message.id).toBe(rs[0]!.body.message.id);
  });

  it('counts segments: 161 GSM characters = 2, a smart quote in 71 chars = 2 UCS-2, matching Twilio', async () => {
    const c = await customer(w.tenantA);
    const r1 = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'a'.repeat(161) });
    expect(r1.body.message.segments).toBe(2);
    const r2 = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'It\u2019s ready' + 'b'.repeat(61) });
    expect(r2.body.message.segments).toBe(2);
    const row = await messageRow(r2.body.message.id);
    expect([row.encoding, row.twilio_segments]).toEqual(['UCS-2', 2]);
    const usage = await db().query(`select quantity from public.usage_events where source_type = 'message' and source_id = $1`, [row.id]);
    expect(usage.rows[0].quantity).toBe(2);
  });

  it('quiet hours: a recipient whose local night it is gets a scheduled text (202) at 08:00 their time, across zones', async () => {
    // The shop is at midday; find a US/Canada area code where it is night now.
    const candidates = ['+12125550123', '+14155550123', '+18085550123', '+19075550123', '+16715550123', '+17875550123'];
    const now = new Date();
    const night = candidates.find((p) => quietHoursDecision(now, p, 'Etc/UTC').sendAt && quietHoursDecision(new Date(now.getTime() + 60_000), p, 'Etc/UTC').sendAt)!;
    expect(night).toBeDefined();
    const phone = night.slice(0, 5) + String(2000000 + Math.floor(Math.random() * 7_000_000));
    const r = await send(w.ownerA, { tenant_id: w.tenantA, to: phone, body: 'Your car is ready' });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body.message.status).toBe('scheduled');
    const expected = quietHoursDecision(new Date(), phone, 'Etc/UTC');
    expect(Math.abs(new Date(r.body.message.send_at).getTime() - expected.sendAt!.getTime())).toBeLessThan(120_000);
    const local = new Intl.DateTimeFormat('en-US', { timeZone: expected.zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(r.body.message.send_at));
    expect(local).toBe(expected.window.start);
    expect(await emuMessagesTo(phone)).toEqual([]);
    // The owner can cancel it: quota given back.
    const q0 = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    must(await w.techA.client.rpc('messaging_cancel_message', { tenant_id: w.tenantA, message_id: r.body.message.id }), 'cancel');
    const q1 = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    expect(q0 - q1).toBe(1);
    expect((await messageRow(r.body.message.id)).status).toBe('canceled');
  });

  it('the dispatcher sends a scheduled text once its window opens, and only once', async () => {
    const c = await customer(w.tenantA);
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'Scheduled one' });
    // Make it a due scheduled message (as if it had been deferred overnight).
    await db().query(`update public.messages set status = 'scheduled', send_at = now() - interval '1 second', twilio_sid = null where id = $1`, [r.body.message.id]);
    const before = (await emuMessagesTo(c.phone)).length;
    const call = () => fetch(fn('message-dispatcher'), { method: 'POST', headers: { Authorization: `Bearer ${env.serviceRoleKey}`, apikey: env.anonKey } });
    const [a, b] = await Promise.all([call(), call()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await emuMessagesTo(c.phone)).length).toBe(before + 1);
    expect((await messageRow(r.body.message.id)).twilio_sid).toMatch(/^SM/);
    const asUserCall = await fetch(fn('message-dispatcher'), { method: 'POST', headers: { Authorization: `Bearer ${await token(w.ownerA)}`, apikey: env.anonKey } });
    expect(asUserCall.status).toBe(403);
  });

  it('the cron job (pg_cron → pg_net → message-dispatcher, URL and key from Vault) sends due texts', async () => {
    const c = await customer(w.tenantA);
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'Cron one' });
    await db().query(`update public.messages set status = 'scheduled', send_at = now() - interval '1 second', twilio_sid = null where id = $1`, [r.body.message.id]);
    const before = (await emuMessagesTo(c.phone)).length;
    const job = await runCronJobNow(env.dbUrl, 'messaging-dispatcher');
    expect(job.status, job.message).toBe('succeeded');
    const row = await waitFor(() => messageRow(r.body.message.id), (m) => m.status !== 'scheduled' && m.status !== 'pending', 15_000);
    expect(row.twilio_sid).toMatch(/^SM/);
    expect((await emuMessagesTo(c.phone)).length).toBe(before + 1);
  }, 30_000);

  it('MMS: a photo of the shop\'s own folder goes as a signed MediaUrl and counts as one mms_outbound; another shop\'s path is refused', async () => {
    const c = await customer(w.tenantA);
    const path = `${w.tenantA}/mms-${randomUUID()}.jpg`;
    const jpeg = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==', 'base64');
    must(await w.service.storage.from('repair-orders').upload(path, jpeg, { contentType: 'image/jpeg' }), 'upload');
    const mm0 = (await db().query('select mms_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].mms_used;
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'Here is your part', media_paths: [`repair-orders/${path}`] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const usage = await db().query(`select metric, quantity from public.usage_events where source_id = $1`, [r.body.message.id]);
    expect(usage.rows).toEqual([{ metric: 'mms_outbound', quantity: 1 }]);
    expect((await db().query('select mms_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].mms_used - mm0).toBe(1);
    const reqs = await emu('/_emulator/requests') as any;
    const list = (Array.isArray(reqs) ? reqs : reqs.requests ?? []) as Array<{ body?: unknown; form?: unknown }>;
    expect(JSON.stringify(list)).toContain('/storage/v1/object/sign/repair-orders/');
    const foreign = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'x', media_paths: [`repair-orders/${w.tenantB}/a.jpg`] });
    expect([foreign.status, foreign.body.code]).toEqual([422, 'invalid_media']);
  });

  it('opted-out recipients get 422 opted_out without a Twilio call', async () => {
    const c = await customer(w.tenantA);
    await db().query(`insert into public.consent_events (tenant_id, phone, action, source) values ($1, $2, 'opt_out', 'staff')`, [w.tenantA, c.phone]);
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'hello' });
    expect([r.status, r.body.code]).toEqual([422, 'opted_out']);
    expect(await emuMessagesTo(c.phone)).toEqual([]);
  });

  it('21610 from the carrier: failed, quota released, usage reversed, opt-out recorded (carrier)', async () => {
    const c = await customer(w.tenantA);
    await emu('/_emulator/failures', { to: c.phone, code: 21610, times: 1 });
    const q0 = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'hello' });
    expect([r.status, r.body.code]).toEqual([422, 'opted_out']);
    const q1 = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    expect(q1).toBe(q0);
    const row = await messageRow(r.body.details.message_id);
    expect([row.status, row.error_code]).toEqual(['failed', 21610]);
    const usage = await db().query(`select coalesce(sum(quantity),0)::int as n from public.usage_events where source_id = $1`, [row.id]);
    expect(usage.rows[0].n).toBe(0);
    const consent = await db().query(`select action, source from public.consent_events where tenant_id = $1 and phone = $2`, [w.tenantA, c.phone]);
    expect(consent.rows).toEqual([{ action: 'opt_out', source: 'carrier' }]);
    const again = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'hello again' });
    expect(again.body.code).toBe('opted_out');
  });

  it('21211 (invalid number at Twilio) → 422 invalid_phone and the reservation released', async () => {
    const c = await customer(w.tenantA);
    await emu('/_emulator/failures', { to: c.phone, code: 21211, times: 1 });
    const q0 = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'hello' });
    expect([r.status, r.body.code]).toEqual([422, 'invalid_phone']);
    expect((await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used).toBe(q0);
  });

  it('20429 twice then success: exactly one message at Twilio, quota consumed once', async () => {
    const c = await customer(w.tenantA);
    await emu('/_emulator/failures', { to: c.phone, code: 20429, times: 2 });
    const q0 = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used;
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'busy line' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await emuMessagesTo(c.phone)).length).toBe(1);
    expect((await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [w.tenantA])).rows[0].sms_segments_used - q0).toBe(1);
    expect((await messageRow(r.body.message.id)).attempts).toBe(1);
  });

  it('a timeout after Twilio accepted: unknown, quota kept, no resend; reconciliation finds the SID', async () => {
    const c = await customer(w.tenantA);
    await emu('/_emulator/failures', { to: c.phone, code: 'timeout', times: 1, hang_ms: 15_000 });
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'maybe sent' });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body.message.status).toBe('unknown');
    const row = await messageRow(r.body.message.id);
    expect([row.status, row.quota_amount, row.twilio_sid]).toEqual(['unknown', 1, null]);
    await db().query(`update public.messages set created_at = now() - interval '2 minutes' where id = $1`, [row.id]);
    const d = await fetch(fn('message-dispatcher'), { method: 'POST', headers: { Authorization: `Bearer ${env.serviceRoleKey}`, apikey: env.anonKey } });
    expect(d.status).toBe(200);
    const after = await messageRow(row.id);
    const at = await emuMessagesTo(c.phone);
    expect(at.length).toBe(1);
    expect(after.twilio_sid).toBe(at[0]!.sid);
    expect(after.status).not.toBe('unknown');
  }, 40_000);

  it('over quota: 402 quota_exceeded with an upgrade hint; pickup notices go past a default hard stop', async () => {
    await db().query(`update public.tenants set plan = 'starter' where id = $1`, [w.tenantB]);
    await db().query(`update public.tenant_quota set sms_segments_used = 300 where tenant_id = $1`, [w.tenantB]);
    const c = await customer(w.tenantB);
    const r = await send(w.ownerB, { tenant_id: w.tenantB, customer_id: c.id, body: 'promo' });
    expect([r.status, r.body.code]).toEqual([402, 'quota_exceeded']);
    expect(r.body.details.upgrade_hint.plan).toBe('pro');
    const p = await send(w.ownerB, { tenant_id: w.tenantB, customer_id: c.id, template: 'pickup_ready' });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    await setupTenant(w.tenantB);
  });

  it('billing standing: past_due blocks review requests (402 billing_inactive) but not pickup notices; suspended blocks all', async () => {
    const c = await customer(w.tenantB);
    await db().query(`update public.tenants set status = 'past_due', google_review_url = 'https://g.page/r/b/review' where id = $1`, [w.tenantB]);
    const r = await send(w.ownerB, { tenant_id: w.tenantB, customer_id: c.id, template: 'review_request' });
    expect([r.status, r.body.code]).toEqual([402, 'billing_inactive']);
    const p = await send(w.ownerB, { tenant_id: w.tenantB, customer_id: c.id, template: 'pickup_ready' });
    expect(p.status).toBe(200);
    await db().query(`update public.tenants set status = 'suspended' where id = $1`, [w.tenantB]);
    const s = await send(w.ownerB, { tenant_id: w.tenantB, customer_id: c.id, template: 'pickup_ready', idempotency_key: randomUUID() });
    expect([s.status, s.body.code]).toEqual([402, 'billing_inactive']);
    await setupTenant(w.tenantB);
  });

  it('rate limit per minute from the plan: 429 rate_limited with retry_after', async () => {
    const { rows } = await db().query(`select sends_per_minute from public.plans where id = 'elite'`);
    await db().query(`insert into public.send_rate_counters (tenant_id, minute, sends) values ($1, date_trunc('minute', now()), $2)
      on conflict (tenant_id, minute) do update set sends = excluded.sends`, [w.tenantB, rows[0].sends_per_minute]);
    const c = await customer(w.tenantB);
    const r = await send(w.ownerB, { tenant_id: w.tenantB, customer_id: c.id, body: 'fast' });
    expect([r.status, r.body.code]).toEqual([429, 'rate_limited']);
    expect(r.body.details.retry_after).toBeGreaterThan(0);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await emuMessagesTo(c.phone)).toEqual([]);
    await db().query('delete from public.send_rate_counters where tenant_id = $1', [w.tenantB]);
  });

  it('200 concurrent sends with 100 segments left: exactly 100 accepted, 100 quota_exceeded, 100 at the emulator', async () => {
    const world = w;
    await db().query(`update public.tenant_quota set sms_segments_used = 3000 - 100 where tenant_id = $1`, [world.tenantB]);
    await db().query('delete from public.send_rate_counters where tenant_id = $1', [world.tenantB]);
    const { rows: pl } = await db().query(`select sends_per_minute from public.plans where id = 'elite'`);
    expect(pl[0].sends_per_minute).toBeGreaterThanOrEqual(100);
    const phones = Array.from({ length: 200 }, () => openPhone());
    const rs = await Promise.all(phones.map((to) => send(world.ownerB, { tenant_id: world.tenantB, to, body: 'race' })));
    const ok = rs.filter((r) => r.status === 200).length;
    const quota = rs.filter((r) => r.status === 402 && r.body.code === 'quota_exceeded').length;
    expect([ok, quota]).toEqual([100, 100]);
    const used = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [world.tenantB])).rows[0].sms_segments_used;
    expect(used).toBe(3000);
    const all = await emu('/_emulator/messages') as any;
    const list = (Array.isArray(all) ? all : all.messages ?? []) as Array<{ to: string }>;
    const set = new Set(phones);
    expect(list.filter((m) => set.has(m.to)).length).toBe(100);
    await setupTenant(world.tenantB);
  }, 60_000);
});

describe('twilio-status', () => {
  async function sentMessage() {
    const c = await customer(w.tenantA);
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'status test' });
    const row = await messageRow(r.body.message.id);
    // Let the emulator's own callbacks finish first, then reset the row to 'queued' to drive it by hand.
    await waitFor(() => messageRow(row.id), (m) => m.status === 'delivered');
    const sid = fakeSid();
    await db().query(`update public.messages set twilio_sid = $2, status = 'queued', error_code = null where id = $1`, [row.id, sid]);
    return { id: row.id as string, sid };
  }
  const params = (sid: string, status: string, extra: Record<string, string> = {}) => ({
    MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status, AccountSid: env.twilioAccountSid,
    To: '+18765550100', From: SHARED, ApiVersion: '2010-04-01', ...extra,
  });

  it('out of order (delivered, then sent) never regresses; both recorded', async () => {
    const m = await sentMessage();
    expect((await webhook('twilio-status', params(m.sid, 'delivered'))).status).toBe(200);
    expect((await webhook('twilio-status', params(m.sid, 'sent'))).status).toBe(200);
    expect((await messageRow(m.id)).status).toBe('delivered');
    const ev = await db().query('select status from public.message_status_events where message_sid = $1 order by status', [m.sid]);
    expect(ev.rows.map((r) => r.status)).toEqual(['delivered', 'sent']);
  });

  it('failed then sent keeps failed and its error code; undelivered then queued keeps undelivered', async () => {
    const m = await sentMessage();
    await webhook('twilio-status', params(m.sid, 'failed', { ErrorCode: '30007' }));
    await webhook('twilio-status', params(m.sid, 'sent'));
    expect(await messageRow(m.id)).toMatchObject({ status: 'failed', error_code: 30007 });
    const m2 = await sentMessage();
    await webhook('twilio-status', params(m2.sid, 'undelivered', { ErrorCode: '30003' }));
    await webhook('twilio-status', params(m2.sid, 'queued'));
    expect(await messageRow(m2.id)).toMatchObject({ status: 'undelivered', error_code: 30003 });
  });

  it('the same callback 3 times concurrently: one event row; an unknown extra param still validates', async () => {
    const m = await sentMessage();
    const p = params(m.sid, 'sent', { SomeNewTwilioParam: 'x y' });
    const rs = await Promise.all([1, 2, 3].map(() => webhook('twilio-status', p, { headers: { 'I-Twilio-Idempotency-Token': 'tok-1' } })));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
    const ev = await db().query('select count(*)::int as n from public.message_status_events where message_sid = $1', [m.sid]);
    expect(ev.rows[0].n).toBe(1);
    expect((await messageRow(m.id)).status).toBe('sent');
  });

  it('403 and nothing written: unsigned, wrong token (another account), tampered, dropped param, wrong URL', async () => {
    const m = await sentMessage();
    const p = params(m.sid, 'delivered');
    const base = env.twilioWebhookBaseUrl;
    const cases = [
      await webhook('twilio-status', p, { sign: false }),
      await webhook('twilio-status', p, { token: 'another_accounts_auth_token_0000' }),
      await webhook('twilio-status', { ...p, AccountSid: 'AC' + 'f'.repeat(32) }, { token: 'another_accounts_auth_token_0000' }),
      await webhook('twilio-status', p, { url: base.replace(/^http:/, 'https:') + '/twilio-status' }),
      await webhook('twilio-status', p, { url: base.replace('127.0.0.1', 'localhost') + '/twilio-status' }),
    ];
    // Signed correctly, then one value changed / one param dropped.
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(env.twilioAuthToken, `${base}/twilio-status`, p) };
    const changed = await fetch(fn('twilio-status'), { method: 'POST', headers, body: new URLSearchParams({ ...p, MessageStatus: 'failed' }).toString() });
    const { To: _drop, ...fewer } = p;
    const dropped = await fetch(fn('twilio-status'), { method: 'POST', headers, body: new URLSearchParams(fewer).toString() });
    expect([...cases.map((c) => c.status), changed.status, dropped.status]).toEqual([403, 403, 403, 403, 403, 403, 403]);
    const ev = await db().query('select count(*)::int as n from public.message_status_events where message_sid = $1', [m.sid]);
    expect(ev.rows[0].n).toBe(0);
    expect((await messageRow(m.id)).status).toBe('queued');
  });
});

describe('twilio-inbound and opt-outs', () => {
  beforeAll(async () => {
    await emu('/_emulator/config', { sharedNumberSmsUrl: `${env.twilioWebhookBaseUrl}/twilio-inbound` });
  });

  it('a reply lands in the thread of the shop that last texted the person; counted; unread for members', async () => {
    const c = await customer(w.tenantA);
    const s = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'Any questions?' });
    expect(s.status).toBe(200);
    const r = await emu('/_emulator/inbound', { from: c.phone, to: SHARED, body: 'Can I come at 5 & bring <keys>?' });
    expect(r.status).toBe(200);
    const { rows } = await db().query(`select * from public.messages where tenant_id = $1 and customer_id = $2 and direction = 'inbound'`, [w.tenantA, c.id]);
    expect(rows.length).toBe(1);
    expect([rows[0].body, rows[0].status, rows[0].read_at]).toEqual(['Can I come at 5 & bring <keys>?', 'received', null]);
    const usage = await db().query(`select metric, quantity from public.usage_events where source_id = $1`, [rows[0].id]);
    expect(usage.rows).toEqual([{ metric: 'sms_inbound', quantity: 1 }]);
    // Members see it through RLS; B's owner does not.
    const seen = await w.techA.client.from('messages').select('id').eq('id', rows[0].id);
    expect(seen.data?.length).toBe(1);
    const notSeen = await w.ownerB.client.from('messages').select('id').eq('id', rows[0].id);
    expect(notSeen.data?.length ?? 0).toBe(0);
    // Mark read.
    must(await w.techA.client.from('messages').update({ read_at: new Date().toISOString() }).eq('id', rows[0].id), 'mark read');
  });

  it('an unknown number replying creates a customer', async () => {
    const phone = openPhone();
    // Shop A texted this number (no customer row yet: sent by number).
    expect((await send(w.ownerA, { tenant_id: w.tenantA, to: phone, body: 'Estimate ready' })).status).toBe(200);
    await db().query('delete from public.customers where tenant_id = $1 and phone = $2', [w.tenantA, phone]);
    await emu('/_emulator/inbound', { from: phone, to: SHARED, body: 'ok thanks' });
    const { rows } = await db().query('select id, name from public.customers where tenant_id = $1 and phone = $2', [w.tenantA, phone]);
    expect(rows.length).toBe(1);
  });

  it('"  sToP  " to the shared number opts the person out for every shop using it; START opts back in', async () => {
    const phone = openPhone();
    const ca = await customer(w.tenantA, phone);
    const cb = await customer(w.tenantB, phone);
    expect((await send(w.ownerB, { tenant_id: w.tenantB, customer_id: cb.id, body: 'from B' })).status).toBe(200);
    expect((await send(w.ownerA, { tenant_id: w.tenantA, customer_id: ca.id, body: 'from A' })).status).toBe(200);
    const r = await emu('/_emulator/inbound', { from: phone, to: SHARED, body: '  sToP  ' });
    expect(r.status).toBe(200);
    for (const [t, c, owner] of [[w.tenantA, ca, w.ownerA], [w.tenantB, cb, w.ownerB]] as const) {
      const x = await send(owner, { tenant_id: t, customer_id: c.id, body: 'after stop' });
      expect([x.status, x.body.code]).toEqual([422, 'opted_out']);
    }
    const ev = await db().query(`select tenant_id, action, source from public.consent_events where phone = $1 order by tenant_id`, [phone]);
    expect(ev.rows.every((e) => e.action === 'opt_out' && e.source === 'keyword')).toBe(true);
    expect(ev.rows.length).toBe(2);
    await emu('/_emulator/inbound', { from: phone, to: SHARED, body: 'Start' });
    expect((await send(w.ownerA, { tenant_id: w.tenantA, customer_id: ca.id, body: 'welcome back' })).status).toBe(200);
  });

  it('HELP gets a TwiML reply naming the shop; an unsigned inbound post is 403', async () => {
    const c = await customer(w.tenantA);
    await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, body: 'hello' });
    const r = await emu('/_emulator/inbound', { from: c.phone, to: SHARED, body: 'help' });
    const name = (await db().query('select name from public.tenants where id = $1', [w.tenantA])).rows[0].name;
    expect(r.body).toContain(`<Message>${name}:`);
    const bad = await webhook('twilio-inbound', { MessageSid: fakeSid(), From: c.phone, To: SHARED, Body: 'x', AccountSid: env.twilioAccountSid }, { sign: false });
    expect(bad.status).toBe(403);
  });
});

describe('review requests', () => {
  it('short link records the click and redirects; one per customer per 90 days; owners pause queued ones', async () => {
    const c = await customer(w.tenantA);
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, template: 'review_request' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const row = await messageRow(r.body.message.id);
    const code = /\/r\/([A-Za-z0-9]+)/.exec(row.body)![1]!;
    const click = await fetch(fn(`r/${code}`), { redirect: 'manual' });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://g.page/r/demo-review/review');
    const rr = (await db().query('select * from public.review_requests where code = $1', [code])).rows[0];
    expect([rr.status, rr.click_count, rr.clicked_at !== null]).toEqual(['sent', 1, true]);
    const again = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, template: 'review_request' });
    expect([again.status, again.body.code]).toEqual([409, 'review_recently_requested']);
    expect((await fetch(fn('r/NoSuchCode1'), { redirect: 'manual' })).status).toBe(404);
    // Pause: a queued request for another customer; technicians cannot, admins can.
    const c2 = await customer(w.tenantA);
    const { rows } = await db().query(`insert into public.review_requests (tenant_id, customer_id, code) values ($1, $2, $3) returning id`, [w.tenantA, c2.id, 'Pause' + Math.random().toString(36).slice(2, 8)]);
    const tech = await w.techA.client.rpc('messaging_pause_review_request', { tenant_id: w.tenantA, review_request_id: rows[0].id, paused: true });
    expect(tech.error?.code).toBe('42501');
    must(await w.adminA.client.rpc('messaging_pause_review_request', { tenant_id: w.tenantA, review_request_id: rows[0].id, paused: true }), 'pause');
    expect((await db().query('select paused_at from public.review_requests where id = $1', [rows[0].id])).rows[0].paused_at).not.toBeNull();
    const foreign = await w.ownerB.client.rpc('messaging_pause_review_request', { tenant_id: w.tenantA, review_request_id: rows[0].id, paused: false });
    expect(foreign.error?.code).toBe('42501');
  });

  it('concurrent review requests: one per customer (others 409), and a concurrent retry replays the first', async () => {
    const c = await customer(w.tenantA);
    const key = randomUUID();
    const rs = await Promise.all([
      ...Array.from({ length: 3 }, () => send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, template: 'review_request', idempotency_key: key })),
      ...Array.from({ length: 3 }, () => send(w.adminA, { tenant_id: w.tenantA, customer_id: c.id, template: 'review_request' })),
    ]);
    const ok = rs.filter((r) => r.status === 200);
    expect(new Set(ok.map((r) => r.body.message.id)).size).toBe(1);
    expect(rs.filter((r) => r.status === 409).every((r) => r.body.code === 'review_recently_requested')).toBe(true);
    expect(ok.length + rs.filter((r) => r.status === 409).length).toBe(6);
    const n = await db().query('select count(*)::int as n from public.review_requests where customer_id = $1', [c.id]);
    expect(n.rows[0].n).toBe(1);
  });

  it('one reminder after N days unless clicked or replied', async () => {
    const c = await customer(w.tenantA);
    const r = await send(w.ownerA, { tenant_id: w.tenantA, customer_id: c.id, template: 'review_request' });
    expect(r.status).toBe(200);
    await db().query(`update public.review_requests set sent_at = now() - interval '4 days', created_at = now() - interval '4 days' where message_id = $1`, [r.body.message.id]);
    const call = () => fetch(fn('message-dispatcher'), { method: 'POST', headers: { Authorization: `Bearer ${env.serviceRoleKey}`, apikey: env.anonKey } });
    await call();
    await call();
    const rr = (await db().query('select * from public.review_requests where message_id = $1', [r.body.message.id])).rows[0];
    expect(rr.reminder_message_id).not.toBeNull();
    const out = await db().query(`select template from public.messages where customer_id = $1 and direction = 'outbound' order by created_at`, [c.id]);
    expect(out.rows.map((x) => x.template)).toEqual(['review_request', 'review_reminder']);
  });
});

describe('cross-tenant attempts on the new RPCs', () => {
  it('server-only RPCs are not executable by signed-in users; member RPCs refuse other shops', async () => {
    for (const [name, args] of [
      ['messaging_reserve_send', { user_id: w.ownerA.id, tenant_id: w.tenantA, customer_id: null, to_phone: '+18765550100', from_phone: SHARED, from_shared: true, template: 'custom', body: 'x', media_paths: [], segments: 1, encoding: 'GSM-7', idempotency_key: 'x' }],
      ['messaging_send_context', { user_id: w.ownerA.id, tenant_id: w.tenantA }],
      ['messaging_record_status', { message_sid: fakeSid(), status: 'sent' }],
      ['messaging_claim_due', { max_rows: 1 }],
      ['messaging_review_click', { code: 'abcdefgh' }],
    ] as const) {
      const r = await w.ownerA.client.rpc(name, args as never);
      expect(r.error?.code, name).toBe('42501');
    }
    // The service role passing a user who is not a member is refused too.
    const err = await sqlError(asUser(null, (c) => c.query(
      `select public.messaging_reserve_send($1, $2, null, '+18765550100', $3, true, 'custom', 'x', '{}', 1, 'GSM-7', 'k')`,
      [w.ownerB.id, w.tenantA, SHARED]), { claims: { role: 'service_role' } as never }));
    expect(err.message).toMatch(/^forbidden:/);
    // Cancel another shop's message: refused.
    const { rows } = await db().query(`select id from public.messages where tenant_id = $1 limit 1`, [w.tenantA]);
    const x = await w.ownerB.client.rpc('messaging_cancel_message', { tenant_id: w.tenantA, message_id: rows[0].id });
    expect(x.error?.code).toBe('42501');
    const y = await w.ownerB.client.rpc('messaging_cancel_message', { tenant_id: w.tenantB, message_id: rows[0].id });
    expect(y.error?.message).toMatch(/^message_not_cancelable:/);
  });

  it('settings: admins write, technicians read only, never widen the window', async () => {
    must(await w.adminA.client.from('messaging_settings').insert({ tenant_id: w.tenantA, quiet_start: '09:00', quiet_end: '20:00' }), 'insert settings');
    const tech = await w.techA.client.from('messaging_settings').update({ quiet_end: '19:00' }).eq('tenant_id', w.tenantA).select();
    expect(tech.data?.length ?? 0).toBe(0);
    const wide = await w.ownerA.client.from('messaging_settings').update({ quiet_end: '22:00' }).eq('tenant_id', w.tenantA);
    expect(wide.error?.code).toBe('23514');
    const b = await w.ownerB.client.from('messaging_settings').select('*').eq('tenant_id', w.tenantA);
    expect(b.data).toEqual([]);
    await db().query('delete from public.messaging_settings where tenant_id = $1', [w.tenantA]);
  });
});
