/**
 * Pure parts of messaging: segment counting and the GSM fix, quiet hours across zones and DST, the area-code
 * table, keywords, Twilio signatures (the twilio SDK as the oracle), the retry policy, TwiML escaping, and the
 * send-sms handler's validation and error mapping with fake deps.
 */
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { AREA_CODE_COUNT, lookupNanp } from '../../supabase/functions/_shared/messaging/area-codes.ts';
import { classifyKeyword } from '../../supabase/functions/_shared/messaging/keywords.ts';
import { narrowest, quietHoursDecision } from '../../supabase/functions/_shared/messaging/quiet-hours.ts';
import { canFix, countSegments, fixToGsm } from '../../supabase/functions/_shared/messaging/segments.ts';
import { firstName, renderTemplate } from '../../supabase/functions/_shared/messaging/templates.ts';
import {
  TwilioApiError, expectedSignature, formParams, twimlResponse, validateSignature, withTwilioRetry, xmlEscape,
} from '../../supabase/functions/_shared/twilio.ts';
import { countSegments as emulatorCount } from '../../local/emulators/twilio/segments.ts';
import { createHandler, normalisePhone, twilioErrorToHttp, type SendSmsDeps } from '../../supabase/functions/send-sms/handler.ts';
import { createLogger } from '../../supabase/functions/_shared/log.ts';
import { RpcError } from '../../supabase/functions/_shared/messaging/deliver.ts';
import { senderResolver } from '../../supabase/functions/_shared/messaging/sender.ts';

describe('segments', () => {
  it.each([
    ['a'.repeat(160), 'GSM-7', 1],
    ['a'.repeat(161), 'GSM-7', 2],
    ['a'.repeat(306), 'GSM-7', 2],
    ['a'.repeat(307), 'GSM-7', 3],
    ['{'.repeat(80), 'GSM-7', 1], // extension chars count double: 160 septets
    ['{'.repeat(81), 'GSM-7', 2],
    ['\u2019' + 'a'.repeat(69), 'UCS-2', 1],
    ['\u2019' + 'a'.repeat(70), 'UCS-2', 2], // 71 chars with a smart quote
    ['😀'.repeat(35), 'UCS-2', 1], // 70 UTF-16 units
    ['😀'.repeat(36), 'UCS-2', 2],
    ['a' + '😀'.repeat(34), 'UCS-2', 1], // 69 UTF-16 units
    ['a'.repeat(66) + '😀'.repeat(34), 'UCS-2', 3], // 134 units, but a surrogate pair never straddles 67
  ])('%#: %s', (body, encoding, segments) => {
    const c = countSegments(body);
    expect([c.encoding, c.segments]).toEqual([encoding, segments]);
    const e = emulatorCount(body); // the emulator mirrors Twilio's num_segments
    expect([e.encoding, e.segments]).toEqual([encoding, segments]);
  });

  it('fixes smart quotes, dashes, ellipsis and nbsp to GSM; emoji stays', () => {
    const s = '\u201CIt\u2019s ready\u201D \u2013 pick up\u2026\u00A0now 😀';
    expect(canFix(s)).toBe(true);
    expect(fixToGsm(s)).toBe('"It\'s ready" - pick up... now 😀');
    expect(countSegments(fixToGsm('\u201CHi\u201D')).encoding).toBe('GSM-7');
    expect(countSegments('x😀').nonGsm).toEqual(['😀']);
  });
});

describe('quiet hours', () => {
  it('knows area codes (US and Canada) with their states and zones', () => {
    expect(AREA_CODE_COUNT).toBeGreaterThan(350);
    expect(lookupNanp('+12125550100')).toEqual({ region: 'NY', zone: 'America/New_York' });
    expect(lookupNanp('+13055550100')).toEqual({ region: 'FL', zone: 'America/New_York' });
    expect(lookupNanp('+18505550100')).toEqual({ region: 'FL', zone: 'America/Chicago' });
    expect(lookupNanp('+14165550100')).toEqual({ region: 'ON', zone: 'America/Toronto' });
    expect(lookupNanp('+16025550100')?.zone).toBe('America/Phoenix');
    expect(lookupNanp('+18005550100')).toBeNull();
    expect(lookupNanp('+442071234567')).toBeNull();
  });

  it('defers a text to 08:00 recipient time across a zone boundary (shop in NY, customer in LA)', () => {
    // 2026-11-23 13:30 UTC = 08:30 in New York, 05:30 in Los Angeles.
    const now = new Date('2026-11-23T13:30:00Z');
    const d = quietHoursDecision(now, '+14155550123', 'America/New_York');
    expect(d.zone).toBe('America/Los_Angeles');
    expect(d.sendAt?.toISOString()).toBe('2026-11-23T16:00:00.000Z'); // 08:00 PST
    expect(quietHoursDecision(now, '+12125550123', 'America/Los_Angeles').sendAt).toBeNull();
  });

  it('after the window: the next day at the start; FL ends at 20:00; the shop may narrow, not widen', () => {
    // 20:30 in Miami (EST = UTC-5) → 01:30Z next day.
    const now = new Date('2026-11-24T01:30:00Z');
    const fl = quietHoursDecision(now, '+13055550123', 'America/New_York');
    expect(fl.window).toEqual({ start: '08:00', end: '20:00' });
    expect(fl.sendAt?.toISOString()).toBe('2026-11-24T13:00:00.000Z');
    expect(quietHoursDecision(now, '+12125550123', 'America/New_York').sendAt).toBeNull(); // NY until 21:00
    expect(narrowest({ start: '07:00', end: '22:00' })).toEqual({ start: '08:00', end: '21:00' });
    expect(narrowest({ start: '09:30', end: '18:00' })).toEqual({ start: '09:30', end: '18:00' });
  });

  it('falls back to the shop zone for numbers without a known area code; DST day is handled', () => {
    const now = new Date('2026-03-08T11:00:00Z'); // DST starts in the US at 07:00Z that day; 07:00 EDT
    const d = quietHoursDecision(now, '+18765550123', 'America/New_York');
    expect([d.source, d.zone]).toEqual(['tenant', 'America/New_York']);
    expect(d.sendAt?.toISOString()).toBe('2026-03-08T12:00:00.000Z'); // 08:00 EDT
  });
});

describe('keywords', () => {
  it.each([
    ['STOP', 'stop'], ['  sToP  ', 'stop'], ['stopall', 'stop'], ['Unsubscribe', 'stop'], ['cancel', 'stop'],
    ['END', 'stop'], ['quit.', 'stop'], ['start', 'start'], ['UNSTOP', 'start'], ['yes', 'start'],
    ['help', 'help'], [' Info ', 'help'], ['stop texting me please', null], ['Can I stop by at 5?', null],
  ])('%s → %s', (body, kw) => expect(classifyKeyword(body)).toBe(kw));
  it('honours OptOutType from Advanced Opt-Out', () => expect(classifyKeyword('arret', 'STOP')).toBe('stop'));
});

describe('twilio signatures', () => {
  const token = 'test_auth_token_1234567890abcdef';
  const url = 'https://abc.supabase.co/functions/v1/twilio-status?tenant=x';
  const params = { MessageSid: 'SM' + 'a'.repeat(32), MessageStatus: 'delivered', Extra: 'new param' };
  it('matches the twilio SDK and validates only the exact URL, params and token', async () => {
    const sig = twilio.getExpectedTwilioSignature(token, url, params);
    expect(await expectedSignature(token, url, params)).toBe(sig);
    expect(await validateSignature(token, sig, url, params)).toBe(true);
    expect(await validateSignature(token, sig, url.replace('https', 'http'), params)).toBe(false);
    expect(await validateSignature(token, sig, url, { ...params, MessageStatus: 'sent' })).toBe(false);
    const { Extra: _e, ...fewer } = params;
    expect(await validateSignature(token, sig, url, fewer)).toBe(false);
    expect(await validateSignature('another_token_000000000000000000', sig, url, params)).toBe(false);
    expect(await validateSignature(token, null, url, params)).toBe(false);
    expect(await validateSignature('', sig, url, params)).toBe(false);
  });
  it('accepts the URL with or without the default port; parses repeated keys', async () => {
    const sig = twilio.getExpectedTwilioSignature(token, 'https://abc.supabase.co:443/functions/v1/x', params);
    expect(await validateSignature(token, sig, 'https://abc.supabase.co/functions/v1/x', params)).toBe(true);
    expect(formParams('a=1&b=2&a=3')).toEqual({ a: ['1', '3'], b: '2' });
  });
  it('TwiML escapes XML', async () => {
    expect(xmlEscape(`<a & "b">'`)).toBe('&lt;a &amp; &quot;b&quot;&gt;&apos;');
    expect(await twimlResponse(['Tom & Jerry <3']).text()).toContain('<Message>Tom &amp; Jerry &lt;3</Message>');
  });
});

describe('retry policy', () => {
  it('retries 20429 with exponential backoff and jitter, bounded', async () => {
    const delays: number[] = [];
    let calls = 0;
    const r = await withTwilioRetry(async () => {
      if (++calls <= 2) throw new TwilioApiError(429, 20429, 'Too many requests');
      return 'ok';
    }, { baseMs: 100, sleep: async (ms) => { delays.push(ms); }, random: () => 0.5 });
    expect([r, calls]).toEqual(['ok', 3]);
    expect(delays).toEqual([75, 150]);
    let n = 0;
    await expect(withTwilioRetry(async () => { n++; throw new TwilioApiError(429, 20429, 'busy'); },
      { retries: 3, sleep: async () => {} })).rejects.toThrow('busy');
    expect(n).toBe(4);
    let m = 0;
    await expect(withTwilioRetry(async () => { m++; throw new TwilioApiError(400, 21211, 'bad'); }, { sleep: async () => {} })).rejects.toThrow('bad');
    expect(m).toBe(1);
  });
});

describe('send-sms handler (fake deps)', () => {
  const calls: Array<[string, Record<string, unknown>]> = [];
  const jwt = (sub: string) => `x.${Buffer.from(JSON.stringify({ sub, role: 'authenticated' })).toString('base64url')}.y`;
  const deps = (rpc: SendSmsDeps['rpc']): SendSmsDeps => ({
    auth: { getUser: async () => ({ id: 'u1', email: null, phone: null, role: 'authenticated', appMetadata: {} }) },
    rpc: async (fn, args) => { calls.push([fn, args]); return rpc(fn, args); },
    twilio: { apiUrl: 'http://127.0.0.1:1', accountSid: 'AC' + '0'.repeat(32), authToken: 't' },
    statusCallback: 'https://x/functions/v1/twilio-status', shortLinkBase: 'https://x/functions/v1/r',
    senders: senderResolver({ platform: { apiUrl: 'http://127.0.0.1:1', accountSid: 'AC' + '0'.repeat(32), authToken: 't' },
      sharedNumber: '+15005550006', directory: { activeNumber: async () => null, numberRecord: async () => null, credentials: async () => null } }),
    mediaUrl: async () => null, now: () => new Date(), newCode: () => 'Code1234', log: createLogger('t', { sink: () => {} }),
  });
  const post = (h: ReturnType<typeof createHandler>, body: unknown) => h(new Request('http://x/send-sms', {
    method: 'POST', headers: { Authorization: `Bearer ${jwt('u1')}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  }));
  const T = '11111111-1111-4111-8111-111111111111';

  it('validates input with 422s before touching the database', async () => {
    const h = createHandler(deps(async () => { throw new Error('not reached'); }));
    for (const [body, code] of [
      [{ tenant_id: 'x', to: '+12125550123', template: 'custom', body: 'a', idempotency_key: 'k' }, 'invalid_request'],
      [{ tenant_id: T, template: 'custom', body: 'a', idempotency_key: 'k' }, 'invalid_request'],
      [{ tenant_id: T, to: '+12125550123', template: 'promo', body: 'a', idempotency_key: 'k' }, 'invalid_request'],
      [{ tenant_id: T, to: '+12125550123', template: 'custom', body: 'a' }, 'invalid_request'],
      [{ tenant_id: T, to: 'call me', template: 'custom', body: 'a', idempotency_key: 'k' }, 'invalid_phone'],
    ] as const) {
      const r = await post(h, body);
      expect([r.status, (await r.json()).code]).toEqual([422, code]);
    }
  });

  it('maps the reserve RPC\'s codes to HTTP: 402 quota (with hint), 429 rate_limited, 402 billing_inactive', async () => {
    const ctx = { tenant: { name: 'Shop', time_zone: 'Etc/UTC', google_review_url: null }, customer: null, phone: '+18765550123',
      opted_out: false, settings: { quiet_start: '00:00', quiet_end: '23:59', pickup_template: 'p', review_template: 'r' } };
    for (const [code, status] of [['quota_exceeded', 402], ['rate_limited', 429], ['billing_inactive', 402], ['opted_out', 422]] as const) {
      const h = createHandler(deps(async (fn) => {
        if (fn === 'messaging_send_context') return ctx;
        throw new RpcError('P0001', code, 'nope', { retry_after: 12 });
      }));
      const r = await post(h, { tenant_id: T, to: '+18765550123', template: 'custom', body: 'hi', idempotency_key: 'k' });
      const b = await r.json();
      expect([r.status, b.code]).toEqual([status, code]);
      expect(b.details).toEqual({ retry_after: 12 });
      if (status === 429) expect(r.headers.get('retry-after')).toBe('12');
    }
  });

  it('normalises numbers and words Twilio errors for people', () => {
    expect(normalisePhone('(212) 555-0123')).toBe('+12125550123');
    expect(normalisePhone('+1 416 555 0123')).toBe('+14165550123');
    expect(normalisePhone('555')).toBeNull();
    expect(twilioErrorToHttp(21610, '').code).toBe('opted_out');
    expect(twilioErrorToHttp(21211, '').code).toBe('invalid_phone');
    expect(twilioErrorToHttp(99999, 'x').code).toBe('send_failed');
  });

  it('renders merge fields', () => {
    expect(renderTemplate('Hi {first_name}, {vehicle} at {shop_name}. {review_link}', { first_name: 'Dana', shop_name: 'Joe\'s', vehicle: 'Civic', review_link: 'https://x/r/abc' }))
      .toBe("Hi Dana, Civic at Joe's. https://x/r/abc");
    expect(firstName('+18765550123')).toBe('there');
  });
});
