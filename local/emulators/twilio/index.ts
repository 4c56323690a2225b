/**
 * A local emulator of Twilio's REST API 2010-04-01 (JSON), for local runs and tests only.
 *
 * It speaks Twilio's wire format so production code (a fetch-based client with its base URL overridden, or the
 * `twilio` SDK) runs unchanged: HTTP Basic auth with an account or subaccount SID and its Auth Token (or an
 * API key SID and secret), form-encoded requests, Twilio's resource JSON, `{code, message, more_info, status}`
 * errors, and webhooks (status callbacks, inbound SMS, voice) signed with `X-Twilio-Signature` using the Auth
 * Token of the account that owns the message or number.
 *
 * State is in memory, per process. Test controls live under `/_emulator/` (no auth); see README.md.
 */
import crypto from 'node:crypto';
import type { Logger, RunningService } from '../../lib/types.ts';
import { TWILIO } from '../../config.ts';
import { basicAuth, hexId, safeEqual } from '../_lib/auth.ts';
import { deliver, type DeliveryResult } from '../_lib/deliver.ts';
import { all, encodeFlatForm, first, parseFlatForm, type FlatForm } from '../_lib/form.ts';
import {
  controlError, json, noContent, parseJsonObject, Router, serveHttp, sleep,
  type EmuRequest, type EmuResponse, type Params,
} from '../_lib/http.ts';
import { queryObject, RequestLog } from '../_lib/record.ts';
import {
  areaInfo, containsPattern, countryOfAreaCode, defaultAreaCodes, friendlyName, inInventory, inventoryFor,
  isE164, isValidAreaCode, TOLL_FREE_AREA_CODES,
} from './numbers.ts';
import { countSegments } from './segments.ts';
import { twilioSignature } from './signature.ts';

export interface TwilioEmulatorOptions {
  port: number;
  accountSid: string;
  authToken: string;
  log: Logger;
  /** Pause before each status callback (ms). Default 100. */
  callbackDelayMs?: number;
  /** The platform's shared sending number, pre-owned by the main account. Default TWILIO.sharedNumber. */
  sharedNumber?: string;
  /** Where inbound SMS / calls to the shared number are posted (changeable via POST /_emulator/config). */
  sharedNumberSmsUrl?: string;
  sharedNumberVoiceUrl?: string;
}

const API = '/2010-04-01';
const API_VERSION = '2010-04-01';
/** Twilio waits 15 s in total for a webhook response. */
const WEBHOOK_TIMEOUT_MS = 15_000;
const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN = new Set(['START', 'YES', 'UNSTOP']);
const HELP = new Set(['HELP', 'INFO']);

type AccountStatus = 'active' | 'suspended' | 'closed';
interface Account {
  sid: string; authToken: string; friendlyName: string; status: AccountStatus;
  ownerSid: string; isMain: boolean; created: Date; updated: Date;
}
interface ApiKey { sid: string; secret: string; accountSid: string; friendlyName: string; created: Date; updated: Date }
interface OwnedNumber {
  sid: string; accountSid: string; phoneNumber: string; friendlyName: string; tollFree: boolean;
  smsUrl: string; smsMethod: string; smsFallbackUrl: string; smsFallbackMethod: string;
  voiceUrl: string | null; voiceMethod: string; voiceFallbackUrl: string | null; voiceFallbackMethod: string;
  statusCallback: string; statusCallbackMethod: string; voiceCallerIdLookup: boolean;
  created: Date; updated: Date;
}
interface Callback extends DeliveryResult { message_status: string; signature_url: string }
interface Message {
  sid: string; accountSid: string; from: string | null; to: string; body: string; mediaUrls: string[];
  numSegments: number; direction: 'outbound-api' | 'outbound-reply' | 'inbound'; status: string;
  errorCode: number | null; errorMessage: string | null; messagingServiceSid: string | null;
  statusCallback: string | null; price: string | null;
  created: Date; updated: Date; sent: Date | null; callbacks: Callback[];
}
interface Call {
  sid: string; accountSid: string; from: string; to: string; status: string; direction: string;
  created: Date; updated: Date; url: string | null;
}
type FailureCode = number | 'timeout';
interface Failure { id: string; to?: string; code: FailureCode; remaining: number; status?: 'failed' | 'undelivered'; hangMs?: number }

/** Errors at create time (HTTP 400), with Twilio's messages. */
const SYNC_ERRORS: Record<number, string> = {
  21211: "Invalid 'To' Phone Number",
  21408: 'Permission to send an SMS has not been enabled for the region indicated by the \'To\' number',
  21610: 'Attempt to send to unsubscribed recipient',
  21611: 'This \'From\' number has exceeded the maximum number of queued messages',
  21612: "The 'To' phone number is not currently reachable via SMS",
  21614: "'To' number is not a valid mobile number",
  21617: 'The concatenated message body exceeds the 1600 character limit',
};
/** Errors reported after acceptance, through the status callbacks (ErrorCode). */
const ASYNC_ERRORS: Record<number, string> = {
  30001: 'Queue overflow', 30002: 'Account suspended', 30003: 'Unreachable destination handset',
  30004: 'Message blocked', 30005: 'Unknown destination handset', 30006: 'Landline or unreachable carrier',
  30007: 'Message filtered', 30008: 'Unknown error', 30034: 'Message from an unregistered number',
};

const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');

function twilioError(status: number, code: number, message: string): EmuResponse {
  return json(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

function notFound(path: string): EmuResponse {
  return twilioError(404, 20404, `The requested resource ${path} was not found`);
}

interface Ctx { req: EmuRequest; params: Params; form: FlatForm; auth: Account; viaKey: boolean }
type Handler = (ctx: Ctx) => EmuResponse | Promise<EmuResponse>;

export async function startTwilioEmulator(opts: TwilioEmulatorOptions): Promise<RunningService & { url: string }> {
  if (!/^AC[0-9a-f]{32}$/i.test(opts.accountSid)) throw new Error('twilio emulator: accountSid must look like AC + 32 hex digits');
  if (!opts.authToken) throw new Error('twilio emulator: authToken is required');
  const sharedNumber = opts.sharedNumber ?? TWILIO.sharedNumber;
  const log = opts.log;
  const requests = new RequestLog();

  // ---- state ------------------------------------------------------------------------------------------------
  let accounts = new Map<string, Account>();
  let keys = new Map<string, ApiKey>();
  let numbers = new Map<string, OwnedNumber>();
  let messages: Message[] = [];
  let calls: Call[] = [];
  let failures: Failure[] = [];
  let optOuts = new Set<string>();
  let emptyAreaCodes = new Set<string>();
  let callbackDelayMs = opts.callbackDelayMs ?? 100;
  let generation = new AbortController();
  const pending = new Set<Promise<void>>();

  function reset() {
    generation.abort();
    generation = new AbortController();
    const now = new Date();
    accounts = new Map([[opts.accountSid, {
      sid: opts.accountSid, authToken: opts.authToken, friendlyName: 'ServicePro (emulator)', status: 'active',
      ownerSid: opts.accountSid, isMain: true, created: now, updated: now,
    }]]);
    keys = new Map();
    numbers = new Map();
    const shared = newNumber(opts.accountSid, sharedNumber, false);
    shared.friendlyName = 'ServicePro shared number';
    shared.smsUrl = opts.sharedNumberSmsUrl ?? '';
    shared.voiceUrl = opts.sharedNumberVoiceUrl ?? null;
    messages = [];
    calls = [];
    failures = [];
    optOuts = new Set();
    emptyAreaCodes = new Set();
    callbackDelayMs = opts.callbackDelayMs ?? 100;
    requests.clear();
  }

  function newNumber(accountSid: string, phoneNumber: string, tollFree: boolean): OwnedNumber {
    const now = new Date();
    const n: OwnedNumber = {
      sid: hexId('PN'), accountSid, phoneNumber, friendlyName: friendlyName(phoneNumber), tollFree,
      smsUrl: '', smsMethod: 'POST', smsFallbackUrl: '', smsFallbackMethod: 'POST',
      voiceUrl: null, voiceMethod: 'POST', voiceFallbackUrl: null, voiceFallbackMethod: 'POST',
      statusCallback: '', statusCallbackMethod: 'POST', voiceCallerIdLookup: false, created: now, updated: now,
    };
    numbers.set(n.sid, n);
    return n;
  }

  const numberByPhone = (phone: string) => [...numbers.values()].find((n) => n.phoneNumber === phone);
  const sharedNumberRecord = () => numberByPhone(sharedNumber);
  const optKey = (sender: string, recipient: string) => `${sender}|${recipient}`;

  reset();

  // ---- JSON renderings (Twilio's field names and string-typed counts) -----------------------------------------
  const accountUri = (sid: string) => `${API}/Accounts/${sid}.json`;
  function accountJson(a: Account) {
    const base = `${API}/Accounts/${a.sid}`;
    return {
      auth_token: a.authToken,
      date_created: rfc2822(a.created),
      date_updated: rfc2822(a.updated),
      friendly_name: a.friendlyName,
      owner_account_sid: a.ownerSid,
      sid: a.sid,
      status: a.status,
      subresource_uris: {
        available_phone_numbers: `${base}/AvailablePhoneNumbers.json`,
        calls: `${base}/Calls.json`,
        incoming_phone_numbers: `${base}/IncomingPhoneNumbers.json`,
        keys: `${base}/Keys.json`,
        messages: `${base}/Messages.json`,
        recordings: `${base}/Recordings.json`,
      },
      type: 'Full',
      uri: accountUri(a.sid),
    };
  }
  function messageJson(m: Message) {
    const uri = `${API}/Accounts/${m.accountSid}/Messages/${m.sid}.json`;
    return {
      account_sid: m.accountSid,
      api_version: API_VERSION,
      body: m.body,
      date_created: rfc2822(m.created),
      date_sent: m.sent ? rfc2822(m.sent) : null,
      date_updated: rfc2822(m.updated),
      direction: m.direction,
      error_code: m.errorCode,
      error_message: m.errorMessage,
      from: m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: String(m.mediaUrls.length),
      num_segments: String(m.numSegments),
      price: m.price,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      subresource_uris: {
        media: `${API}/Accounts/${m.accountSid}/Messages/${m.sid}/Media.json`,
        feedback: `${API}/Accounts/${m.accountSid}/Messages/${m.sid}/Feedback.json`,
      },
      to: m.to,
      uri,
    };
  }
  function numberJson(n: OwnedNumber) {
    return {
      account_sid: n.accountSid,
      address_requirements: 'none',
      address_sid: null,
      api_version: API_VERSION,
      beta: false,
      bundle_sid: null,
      capabilities: { fax: false, mms: true, sms: true, voice: true },
      date_created: rfc2822(n.created),
      date_updated: rfc2822(n.updated),
      emergency_address_sid: null,
      emergency_address_status: 'unregistered',
      emergency_status: 'Active',
      friendly_name: n.friendlyName,
      identity_sid: null,
      origin: 'twilio',
      phone_number: n.phoneNumber,
      sid: n.sid,
      sms_application_sid: '',
      sms_fallback_method: n.smsFallbackMethod,
      sms_fallback_url: n.smsFallbackUrl,
      sms_method: n.smsMethod,
      sms_url: n.smsUrl,
      status: 'in-use',
      status_callback: n.statusCallback,
      status_callback_method: n.statusCallbackMethod,
      subresource_uris: { assigned_add_ons: `${API}/Accounts/${n.accountSid}/IncomingPhoneNumbers/${n.sid}/AssignedAddOns.json` },
      trunk_sid: null,
      uri: `${API}/Accounts/${n.accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
      voice_application_sid: null,
      voice_caller_id_lookup: n.voiceCallerIdLookup,
      voice_fallback_method: n.voiceFallbackMethod,
      voice_fallback_url: n.voiceFallbackUrl,
      voice_method: n.voiceMethod,
      voice_receive_mode: 'voice',
      voice_url: n.voiceUrl,
    };
  }
  function availableJson(phone: string, tollFree: boolean) {
    const ac = phone.slice(2, 5);
    const info = tollFree ? null : areaInfo(ac);
    return {
      address_requirements: 'none',
      beta: false,
      capabilities: { MMS: true, SMS: true, voice: true, fax: false },
      friendly_name: friendlyName(phone),
      iso_country: info?.country ?? 'US',
      lata: info?.lata ?? null,
      latitude: info?.lat ?? null,
      locality: info?.locality ?? null,
      longitude: info?.lon ?? null,
      phone_number: phone,
      postal_code: info?.postal ?? null,
      rate_center: info?.rateCenter ?? null,
      region: info?.region ?? null,
    };
  }
  function callJson(c: Call) {
    return {
      account_sid: c.accountSid, annotation: null, answered_by: null, api_version: API_VERSION, caller_name: null,
      date_created: rfc2822(c.created), date_updated: rfc2822(c.updated), direction: c.direction, duration: null,
      end_time: null, forwarded_from: null, from: c.from, from_formatted: friendlyName(c.from), group_sid: null,
      parent_call_sid: null, phone_number_sid: numberByPhone(c.from)?.sid ?? null, price: null, price_unit: 'USD',
      queue_time: '0', sid: c.sid, start_time: null, status: c.status, subresource_uris: {
        recordings: `${API}/Accounts/${c.accountSid}/Calls/${c.sid}/Recordings.json`,
      }, to: c.to, to_formatted: friendlyName(c.to), trunk_sid: null,
      uri: `${API}/Accounts/${c.accountSid}/Calls/${c.sid}.json`,
    };
  }
  function keyJson(k: ApiKey, withSecret: boolean) {
    return {
      sid: k.sid, friendly_name: k.friendlyName, date_created: rfc2822(k.created), date_updated: rfc2822(k.updated),
      ...(withSecret ? { secret: k.secret } : {}),
    };
  }

  /** Twilio's list envelope with Page/PageSize paging (PageToken is accepted and ignored). */
  function listPage<T>(req: EmuRequest, key: string, items: T[]): EmuResponse {
    const size = Math.min(Math.max(Number(req.query.get('PageSize') ?? 50) || 50, 1), 1000);
    const page = Math.max(Number(req.query.get('Page') ?? 0) || 0, 0);
    const filters = new URLSearchParams([...req.query].filter(([k]) => !['PageSize', 'Page', 'PageToken'].includes(k)));
    const uri = (p: number) => {
      const q = new URLSearchParams(filters);
      q.set('PageSize', String(size));
      q.set('Page', String(p));
      return `${req.path}?${q}`;
    };
    const start = page * size;
    const slice = items.slice(start, start + size);
    const hasNext = start + size < items.length;
    return json(200, {
      [key]: slice,
      end: slice.length ? start + slice.length - 1 : 0,
      first_page_uri: uri(0),
      next_page_uri: hasNext ? `${uri(page + 1)}&PageToken=PA${start + size}` : null,
      page,
      page_size: size,
      previous_page_uri: page > 0 ? uri(page - 1) : null,
      start,
      uri: uri(page),
    });
  }

  // ---- auth and scope ---------------------------------------------------------------------------------------
  function authenticate(req: EmuRequest): { account: Account; viaKey: boolean } | EmuResponse {
    const creds = basicAuth(req.headers);
    if (!creds) return twilioError(401, 20003, 'Authenticate');
    const key = keys.get(creds.user);
    if (key) {
      const acct = accounts.get(key.accountSid);
      if (acct && acct.status !== 'closed' && safeEqual(creds.pass, key.secret)) return { account: acct, viaKey: true };
      return twilioError(401, 20003, 'Authenticate');
    }
    const acct = accounts.get(creds.user);
    if (!acct || acct.status === 'closed' || !safeEqual(creds.pass, acct.authToken)) return twilioError(401, 20003, 'Authenticate');
    return { account: acct, viaKey: false };
  }

  /** The account named in the path, when the caller may act on it (itself, or a subaccount of the main account). */
  function scope(ctx: Ctx): Account | EmuResponse {
    const target = accounts.get(ctx.params.AccountSid);
    if (!target || target.status === 'closed') return notFound(ctx.req.path);
    if (target.sid === ctx.auth.sid) return target;
    // The parent's credentials (Auth Token or API key) reach its subaccounts; never the other way round.
    if (ctx.auth.isMain && target.ownerSid === ctx.auth.sid) return target;
    return notFound(ctx.req.path);
  }

  const mustBeActive = (a: Account): EmuResponse | null =>
    a.status === 'active' ? null : twilioError(403, 10001, 'Account is not active');

  // ---- webhooks ----------------------------------------------------------------------------------------------
  async function postWebhook(owner: Account, url: string, method: string, params: FlatForm): Promise<DeliveryResult & { signature_url: string }> {
    const headers: Record<string, string> = {
      'user-agent': 'TwilioProxy/1.1',
      'i-twilio-idempotency-token': crypto.randomUUID(),
      'x-home-region': 'us1',
    };
    let target = url;
    let body: string | undefined;
    if (method.toUpperCase() === 'GET') {
      const u = new URL(url);
      for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) u.searchParams.append(k, one);
      target = u.toString();
      headers['x-twilio-signature'] = twilioSignature(owner.authToken, target, {});
    } else {
      body = encodeFlatForm(params);
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['x-twilio-signature'] = twilioSignature(owner.authToken, url, params);
    }
    const result = await deliver({ url: target, method: method.toUpperCase() === 'GET' ? 'GET' : 'POST', headers, body, timeoutMs: WEBHOOK_TIMEOUT_MS });
    if (!result.ok) log.warn(`webhook to ${result.url} ${result.error ?? `answered ${result.status}`}`);
    return { ...result, signature_url: target };
  }

  function track(p: Promise<void>) {
    pending.add(p);
    p.finally(() => pending.delete(p));
  }

  /**
   * Moves an accepted message through its statuses, posting a status callback for each change after creation
   * (never for the initial status, as Twilio documents): with a Messaging Service accepted → queued → sent → …,
   * without one queued → sent → …; ending delivered, undelivered (with ErrorCode) or failed.
   */
  function runLifecycle(m: Message, outcome: { status: 'delivered' | 'undelivered' | 'failed'; code?: number }) {
    const signal = generation.signal;
    const steps: string[] = [];
    if (m.status === 'accepted') steps.push('queued');
    if (outcome.status !== 'failed') steps.push('sent');
    steps.push(outcome.status);
    track((async () => {
      for (const status of steps) {
        await sleep(callbackDelayMs, signal);
        if (signal.aborted) return;
        m.status = status;
        m.updated = new Date();
        if (status === 'sent') {
          m.sent = m.updated;
          m.price = (-0.0079 * m.numSegments).toFixed(5);
        }
        if ((status === 'undelivered' || status === 'failed') && outcome.code) {
          m.errorCode = outcome.code;
          m.errorMessage = ASYNC_ERRORS[outcome.code] ?? SYNC_ERRORS[outcome.code] ?? 'Unknown error';
        }
        if (!m.statusCallback) continue;
        const owner = accounts.get(m.accountSid);
        if (!owner) return;
        const params: FlatForm = {
          SmsSid: m.sid,
          SmsStatus: status,
          MessageStatus: status,
          To: m.to,
          ...(m.messagingServiceSid ? { MessagingServiceSid: m.messagingServiceSid } : {}),
          MessageSid: m.sid,
          AccountSid: m.accountSid,
          From: m.from ?? '',
          ApiVersion: API_VERSION,
          ...(m.errorCode !== null && (status === 'undelivered' || status === 'failed') ? { ErrorCode: String(m.errorCode) } : {}),
          ...(status === 'delivered' ? { RawDlrDoneDate: dlrDate(m.updated) } : {}),
        };
        const result = await postWebhook(owner, m.statusCallback, 'POST', params);
        if (signal.aborted) return;
        m.callbacks.push({ ...result, message_status: status });
      }
    })());
  }

  const dlrDate = (d: Date) => d.toISOString().replace(/\D/g, '').slice(2, 12);

  // ---- Accounts ----------------------------------------------------------------------------------------------
  const router = new Router<Handler>();
  const route = (method: string, template: string, h: Handler) => router.add(method, template, h);

  function accountsCreate(ctx: Ctx): EmuResponse {
    if (!ctx.auth.isMain || ctx.viaKey) return twilioError(403, 20403, 'Subaccounts and API keys cannot create subaccounts');
    const now = new Date();
    const a: Account = {
      sid: hexId('AC'), authToken: crypto.randomBytes(16).toString('hex'),
      friendlyName: first(ctx.form, 'FriendlyName') || `SubAccount Created at ${rfc2822(now)}`,
      status: 'active', ownerSid: ctx.auth.sid, isMain: false, created: now, updated: now,
    };
    accounts.set(a.sid, a);
    return json(201, accountJson(a));
  }
  function accountsList(ctx: Ctx): EmuResponse {
    const fn = ctx.req.query.get('FriendlyName');
    const st = ctx.req.query.get('Status');
    const visible = [...accounts.values()].filter((a) =>
      a.sid === ctx.auth.sid || (ctx.auth.isMain && a.ownerSid === ctx.auth.sid));
    return listPage(ctx.req, 'accounts', visible
      .filter((a) => (!fn || a.friendlyName === fn) && (!st || a.status === st))
      .map(accountJson));
  }
  function accountFetch(ctx: Ctx): EmuResponse {
    const a = scope(ctx);
    return isResponse(a) ? a : json(200, accountJson(a));
  }
  function accountUpdate(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const a = s;
    const status = first(ctx.form, 'Status');
    const name = first(ctx.form, 'FriendlyName');
    if (status !== undefined) {
      if (!['active', 'suspended', 'closed'].includes(status)) return twilioError(400, 20001, `Invalid Status: ${status}. Must be one of active, suspended, closed`);
      if (a.isMain && status !== 'active') return twilioError(403, 20403, 'The main account cannot change its own status through the API');
      if (!ctx.auth.isMain && status !== a.status) return twilioError(403, 20403, 'Only the parent account can change a subaccount\'s status');
      a.status = status as AccountStatus;
      if (status === 'closed') {
        for (const n of [...numbers.values()]) if (n.accountSid === a.sid) numbers.delete(n.sid);
        for (const k of [...keys.values()]) if (k.accountSid === a.sid) keys.delete(k.sid);
      }
    }
    if (name !== undefined) a.friendlyName = name;
    a.updated = new Date();
    return json(200, accountJson(a));
  }

  // ---- API keys ----------------------------------------------------------------------------------------------
  function keyCreate(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    if (ctx.viaKey) return twilioError(403, 20403, 'API keys cannot create API keys');
    const now = new Date();
    const k: ApiKey = {
      sid: hexId('SK'), secret: crypto.randomBytes(16).toString('hex'), accountSid: s.sid,
      friendlyName: first(ctx.form, 'FriendlyName') ?? '', created: now, updated: now,
    };
    keys.set(k.sid, k);
    return json(201, { account_sid: s.sid, ...keyJson(k, true) });
  }
  function keyList(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    return listPage(ctx.req, 'keys', [...keys.values()].filter((k) => k.accountSid === s.sid).map((k) => keyJson(k, false)));
  }
  function keyDelete(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const k = keys.get(ctx.params.Sid);
    if (!k || k.accountSid !== s.sid) return notFound(ctx.req.path);
    keys.delete(k.sid);
    return noContent();
  }

  // ---- Messages ----------------------------------------------------------------------------------------------
  function takeFailure(to: string, kinds: (code: FailureCode) => boolean): Failure | undefined {
    const f = failures.find((x) => (!x.to || x.to === to) && kinds(x.code));
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining <= 0) failures = failures.filter((x) => x !== f);
    return f;
  }
  const isSyncFailure = (c: FailureCode) => c === 20429 || (typeof c === 'number' && c in SYNC_ERRORS);
  const isLateFailure = (c: FailureCode) => c === 'timeout' || (typeof c === 'number' && !(c in SYNC_ERRORS) && c !== 20429);

  async function messageCreate(ctx: Ctx): Promise<EmuResponse> {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const inactive = mustBeActive(s);
    if (inactive) return inactive;
    const f = ctx.form;
    const to = first(f, 'To')?.trim() ?? '';
    const injected = takeFailure(to, isSyncFailure);
    if (injected) {
      const code = injected.code as number;
      if (code === 20429) return twilioError(429, 20429, 'Too Many Requests');
      return twilioError(400, code, code === 21211 ? `Invalid 'To' Phone Number: ${to}` : SYNC_ERRORS[code]);
    }
    const from = first(f, 'From')?.trim();
    const mgSid = first(f, 'MessagingServiceSid')?.trim();
    const body = first(f, 'Body') ?? '';
    const media = all(f, 'MediaUrl');
    const statusCallback = first(f, 'StatusCallback');
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!isE164(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (!from && !mgSid) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (body === '' && media.length === 0) return twilioError(400, 21602, 'Message body is required.');
    if (body.length > 1600) return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (media.length > 10) return twilioError(400, 21623, 'Number of media files exceeds allowed limit (10).');
    for (const u of media) if (!isHttpUrl(u)) return twilioError(400, 21620, `Invalid media URL(s): ${u}`);
    if (statusCallback !== undefined && !isHttpUrl(statusCallback)) return twilioError(400, 21609, `Invalid StatusCallback url: ${statusCallback}`);
    let sender: string;
    if (mgSid) {
      if (!/^MG[0-9a-f]{32}$/i.test(mgSid)) return twilioError(400, 21701, `The Messaging Service Sid ${mgSid} is invalid.`);
      const pool = [...numbers.values()].filter((n) => n.accountSid === s.sid);
      const chosen = from ? pool.find((n) => n.phoneNumber === from) : pool[0];
      if (!chosen) return twilioError(400, 21703, 'The Messaging Service does not have a phone number available to send a message.');
      sender = chosen.phoneNumber;
    } else {
      if (!isE164(from!)) return twilioError(400, 21212, `Invalid From Number (caller ID): ${from}`);
      const owned = numberByPhone(from!);
      if (!owned || owned.accountSid !== s.sid) {
        return twilioError(400, 21606, `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination.`);
      }
      sender = from!;
    }
    if (optOuts.has(optKey(sender, to))) return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');

    const late = takeFailure(to, isLateFailure);
    const now = new Date();
    const m: Message = {
      sid: hexId('SM'), accountSid: s.sid, from: mgSid && !from ? null : sender, to, body, mediaUrls: media,
      numSegments: media.length > 0 ? 1 : countSegments(body).segments,
      direction: 'outbound-api', status: mgSid ? 'accepted' : 'queued', errorCode: null, errorMessage: null,
      messagingServiceSid: mgSid ?? null, statusCallback: statusCallback ?? null, price: null,
      created: now, updated: now, sent: null, callbacks: [],
    };
    messages.push(m);
    const response = json(201, messageJson(m));
    // With a Messaging Service the sender is picked after acceptance (the response shows `from: null`).
    if (m.from === null) m.from = sender;
    if (late && late.code !== 'timeout') {
      runLifecycle(m, { status: late.status ?? 'undelivered', code: late.code });
    } else {
      runLifecycle(m, { status: 'delivered' });
    }
    if (late?.code === 'timeout') {
      // The message exists and proceeds; only the HTTP answer is withheld past any sane client timeout.
      await sleep(late.hangMs ?? 120_000, ctx.req.signal);
    }
    return response;
  }

  function messageList(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const q = ctx.req.query;
    const to = q.get('To');
    const from = q.get('From');
    const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : null);
    const onDay = q.get('DateSent');
    const before = q.get('DateSent<');
    const after = q.get('DateSent>');
    const items = messages
      .filter((m) => m.accountSid === s.sid)
      .filter((m) => (!to || m.to === to) && (!from || m.from === from))
      .filter((m) => !onDay || day(m.sent ?? m.created) === onDay.slice(0, 10))
      .filter((m) => !before || (day(m.sent ?? m.created) ?? '') <= before.slice(0, 10))
      .filter((m) => !after || (day(m.sent ?? m.created) ?? '') >= after.slice(0, 10))
      .slice()
      .reverse()
      .map(messageJson);
    return listPage(ctx.req, 'messages', items);
  }
  function messageFetch(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const m = messages.find((x) => x.sid === ctx.params.Sid && x.accountSid === s.sid);
    return m ? json(200, messageJson(m)) : notFound(ctx.req.path);
  }
  function messageDelete(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const m = messages.find((x) => x.sid === ctx.params.Sid && x.accountSid === s.sid);
    if (!m) return notFound(ctx.req.path);
    if (['queued', 'accepted', 'sending'].includes(m.status)) return twilioError(400, 20009, 'Cannot delete message because delivery has not been completed.');
    messages = messages.filter((x) => x !== m);
    return noContent();
  }

  // ---- AvailablePhoneNumbers ---------------------------------------------------------------------------------
  function availableCountries(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const base = `${API}/Accounts/${s.sid}/AvailablePhoneNumbers`;
    return json(200, {
      countries: [['US', 'United States'], ['CA', 'Canada']].map(([c, name]) => ({
        beta: false, country: name, country_code: c, subresource_uris: { local: `${base}/${c}/Local.json`, toll_free: `${base}/${c}/TollFree.json` },
        uri: `${base}/${c}.json`,
      })),
      uri: `${base}.json`,
    });
  }
  function availableSearch(tollFree: boolean) {
    return (ctx: Ctx): EmuResponse => {
      const s = scope(ctx);
      if (isResponse(s)) return s;
      const country = ctx.params.Country.toUpperCase();
      if (country !== 'US' && country !== 'CA') return notFound(ctx.req.path);
      const q = ctx.req.query;
      const areaCode = q.get('AreaCode');
      const near = q.get('NearNumber');
      const region = q.get('InRegion');
      const contains = q.get('Contains');
      let codes: string[];
      if (areaCode) {
        const valid = tollFree ? TOLL_FREE_AREA_CODES.includes(areaCode) : isValidAreaCode(areaCode) && countryOfAreaCode(areaCode) === country;
        if (!valid) return twilioError(400, 21451, `Invalid area code: ${areaCode}`);
        codes = [areaCode];
      } else if (near && !tollFree) {
        if (!isE164(near) || !near.startsWith('+1')) return twilioError(400, 21421, `NearNumber is invalid: ${near}`);
        codes = [near.slice(2, 5)];
      } else if (tollFree) {
        codes = TOLL_FREE_AREA_CODES;
      } else {
        codes = defaultAreaCodes(country, region ?? undefined);
      }
      let pattern: RegExp | null = null;
      if (contains) {
        pattern = containsPattern(contains);
        if (!pattern) return twilioError(400, 21414, `Invalid Contains pattern: ${contains}`);
      }
      const owned = new Set([...numbers.values()].map((n) => n.phoneNumber));
      const found = codes
        .filter((ac) => !emptyAreaCodes.has(ac))
        .filter((ac) => tollFree || !region || areaInfo(ac).region.toUpperCase() === region.toUpperCase())
        .flatMap(inventoryFor)
        .filter((p) => !owned.has(p) && (!pattern || pattern.test(p.slice(1))));
      const size = Math.min(Math.max(Number(q.get('PageSize') ?? 50) || 50, 1), 1000);
      return json(200, {
        available_phone_numbers: found.slice(0, size).map((p) => availableJson(p, tollFree)),
        end: Math.max(Math.min(found.length, size) - 1, 0),
        first_page_uri: `${ctx.req.path}${ctx.req.url.search}`,
        next_page_uri: null,
        page: 0,
        page_size: size,
        previous_page_uri: null,
        start: 0,
        uri: `${ctx.req.path}${ctx.req.url.search}`,
      });
    };
  }

  // ---- IncomingPhoneNumbers ----------------------------------------------------------------------------------
  const URL_FIELDS: [keyof FlatForm & string, keyof OwnedNumber][] = [
    ['SmsUrl', 'smsUrl'], ['SmsFallbackUrl', 'smsFallbackUrl'], ['VoiceUrl', 'voiceUrl'],
    ['VoiceFallbackUrl', 'voiceFallbackUrl'], ['StatusCallback', 'statusCallback'],
  ];
  const METHOD_FIELDS: [string, keyof OwnedNumber][] = [
    ['SmsMethod', 'smsMethod'], ['SmsFallbackMethod', 'smsFallbackMethod'], ['VoiceMethod', 'voiceMethod'],
    ['VoiceFallbackMethod', 'voiceFallbackMethod'], ['StatusCallbackMethod', 'statusCallbackMethod'],
  ];
  function validateNumberConfig(form: FlatForm): EmuResponse | null {
    for (const [field] of URL_FIELDS) {
      const v = first(form, field);
      if (v !== undefined && v !== '' && !isHttpUrl(v)) return twilioError(400, 21502, `${field} is not a valid URL: ${v}`);
    }
    for (const [field] of METHOD_FIELDS) {
      const v = first(form, field);
      if (v !== undefined && !['GET', 'POST'].includes(v.toUpperCase())) return twilioError(400, 21403, `${field} must be GET or POST`);
    }
    return null;
  }
  function applyNumberConfig(n: OwnedNumber, form: FlatForm) {
    const rec = n as unknown as Record<string, unknown>;
    for (const [field, prop] of URL_FIELDS) { const v = first(form, field); if (v !== undefined) rec[prop] = v; }
    for (const [field, prop] of METHOD_FIELDS) { const v = first(form, field); if (v !== undefined) rec[prop] = v.toUpperCase(); }
    const name = first(form, 'FriendlyName');
    if (name !== undefined) n.friendlyName = name;
    const lookup = first(form, 'VoiceCallerIdLookup');
    if (lookup !== undefined) n.voiceCallerIdLookup = lookup.toLowerCase() === 'true';
    n.updated = new Date();
  }
  function numberBuy(kind: 'any' | 'local' | 'tollfree') {
    return (ctx: Ctx): EmuResponse => {
      const s = scope(ctx);
      if (isResponse(s)) return s;
      const inactive = mustBeActive(s);
      if (inactive) return inactive;
      const phone = first(ctx.form, 'PhoneNumber')?.trim();
      const areaCode = first(ctx.form, 'AreaCode')?.trim();
      const bad = validateNumberConfig(ctx.form);
      if (bad) return bad;
      const owned = new Set([...numbers.values()].map((n) => n.phoneNumber));
      let chosen: string;
      if (phone) {
        if (!isE164(phone)) return twilioError(400, 21421, `PhoneNumber is invalid: ${phone}`);
        const ac = phone.slice(2, 5);
        const tollFree = TOLL_FREE_AREA_CODES.includes(ac);
        if ((kind === 'local' && tollFree) || (kind === 'tollfree' && !tollFree)) return twilioError(400, 21422, `PhoneNumber ${phone} is not available`);
        if (!phone.startsWith('+1') || !inInventory(phone) || owned.has(phone) || emptyAreaCodes.has(ac)) {
          return twilioError(400, 21422, `PhoneNumber ${phone} is not available`);
        }
        chosen = phone;
      } else if (areaCode) {
        if (kind !== 'any') return twilioError(400, 21457, 'AreaCode parameter not supported on this resource');
        if (!isValidAreaCode(areaCode) && !TOLL_FREE_AREA_CODES.includes(areaCode)) return twilioError(400, 21451, `Invalid area code: ${areaCode}`);
        const next = emptyAreaCodes.has(areaCode) ? undefined : inventoryFor(areaCode).find((p) => !owned.has(p));
        if (!next) return twilioError(400, 21452, `No phone numbers found in area code ${areaCode}`);
        chosen = next;
      } else {
        return twilioError(400, 21450, 'PhoneNumber or AreaCode is required');
      }
      const n = newNumber(s.sid, chosen, TOLL_FREE_AREA_CODES.includes(chosen.slice(2, 5)));
      applyNumberConfig(n, ctx.form);
      return json(201, numberJson(n));
    };
  }
  function numberList(kind: 'any' | 'local' | 'tollfree') {
    return (ctx: Ctx): EmuResponse => {
      const s = scope(ctx);
      if (isResponse(s)) return s;
      const phone = ctx.req.query.get('PhoneNumber');
      const fn = ctx.req.query.get('FriendlyName');
      const items = [...numbers.values()]
        .filter((n) => n.accountSid === s.sid)
        .filter((n) => kind === 'any' || (kind === 'tollfree') === n.tollFree)
        .filter((n) => (!phone || n.phoneNumber.includes(phone.replace(/\s/g, ''))) && (!fn || n.friendlyName === fn))
        .map(numberJson);
      return listPage(ctx.req, 'incoming_phone_numbers', items);
    };
  }
  function numberFetch(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const n = numbers.get(ctx.params.Sid);
    return n && n.accountSid === s.sid ? json(200, numberJson(n)) : notFound(ctx.req.path);
  }
  function numberUpdate(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const n = numbers.get(ctx.params.Sid);
    if (!n || n.accountSid !== s.sid) return notFound(ctx.req.path);
    const bad = validateNumberConfig(ctx.form);
    if (bad) return bad;
    const moveTo = first(ctx.form, 'AccountSid');
    if (moveTo && moveTo !== n.accountSid) {
      const target = accounts.get(moveTo);
      const allowed = ctx.auth.isMain && !ctx.viaKey && target && target.status !== 'closed' &&
        (target.sid === ctx.auth.sid || target.ownerSid === ctx.auth.sid);
      if (!allowed) return twilioError(400, 21430, `Cannot transfer the phone number to account ${moveTo}`);
      n.accountSid = moveTo;
    }
    applyNumberConfig(n, ctx.form);
    return json(200, numberJson(n));
  }
  function numberRelease(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const n = numbers.get(ctx.params.Sid);
    if (!n || n.accountSid !== s.sid) return notFound(ctx.req.path);
    numbers.delete(n.sid);
    return noContent();
  }

  // ---- Calls (minimal) ---------------------------------------------------------------------------------------
  function callCreate(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const inactive = mustBeActive(s);
    if (inactive) return inactive;
    const to = first(ctx.form, 'To') ?? '';
    const from = first(ctx.form, 'From') ?? '';
    const url = first(ctx.form, 'Url');
    const twiml = first(ctx.form, 'Twiml');
    if (!to) return twilioError(400, 21201, "No 'To' number is specified");
    if (!isE164(to)) return twilioError(400, 21217, 'Phone number does not appear to be valid');
    if (!from) return twilioError(400, 21213, "No 'From' number is specified");
    const owned = numberByPhone(from);
    if (!owned || owned.accountSid !== s.sid) return twilioError(400, 21210, `The source phone number provided, ${from}, is not yet verified for your account.`);
    if (!url && !twiml) return twilioError(400, 21205, 'A Url or Twiml parameter is required');
    if (url && !isHttpUrl(url)) return twilioError(400, 21205, `Invalid url: ${url}`);
    const now = new Date();
    const c: Call = { sid: hexId('CA'), accountSid: s.sid, from, to, status: 'queued', direction: 'outbound-api', created: now, updated: now, url: url ?? null };
    calls.push(c);
    return json(201, callJson(c));
  }
  function callFetch(ctx: Ctx): EmuResponse {
    const s = scope(ctx);
    if (isResponse(s)) return s;
    const c = calls.find((x) => x.sid === ctx.params.Sid && x.accountSid === s.sid);
    return c ? json(200, callJson(c)) : notFound(ctx.req.path);
  }

  route('POST', `${API}/Accounts.json`, accountsCreate);
  route('GET', `${API}/Accounts.json`, accountsList);
  route('GET', `${API}/Accounts/:AccountSid.json`, accountFetch);
  route('POST', `${API}/Accounts/:AccountSid.json`, accountUpdate);
  route('POST', `${API}/Accounts/:AccountSid/Keys.json`, keyCreate);
  route('GET', `${API}/Accounts/:AccountSid/Keys.json`, keyList);
  route('DELETE', `${API}/Accounts/:AccountSid/Keys/:Sid.json`, keyDelete);
  route('POST', `${API}/Accounts/:AccountSid/Messages.json`, messageCreate);
  route('GET', `${API}/Accounts/:AccountSid/Messages.json`, messageList);
  route('GET', `${API}/Accounts/:AccountSid/Messages/:Sid.json`, messageFetch);
  route('DELETE', `${API}/Accounts/:AccountSid/Messages/:Sid.json`, messageDelete);
  route('GET', `${API}/Accounts/:AccountSid/AvailablePhoneNumbers.json`, availableCountries);
  route('GET', `${API}/Accounts/:AccountSid/AvailablePhoneNumbers/:Country/Local.json`, availableSearch(false));
  route('GET', `${API}/Accounts/:AccountSid/AvailablePhoneNumbers/:Country/TollFree.json`, availableSearch(true));
  route('POST', `${API}/Accounts/:AccountSid/IncomingPhoneNumbers.json`, numberBuy('any'));
  route('GET', `${API}/Accounts/:AccountSid/IncomingPhoneNumbers.json`, numberList('any'));
  route('POST', `${API}/Accounts/:AccountSid/IncomingPhoneNumbers/Local.json`, numberBuy('local'));
  route('GET', `${API}/Accounts/:AccountSid/IncomingPhoneNumbers/Local.json`, numberList('local'));
  route('POST', `${API}/Accounts/:AccountSid/IncomingPhoneNumbers/TollFree.json`, numberBuy('tollfree'));
  route('GET', `${API}/Accounts/:AccountSid/IncomingPhoneNumbers/TollFree.json`, numberList('tollfree'));
  route('GET', `${API}/Accounts/:AccountSid/IncomingPhoneNumbers/:Sid.json`, numberFetch);
  route('POST', `${API}/Accounts/:AccountSid/IncomingPhoneNumbers/:Sid.json`, numberUpdate);
  route('DELETE', `${API}/Accounts/:AccountSid/IncomingPhoneNumbers/:Sid.json`, numberRelease);
  route('POST', `${API}/Accounts/:AccountSid/Calls.json`, callCreate);
  route('GET', `${API}/Accounts/:AccountSid/Calls/:Sid.json`, callFetch);

  // ---- test controls -----------------------------------------------------------------------------------------
  const controls = new Router();
  controls.add('GET', '/_emulator/requests', () => json(200, requests.list()));
  controls.add('GET', '/_emulator/accounts', () => json(200, [...accounts.values()].filter((a) => !a.isMain).map((a) => ({
    sid: a.sid, friendly_name: a.friendlyName, status: a.status, auth_token: a.authToken,
    owner_account_sid: a.ownerSid, date_created: rfc2822(a.created),
  }))));
  controls.add('GET', '/_emulator/messages', () => json(200, messages.map((m) => ({ ...messageJson(m), media_urls: m.mediaUrls, callbacks: m.callbacks }))));
  controls.add('GET', '/_emulator/numbers', () => json(200, [...numbers.values()].map(numberJson)));
  controls.add('GET', '/_emulator/opt-outs', () => json(200, [...optOuts].map((k) => { const [sender, recipient] = k.split('|'); return { sender, recipient }; })));
  controls.add('GET', '/_emulator/failures', () => json(200, failures));
  controls.add('GET', '/_emulator/config', () => json(200, configJson()));
  controls.add('POST', '/_emulator/config', (req) => {
    const b = parseJsonObject(req.text);
    if (!b) return controlError(400, 'invalid_json', 'Body must be a JSON object.');
    const shared = sharedNumberRecord();
    for (const key of ['sharedNumberSmsUrl', 'sharedNumberVoiceUrl'] as const) {
      const v = b[key];
      if (v === undefined) continue;
      if (v !== null && (typeof v !== 'string' || (v !== '' && !isHttpUrl(v)))) return controlError(400, 'invalid_url', `${key} must be an http(s) URL, "" or null.`);
      if (shared) {
        if (key === 'sharedNumberSmsUrl') shared.smsUrl = (v as string | null) ?? '';
        else shared.voiceUrl = (v as string | null) || null;
      }
    }
    if (b.emptyAreaCodes !== undefined) {
      if (!Array.isArray(b.emptyAreaCodes) || !b.emptyAreaCodes.every((x) => typeof x === 'string' && /^\d{3}$/.test(x))) {
        return controlError(400, 'invalid_area_codes', 'emptyAreaCodes must be an array of 3-digit strings.');
      }
      emptyAreaCodes = new Set(b.emptyAreaCodes as string[]);
    }
    if (b.callbackDelayMs !== undefined) {
      if (typeof b.callbackDelayMs !== 'number' || b.callbackDelayMs < 0) return controlError(400, 'invalid_delay', 'callbackDelayMs must be a number ≥ 0.');
      callbackDelayMs = b.callbackDelayMs;
    }
    return json(200, configJson());
  });
  controls.add('POST', '/_emulator/failures', (req) => {
    const b = parseJsonObject(req.text);
    if (!b) return controlError(400, 'invalid_json', 'Body must be a JSON object.');
    const code = b.code;
    const known = code === 'timeout' || code === 20429 || (typeof code === 'number' && (code in SYNC_ERRORS || code in ASYNC_ERRORS));
    if (!known) {
      return controlError(400, 'unknown_failure_code', `code must be "timeout", 20429, one of ${Object.keys(SYNC_ERRORS).join(', ')} (create fails) or ${Object.keys(ASYNC_ERRORS).join(', ')} (delivery fails).`);
    }
    if (b.to !== undefined && typeof b.to !== 'string') return controlError(400, 'invalid_to', 'to must be a phone number string.');
    const times = b.times ?? 1;
    if (typeof times !== 'number' || !Number.isInteger(times) || times < 1) return controlError(400, 'invalid_times', 'times must be an integer ≥ 1.');
    if (b.status !== undefined && b.status !== 'failed' && b.status !== 'undelivered') return controlError(400, 'invalid_status', 'status must be "failed" or "undelivered".');
    if (b.hang_ms !== undefined && (typeof b.hang_ms !== 'number' || b.hang_ms < 0)) return controlError(400, 'invalid_hang', 'hang_ms must be a number ≥ 0.');
    const f: Failure = {
      id: hexId('FI', 16), to: b.to as string | undefined, code: code as FailureCode, remaining: times,
      status: b.status as Failure['status'], hangMs: b.hang_ms as number | undefined,
    };
    failures.push(f);
    return json(201, f);
  });
  controls.add('POST', '/_emulator/inbound', async (req) => {
    const b = parseJsonObject(req.text);
    if (!b) return controlError(400, 'invalid_json', 'Body must be a JSON object.');
    const { from, to, body } = b;
    const mediaUrls = b.media_urls ?? [];
    if (typeof from !== 'string' || !isE164(from)) return controlError(400, 'invalid_from', 'from must be an E.164 phone number.');
    if (typeof to !== 'string' || !isE164(to)) return controlError(400, 'invalid_to', 'to must be an E.164 phone number.');
    if (typeof body !== 'string') return controlError(400, 'invalid_body', 'body must be a string.');
    if (!Array.isArray(mediaUrls) || !mediaUrls.every((u) => typeof u === 'string' && isHttpUrl(u))) return controlError(400, 'invalid_media_urls', 'media_urls must be an array of http(s) URLs.');
    return inbound(from, to, body, mediaUrls as string[]);
  });
  controls.add('POST', '/_emulator/voice', async (req) => {
    const b = parseJsonObject(req.text);
    if (!b) return controlError(400, 'invalid_json', 'Body must be a JSON object.');
    const { from, to, digits } = b;
    if (typeof from !== 'string' || !isE164(from)) return controlError(400, 'invalid_from', 'from must be an E.164 phone number.');
    if (typeof to !== 'string' || !isE164(to)) return controlError(400, 'invalid_to', 'to must be an E.164 phone number.');
    if (digits !== undefined && (typeof digits !== 'string' || !/^[0-9*#w]*$/.test(digits))) return controlError(400, 'invalid_digits', 'digits must contain only 0-9, *, # and w.');
    const n = numberByPhone(to);
    if (!n) return controlError(404, 'unknown_number', `${to} is not a number of any emulated account.`);
    if (!n.voiceUrl) return controlError(409, 'no_voice_url', `${to} has no VoiceUrl configured.`);
    const owner = accounts.get(n.accountSid)!;
    const callSid = hexId('CA');
    const now = new Date();
    calls.push({ sid: callSid, accountSid: owner.sid, from, to, status: 'ringing', direction: 'inbound', created: now, updated: now, url: n.voiceUrl });
    const params: FlatForm = {
      AccountSid: owner.sid, ApiVersion: API_VERSION, CallSid: callSid, CallStatus: 'ringing', CallToken: '',
      Called: to, Caller: from, Direction: 'inbound', From: from, To: to,
      ...placeFields('From', from), ...placeFields('To', to), ...placeFields('Caller', from), ...placeFields('Called', to),
      ...(typeof digits === 'string' ? { Digits: digits } : {}),
    };
    const r = await postWebhook(owner, n.voiceUrl, n.voiceMethod, params);
    return json(200, { call_sid: callSid, url: r.url, status: r.status, content_type: r.content_type, body: r.body, error: r.error });
  });
  controls.add('POST', '/_emulator/reset', () => { reset(); return json(200, { reset: true }); });

  function configJson() {
    const shared = sharedNumberRecord();
    return {
      sharedNumber,
      sharedNumberSmsUrl: shared?.smsUrl ?? '',
      sharedNumberVoiceUrl: shared?.voiceUrl ?? null,
      emptyAreaCodes: [...emptyAreaCodes],
      callbackDelayMs,
    };
  }

  /** US/CA place fields Twilio adds to webhooks (FromCity, FromState, FromZip, FromCountry …). */
  function placeFields(prefix: string, phone: string): FlatForm {
    if (!phone.startsWith('+1')) return { [`${prefix}City`]: '', [`${prefix}State`]: '', [`${prefix}Zip`]: '', [`${prefix}Country`]: '' };
    const info = areaInfo(phone.slice(2, 5));
    const known = !info.locality.startsWith('Area ');
    return {
      [`${prefix}City`]: known ? info.locality.toUpperCase() : '',
      [`${prefix}State`]: known ? info.region : '',
      [`${prefix}Zip`]: known ? info.postal : '',
      [`${prefix}Country`]: info.country,
    };
  }

  async function inbound(from: string, to: string, body: string, mediaUrls: string[]): Promise<EmuResponse> {
    const n = numberByPhone(to);
    if (!n) return controlError(404, 'unknown_number', `${to} is not a number of any emulated account.`);
    const owner = accounts.get(n.accountSid)!;
    const now = new Date();
    const m: Message = {
      sid: hexId('SM'), accountSid: owner.sid, from, to, body, mediaUrls, numSegments: countSegments(body).segments,
      direction: 'inbound', status: 'received', errorCode: null, errorMessage: null, messagingServiceSid: null,
      statusCallback: null, price: null, created: now, updated: now, sent: now, callbacks: [],
    };
    messages.push(m);
    const keyword = body.trim().replace(/[.!]+$/, '').toUpperCase();
    let optOutType: string | undefined;
    if (OPT_OUT.has(keyword)) { optOuts.add(optKey(to, from)); optOutType = 'STOP'; }
    else if (OPT_IN.has(keyword)) { optOuts.delete(optKey(to, from)); optOutType = 'START'; }
    else if (HELP.has(keyword)) optOutType = 'HELP';
    if (!n.smsUrl) {
      return controlError(409, 'no_sms_url', `${to} has no SmsUrl configured${to === sharedNumber ? ' (set sharedNumberSmsUrl via POST /_emulator/config)' : ''}; the message was recorded as ${m.sid}.`);
    }
    const params: FlatForm = {
      ToCountry: placeFields('To', to).ToCountry as string,
      ToState: placeFields('To', to).ToState as string,
      SmsMessageSid: m.sid,
      NumMedia: String(mediaUrls.length),
      ToCity: placeFields('To', to).ToCity as string,
      FromZip: placeFields('From', from).FromZip as string,
      SmsSid: m.sid,
      FromState: placeFields('From', from).FromState as string,
      SmsStatus: 'received',
      FromCity: placeFields('From', from).FromCity as string,
      Body: body,
      FromCountry: placeFields('From', from).FromCountry as string,
      To: to,
      ToZip: placeFields('To', to).ToZip as string,
      NumSegments: String(m.numSegments),
      MessageSid: m.sid,
      AccountSid: owner.sid,
      From: from,
      ApiVersion: API_VERSION,
      ...(optOutType ? { OptOutType: optOutType } : {}),
    };
    mediaUrls.forEach((u, i) => {
      params[`MediaUrl${i}`] = u;
      params[`MediaContentType${i}`] = guessContentType(u);
    });
    const r = await postWebhook(owner, n.smsUrl, n.smsMethod, params);
    const replies = r.ok ? twimlMessages(r.body).map((text) => reply(owner, to, from, text)) : [];
    return json(200, {
      message_sid: m.sid, url: r.signature_url, status: r.status, content_type: r.content_type, body: r.body,
      error: r.error, opt_out_type: optOutType ?? null, replies,
    });
  }

  /** A TwiML <Message> reply becomes an outbound message, as Twilio would send it (blocked when opted out). */
  function reply(owner: Account, from: string, to: string, text: string) {
    const now = new Date();
    const m: Message = {
      sid: hexId('SM'), accountSid: owner.sid, from, to, body: text, mediaUrls: [], numSegments: countSegments(text).segments,
      direction: 'outbound-reply', status: 'queued', errorCode: null, errorMessage: null, messagingServiceSid: null,
      statusCallback: null, price: null, created: now, updated: now, sent: null, callbacks: [],
    };
    messages.push(m);
    if (optOuts.has(optKey(from, to))) {
      m.status = 'failed';
      m.errorCode = 21610;
      m.errorMessage = SYNC_ERRORS[21610];
    } else {
      runLifecycle(m, { status: 'delivered' });
    }
    return { sid: m.sid, body: m.body, status: m.status, error_code: m.errorCode };
  }

  // ---- the server --------------------------------------------------------------------------------------------
  const server = await serveHttp({
    name: 'twilio',
    port: opts.port,
    log,
    handler: async (req) => {
      if (req.path.startsWith('/_emulator/')) {
        const hit = controls.match(req.method, req.path);
        if (hit === null) return controlError(404, 'not_found', `No emulator control at ${req.path}`);
        if (hit === 'method_not_allowed') return controlError(405, 'method_not_allowed', `${req.method} is not supported on ${req.path}`);
        return hit.handler(req, hit.params);
      }
      const form = req.method === 'POST' ? parseFlatForm(req.text) : {};
      const pathAccount = /\/Accounts\/(AC[0-9a-fA-F]{32})/.exec(req.path)?.[1];
      const entry = requests.add({ method: req.method, path: req.path, query: queryObject(req.query), account: pathAccount, body: form });
      const res = await (async () => {
        const hit = router.match(req.method, req.path);
        if (hit === null) return notFound(req.path);
        if (hit === 'method_not_allowed') return twilioError(405, 20004, 'Method not allowed');
        const auth = authenticate(req);
        if (isResponse(auth)) return auth;
        entry.account ??= auth.account.sid;
        return hit.handler({ req, params: hit.params, form, auth: auth.account, viaKey: auth.viaKey });
      })();
      entry.status = res.status;
      return { ...res, headers: { ...res.headers, 'twilio-request-id': hexId('RQ') } };
    },
  });

  return {
    name: 'twilio',
    url: server.url,
    async stop() {
      generation.abort();
      await server.stop();
      await Promise.allSettled([...pending]);
    },
  };
}

function isResponse(x: unknown): x is EmuResponse {
  // Accounts carry a string status; responses a numeric one.
  return typeof x === 'object' && x !== null && typeof (x as EmuResponse).status === 'number';
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function guessContentType(url: string): string {
  const ext = /\.([a-z0-9]+)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase();
  return ({ jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic', pdf: 'application/pdf', mp4: 'video/mp4' } as Record<string, string>)[ext ?? ''] ?? 'image/jpeg';
}

/** The text of each <Message> verb of a TwiML response (<Message>text</Message> or <Message><Body>text</Body>). */
function twimlMessages(xml: string): string[] {
  if (!/<Response[\s>]/.test(xml)) return [];
  const out: string[] = [];
  for (const m of xml.matchAll(/<Message\b[^>]*?(?:\/>|>([\s\S]*?)<\/Message>)/g)) {
    const inner = m[1] ?? '';
    const body = /<Body>([\s\S]*?)<\/Body>/.exec(inner)?.[1] ?? inner.replace(/<Media>[\s\S]*?<\/Media>/g, '');
    const text = body.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&').trim();
    if (text) out.push(text);
  }
  return out;
}
