/**
 * POST /functions/v1/twilio-voice (verify_jwt = false) — Twilio's voice webhook for every shop number, plus the
 * follow-ups it points Twilio at, told apart by `?event=`:
 *   (none)         a call comes in: TwiML by the shop's mode (forward → <Dial><Number>, sip → <Dial><Sip>,
 *                  ivr → <Gather numDigits=1> with the greeting), after hours → message + voicemail, a suspended
 *                  or canceled shop → a polite closed message. A `Digits` field is handled as a menu choice.
 *   menu           the caller's key: 1 talk to us (dial), 2 text me the link, 3 voicemail (<Record transcribe>)
 *   recorded       the voicemail recording → a voicemail entry in the caller's thread
 *   transcription  transcribeCallback → the voicemail's text
 *   dialed         <Dial action>: the outbound leg's DialCallDuration → voice_minutes_outbound (per DialCallSid)
 *   status         the number's call StatusCallback: CallDuration → voice minutes by Direction (per CallSid)
 * The shop is found by the called number (To; From for outbound-direction callbacks); the X-Twilio-Signature must
 * be valid for THAT shop's account token over `${TWILIO_WEBHOOK_BASE_URL}/twilio-voice` + the query as received,
 * and AccountSid must be that account: anything else → 403, nothing written.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { credentialStore, numberByE164, type CredentialStore, type PhoneNumberRow } from '../_shared/telephony/accounts.ts';
import { keyringFromEnv, type Keyring } from '../_shared/telephony/crypto.ts';
import { isOpen, type Hours } from '../_shared/telephony/hours.ts';
import { TwilioApiError, sendMessage, type TwilioCreds } from '../_shared/telephony/rest.ts';
import { countSegments } from '../_shared/messaging/segments.ts';
import { el, say, twiml, twimlResponse, type XmlElement } from '../_shared/telephony/twiml.ts';
import { formParams, publicWebhookUrl, validateSignature, type FormParams } from '../_shared/twilio.ts';

export interface Shop {
  name: string;
  status: string;
  time_zone: string;
  phone: string | null;
  google_review_url: string | null;
}

export interface VoiceDeps {
  db: SupabaseClient;
  store: CredentialStore;
  twilioApiUrl: string;
  webhookBase: string;
  now(): Date;
  log: Log;
}

const FN = 'twilio-voice';
const E164 = /^\+[1-9][0-9]{6,14}$/;
const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const EVENTS = new Set(['', 'menu', 'recorded', 'transcription', 'dialed', 'status']);

const one = (p: FormParams, k: string): string | null => {
  const v = p[k];
  return v === undefined ? null : Array.isArray(v) ? v[0] ?? null : v;
};

export function createHandler(deps: VoiceDeps): Handler {
  const { log } = deps;
  const base = `${deps.webhookBase.replace(/\/+$/, '')}/${FN}`;
  const url = (event: string) => `${base}?event=${event}`;

  const closedMessage = (shop: Shop) =>
    twiml(say(`Thank you for calling ${shop.name}. We are not taking calls at this number right now. Please try again later. Goodbye.`), el('Hangup'));

  const voicemail = (intro: string): XmlElement[] => [
    say(intro),
    el('Record', {
      action: url('recorded'), method: 'POST', maxLength: 120, playBeep: true, finishOnKey: '#', timeout: 5,
      transcribe: true, transcribeCallback: url('transcription'),
    }),
    say('We did not get a recording. Goodbye.'),
    el('Hangup'),
  ];

  function dialTarget(n: PhoneNumberRow, shop: Shop): XmlElement | null {
    const dialAttrs = { action: url('dialed'), method: 'POST', timeout: 20, answerOnBridge: true };
    if (n.ivr_mode === 'sip' && n.sip_uri) return el('Dial', dialAttrs, el('Sip', {}, n.sip_uri));
    const to = n.forward_to ?? (n.ivr_mode !== 'sip' && shop.phone && E164.test(shop.phone) ? shop.phone : null);
    if (to) return el('Dial', dialAttrs, el('Number', {}, to));
    if (n.sip_uri) return el('Dial', dialAttrs, el('Sip', {}, n.sip_uri));
    return null;
  }

  function menu(n: PhoneNumberRow, shop: Shop): string {
    const greeting = n.greeting ?? `Thanks for calling ${shop.name}.`;
    return twiml(
      el('Gather', { input: 'dtmf', numDigits: 1, action: url('menu'), method: 'POST', timeout: 6 },
        say(`${greeting} Press 1 to talk to us. Press 2 and we will text you our link. Press 3 to leave a voicemail.`)),
      // No key pressed: straight to voicemail rather than looping.
      ...voicemail('Sorry, we did not get a choice. Please leave a message after the tone.'),
    );
  }

  async function shopOf(tenantId: string): Promise<Shop> {
    const { data, error } = await deps.db.from('tenants').select('name, status, time_zone, phone, google_review_url').eq('id', tenantId).single();
    if (error || !data) throw new HttpError(503, 'database_unavailable', 'Try again.');
    return data as Shop;
  }

  async function textLink(
    n: PhoneNumberRow, shop: Shop, account: { accountSid: string; authToken: string }, caller: string, callSid: string | null,
  ): Promise<string> {
    const link = shop.google_review_url;
    if (!link) return 'Sorry, we do not have a link to send right now.';
    if (!callSid || !CALL_SID.test(callSid)) return 'Sorry, we could not send the text right now.';
    const { data: optedOut, error } = await deps.db.rpc('telephony_is_opted_out', { tenant_id: n.tenant_id, phone: caller });
    if (error) throw new HttpError(503, 'database_unavailable', 'Try again.');
    if (optedOut) return 'This number has opted out of our texts. Reply START to our number to get texts again.';
    const body = `Thanks for calling ${shop.name}! Here is our link: ${link} Reply STOP to opt out.`;
    const segments = countSegments(body).segments;
    // Counted before sending, once per call: a retried webhook (or pressing 2 twice) never texts twice.
    const { data: first, error: uErr } = await deps.db.rpc('telephony_record_sms_usage', {
      tenant_id: n.tenant_id, message_sid: callSid, segments,
    });
    if (uErr) throw new HttpError(503, 'database_unavailable', 'Try again.');
    if (first === false) return 'We already texted you our link on this call. Goodbye.';
    const creds: TwilioCreds = { apiUrl: deps.twilioApiUrl, accountSid: account.accountSid, authToken: account.authToken, timeoutMs: 8_000 };
    try {
      await sendMessage(creds, account.accountSid, { to: caller, from: n.e164, body });
      return 'We just texted you our link. Thanks for calling. Goodbye.';
    } catch (e) {
      log.warn('ivr text failed', { tenant_id: n.tenant_id, error: (e as Error).message });
      if (e instanceof TwilioApiError) {
        // Definitely not sent: take the count back (the ledger's reversal convention).
        const { error: rErr } = await deps.db.from('usage_events').insert({
          tenant_id: n.tenant_id, metric: 'sms_outbound', quantity: -segments, source_type: 'ivr_sms_reversal', source_id: callSid,
        });
        if (rErr) log.error('ivr text usage not reversed', { tenant_id: n.tenant_id, call_sid: callSid, code: rErr.code });
      }
      return 'Sorry, we could not send the text right now.';
    }
  }

  async function choice(
    digit: string, n: PhoneNumberRow, shop: Shop, account: { accountSid: string; authToken: string }, caller: string | null,
    callSid: string | null,
  ) {
    if (digit === '1') {
      const dial = dialTarget(n, shop);
      if (dial) return twiml(say('Connecting you now.'), dial);
      return twiml(...voicemail('Nobody can take your call right now. Please leave a message after the tone.'));
    }
    if (digit === '2') {
      if (!caller || !E164.test(caller)) return twiml(say('Sorry, we cannot text this number.'), ...voicemail('Please leave a message after the tone.'));
      const said = await textLink(n, shop, account, caller, callSid);
      return twiml(say(said), el('Hangup'));
    }
    if (digit === '3') return twiml(...voicemail('Please leave your message after the tone. Press the pound key when you are done.'));
    return menu(n, shop);
  }

  async function recordUsage(tenantId: string, callSid: string | null, direction: string, duration: string | null) {
    if (!callSid || !CALL_SID.test(callSid)) return;
    const seconds = Number(duration);
    if (!Number.isInteger(seconds) || seconds < 0) return;
    const { error } = await deps.db.rpc('telephony_record_call_usage', {
      tenant_id: tenantId, call_sid: callSid, direction, duration_seconds: seconds,
    });
    if (error) {
      log.error('voice usage not recorded', { tenant_id: tenantId, call_sid: callSid, code: error.code });
      throw new HttpError(503, 'database_unavailable', 'Usage could not be recorded; Twilio will retry.');
    }
  }

  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const event = new URL(req.url).searchParams.get('event') ?? '';
    if (!EVENTS.has(event)) throw new HttpError(404, 'unknown_event', 'Unknown twilio-voice event.');
    const ct = req.headers.get('content-type') ?? '';
    if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw new HttpError(403, 'invalid_signature', 'Twilio webhooks are signed form posts.');
    }
    const raw = await req.text();
    if (raw.length > 64 * 1024) throw new HttpError(413, 'payload_too_large', 'The request body is too large.');
    const p = formParams(raw);
    const direction = one(p, 'Direction') ?? 'inbound';
    // Outbound-direction callbacks name our number in From; everything else in To (Called).
    const ours = event === 'status' && direction.startsWith('outbound') ? one(p, 'From') : one(p, 'To') ?? one(p, 'Called');
    const n = ours && E164.test(ours) ? await numberByE164(deps.db, ours) : null;
    const account = n ? await deps.store.get(n.tenant_id, n.credential_kind) : null;
    const signature = req.headers.get('x-twilio-signature');
    const signedUrl = publicWebhookUrl(deps.webhookBase, FN, req);
    if (!n || !account || account.accountSid !== n.subaccount_sid || one(p, 'AccountSid') !== account.accountSid ||
        !(await validateSignature(account.authToken, signature, signedUrl, p))) {
      log.warn('rejected voice webhook', { event, number_known: !!n, signed: !!signature });
      throw new HttpError(403, 'invalid_signature', 'The request is not signed by Twilio for this number.');
    }
    const callSid = one(p, 'CallSid');
    const caller = one(p, 'From');

    if (event === 'status') {
      if (one(p, 'CallStatus') === 'completed') {
        await recordUsage(n.tenant_id, callSid, direction.startsWith('outbound') ? 'outbound' : 'inbound', one(p, 'CallDuration'));
      }
      return json(200, { received: true });
    }
    if (event === 'transcription') {
      const { error } = await deps.db.rpc('telephony_record_transcription', {
        tenant_id: n.tenant_id, call_sid: callSid, status: one(p, 'TranscriptionStatus') ?? 'failed',
        transcription: one(p, 'TranscriptionText') ?? '',
      });
      if (error) throw new HttpError(503, 'database_unavailable', 'Try again.');
      return json(200, { received: true });
    }
    if (event === 'recorded') {
      const recordingSid = one(p, 'RecordingSid');
      const recordingUrl = one(p, 'RecordingUrl');
      if (callSid && CALL_SID.test(callSid) && caller && E164.test(caller) && recordingUrl) {
        const { error } = await deps.db.rpc('telephony_record_voicemail', {
          tenant_id: n.tenant_id, phone_number_id: n.id, call_sid: callSid, from_phone: caller,
          recording_sid: recordingSid && /^RE[0-9a-fA-F]{32}$/.test(recordingSid) ? recordingSid : null,
          recording_url: /^https?:\/\//.test(recordingUrl) ? recordingUrl : null,
          duration_seconds: Number.isInteger(Number(one(p, 'RecordingDuration'))) ? Number(one(p, 'RecordingDuration')) : null,
        });
        if (error) {
          log.error('voicemail not recorded', { tenant_id: n.tenant_id, code: error.code });
          throw new HttpError(503, 'database_unavailable', 'Try again.');
        }
      }
      return twimlResponse(twiml(say('Thank you. We got your message and will get back to you soon. Goodbye.'), el('Hangup')));
    }
    if (event === 'dialed') {
      await recordUsage(n.tenant_id, one(p, 'DialCallSid'), 'outbound', one(p, 'DialCallDuration'));
      const st = one(p, 'DialCallStatus');
      if (st === 'completed' || st === 'answered') return twimlResponse(twiml(el('Hangup')));
      return twimlResponse(twiml(...voicemail('Sorry, nobody could pick up. Please leave a message after the tone.')));
    }

    const shop = await shopOf(n.tenant_id);
    if (shop.status === 'suspended' || shop.status === 'canceled' || n.status !== 'active') return twimlResponse(closedMessage(shop));
    const digits = one(p, 'Digits');
    if (event === 'menu' || digits !== null) {
      if (!digits) return twimlResponse(twiml(...voicemail('Please leave a message after the tone.')));
      return twimlResponse(await choice(digits.slice(0, 1), n, shop, account, caller, callSid));
    }
    if (!isOpen(n.hours as Hours, shop.time_zone, deps.now())) {
      return twimlResponse(twiml(...voicemail(n.after_hours_message ??
        `Thanks for calling ${shop.name}. We are closed right now. Please leave a message after the tone and we will call you back.`)));
    }
    if (n.ivr_mode === 'ivr') return twimlResponse(menu(n, shop));
    const dial = dialTarget(n, shop);
    if (!dial) return twimlResponse(twiml(...voicemail('Nobody can take your call right now. Please leave a message after the tone.')));
    return twimlResponse(twiml(dial));
  }, log);
}

export function depsFromEnv(env: { get(name: string): string | undefined }): VoiceDeps {
  const e = readEnv(getterOf(env), {
    ...PLATFORM_ENV,
    TWILIO_API_URL: { default: 'https://api.twilio.com' },
    TWILIO_WEBHOOK_BASE_URL: true,
  });
  const db = serviceClient(e);
  let ring: Promise<Keyring> | null = null;
  const keyring = () => (ring ??= keyringFromEnv((k) => env.get(k)).catch((err) => {
    ring = null;
    throw new HttpError(503, 'telephony_not_configured', `Telephony is not configured on this server: ${(err as Error).message}`);
  }));
  return {
    db, store: credentialStore(db, keyring), twilioApiUrl: e.TWILIO_API_URL, webhookBase: e.TWILIO_WEBHOOK_BASE_URL,
    now: () => new Date(), log: createLogger(FN),
  };
}
