/**
 * The Twilio emulator speaks Twilio's REST wire format and signs its webhooks exactly as Twilio does:
 * signatures are checked with the `twilio` package's own validateRequest as the oracle.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { startTwilioEmulator } from '../../local/emulators/twilio/index.ts';
import { countSegments } from '../../local/emulators/twilio/segments.ts';
import { startReceiver, type Receiver, type Received } from '../../local/emulators/_lib/receiver.ts';
import type { RunningService } from '../../local/lib/types.ts';
import { freePort } from '../helpers/ports.ts';

const PORT = await freePort();
const RECEIVER_PORT = await freePort();
const MAIN = 'AC' + 'a'.repeat(32);
const TOKEN = 'main_token_for_the_twilio_emulator';
const SHARED = '+15005550006';
const CUSTOMER = '+14155550123';
const quiet = { info() {}, warn() {}, error() {} };

let emu: RunningService & { url: string };
let rx: Receiver;
let twimlReply = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

beforeAll(async () => {
  emu = await startTwilioEmulator({ port: PORT, accountSid: MAIN, authToken: TOKEN, log: quiet, callbackDelayMs: 15 });
  rx = await startReceiver({
    port: RECEIVER_PORT,
    respond: () => ({ status: 200, headers: { 'content-type': 'text/xml' }, body: twimlReply }),
  });
});
afterAll(async () => { await rx?.stop(); await emu?.stop(); });
beforeEach(async () => {
  await fetch(`${emu.url}/_emulator/reset`, { method: 'POST' });
  rx.received.length = 0;
  twimlReply = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
});

function basic(user: string, pass: string) {
  return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
}
async function api(path: string, o: { method?: string; form?: Record<string, string | string[]>; user?: string; pass?: string; signal?: AbortSignal } = {}) {
  const body = o.form ? new URLSearchParams(Object.entries(o.form).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, x]))).toString() : undefined;
  const res = await fetch(`${emu.url}/2010-04-01${path}`, {
    method: o.method ?? (o.form ? 'POST' : 'GET'),
    headers: { authorization: basic(o.user ?? MAIN, o.pass ?? TOKEN), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body,
    signal: o.signal,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
async function control(path: string, body?: unknown) {
  const res = await fetch(`${emu.url}/_emulator/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
const params = (r: Received) => Object.fromEntries(new URLSearchParams(r.raw));
const valid = (token: string, r: Received) => twilio.validateRequest(token, String(r.headers['x-twilio-signature']), r.url, params(r));
const send = (form: Record<string, string | string[]>, user = MAIN, pass = TOKEN, account = user) =>
  api(`/Accounts/${account}/Messages.json`, { form, user, pass });

describe('auth', () => {
  it('answers 401 with Twilio error 20003 without or with wrong credentials', async () => {
    const none = await fetch(`${emu.url}/2010-04-01/Accounts/${MAIN}/Messages.json`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    const wrong = await api(`/Accounts/${MAIN}/Messages.json`, { pass: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe(20003);
  });
});

describe('messages', () => {
  it('creates a message with Twilio\'s resource JSON and posts signed callbacks sent → delivered', async () => {
    const callbackUrl = `${rx.url}/functions/v1/twilio-status?tenant=t-1&x=a%20b`;
    const r = await send({ To: CUSTOMER, From: SHARED, Body: 'Your car is ready', StatusCallback: callbackUrl });
    expect(r.status).toBe(201);
    const m = r.body;
    expect(m.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(m).toMatchObject({
      account_sid: MAIN, api_version: '2010-04-01', body: 'Your car is ready', direction: 'outbound-api', error_code: null,
      error_message: null, from: SHARED, to: CUSTOMER, messaging_service_sid: null, num_media: '0', num_segments: '1',
      price: null, price_unit: 'USD', status: 'queued', date_sent: null,
      uri: `/2010-04-01/Accounts/${MAIN}/Messages/${m.sid}.json`,
    });
    expect(m.date_created).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(m.subresource_uris.media).toBe(`/2010-04-01/Accounts/${MAIN}/Messages/${m.sid}/Media.json`);

    const cbs = await rx.waitFor(2);
    expect(cbs.map((c) => params(c).MessageStatus)).toEqual(['sent', 'delivered']);
    for (const c of cbs) {
      expect(c.pathAndQuery).toBe('/functions/v1/twilio-status?tenant=t-1&x=a%20b');
      expect(c.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(c.headers['i-twilio-idempotency-token']).toBeTruthy();
      expect(valid(TOKEN, c)).toBe(true);
      const p = params(c);
      expect(p).toMatchObject({ MessageSid: m.sid, SmsSid: m.sid, AccountSid: MAIN, From: SHARED, To: CUSTOMER, ApiVersion: '2010-04-01' });
      expect(p.SmsStatus).toBe(p.MessageStatus);
      expect(p.ErrorCode).toBeUndefined();
      // The oracle rejects a changed value, a dropped param, and a different URL.
      expect(twilio.validateRequest(TOKEN, String(c.headers['x-twilio-signature']), c.url, { ...p, To: '+14155550999' })).toBe(false);
      const { From: _drop, ...fewer } = p;
      expect(twilio.validateRequest(TOKEN, String(c.headers['x-twilio-signature']), c.url, fewer)).toBe(false);
      expect(twilio.validateRequest(TOKEN, String(c.headers['x-twilio-signature']), c.url.replace('t-1', 't-2'), p)).toBe(false);
      expect(twilio.validateRequest('another_token', String(c.headers['x-twilio-signature']), c.url, p)).toBe(false);
    }
    const fetched = await api(`/Accounts/${MAIN}/Messages/${m.sid}.json`);
    expect(fetched.body).toMatchObject({ status: 'delivered', price: '-0.00790' });
    expect(fetched.body.date_sent).toMatch(/\+0000$/);
  });

  it('with a MessagingServiceSid starts accepted (from null) and calls back queued → sent → delivered', async () => {
    const mg = 'MG' + '1'.repeat(32);
    const r = await send({ To: CUSTOMER, MessagingServiceSid: mg, Body: 'hi', StatusCallback: `${rx.url}/mg` });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'accepted', from: null, messaging_service_sid: mg });
    const cbs = await rx.waitFor(3);
    expect(cbs.map((c) => params(c).MessageStatus)).toEqual(['queued', 'sent', 'delivered']);
    expect(params(cbs[0])).toMatchObject({ MessagingServiceSid: mg, From: SHARED });
  });

  it('counts segments like Twilio: GSM-7 160/153, UCS-2 70/67, extension characters cost two', async () => {
    expect(countSegments('a'.repeat(160)).segments).toBe(1);
    expect(countSegments('a'.repeat(161)).segments).toBe(2);
    expect(countSegments('a'.repeat(306)).segments).toBe(2);
    expect(countSegments('a'.repeat(307)).segments).toBe(3);
    expect(countSegments('€'.repeat(80)).segments).toBe(1);
    expect(countSegments('€'.repeat(81)).segments).toBe(2);
    expect(countSegments('a'.repeat(70) + '’')).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(countSegments('😀'.repeat(35)).segments).toBe(1);
    expect(countSegments('a'.repeat(69) + '😀')).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    const r1 = await send({ To: CUSTOMER, From: SHARED, Body: 'x'.repeat(161) });
    expect(r1.body.num_segments).toBe('2');
    const r2 = await send({ To: CUSTOMER, From: SHARED, Body: 'y'.repeat(70) + '😀' });
    expect(r2.body.num_segments).toBe('2');
    const r3 = await send({ To: CUSTOMER, From: SHARED, Body: 'photo', MediaUrl: ['https://example.com/a.jpg', 'https://example.com/b.png'] });
    expect(r3.body).toMatchObject({ num_media: '2', num_segments: '1' });
  });

  it('rejects bad input with Twilio\'s error codes and creates nothing', async () => {
    const cases: [Record<string, string>, number, number][] = [
      [{ To: '5551234', From: SHARED, Body: 'x' }, 400, 21211],
      [{ To: '+1415555012', From: SHARED, Body: 'x' }, 400, 21211],
      [{ From: SHARED, Body: 'x' }, 400, 21604],
      [{ To: CUSTOMER, Body: 'x' }, 400, 21603],
      [{ To: CUSTOMER, From: SHARED }, 400, 21602],
      [{ To: CUSTOMER, From: 'not-a-number', Body: 'x' }, 400, 21212],
      [{ To: CUSTOMER, From: '+14155550100', Body: 'x' }, 400, 21606],
      [{ To: CUSTOMER, From: SHARED, Body: 'x'.repeat(1601) }, 400, 21617],
      [{ To: CUSTOMER, From: SHARED, Body: 'x', StatusCallback: 'not a url' }, 400, 21609],
    ];
    for (const [form, status, code] of cases) {
      const r = await send(form);
      expect([r.status, r.body.code], JSON.stringify(form)).toEqual([status, code]);
      expect(r.body).toMatchObject({ more_info: `https://www.twilio.com/docs/errors/${code}`, status });
      expect(typeof r.body.message).toBe('string');
    }
    const list = await api(`/Accounts/${MAIN}/Messages.json`);
    expect(list.body.messages).toEqual([]);
  });

  it('lists messages newest first with To/From filters and Twilio paging', async () => {
    await send({ To: CUSTOMER, From: SHARED, Body: 'one' });
    await send({ To: '+14155550124', From: SHARED, Body: 'two' });
    await send({ To: CUSTOMER, From: SHARED, Body: 'three' });
    const all = await api(`/Accounts/${MAIN}/Messages.json?PageSize=2`);
    expect(all.body.messages.map((m: { body: string }) => m.body)).toEqual(['three', 'two']);
    expect(all.body).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1 });
    expect(all.body.next_page_uri).toContain('Page=1');
    const filtered = await api(`/Accounts/${MAIN}/Messages.json?To=${encodeURIComponent(CUSTOMER)}`);
    expect(filtered.body.messages.map((m: { body: string }) => m.body)).toEqual(['three', 'one']);
    expect(filtered.body.next_page_uri).toBeNull();
  });
});

describe('subaccounts and numbers', () => {
  it('creates a subaccount whose own credentials send from its own number, signed with its own token', async () => {
    const created = await api('/Accounts.json', { form: { FriendlyName: 'Tenant Joe\'s Garage' } });
    expect(created.status).toBe(201);
    const sub = created.body;
    expect(sub.sid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(sub.auth_token).toMatch(/^[0-9a-f]{32}$/);
    expect(sub).toMatchObject({ friendly_name: 'Tenant Joe\'s Garage', status: 'active', owner_account_sid: MAIN, type: 'Full' });
    expect((await control('accounts')).body).toEqual([expect.objectContaining({ sid: sub.sid, friendly_name: 'Tenant Joe\'s Garage', status: 'active', auth_token: sub.auth_token })]);

    const search = await api(`/Accounts/${sub.sid}/AvailablePhoneNumbers/US/Local.json?AreaCode=512`, { user: sub.sid, pass: sub.auth_token });
    expect(search.status).toBe(200);
    const candidate = search.body.available_phone_numbers[0];
    expect(candidate).toMatchObject({ iso_country: 'US', region: 'TX', capabilities: { SMS: true, MMS: true, voice: true } });
    expect(candidate.phone_number).toMatch(/^\+1512/);
    const bought = await api(`/Accounts/${sub.sid}/IncomingPhoneNumbers.json`, {
      user: sub.sid, pass: sub.auth_token, form: { PhoneNumber: candidate.phone_number, SmsUrl: `${rx.url}/inbound`, SmsMethod: 'POST' },
    });
    expect(bought.status).toBe(201);
    expect(bought.body).toMatchObject({ account_sid: sub.sid, phone_number: candidate.phone_number, sms_url: `${rx.url}/inbound`, sms_method: 'POST' });
    expect(bought.body.sid).toMatch(/^PN[0-9a-f]{32}$/);

    const msg = await send({ To: CUSTOMER, From: candidate.phone_number, Body: 'hi', StatusCallback: `${rx.url}/status` }, sub.sid, sub.auth_token);
    expect(msg.status).toBe(201);
    expect(msg.body.account_sid).toBe(sub.sid);
    const cbs = await rx.waitFor(2);
    expect(cbs.every((c) => valid(sub.auth_token, c))).toBe(true);
    expect(cbs.some((c) => valid(TOKEN, c))).toBe(false);
    expect(params(cbs[0]).AccountSid).toBe(sub.sid);

    // The subaccount cannot use the platform's shared number, nor reach the parent's resources.
    expect((await send({ To: CUSTOMER, From: SHARED, Body: 'x' }, sub.sid, sub.auth_token)).body.code).toBe(21606);
    const parent = await api(`/Accounts/${MAIN}/Messages.json`, { user: sub.sid, pass: sub.auth_token });
    expect([parent.status, parent.body.code]).toEqual([404, 20404]);
    // The parent's credentials reach the subaccount's resources.
    const viaParent = await api(`/Accounts/${sub.sid}/Messages/${msg.body.sid}.json`);
    expect(viaParent.body.sid).toBe(msg.body.sid);
    // Sending through the parent's credentials from the subaccount's number works too.
    expect((await send({ To: CUSTOMER, From: candidate.phone_number, Body: 'x' }, MAIN, TOKEN, sub.sid)).status).toBe(201);
  });

  it('suspends and closes subaccounts as Twilio does', async () => {
    const sub = (await api('/Accounts.json', { form: { FriendlyName: 'S' } })).body;
    const num = (await api(`/Accounts/${sub.sid}/IncomingPhoneNumbers.json`, { form: { AreaCode: '415' } })).body;
    expect(num.phone_number).toMatch(/^\+1415555\d{4}$/);
    const suspended = await api(`/Accounts/${sub.sid}.json`, { form: { Status: 'suspended' } });
    expect(suspended.body.status).toBe('suspended');
    const blocked = await send({ To: CUSTOMER, From: num.phone_number, Body: 'x' }, sub.sid, sub.auth_token);
    expect([blocked.status, blocked.body.code]).toEqual([403, 10001]);
    // A subaccount cannot reactivate itself.
    expect((await api(`/Accounts/${sub.sid}.json`, { form: { Status: 'active' }, user: sub.sid, pass: sub.auth_token })).status).toBe(403);
    await api(`/Accounts/${sub.sid}.json`, { form: { Status: 'active' } });
    expect((await send({ To: CUSTOMER, From: num.phone_number, Body: 'x' }, sub.sid, sub.auth_token)).status).toBe(201);
    await api(`/Accounts/${sub.sid}.json`, { form: { Status: 'closed' } });
    expect((await send({ To: CUSTOMER, From: num.phone_number, Body: 'x' }, sub.sid, sub.auth_token)).status).toBe(401);
    const list = await api('/Accounts.json?Status=closed');
    expect(list.body.accounts.map((a: { sid: string }) => a.sid)).toEqual([sub.sid]);
  });

  it('searches, buys, updates and releases numbers; an emptied area code has none', async () => {
    const tx = await api(`/Accounts/${MAIN}/AvailablePhoneNumbers/US/Local.json?InRegion=TX&PageSize=5`);
    expect(tx.body.available_phone_numbers).toHaveLength(5);
    expect(tx.body.available_phone_numbers.every((n: { region: string }) => n.region === 'TX')).toBe(true);
    const contains = await api(`/Accounts/${MAIN}/AvailablePhoneNumbers/US/Local.json?AreaCode=206&Contains=555015*`);
    expect(contains.body.available_phone_numbers.map((n: { phone_number: string }) => n.phone_number)).toEqual(
      Array.from({ length: 10 }, (_, i) => `+1206555015${i}`));
    const near = await api(`/Accounts/${MAIN}/AvailablePhoneNumbers/US/Local.json?NearNumber=%2B13035550000&PageSize=1`);
    expect(near.body.available_phone_numbers[0].phone_number).toMatch(/^\+1303/);
    const tollFree = await api(`/Accounts/${MAIN}/AvailablePhoneNumbers/US/TollFree.json?AreaCode=888&PageSize=2`);
    expect(tollFree.body.available_phone_numbers.map((n: { phone_number: string }) => n.phone_number)).toEqual(['+18885550100', '+18885550101']);
    expect((await api(`/Accounts/${MAIN}/AvailablePhoneNumbers/US/Local.json?AreaCode=099`)).body.code).toBe(21451);

    const first = (await api(`/Accounts/${MAIN}/AvailablePhoneNumbers/US/Local.json?AreaCode=617&PageSize=1`)).body.available_phone_numbers[0].phone_number;
    const bought = await api(`/Accounts/${MAIN}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: first, FriendlyName: 'Front desk' } });
    expect(bought.body.friendly_name).toBe('Front desk');
    const again = await api(`/Accounts/${MAIN}/IncomingPhoneNumbers.json`, { form: { PhoneNumber: first } });
    expect([again.status, again.body.code]).toEqual([400, 21422]);
    const afterBuy = (await api(`/Accounts/${MAIN}/AvailablePhoneNumbers/US/Local.json?AreaCode=617&PageSize=1`)).body.available_phone_numbers[0].phone_number;
    expect(afterBuy).not.toBe(first);

    const updated = await api(`/Accounts/${MAIN}/IncomingPhoneNumbers/${bought.body.sid}.json`, { form: { SmsUrl: `${rx.url}/sms`, VoiceUrl: `${rx.url}/voice` } });
    expect(updated.body).toMatchObject({ sms_url: `${rx.url}/sms`, voice_url: `${rx.url}/voice` });
    const bad = await api(`/Accounts/${MAIN}/IncomingPhoneNumbers/${bought.body.sid}.json`, { form: { SmsUrl: 'ftp://x' } });
    expect(bad.status).toBe(400);
    const listed = await api(`/Accounts/${MAIN}/IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent(first)}`);
    expect(listed.body.incoming_phone_numbers).toHaveLength(1);
    const released = await fetch(`${emu.url}/2010-04-01/Accounts/${MAIN}/IncomingPhoneNumbers/${bought.body.sid}.json`, { method: 'DELETE', headers: { authorization: basic(MAIN, TOKEN) } });
    expect(released.status).toBe(204);
    expect((await api(`/Accounts/${MAIN}/AvailablePhoneNumbers/US/Local.json?AreaCode=617&PageSize=1`)).body.available_phone_numbers[0].phone_number).toBe(first);

    expect((await control('config', { emptyAreaCodes: ['617'] })).status).toBe(200);
    expect((await api(`/Accounts/${MAIN}/AvailablePhoneNumbers/US/Local.json?AreaCode=617`)).body.available_phone_numbers).toEqual([]);
    const none = await api(`/Accounts/${MAIN}/IncomingPhoneNumbers.json`, { form: { AreaCode: '617' } });
    expect([none.status, none.body.code]).toEqual([400, 21452]);
  });
});

describe('inbound SMS and voice', () => {
  it('delivers a signed inbound webhook to the number\'s SmsUrl and returns the TwiML', async () => {
    const num = (await api(`/Accounts/${MAIN}/IncomingPhoneNumbers.json`, { form: { AreaCode: '212', SmsUrl: `${rx.url}/functions/v1/twilio-inbound?shop=1` } })).body;
    twimlReply = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks &amp; see you soon</Message></Response>';
    const r = await control('inbound', { from: CUSTOMER, to: num.phone_number, body: 'Is my car ready?', media_urls: ['https://example.com/p.jpg'] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 200, body: twimlReply, opt_out_type: null });
    expect(r.body.replies).toEqual([expect.objectContaining({ body: 'Thanks & see you soon', status: 'queued' })]);
    const [hook] = await rx.waitFor(1);
    expect(valid(TOKEN, hook)).toBe(true);
    expect(params(hook)).toMatchObject({
      From: CUSTOMER, To: num.phone_number, Body: 'Is my car ready?', AccountSid: MAIN, NumMedia: '1', SmsStatus: 'received',
      MediaUrl0: 'https://example.com/p.jpg', MediaContentType0: 'image/jpeg', FromCity: 'SAN FRANCISCO', FromState: 'CA', ApiVersion: '2010-04-01',
    });
    expect(params(hook).MessageSid).toBe(r.body.message_sid);
    const msgs = (await control('messages')).body;
    expect(msgs.map((m: { direction: string }) => m.direction)).toEqual(['inbound', 'outbound-reply']);
  });

  it('routes the shared number to the configured URL and 409s when none is set', async () => {
    const none = await control('inbound', { from: CUSTOMER, to: SHARED, body: 'hello' });
    expect([none.status, none.body.code]).toEqual([409, 'no_sms_url']);
    await control('config', { sharedNumberSmsUrl: `${rx.url}/shared` });
    const r = await control('inbound', { from: CUSTOMER, to: SHARED, body: 'hello' });
    expect(r.body.status).toBe(200);
    const [hook] = await rx.waitFor(1);
    expect(hook.pathAndQuery).toBe('/shared');
    expect(valid(TOKEN, hook)).toBe(true);
    expect((await control('inbound', { from: 'x', to: SHARED, body: 'a' })).status).toBe(400);
    expect((await control('inbound', { from: CUSTOMER, to: '+14155550999', body: 'a' })).status).toBe(404);
  });

  it('STOP opts the sender out (21610 on send) and START opts back in', async () => {
    await control('config', { sharedNumberSmsUrl: `${rx.url}/shared` });
    const stop = await control('inbound', { from: CUSTOMER, to: SHARED, body: ' Stop ' });
    expect(stop.body.opt_out_type).toBe('STOP');
    expect(params((await rx.waitFor(1))[0]).OptOutType).toBe('STOP');
    const blocked = await send({ To: CUSTOMER, From: SHARED, Body: 'promo' });
    expect([blocked.status, blocked.body.code]).toEqual([400, 21610]);
    expect((await control('opt-outs')).body).toEqual([{ sender: SHARED, recipient: CUSTOMER }]);
    await control('inbound', { from: CUSTOMER, to: SHARED, body: 'START' });
    expect((await send({ To: CUSTOMER, From: SHARED, Body: 'welcome back' })).status).toBe(201);
  });

  it('posts a signed voice webhook and returns the TwiML', async () => {
    await control('config', { sharedNumberVoiceUrl: `${rx.url}/voice` });
    twimlReply = '<Response><Say>Hello</Say></Response>';
    const r = await control('voice', { from: CUSTOMER, to: SHARED, digits: '1' });
    expect(r.body).toMatchObject({ status: 200, body: twimlReply });
    const [hook] = await rx.waitFor(1);
    expect(valid(TOKEN, hook)).toBe(true);
    expect(params(hook)).toMatchObject({ From: CUSTOMER, To: SHARED, Digits: '1', Direction: 'inbound', CallStatus: 'ringing' });
    expect(params(hook).CallSid).toMatch(/^CA[0-9a-f]{32}$/);
  });
});

describe('failure injection', () => {
  it('21610 and 21211 fail the create call with HTTP 400 and create nothing', async () => {
    await control('failures', { to: CUSTOMER, code: 21610 });
    const r = await send({ To: CUSTOMER, From: SHARED, Body: 'x' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 21610, message: 'Attempt to send to unsubscribed recipient', more_info: 'https://www.twilio.com/docs/errors/21610', status: 400 });
    await control('failures', { code: 21211 });
    expect((await send({ To: CUSTOMER, From: SHARED, Body: 'x' })).body.code).toBe(21211);
    expect((await api(`/Accounts/${MAIN}/Messages.json`)).body.messages).toEqual([]);
    // Consumed: the next send works, and a failure for another number does not match.
    await control('failures', { to: '+14155550999', code: 21610 });
    expect((await send({ To: CUSTOMER, From: SHARED, Body: 'x' })).status).toBe(201);
  });

  it('20429 answers 429 the next N times, then the message is created exactly once', async () => {
    await control('failures', { code: 20429, times: 2 });
    const a = await send({ To: CUSTOMER, From: SHARED, Body: 'x' });
    const b = await send({ To: CUSTOMER, From: SHARED, Body: 'x' });
    const c = await send({ To: CUSTOMER, From: SHARED, Body: 'x' });
    expect([a.status, b.status, c.status]).toEqual([429, 429, 201]);
    expect(a.body).toMatchObject({ code: 20429, status: 429 });
    expect((await api(`/Accounts/${MAIN}/Messages.json`)).body.messages).toHaveLength(1);
  });

  it('30007 is accepted, then calls back sent → undelivered with ErrorCode', async () => {
    await control('failures', { to: CUSTOMER, code: 30007 });
    const r = await send({ To: CUSTOMER, From: SHARED, Body: 'x', StatusCallback: `${rx.url}/s` });
    expect(r.status).toBe(201);
    const cbs = await rx.waitFor(2);
    expect(cbs.map((c) => [params(c).MessageStatus, params(c).ErrorCode])).toEqual([['sent', undefined], ['undelivered', '30007']]);
    expect(cbs.every((c) => valid(TOKEN, c))).toBe(true);
    const m = (await api(`/Accounts/${MAIN}/Messages/${r.body.sid}.json`)).body;
    expect(m).toMatchObject({ status: 'undelivered', error_code: 30007, error_message: 'Message filtered' });
  });

  it('"timeout" withholds the answer past the client\'s timeout, yet the message exists', async () => {
    await control('failures', { code: 'timeout', hang_ms: 5_000 });
    const started = Date.now();
    const err = await api(`/Accounts/${MAIN}/Messages.json`, { form: { To: CUSTOMER, From: SHARED, Body: 'ambiguous-2' }, signal: AbortSignal.timeout(300) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(10_000);
    const bodies = (await api(`/Accounts/${MAIN}/Messages.json`)).body.messages.map((m: { body: string }) => m.body);
    expect(bodies).toContain('ambiguous-2');
  }, 15_000);

  it('rejects unknown failure codes with a clear control error', async () => {
    const r = await control('failures', { code: 12345 });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('unknown_failure_code');
  });
});

describe('inspection', () => {
  it('records every API request, oldest first, with method, path, account, parsed body and time — never credentials', async () => {
    await send({ To: CUSTOMER, From: SHARED, Body: 'logged', MediaUrl: ['https://e.com/1.jpg', 'https://e.com/2.jpg'] });
    await api(`/Accounts/${MAIN}/Messages.json?To=${encodeURIComponent(CUSTOMER)}`);
    await fetch(`${emu.url}/2010-04-01/Accounts/${MAIN}/Messages.json`);
    const log = (await control('requests')).body;
    expect(log).toHaveLength(3);
    expect(log[0]).toMatchObject({
      method: 'POST', path: `/2010-04-01/Accounts/${MAIN}/Messages.json`, account: MAIN, status: 201,
      body: { To: CUSTOMER, From: SHARED, Body: 'logged', MediaUrl: ['https://e.com/1.jpg', 'https://e.com/2.jpg'] },
    });
    expect(Date.parse(log[0].at)).not.toBeNaN();
    expect(log[1]).toMatchObject({ method: 'GET', query: { To: CUSTOMER }, status: 200 });
    expect(log[2].status).toBe(401);
    expect(JSON.stringify(log)).not.toContain(TOKEN);
  });
});
