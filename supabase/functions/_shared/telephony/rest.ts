/**
 * The Twilio REST calls telephony needs (2010-04-01 API, form posts, HTTP Basic), over fetch against
 * TWILIO_API_URL: subaccounts (create, fetch, update Status), AvailablePhoneNumbers (Local / TollFree search),
 * IncomingPhoneNumbers (buy, list, update, release) and Messages (IVR option 2). Errors reuse the messaging
 * client's classes from ../twilio.ts: TwilioApiError (Twilio answered 4xx/5xx, with its code) and
 * TwilioAmbiguousError (no answer: the request may or may not have been applied).
 */
import { TwilioAmbiguousError, TwilioApiError } from '../twilio.ts';

export { TwilioAmbiguousError, TwilioApiError };

export interface TwilioCreds {
  apiUrl: string;
  /** The account whose credentials authenticate (the platform's main account, or the shop's own). */
  accountSid: string;
  authToken: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface TwilioAccount {
  sid: string;
  friendly_name: string;
  status: 'active' | 'suspended' | 'closed';
  auth_token?: string;
  owner_account_sid?: string;
}

export interface AvailableNumber {
  phone_number: string;
  friendly_name: string;
  locality: string | null;
  region: string | null;
  postal_code?: string | null;
}

export interface IncomingNumber {
  sid: string;
  account_sid: string;
  phone_number: string;
  sms_url: string | null;
  voice_url: string | null;
  status_callback: string | null;
}

export async function twilioRequest<T>(
  c: TwilioCreds, method: 'GET' | 'POST' | 'DELETE', path: string, params?: Record<string, string | undefined>,
): Promise<T> {
  const f = c.fetch ?? fetch;
  const clean = Object.entries(params ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
  const qs = new URLSearchParams(clean);
  let url = `${c.apiUrl.replace(/\/+$/, '')}/2010-04-01${path}`;
  if (method === 'GET' && clean.length) url += `?${qs}`;
  const ctrl = new AbortController();
  const timeoutMs = c.timeoutMs ?? 15_000;
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await f(url, {
      method,
      headers: {
        Authorization: 'Basic ' + btoa(`${c.accountSid}:${c.authToken}`),
        Accept: 'application/json',
        ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: method === 'POST' ? qs.toString() : undefined,
      signal: ctrl.signal,
    });
    text = await res.text();
  } catch (e) {
    throw new TwilioAmbiguousError(ctrl.signal.aborted ? `Twilio did not answer within ${timeoutMs} ms`
      : `Twilio could not be reached: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  let body: Record<string, unknown> = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    if (res.ok) throw new TwilioAmbiguousError('Twilio answered with something that is not JSON');
  }
  if (!res.ok) {
    const code = typeof body.code === 'number' ? body.code : body.code ? Number(body.code) : null;
    throw new TwilioApiError(res.status, code !== null && Number.isFinite(code) ? code : null,
      typeof body.message === 'string' ? body.message : `Twilio answered HTTP ${res.status}`,
      typeof body.more_info === 'string' ? body.more_info : undefined);
  }
  return body as T;
}

const acct = (sid: string) => `/Accounts/${encodeURIComponent(sid)}`;

/** Creates a subaccount (the platform's credentials). The answer carries its auth_token: seal it at once. */
export function createSubaccount(c: TwilioCreds, friendlyName: string): Promise<TwilioAccount> {
  return twilioRequest<TwilioAccount>(c, 'POST', '/Accounts.json', { FriendlyName: friendlyName });
}

export function fetchAccount(c: TwilioCreds, sid: string): Promise<TwilioAccount> {
  return twilioRequest<TwilioAccount>(c, 'GET', `${acct(sid)}.json`);
}

export function setAccountStatus(c: TwilioCreds, sid: string, status: 'active' | 'suspended' | 'closed'): Promise<TwilioAccount> {
  return twilioRequest<TwilioAccount>(c, 'POST', `${acct(sid)}.json`, { Status: status });
}

export interface SearchQuery {
  areaCode?: string;
  nearNumber?: string;
  inRegion?: string;
  pageSize?: number;
}

export async function searchAvailable(
  c: TwilioCreds, accountSid: string, kind: 'Local' | 'TollFree', q: SearchQuery,
): Promise<AvailableNumber[]> {
  const r = await twilioRequest<{ available_phone_numbers: AvailableNumber[] }>(c, 'GET',
    `${acct(accountSid)}/AvailablePhoneNumbers/US/${kind}.json`, {
      AreaCode: q.areaCode, NearNumber: q.nearNumber, InRegion: q.inRegion, PageSize: String(q.pageSize ?? 20),
    });
  return r.available_phone_numbers ?? [];
}

export interface BuyInput {
  phoneNumber: string;
  smsUrl: string;
  voiceUrl: string;
  statusCallback: string;
  friendlyName?: string;
}

export function buyNumber(c: TwilioCreds, accountSid: string, input: BuyInput): Promise<IncomingNumber> {
  return twilioRequest<IncomingNumber>(c, 'POST', `${acct(accountSid)}/IncomingPhoneNumbers.json`, {
    PhoneNumber: input.phoneNumber, SmsUrl: input.smsUrl, SmsMethod: 'POST', VoiceUrl: input.voiceUrl,
    VoiceMethod: 'POST', StatusCallback: input.statusCallback, StatusCallbackMethod: 'POST', FriendlyName: input.friendlyName,
  });
}

export async function listNumbers(c: TwilioCreds, accountSid: string, phoneNumber?: string): Promise<IncomingNumber[]> {
  const r = await twilioRequest<{ incoming_phone_numbers: IncomingNumber[] }>(c, 'GET',
    `${acct(accountSid)}/IncomingPhoneNumbers.json`, { PhoneNumber: phoneNumber, PageSize: '100' });
  return r.incoming_phone_numbers ?? [];
}

/** DELETE = release. A number that is already gone (404) counts as released. */
export async function releaseNumber(c: TwilioCreds, accountSid: string, numberSid: string): Promise<void> {
  try {
    await twilioRequest<unknown>(c, 'DELETE', `${acct(accountSid)}/IncomingPhoneNumbers/${encodeURIComponent(numberSid)}.json`);
  } catch (e) {
    if (e instanceof TwilioApiError && e.status === 404) return;
    throw e;
  }
}

export function sendMessage(
  c: TwilioCreds, accountSid: string, input: { to: string; from: string; body: string },
): Promise<{ sid: string; status: string; num_segments: string | null }> {
  return twilioRequest(c, 'POST', `${acct(accountSid)}/Messages.json`, { To: input.to, From: input.from, Body: input.body });
}
