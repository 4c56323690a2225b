/**
 * Twilio over plain fetch (Deno and Node): the Messages API (create, fetch, list) against TWILIO_API_URL
 * (https://api.twilio.com in production, the emulator locally) with HTTP Basic auth, X-Twilio-Signature
 * validation for webhooks, and TwiML replies. No SDK: the edge runtime stays small and the wire format is
 * the one Twilio documents.
 */
export interface TwilioConfig {
  apiUrl: string;
  accountSid: string;
  authToken: string;
  /** Abort the HTTP call after this long (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface TwilioMessage {
  sid: string;
  status: string;
  to: string;
  from: string | null;
  body: string;
  num_segments: string | null;
  error_code: number | null;
  error_message: string | null;
  date_created: string | null;
  account_sid: string;
}

/** Twilio answered with an error (4xx/5xx). `code` is Twilio's (21211, 21610, 20429, …) when it sent one. */
export class TwilioApiError extends Error {
  constructor(readonly status: number, readonly code: number | null, message: string, readonly moreInfo?: string) {
    super(message);
    this.name = 'TwilioApiError';
  }
  /** Never processed by Twilio: always safe to retry (20429 / HTTP 429, 503). */
  get retryable(): boolean {
    return this.status === 429 || this.code === 20429 || this.status === 503;
  }
  /** A definite non-send: Twilio refused the request (4xx other than 429). */
  get definite(): boolean {
    return this.status >= 400 && this.status < 500 && !this.retryable;
  }
}

/** The request may or may not have reached Twilio (timeout, connection reset): never resend automatically. */
export class TwilioAmbiguousError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TwilioAmbiguousError';
  }
}

function basic(cfg: TwilioConfig): string {
  return 'Basic ' + btoa(`${cfg.accountSid}:${cfg.authToken}`);
}

async function call(cfg: TwilioConfig, method: string, path: string, form?: URLSearchParams): Promise<unknown> {
  const f = cfg.fetch ?? fetch;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), cfg.timeoutMs ?? 10_000);
  let res: Response;
  try {
    res = await f(`${cfg.apiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(cfg.accountSid)}${path}`, {
      method,
      headers: {
        Authorization: basic(cfg),
        Accept: 'application/json',
        ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form?.toString(),
      signal: ctrl.signal,
    });
  } catch (e) {
    clearTimeout(timer);
    const aborted = ctrl.signal.aborted;
    throw new TwilioAmbiguousError(aborted ? `Twilio did not answer within ${cfg.timeoutMs ?? 10_000} ms`
      : `Twilio could not be reached: ${(e as Error).message}`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    clearTimeout(timer);
    throw new TwilioAmbiguousError(`Twilio's answer was cut off: ${(e as Error).message}`);
  }
  clearTimeout(timer);
  let body: Record<string, unknown> = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    if (res.ok) throw new TwilioAmbiguousError('Twilio answered with something that is not JSON');
  }
  if (!res.ok) {
    const code = typeof body.code === 'number' ? body.code : body.code ? Number(body.code) : null;
    throw new TwilioApiError(res.status, Number.isFinite(code) ? code : null,
      typeof body.message === 'string' ? body.message : `Twilio answered HTTP ${res.status}`,
      typeof body.more_info === 'string' ? body.more_info : undefined);
  }
  return body;
}

export interface CreateMessageInput {
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  mediaUrls?: string[];
  statusCallback?: string;
}

export async function createMessage(cfg: TwilioConfig, input: CreateMessageInput): Promise<TwilioMessage> {
  const form = new URLSearchParams();
  form.set('To', input.to);
  if (input.from) form.set('From', input.from);
  if (input.messagingServiceSid) form.set('MessagingServiceSid', input.messagingServiceSid);
  if (input.body) form.set('Body', input.body);
  for (const u of input.mediaUrls ?? []) form.append('MediaUrl', u);
  if (input.statusCallback) form.set('StatusCallback', input.statusCallback);
  return await call(cfg, 'POST', '/Messages.json', form) as TwilioMessage;
}

export async function fetchMessage(cfg: TwilioConfig, sid: string): Promise<TwilioMessage | null> {
  try {
    return await call(cfg, 'GET', `/Messages/${encodeURIComponent(sid)}.json`) as TwilioMessage;
  } catch (e) {
    if (e instanceof TwilioApiError && e.status === 404) return null;
    throw e;
  }
}

/** Messages from → to sent on or after the given day (UTC), newest first (first page, up to 100). */
export async function listMessages(
  cfg: TwilioConfig, q: { to?: string; from?: string; dateSentAfter?: Date },
): Promise<TwilioMessage[]> {
  const p = new URLSearchParams({ PageSize: '100' });
  if (q.to) p.set('To', q.to);
  if (q.from) p.set('From', q.from);
  if (q.dateSentAfter) p.set('DateSent>', q.dateSentAfter.toISOString().slice(0, 10));
  const body = await call(cfg, 'GET', `/Messages.json?${p}`) as { messages?: TwilioMessage[] };
  return body.messages ?? [];
}

/** Retry `fn` while it fails with a retryable Twilio error (20429/429/503): exponential backoff with full jitter. */
export async function withTwilioRetry<T>(
  fn: () => Promise<T>,
  opts: { retries?: number; baseMs?: number; maxMs?: number; sleep?: (ms: number) => Promise<void>; random?: () => number;
    onRetry?: (attempt: number, delayMs: number, e: TwilioApiError) => void } = {},
): Promise<T> {
  const retries = opts.retries ?? 3, base = opts.baseMs ?? 200, max = opts.maxMs ?? 2_000;
  const sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof TwilioApiError) || !e.retryable || attempt >= retries) throw e;
      const cap = Math.min(max, base * 2 ** attempt);
      const delay = Math.round(cap / 2 + random() * cap / 2);
      opts.onRetry?.(attempt + 1, delay, e);
      await sleep(delay);
    }
  }
}

// ------------------------------------------------------------------------------------------ signatures
export type FormParams = Record<string, string | string[]>;

/** Twilio's signature: base64(HMAC-SHA1(authToken, url + sorted(key+value)…)); list values sorted, deduplicated. */
export async function expectedSignature(authToken: string, url: string, params: FormParams): Promise<string> {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const v = params[key]!;
    if (Array.isArray(v)) for (const one of Array.from(new Set(v)).sort()) data += key + one;
    else data += key + v;
  }
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(authToken), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(data)));
  let bin = '';
  for (const b of sig) bin += String.fromCharCode(b);
  return btoa(bin);
}

function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

/** The URL with and without an explicit default port, as twilio-node checks both. */
function urlVariants(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    const def = u.protocol === 'https:' ? '443' : '80';
    if (u.port) {
      const noPort = url.replace(`${u.hostname}:${u.port}`, u.hostname);
      if (u.port === def) out.push(noPort);
    } else {
      out.push(url.replace(u.host, `${u.hostname}:${def}`));
    }
  } catch { /* keep the raw URL */ }
  return out;
}

/** Is `signature` valid for `url` (the configured public URL, not the proxied request URL) and `params`? */
export async function validateSignature(
  authToken: string, signature: string | null, url: string, params: FormParams,
): Promise<boolean> {
  if (!authToken || !signature) return false;
  for (const u of urlVariants(url)) {
    if (safeEqual(await expectedSignature(authToken, u, params), signature)) return true;
  }
  return false;
}

/** Form body → params (repeated keys become lists, as Twilio signs them). */
export function formParams(body: string): FormParams {
  const out: FormParams = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const cur = out[k];
    if (cur === undefined) out[k] = v;
    else out[k] = Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return out;
}

/** The public URL Twilio signs: the configured base + path + the query string exactly as received. */
export function publicWebhookUrl(base: string, fnName: string, req: Request): string {
  const q = new URL(req.url).search;
  return `${base.replace(/\/+$/, '')}/${fnName}${q}`;
}

/**
 * Whose token validates a webhook: the account named by its AccountSid — the platform account, or a shop's
 * subaccount / bring-your-own account (telephony's credential store). `tenantId` is null for the platform account.
 * Returns null for an account we do not know (→ 403).
 */
export interface WebhookAccount {
  accountSid: string;
  authToken: string;
  tenantId: string | null;
}

export interface AccountResolver {
  accountFor(accountSid: string | null): Promise<WebhookAccount | null>;
}

/** The platform account (also for a request without AccountSid), then the shops' accounts. */
export function platformAccountResolver(accountSid: string, authToken: string, shops?: AccountResolver): AccountResolver {
  return {
    async accountFor(sid) {
      if (!sid || sid === accountSid) return { accountSid, authToken, tenantId: null };
      return shops ? await shops.accountFor(sid) : null;
    },
  };
}

// ------------------------------------------------------------------------------------------ TwiML
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function twimlResponse(messages: string[] = []): Response {
  const inner = messages.map((m) => `<Message>${xmlEscape(m)}</Message>`).join('');
  return new Response(`<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`, {
    status: 200, headers: { 'Content-Type': 'text/xml; charset=utf-8' },
  });
}
