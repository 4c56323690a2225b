/**
 * Telephony end to end against the stack's database and Twilio emulator. The four functions run in-process (their
 * real handlers and depsFromEnv wiring) behind a small HTTP server whose URL is TWILIO_WEBHOOK_BASE_URL, so the
 * numbers we buy point their webhooks at it and the emulator's /_emulator/voice reaches twilio-voice signed with
 * the owning subaccount's token. telephony-sync is also exercised for real: tenants.status → trigger → pg_net →
 * the stack's telephony-sync function → the emulator.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../../local/emulators/twilio/signature.ts';
import { createHandler as provisionHandler, depsFromEnv as provisionDeps } from '../../supabase/functions/provision-number/handler.ts';
import { createHandler as voiceHandler, depsFromEnv as voiceDeps } from '../../supabase/functions/twilio-voice/handler.ts';
import { createHandler as credsHandler, depsFromEnv as credsDeps } from '../../supabase/functions/telephony-credentials/handler.ts';
import { createHandler as syncHandler, depsFromEnv as syncDeps } from '../../supabase/functions/telephony-sync/handler.ts';
import { createLogger } from '../../supabase/functions/_shared/log.ts';
import type { Handler } from '../../supabase/functions/_shared/http.ts';
import { closeDb, db } from '../helpers/db.ts';
import { env } from '../helpers/env.ts';
import { SHOP_DEFAULTS, createApiWorld, must, type ApiWorld, type Persona } from '../helpers/personas.ts';

// ---------------------------------------------------------------------------------------- a tiny XML parser
interface XNode { name: string; attrs: Record<string, string>; children: XNode[]; text: string }
const ENT: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) => s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
  if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  if (!(e in ENT)) throw new Error(`unknown entity ${m}`);
  return ENT[e]!;
});
function parseXml(src: string): XNode {
  let i = 0;
  const s = src.replace(/^<\?xml[^?]*\?>/, '');
  const fail = (m: string): never => { throw new Error(`XML: ${m} at ${i}: ${s.slice(i, i + 40)}`); };
  function node(): XNode {
    if (s[i] !== '<') fail('expected <');
    i++;
    const name = /^[A-Za-z][A-Za-z0-9]*/.exec(s.slice(i))?.[0] ?? fail('name');
    i += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      const m = /^\s+([A-Za-z][A-Za-z0-9]*)="([^"<]*)"/.exec(s.slice(i));
      if (!m) break;
      if (m[1]! in attrs) fail('duplicate attribute');
      attrs[m[1]!] = decode(m[2]!);
      i += m[0].length;
    }
    const n: XNode = { name, attrs, children: [], text: '' };
    if (s.startsWith('/>', i)) { i += 2; return n; }
    if (s[i] !== '>') fail('expected >');
    i++;
    for (;;) {
      if (s.startsWith(`</${n.name}>`, i)) { i += n.name.length + 3; return n; }
      if (s[i] === '<') n.children.push(node());
      else {
        const end = s.indexOf('<', i);
        if (end < 0) fail('unclosed element');
        const raw = s.slice(i, end);
        if (/>|&(?!(#x[0-9a-f]+|#[0-9]+|[a-z]+);)/i.test(raw)) fail('unescaped text');
        n.text += decode(raw);
        i = end;
      }
    }
  }
  const root = node();
  if (i !== s.length) fail('trailing content');
  return root;
}
const names = (n: XNode) => n.children.map((c) => c.name);
const child = (n: XNode, name: string) => {
  const c = n.children.find((x) => x.name === name);
  if (!c) throw new Error(`<${n.name}> has no <${name}>: ${names(n).join(', ')}`);
  return c;
};

// ---------------------------------------------------------------------------------------- harness
const KEY = (label: string) => createHash('sha256').update(`servicepro-telephony-test-${label}`).digest('base64');
const K1 = KEY('k1');
const K2 = KEY('k2');
const logs: string[] = [];
const responses: string[] = [];
let server: http.Server;
let base = '';
let w: ApiWorld;
let keyEnv: Record<string, string> = { TELEPHONY_KEYS: JSON.stringify({ k1: K1 }), TELEPHONY_ACTIVE_KEY_ID: 'k1' };
/** Wraps the Twilio fetch of provision-number (failure injection). */
let twilioFetch: typeof fetch = (...a) => fetch(...a);
const handlers = new Map<string, Handler>();

function envGetter(extra: Record<string, string> = {}) {
  const vars: Record<string, string> = {
    SUPABASE_URL: env.apiUrl, SUPABASE_ANON_KEY: env.anonKey, SUPABASE_SERVICE_ROLE_KEY: env.serviceRoleKey,
    TWILIO_API_URL: env.twilioApiUrl, TWILIO_ACCOUNT_SID: env.twilioAccountSid, TWILIO_AUTH_TOKEN: env.twilioAuthToken,
    TWILIO_WEBHOOK_BASE_URL: base, ...keyEnv, ...extra,
  };
  return { get: (k: string) => vars[k] };
}
const sink = (_l: string, line: string) => { logs.push(line); };

/** (Re)builds the handlers from the environment, as a cold start with the current TELEPHONY_KEYS would. */
function boot() {
  const e = envGetter();
  const p = provisionDeps(e);
  handlers.set('provision-number', provisionHandler({
    ...p, twilio: { ...p.twilio, fetch: (...a) => twilioFetch(...a) }, log: createLogger('provision-number', { sink }),
  }));
  handlers.set('twilio-voice', voiceHandler({ ...voiceDeps(e), log: createLogger('twilio-voice', { sink }) }));
  handlers.set('telephony-credentials', credsHandler({ ...credsDeps(e), log: createLogger('telephony-credentials', { sink }) }));
  handlers.set('telephony-sync', syncHandler({ ...syncDeps(e), log: createLogger('telephony-sync', { sink }) }));
}

async function serve(req: http.IncomingMessage, res: http.ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const u = new URL(req.url ?? '/', base);
  const h = handlers.get(u.pathname.split('/')[1] ?? '');
  if (!h) { res.writeHead(404).end(); return; }
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
  const r = await h(new Request(u, { method: req.method, headers, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) }));
  const text = await r.text();
  responses.push(text);
  res.writeHead(r.status, Object.fromEntries(r.headers)).end(text);
}

async function call(fn: string, who: Persona | string | null, body: unknown) {
  const token = typeof who === 'string' ? who : who ? (await who.client.auth.getSession()).data.session!.access_token : null;
  const r = await fetch(`${base}/${fn}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() as Record<string, any> };
}

const emu = async (path: string, body?: unknown) => {
  const r = await fetch(`${env.twilioApiUrl}${path}`, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() as any };
};
const emuAccounts = async () => (await emu('/_emulator/accounts')).body as { sid: string; status: string; auth_token: string }[];
const emuNumbers = async () => (await emu('/_emulator/numbers')).body as { sid: string; account_sid: string; phone_number: string; sms_url: string; voice_url: string; status_callback: string }[];

async function subaccountOf(tenantId: string) {
  const { rows } = await db().query(`select account_sid, key_id from public.tenant_twilio_credentials where tenant_id = $1 and kind = 'subaccount'`, [tenantId]);
  return rows[0] as { account_sid: string; key_id: string } | undefined;
}
async function tokenOf(accountSid: string) {
  return (await emuAccounts()).find((a) => a.sid === accountSid)!.auth_token;
}
async function liveRow(tenantId: string) {
  const { rows } = await db().query(`select * from public.tenant_phone_numbers where tenant_id = $1 and status <> 'released'`, [tenantId]);
  return rows[0];
}

/** Posts a form to twilio-voice signed like Twilio does (token of `signer`) over the configured URL. */
async function voicePost(query: string, params: Record<string, string>, signerToken: string) {
  const url = `${base}/twilio-voice${query}`;
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(signerToken, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: r.status, text: await r.text() };
}
const callSid = () => `CA${randomUUID().replace(/-/g, '')}`;
const recSid = () => `RE${randomUUID().replace(/-/g, '')}`;

async function newShop(owner: Persona, label: string) {
  return must(await owner.client.rpc('create_tenant', { name: `${label} ${randomUUID().slice(0, 6)}`, ...SHOP_DEFAULTS }), label) as string;
}

let numberA = '';
let numberB = '';
let subA = '';
let subB = '';

beforeAll(async () => {
  server = http.createServer((req, res) => { serve(req, res).catch((e) => res.writeHead(500).end(String(e))); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  boot();
  w = await createApiWorld();
  // The emulator keeps numbers in memory and the database persists across stack restarts: rows left live by an
  // earlier run whose number the (restarted) emulator no longer knows would collide with numbers it hands out again.
  const known = (await emuNumbers()).map((n) => n.phone_number);
  await db().query(`update public.tenant_phone_numbers set status = 'released', released_at = now()
                     where status <> 'released' and not (e164 = any ($1::text[]))`, [known]);
});

afterAll(async () => {
  await emu('/_emulator/config', { emptyAreaCodes: [] });
  await new Promise((r) => server.close(r));
  await closeDb();
});

describe('provision-number', () => {
  it('buys a local number on a new subaccount, points its webhooks at us and records it; a repeat call gets it back', async () => {
    const r = await call('provision-number', w.ownerA, { tenant_id: w.tenantA, area_code: '303' });
    expect(r.status, JSON.stringify(r.body) + logs.join('\n')).toBe(201);
    expect(r.body).toMatchObject({ status: 'active', reused: false });
    expect(r.body.phone_number).toMatch(/^\+1303\d{7}$/);
    numberA = r.body.phone_number;
    const sub = (await subaccountOf(w.tenantA))!;
    subA = sub.account_sid;
    const bought = (await emuNumbers()).find((n) => n.phone_number === numberA)!;
    expect(bought).toMatchObject({
      account_sid: subA, sms_url: `${base}/twilio-inbound`, voice_url: `${base}/twilio-voice`,
      status_callback: `${base}/twilio-voice?event=status`,
    });
    expect(await liveRow(w.tenantA)).toMatchObject({ e164: numberA, twilio_number_sid: bought.sid, subaccount_sid: subA, status: 'active', credential_kind: 'subaccount' });

    const again = await call('provision-number', w.adminA, { tenant_id: w.tenantA, area_code: '212' });
    expect(again).toEqual({ status: 200, body: { phone_number: numberA, status: 'active', reused: true } });
    expect((await subaccountOf(w.tenantA))!.account_sid).toBe(subA);
    expect((await emuNumbers()).filter((n) => n.account_sid === subA)).toHaveLength(1);
  });

  it('owners/admins only; other shops get 404; a plan without dedicated_number gets 402 naming the plan', async () => {
    expect((await call('provision-number', w.techA, { tenant_id: w.tenantA, area_code: '303' })).body.code).toBe('forbidden');
    const foreign = await call('provision-number', w.ownerB, { tenant_id: w.tenantA, area_code: '303' });
    expect(foreign).toMatchObject({ status: 404, body: { code: 'tenant_not_found' } });
    expect((await call('provision-number', null, { tenant_id: w.tenantA, area_code: '303' })).status).toBe(401);
    expect((await call('provision-number', w.ownerA, { tenant_id: w.tenantA, area_code: '12' })).status).toBe(200); // has one: reused
    const starter = await newShop(w.ownerB, 'Starter shop');
    await db().query(`update public.tenants set plan = 'starter' where id = $1`, [starter]);
    const gated = await call('provision-number', w.ownerB, { tenant_id: starter, area_code: '303' });
    expect(gated.status).toBe(402);
    expect(gated.body.code).toBe('feature_not_in_plan');
    expect(gated.body.details.required_plan).toBeTruthy();
    expect(gated.body.message).toMatch(/dedicated phone number/i);
    expect(await subaccountOf(starter)).toBeUndefined();
    const bad = await call('provision-number', w.ownerB, { tenant_id: w.tenantB, area_code: '0a1' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid_area_code' } });
  });

  it('an area code with no numbers left answers the alternatives and buys nothing; picking one buys it', async () => {
    await emu('/_emulator/config', { emptyAreaCodes: ['415'] });
    try {
      const r = await call('provision-number', w.ownerB, { tenant_id: w.tenantB, area_code: '415' });
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('no_numbers_in_area_code');
      expect(r.body.message).toMatch(/^No numbers left in 415 — here are \d+ numbers/);
      const alts = r.body.details.alternatives as { phone_number: string; kind: string }[];
      expect(alts.length).toBeGreaterThan(0);
      expect(alts.every((a) => !a.phone_number.startsWith('+1415'))).toBe(true);
      expect(alts.some((a) => a.kind === 'toll_free')).toBe(true);
      subB = (await subaccountOf(w.tenantB))!.account_sid; // the subaccount is kept for the next attempt
      expect((await emuNumbers()).filter((n) => n.account_sid === subB)).toHaveLength(0);
      expect(await liveRow(w.tenantB)).toBeUndefined();

      const pick = await call('provision-number', w.ownerB, { tenant_id: w.tenantB, area_code: '415', phone_number: alts[0]!.phone_number });
      expect(pick).toMatchObject({ status: 201, body: { phone_number: alts[0]!.phone_number, status: 'active' } });
      expect((await subaccountOf(w.tenantB))!.account_sid).toBe(subB);
      numberB = pick.body.phone_number;
    } finally {
      await emu('/_emulator/config', { emptyAreaCodes: [] });
    }
  });

  it('release needs confirm: true, then gives the number back to Twilio; the shop can get a new one', async () => {
    const noConfirm = await call('provision-number', w.ownerB, { tenant_id: w.tenantB, action: 'release' });
    expect(noConfirm).toMatchObject({ status: 400, body: { code: 'confirmation_required' } });
    expect((await call('provision-number', w.ownerA, { tenant_id: w.tenantB, action: 'release', confirm: true })).status).toBe(404);
    const r = await call('provision-number', w.ownerB, { tenant_id: w.tenantB, action: 'release', confirm: true });
    expect(r).toEqual({ status: 200, body: { phone_number: numberB, status: 'released' } });
    expect((await emuNumbers()).some((n) => n.phone_number === numberB)).toBe(false);
    const { rows } = await db().query(`select status, released_at from public.tenant_phone_numbers where tenant_id = $1`, [w.tenantB]);
    expect(rows).toHaveLength(1);
    expect(rows[0].status).toBe('released');
    expect(rows[0].released_at).not.toBeNull();
    const again = await call('provision-number', w.ownerB, { tenant_id: w.tenantB, area_code: '512' });
    expect(again.status).toBe(201);
    numberB = again.body.phone_number;
    expect((await subaccountOf(w.tenantB))!.account_sid).toBe(subB);
  });

  it('purchase failure midway leaves nothing half-made: lost answer → number released, no row, subaccount reused next time', async () => {
    const shop = await newShop(w.ownerA, 'Flaky shop');
    twilioFetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).includes('/IncomingPhoneNumbers.json') && init?.method === 'POST') {
        await res.text();
        throw new TypeError('connection reset by peer'); // the purchase went through; its answer never arrived
      }
      return res;
    };
    try {
      const r = await call('provision-number', w.ownerA, { tenant_id: shop, area_code: '617' });
      expect(r).toMatchObject({ status: 502, body: { code: 'twilio_unavailable' } });
    } finally {
      twilioFetch = (...a) => fetch(...a);
    }
    const sub = (await subaccountOf(shop))!.account_sid;
    expect((await emuNumbers()).filter((n) => n.account_sid === sub)).toHaveLength(0);
    expect(await liveRow(shop)).toBeUndefined();
    expect(logs.some((l) => l.includes('purchase undone'))).toBe(true);

    // Recording fails after a successful purchase (another shop's live row holds that number): released again.
    const next = (await (await fetch(`${env.twilioApiUrl}/2010-04-01/Accounts/${sub}/AvailablePhoneNumbers/US/Local.json?AreaCode=617&PageSize=1`, {
      headers: { authorization: 'Basic ' + Buffer.from(`${env.twilioAccountSid}:${env.twilioAuthToken}`).toString('base64') },
    })).json()).available_phone_numbers[0].phone_number as string;
    const squatter = await newShop(w.ownerB, 'Squatter');
    await db().query(`insert into public.tenant_phone_numbers (tenant_id, e164, twilio_number_sid, subaccount_sid) values ($1, $2, $3, $4)`,
      [squatter, next, `PN${'0'.repeat(31)}1`, `AC${'0'.repeat(31)}1`]);
    try {
      const r2 = await call('provision-number', w.ownerA, { tenant_id: shop, area_code: '617' });
      expect(r2).toMatchObject({ status: 503, body: { code: 'provisioning_failed' } });
      expect(r2.body.message).toMatch(/released it again/);
      expect((await emuNumbers()).filter((n) => n.account_sid === sub)).toHaveLength(0);
      expect(await liveRow(shop)).toBeUndefined();
    } finally {
      await db().query(`delete from public.tenant_phone_numbers where tenant_id = $1`, [squatter]);
    }
    const ok = await call('provision-number', w.ownerA, { tenant_id: shop, area_code: '617' });
    expect(ok.status).toBe(201);
    expect((await subaccountOf(shop))!.account_sid).toBe(sub);
    expect((await emuAccounts()).filter((a) => a.sid === sub)).toHaveLength(1);
  });
});

describe('twilio-voice', () => {
  const caller = '+13035550142';
  const voice = async (digits?: string, from = caller, to = () => numberA) => {
    const r = await emu('/_emulator/voice', { from, to: to(), ...(digits !== undefined ? { digits } : {}) });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe(200);
    return parseXml(r.body.body as string);
  };
  const settings = (patch: Record<string, unknown>) => w.ownerA.client.from('tenant_phone_numbers').update(patch).eq('tenant_id', w.tenantA).neq('status', 'released').select('ivr_mode');

  it('ivr mode: Gather one digit with the greeting (escaped), then voicemail if nothing is pressed', async () => {
    must(await settings({ ivr_mode: 'ivr', greeting: 'Welcome to Joe\'s <Auto> & "Tire"!', forward_to: '+13035550999', hours: {} }), 'settings');
    const doc = await voice();
    expect(doc.name).toBe('Response');
    expect(names(doc)).toEqual(['Gather', 'Say', 'Record', 'Say', 'Hangup']);
    const g = child(doc, 'Gather');
    expect(g.attrs).toMatchObject({ numDigits: '1', action: `${base}/twilio-voice?event=menu`, method: 'POST' });
    expect(child(g, 'Say').text).toContain('Welcome to Joe\'s <Auto> & "Tire"!');
    expect(child(g, 'Say').text).toMatch(/Press 1.*Press 2.*Press 3/);
  });

  it('1 dials the forwarding number (with a Dial action for outbound minutes)', async () => {
    const doc = await voice('1');
    const dial = child(doc, 'Dial');
    expect(dial.attrs.action).toBe(`${base}/twilio-voice?event=dialed`);
    expect(child(dial, 'Number').text).toBe('+13035550999');
  });

  it('2 texts the caller the shop\'s link from the shop\'s number, counted as usage', async () => {
    await db().query(`update public.tenants set google_review_url = 'https://g.page/r/joes-auto/review' where id = $1`, [w.tenantA]);
    const doc = await voice('2');
    expect(child(doc, 'Say').text).toMatch(/texted you our link/);
    expect(names(doc)).toContain('Hangup');
    const msgs = (await emu('/_emulator/messages')).body as { sid: string; to: string; from: string; body: string; account_sid: string }[];
    const sent = msgs.find((m) => m.to === caller && m.from === numberA)!;
    expect(sent.body).toContain('https://g.page/r/joes-auto/review');
    expect(sent.account_sid).toBe(subA);
    // Pressing 2 again on the same call (or Twilio retrying the webhook) does not text twice; usage once per call.
    const sid = callSid();
    const token = await tokenOf(subA);
    const menu = { AccountSid: subA, CallSid: sid, From: caller, To: numberA, Direction: 'inbound', Digits: '2' };
    expect(child(parseXml((await voicePost('?event=menu', menu, token)).text), 'Say').text).toMatch(/just texted/);
    expect(child(parseXml((await voicePost('?event=menu', menu, token)).text), 'Say').text).toMatch(/already texted/);
    const after = (await emu('/_emulator/messages')).body as { to: string; from: string }[];
    expect(after.filter((m) => m.to === caller && m.from === numberA)).toHaveLength(2);
    const { rows } = await db().query(`select metric::text, quantity from public.usage_events where tenant_id = $1 and source_type = 'ivr_sms' and source_id = $2`, [w.tenantA, sid]);
    expect(rows).toEqual([{ metric: 'sms_outbound', quantity: 1 }]);
  });

  it('3 records a voicemail with transcription', async () => {
    const doc = await voice('3');
    const rec = child(doc, 'Record');
    expect(rec.attrs).toMatchObject({
      transcribe: 'true', transcribeCallback: `${base}/twilio-voice?event=transcription`, action: `${base}/twilio-voice?event=recorded`,
    });
  });

  it('forward and sip modes dial directly; after hours plays the message and takes a voicemail', async () => {
    must(await settings({ ivr_mode: 'forward' }), 'forward');
    expect(child(child(await voice(), 'Dial'), 'Number').text).toBe('+13035550999');
    const bad = await settings({ ivr_mode: 'sip', sip_uri: null });
    expect(bad.error?.message).toMatch(/tenant_phone_numbers_sip_mode_check/);
    must(await settings({ ivr_mode: 'sip', sip_uri: 'sip:frontdesk@joes.example.com' }), 'sip');
    expect(child(child(await voice(), 'Dial'), 'Sip').text).toBe('sip:frontdesk@joes.example.com');
    must(await settings({ hours: { sun: null }, after_hours_message: 'We are closed & back at 8.' }), 'hours');
    const closed = await voice();
    expect(child(closed, 'Say').text).toBe('We are closed & back at 8.');
    expect(child(closed, 'Record').attrs.transcribe).toBe('true');
    expect(names(closed)).not.toContain('Dial');
    must(await settings({ hours: {}, ivr_mode: 'ivr' }), 'reset');
  });

  it('voicemail → an entry in the caller\'s thread, with its transcription; members of other shops see nothing', async () => {
    const customer = must(await w.ownerA.client.from('customers').insert({ tenant_id: w.tenantA, name: 'Dana Caller', phone: caller }).select('id').single(), 'customer') as { id: string };
    const token = await tokenOf(subA);
    const sid = callSid();
    const base0 = { AccountSid: subA, CallSid: sid, From: caller, To: numberA, Direction: 'inbound' };
    const rec = await voicePost('?event=recorded', { ...base0, RecordingSid: recSid(), RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${subA}/Recordings/x`, RecordingDuration: '17' }, token);
    expect(rec.status).toBe(200);
    expect(names(parseXml(rec.text))).toEqual(['Say', 'Hangup']);
    const tr = await voicePost('?event=transcription', { ...base0, TranscriptionStatus: 'completed', TranscriptionText: 'Hi, is my Civic ready?' }, token);
    expect(tr.status).toBe(200);
    const seen = must(await w.techA.client.rpc('customer_voicemails', { tenant_id: w.tenantA, customer_id: customer.id }), 'thread') as any[];
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ call_sid: sid, from_phone: caller, duration_seconds: 17, transcription: 'Hi, is my Civic ready?', transcription_status: 'completed' });
    expect(must(await w.ownerB.client.rpc('customer_voicemails', { tenant_id: w.tenantA }), 'foreign')).toEqual([]);
    expect(must(await w.ownerB.client.from('voicemails').select('id').eq('tenant_id', w.tenantA), 'rls')).toEqual([]);
    const mark = must(await w.techA.client.from('voicemails').update({ read_at: new Date().toISOString() }).eq('call_sid', sid).select('read_at'), 'read') as any[];
    expect(mark).toHaveLength(1);
    const forged = await w.ownerA.client.from('voicemails').update({ transcription: 'forged' }).eq('call_sid', sid);
    expect(forged.error?.code).toBe('42501');
  });

  it('call status callbacks record voice minutes (rounded up) once per call; Dial callbacks record outbound minutes', async () => {
    const token = await tokenOf(subA);
    const sid = callSid();
    const params = { AccountSid: subA, CallSid: sid, From: caller, To: numberA, Direction: 'inbound', CallStatus: 'completed', CallDuration: '61' };
    expect((await voicePost('?event=status', params, token)).status).toBe(200);
    expect((await voicePost('?event=status', params, token)).status).toBe(200);
    const dialSid = callSid();
    const dialed = await voicePost('?event=dialed', { AccountSid: subA, CallSid: sid, From: caller, To: numberA, DialCallSid: dialSid, DialCallStatus: 'completed', DialCallDuration: '30' }, token);
    expect(names(parseXml(dialed.text))).toEqual(['Hangup']);
    const { rows } = await db().query(`select metric::text, quantity, source_id from public.usage_events where tenant_id = $1 and source_type = 'call' and source_id in ($2, $3) order by metric`, [w.tenantA, sid, dialSid]);
    expect(rows).toEqual([
      { metric: 'voice_minutes_inbound', quantity: 2, source_id: sid },
      { metric: 'voice_minutes_outbound', quantity: 1, source_id: dialSid },
    ]);
    const noAnswer = await voicePost('?event=dialed', { AccountSid: subA, CallSid: callSid(), From: caller, To: numberA, DialCallStatus: 'no-answer', DialCallDuration: '0' }, token);
    expect(names(parseXml(noAnswer.text))).toContain('Record');
  });

  it('a webhook for shop A signed with shop B\'s token (or naming B\'s account) is refused, and writes nothing', async () => {
    const tokenA = await tokenOf(subA);
    const tokenB = await tokenOf(subB);
    const sid = callSid();
    const p = { AccountSid: subA, CallSid: sid, From: caller, To: numberA, Direction: 'inbound', CallStatus: 'completed', CallDuration: '600' };
    expect((await voicePost('?event=status', p, tokenB)).status).toBe(403);
    expect((await voicePost('?event=status', { ...p, AccountSid: subB }, tokenB)).status).toBe(403);
    expect((await voicePost('?event=status', { ...p, AccountSid: subB }, tokenA)).status).toBe(403);
    expect((await voicePost('', { AccountSid: subA, CallSid: sid, From: caller, To: numberA }, env.twilioAuthToken)).status).toBe(403);
    const unsigned = await fetch(`${base}/twilio-voice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(p).toString() });
    expect(unsigned.status).toBe(403);
    // Signed for another URL (query changed after signing).
    const url = `${base}/twilio-voice?event=status`;
    const moved = await fetch(`${base}/twilio-voice?event=recorded`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(tokenA, url, p) }, body: new URLSearchParams(p).toString() });
    expect(moved.status).toBe(403);
    const { rows } = await db().query(`select 1 from public.usage_events where source_id = $1`, [sid]);
    expect(rows).toEqual([]);
  });
});

describe('settings and credentials tables', () => {
  it('members read their shop\'s number; only owners/admins change only the settings columns; no one sees credentials', async () => {
    expect(must(await w.techA.client.from('tenant_phone_numbers').select('e164').eq('tenant_id', w.tenantA).neq('status', 'released'), 'tech')).toEqual([{ e164: numberA }]);
    expect(must(await w.ownerB.client.from('tenant_phone_numbers').select('e164').eq('tenant_id', w.tenantA), 'foreign')).toEqual([]);
    expect(must(await w.techA.client.from('tenant_phone_numbers').update({ greeting: 'Hi' }).eq('tenant_id', w.tenantA).select('id'), 'tech update')).toEqual([]);
    expect(must(await w.ownerB.client.from('tenant_phone_numbers').update({ greeting: 'Hi' }).eq('tenant_id', w.tenantA).select('id'), 'foreign update')).toEqual([]);
    for (const patch of [{ e164: '+13035550000' }, { status: 'released' }, { subaccount_sid: subB }, { tenant_id: w.tenantB }]) {
      expect((await w.ownerA.client.from('tenant_phone_numbers').update(patch).eq('tenant_id', w.tenantA)).error?.code).toBe('42501');
    }
    expect((await w.ownerA.client.from('tenant_phone_numbers').update({ hours: { mon: { open: '18:00', close: '09:00' } } }).eq('tenant_id', w.tenantA)).error?.message).toMatch(/invalid_hours/);
    expect((await w.ownerA.client.from('tenant_phone_numbers').insert({ tenant_id: w.tenantA, e164: '+13035550001', twilio_number_sid: `PN${'1'.repeat(32)}`, subaccount_sid: subA })).error?.code).toBe('42501');
    expect((await w.ownerA.client.from('tenant_phone_numbers').delete().eq('tenant_id', w.tenantA)).error?.code).toBe('42501');
    for (const who of [w.ownerA, w.techA, w.ownerB]) {
      const r = await who.client.from('tenant_twilio_credentials').select('*');
      expect(r.error?.code).toBe('42501');
    }
    expect((await w.anon.from('tenant_phone_numbers').select('*')).error?.code).toBe('42501');
    for (const fn of ['telephony_record_call_usage', 'telephony_record_voicemail', 'telephony_is_opted_out']) {
      expect((await w.ownerA.client.rpc(fn, {})).error).not.toBeNull();
    }
    const direct = await w.ownerA.client.rpc('telephony_record_call_usage', { tenant_id: w.tenantA, call_sid: callSid(), direction: 'inbound', duration_seconds: 60 });
    expect(direct.error?.code).toBe('42501');
  });
});

describe('bring your own Twilio account', () => {
  it('validates with a real Twilio call before saving it sealed; the token never comes back', async () => {
    const shop = await newShop(w.ownerB, 'BYO shop');
    // "The shop's own account": a separate Twilio account with its own token.
    const own = await (await fetch(`${env.twilioApiUrl}/2010-04-01/Accounts.json`, {
      method: 'POST', headers: { authorization: 'Basic ' + Buffer.from(`${env.twilioAccountSid}:${env.twilioAuthToken}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'FriendlyName=Shop%27s+own',
    })).json() as { sid: string; auth_token: string };
    const wrong = await call('telephony-credentials', w.ownerB, { tenant_id: shop, action: 'save_byo', account_sid: own.sid, auth_token: 'a'.repeat(32) });
    expect(wrong).toMatchObject({ status: 422, body: { code: 'invalid_twilio_credentials' } });
    expect((await call('telephony-credentials', w.ownerB, { tenant_id: shop, action: 'save_byo', account_sid: 'AC123', auth_token: own.auth_token })).body.code).toBe('invalid_account_sid');
    expect((await call('telephony-credentials', w.ownerA, { tenant_id: shop, action: 'save_byo', account_sid: own.sid, auth_token: own.auth_token })).status).toBe(404);
    const { rows: none } = await db().query(`select 1 from public.tenant_twilio_credentials where tenant_id = $1`, [shop]);
    expect(none).toEqual([]);
    const saved = await call('telephony-credentials', w.ownerB, { tenant_id: shop, action: 'save_byo', account_sid: own.sid, auth_token: own.auth_token });
    expect(saved).toEqual({ status: 200, body: { byo_account_sid: own.sid, saved: true } });
    const status = await call('telephony-credentials', w.ownerB, { tenant_id: shop, action: 'status' });
    expect(status.body).toEqual({ subaccount_sid: null, byo_account_sid: own.sid });
    const { rows } = await db().query(`select auth_token_ciphertext, key_id from public.tenant_twilio_credentials where tenant_id = $1 and kind = 'byo'`, [shop]);
    expect(rows[0].auth_token_ciphertext).not.toContain(own.auth_token);
    // The number is bought on the shop's own account, and no subaccount is created.
    const p = await call('provision-number', w.ownerB, { tenant_id: shop, area_code: '206' });
    expect(p.status).toBe(201);
    expect((await emuNumbers()).find((n) => n.phone_number === p.body.phone_number)!.account_sid).toBe(own.sid);
    expect(await subaccountOf(shop)).toBeUndefined();
    expect((await call('telephony-credentials', w.ownerB, { tenant_id: shop, action: 'remove_byo' })).body.code).toBe('number_on_byo_account');
    expect(JSON.stringify(responses)).not.toContain(own.auth_token);
    expect(logs.join('\n')).not.toContain(own.auth_token);
  });
});

describe('billing link', () => {
  async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (ok(v)) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const accountStatus = async (sid: string) => (await emuAccounts()).find((a) => a.sid === sid)!.status;

  it('suspended → the subaccount is suspended at Twilio (trigger → pg_net → telephony-sync), callers hear a closed message; active → reactivated, number kept', async () => {
    must(await w.service.from('tenants').update({ status: 'suspended' }).eq('id', w.tenantA), 'suspend');
    expect(await waitFor('subaccount suspended', () => accountStatus(subA), (s) => s === 'suspended')).toBe('suspended');
    await waitFor('row suspended', async () => (await liveRow(w.tenantA)).status, (s) => s === 'suspended');
    const closed = parseXml((await emu('/_emulator/voice', { from: '+13035550142', to: numberA })).body.body);
    expect(names(closed)).toEqual(['Say', 'Hangup']);
    expect(child(closed, 'Say').text).toMatch(/not taking calls/);

    // Driving the sync again is a no-op (idempotent).
    const again = await call('telephony-sync', env.serviceRoleKey, { tenant_id: w.tenantA });
    expect(again).toMatchObject({ status: 200, body: { results: [{ desired: 'suspended', twilio: 'unchanged', numbers: 0 }] } });
    expect((await call('telephony-sync', w.ownerA, { tenant_id: w.tenantA })).status).toBe(403);

    must(await w.service.from('tenants').update({ status: 'active' }).eq('id', w.tenantA), 'reactivate');
    await waitFor('subaccount active', () => accountStatus(subA), (s) => s === 'active');
    const row = await waitFor('row active', () => liveRow(w.tenantA), (r) => r.status === 'active');
    expect(row.e164).toBe(numberA);
    expect((await emuNumbers()).some((n) => n.phone_number === numberA && n.account_sid === subA)).toBe(true);
    expect(names(parseXml((await emu('/_emulator/voice', { from: '+13035550142', to: numberA })).body.body))[0]).toBe('Gather');
  });

  it('canceled suspends too; the periodic reconcile (no tenant_id) repairs a drift', async () => {
    await db().query(`alter table public.tenants disable trigger telephony_status_changed`);
    try {
      await db().query(`update public.tenants set status = 'canceled' where id = $1`, [w.tenantB]);
    } finally {
      await db().query(`alter table public.tenants enable trigger telephony_status_changed`);
    }
    expect(await accountStatus(subB)).toBe('active'); // missed: nothing told Twilio
    const r = await call('telephony-sync', env.serviceRoleKey, {});
    expect(r.status).toBe(200);
    expect(r.body.results.find((x: any) => x.tenant_id === w.tenantB)).toMatchObject({ desired: 'suspended', twilio: 'changed', numbers: 1 });
    expect(await accountStatus(subB)).toBe('suspended');
    await db().query(`update public.tenants set status = 'active' where id = $1`, [w.tenantB]);
    await waitFor('B active', () => accountStatus(subB), (s) => s === 'active');
  });
});

describe('secrets', () => {
  it('no plaintext token in any text column of the database, any API response or the function logs', async () => {
    const tokens = [await tokenOf(subA), await tokenOf(subB)];
    const { rows: cols } = await db().query(`
      select table_schema, table_name, column_name from information_schema.columns
       where table_schema not in ('pg_catalog', 'information_schema', 'pg_toast', 'vault', 'net')
         and data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'USER-DEFINED', 'bytea')
         and table_name not like 'pg_%'
         and (table_schema, table_name) in (select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE')`);
    let scanned = 0;
    for (const c of cols) {
      const q = `select count(*)::int as n from ${JSON.stringify(c.table_schema)}.${JSON.stringify(c.table_name)} t
                  where position($1 in t.${JSON.stringify(c.column_name)}::text) > 0 or position($2 in t.${JSON.stringify(c.column_name)}::text) > 0`;
      const { rows } = await db().query(q, tokens);
      expect(rows[0].n, `${c.table_schema}.${c.table_name}.${c.column_name}`).toBe(0);
      scanned++;
    }
    expect(scanned).toBeGreaterThan(50);
    const { rows: creds } = await db().query(`select count(*)::int as n from public.tenant_twilio_credentials where tenant_id in ($1, $2)`, [w.tenantA, w.tenantB]);
    expect(creds[0].n).toBe(2);
    expect(responses.length).toBeGreaterThan(20);
    for (const t of tokens) {
      expect(responses.join('\n')).not.toContain(t);
      expect(logs.join('\n')).not.toContain(t);
    }
  });

  it('key rotation: add k2 and make it active, rotate, drop k1 — everything still works', async () => {
    expect((await subaccountOf(w.tenantA))!.key_id).toBe('k1');
    keyEnv = { TELEPHONY_KEYS: JSON.stringify({ k1: K1, k2: K2 }), TELEPHONY_ACTIVE_KEY_ID: 'k2' };
    boot();
    expect((await call('telephony-credentials', w.ownerA, { action: 'rotate' })).status).toBe(403);
    const r = await call('telephony-credentials', env.serviceRoleKey, { action: 'rotate' });
    expect(r.status).toBe(200);
    expect(r.body.rotated).toBeGreaterThanOrEqual(2);
    const { rows } = await db().query(`select key_id, rotated_at from public.tenant_twilio_credentials where tenant_id in ($1, $2)`, [w.tenantA, w.tenantB]);
    expect(rows.every((x) => x.key_id === 'k2' && x.rotated_at !== null)).toBe(true);
    const second = await call('telephony-credentials', env.serviceRoleKey, { action: 'rotate' });
    expect(second.body.rotated).toBe(0);

    keyEnv = { TELEPHONY_KEYS: JSON.stringify({ k2: K2 }), TELEPHONY_ACTIVE_KEY_ID: 'k2' };
    boot();
    expect(child(parseXml((await emu('/_emulator/voice', { from: '+13035550142', to: numberA })).body.body), 'Gather')).toBeTruthy();
    expect((await call('provision-number', w.ownerA, { tenant_id: w.tenantA, area_code: '303' })).body).toMatchObject({ phone_number: numberA, reused: true });
    // A key that is gone: a clear 503 for people, no key material anywhere.
    keyEnv = { TELEPHONY_KEYS: JSON.stringify({ k3: KEY('k3') }), TELEPHONY_ACTIVE_KEY_ID: 'k3' };
    boot();
    const lost = await emu('/_emulator/voice', { from: '+13035550142', to: numberA });
    expect(lost.body.status).toBe(503);
    expect(logs.some((l) => l.includes('credential_unreadable'))).toBe(true);
    keyEnv = { TELEPHONY_KEYS: JSON.stringify({ k2: K2 }), TELEPHONY_ACTIVE_KEY_ID: 'k2' };
    boot();
    for (const k of [K1, K2]) expect(logs.join('\n')).not.toContain(k);
  });
});
