/**
 * POST /functions/v1/send-sms — send (or schedule) a text to a customer.
 * Body: { tenant_id, customer_id | to, template: 'pickup_ready' | 'review_request' | 'custom', body?,
 *         media_paths?, repair_order_id?, idempotency_key }
 * 200 { message: { id, status, segments, send_at } } when handed to Twilio (or replayed), 202 when scheduled
 * for the recipient's sending window (or left for reconciliation). Errors: { code, message, details? } —
 * 401 unauthorized, 403 forbidden, 404 customer_not_found, 409 review_recently_requested, 422 invalid_phone |
 * opted_out | body_required | body_too_long | invalid_request | review_link_missing | send_failed,
 * 402 quota_exceeded | billing_inactive, 429 rate_limited (Retry-After), 503 credential_unreadable (the shop's own
 * number's Twilio credentials cannot be opened: nothing reserved). A shop with an active own number sends from it
 * with its own Twilio account; every other shop from the platform's shared number (_shared/messaging/sender.ts).
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { authDepsFromClient, requireUser, type AuthDeps } from '../_shared/auth.ts';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, readJson, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { anonClient, serviceClient } from '../_shared/supabase.ts';
import { RpcError, deliverReserved, rpcFromClient, type DeliverDeps, type Rpc } from '../_shared/messaging/deliver.ts';
import { mediaSigner } from '../_shared/messaging/media.ts';
import { MAX_BODY_CHARS, countSegments } from '../_shared/messaging/segments.ts';
import { quietHoursDecision } from '../_shared/messaging/quiet-hours.ts';
import { firstName, renderTemplate, vehicleLabel } from '../_shared/messaging/templates.ts';
import { directoryFromDb, lazyKeyring, senderResolver, type SenderResolver } from '../_shared/messaging/sender.ts';
import { credentialStore } from '../_shared/telephony/accounts.ts';
import { keyringFromEnv } from '../_shared/telephony/crypto.ts';
import type { TwilioConfig } from '../_shared/twilio.ts';

export interface SendSmsDeps extends DeliverDeps {
  auth: AuthDeps;
  rpc: Rpc;
  /** Which number and Twilio account send for a shop (its own active number, else the shared one). */
  senders: SenderResolver;
  /** Base of our short links: `${base}/<code>` redirects to the shop's review page. */
  shortLinkBase: string;
  /** A signed, expiring URL Twilio can fetch for a stored media path (null: not this shop's file). */
  mediaUrl(tenantId: string, path: string): Promise<string | null>;
  now(): Date;
  newCode(): string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TEMPLATES = new Set(['pickup_ready', 'review_request', 'custom']);

interface SendRequest {
  tenant_id: string;
  customer_id?: string;
  to?: string;
  template: 'pickup_ready' | 'review_request' | 'custom';
  body?: string;
  media_paths?: string[];
  repair_order_id?: string;
  idempotency_key: string;
}

function bad(message: string): HttpError {
  return new HttpError(422, 'invalid_request', message);
}

export function parseSendRequest(raw: unknown): SendRequest {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('Send a JSON object.');
  const r = raw as Record<string, unknown>;
  if (typeof r.tenant_id !== 'string' || !UUID.test(r.tenant_id)) throw bad('tenant_id must be the shop\'s id (a UUID).');
  if (r.customer_id !== undefined && r.customer_id !== null && (typeof r.customer_id !== 'string' || !UUID.test(r.customer_id))) {
    throw bad('customer_id must be a UUID.');
  }
  if (!r.customer_id && (typeof r.to !== 'string' || !r.to.trim())) throw bad('Name a customer_id or a to number.');
  if (typeof r.template !== 'string' || !TEMPLATES.has(r.template)) {
    throw bad('template must be pickup_ready, review_request or custom.');
  }
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') throw bad('body must be text.');
  if (r.media_paths !== undefined && r.media_paths !== null && (!Array.isArray(r.media_paths) || r.media_paths.length > 10
    || r.media_paths.some((p) => typeof p !== 'string' || !p || p.length > 500))) {
    throw bad('media_paths must be a list of at most 10 storage paths.');
  }
  if (r.repair_order_id !== undefined && r.repair_order_id !== null && (typeof r.repair_order_id !== 'string' || !UUID.test(r.repair_order_id))) {
    throw bad('repair_order_id must be a UUID.');
  }
  if (typeof r.idempotency_key !== 'string' || r.idempotency_key.length < 1 || r.idempotency_key.length > 200) {
    throw bad('idempotency_key must be 1 to 200 characters (the same key for every retry of one message).');
  }
  return r as unknown as SendRequest;
}

export function normalisePhone(input: string, country: 'US' | 'CA' = 'US'): string | null {
  const p = parsePhoneNumberFromString(input.trim(), country);
  return p && p.isValid() ? p.number : null;
}

const RPC_STATUS: Record<string, number> = {
  forbidden: 403, not_authenticated: 401, customer_not_found: 404, opted_out: 422, invalid_phone: 422,
  invalid_body: 422, invalid_idempotency_key: 422, customer_required: 422, quota_exceeded: 402, billing_inactive: 402,
  rate_limited: 429, review_recently_requested: 409,
};

function fromRpc(e: unknown): never {
  if (e instanceof RpcError && RPC_STATUS[e.code]) {
    throw new HttpError(RPC_STATUS[e.code]!, e.code, e.message, e.detail ?? undefined);
  }
  throw e;
}

/** Twilio's definite refusals, in words people can act on. */
export function twilioErrorToHttp(code: number | null, message: string): HttpError {
  switch (code) {
    case 21610: return new HttpError(422, 'opted_out', 'This customer has opted out of texts (they replied STOP). They can text START to opt back in.');
    case 21211: case 21614: return new HttpError(422, 'invalid_phone', 'This phone number cannot receive texts. Check the number.');
    case 21408: return new HttpError(422, 'region_not_enabled', 'Texts to this country are not enabled.');
    case 21612: return new HttpError(422, 'unreachable', 'The carrier cannot deliver texts to this number.');
    case 21617: return new HttpError(422, 'body_too_long', 'The message is longer than 1,600 characters.');
    case 21611: return new HttpError(503, 'sender_busy', 'The sending number is overloaded right now; try again later.');
    default: return new HttpError(422, 'send_failed', `The text could not be sent (Twilio ${code ?? 'error'}: ${message}).`);
  }
}

export function createHandler(deps: SendSmsDeps): Handler {
  const inner = withErrors(handle(deps), deps.log, { cors: true });
  // 429 carries Retry-After (seconds until the shop's per-minute window opens again), as HTTP clients expect.
  return async (req) => {
    const res = await inner(req);
    if (res.status !== 429) return res;
    const body = await res.clone().json().catch(() => null) as { details?: { retry_after?: number } } | null;
    const after = body?.details?.retry_after;
    if (typeof after !== 'number') return res;
    const headers = new Headers(res.headers);
    headers.set('Retry-After', String(Math.max(1, Math.ceil(after))));
    return new Response(res.body, { status: 429, headers });
  };
}

function handle(deps: SendSmsDeps): Handler {
  return async (req) => {
    allowMethods(req, ['POST']);
    const user = await requireUser(req, deps.auth);
    const input = parseSendRequest(await readJson(req, 64 * 1024));
    let to: string | null = null;
    if (!input.customer_id) {
      to = normalisePhone(input.to!);
      if (!to) throw new HttpError(422, 'invalid_phone', 'That is not a valid phone number. Use a full number like (555) 123-4567.');
    }
    const ctx = await deps.rpc('messaging_send_context', {
      user_id: user.id, tenant_id: input.tenant_id, customer_id: input.customer_id ?? null, to_phone: to,
    }).catch(fromRpc) as {
      tenant: { name: string; time_zone: string; google_review_url: string | null };
      customer: { id: string; name: string; phone: string; vehicles: unknown } | null;
      phone: string | null; opted_out: boolean;
      settings: { quiet_start: string; quiet_end: string; pickup_template: string; review_template: string };
    };
    const phone = ctx.phone ?? to;
    if (!phone || !normalisePhone(phone)) throw new HttpError(422, 'invalid_phone', 'The customer\'s phone number cannot receive texts.');
    if (ctx.opted_out) {
      throw new HttpError(422, 'opted_out', 'This customer has opted out of texts (they replied STOP). They can text START to opt back in.');
    }

    // Render.
    let code: string | null = null;
    let body: string;
    const values = {
      first_name: firstName(ctx.customer?.name), shop_name: ctx.tenant.name, vehicle: vehicleLabel(ctx.customer?.vehicles),
    };
    if (input.template === 'custom') {
      body = (input.body ?? '').trim();
      if (!body && !input.media_paths?.length) throw new HttpError(422, 'body_required', 'Write a message first.');
      body = renderTemplate(body, values);
    } else if (input.template === 'pickup_ready') {
      body = renderTemplate(input.body?.trim() || ctx.settings.pickup_template, values);
    } else {
      if (!ctx.tenant.google_review_url) {
        throw new HttpError(422, 'review_link_missing', 'Add your Google review link in Settings before asking for reviews.');
      }
      if (!ctx.customer) throw new HttpError(422, 'customer_required', 'Review requests go to a saved customer.');
      code = deps.newCode();
      body = renderTemplate(input.body?.trim() || ctx.settings.review_template, {
        ...values, review_link: `${deps.shortLinkBase.replace(/\/+$/, '')}/${code}`,
      });
      if (!body.includes(code)) body = `${body} ${deps.shortLinkBase.replace(/\/+$/, '')}/${code}`;
    }
    if ([...body].length > MAX_BODY_CHARS) {
      throw new HttpError(422, 'body_too_long', `A text can be at most ${MAX_BODY_CHARS} characters.`);
    }
    const seg = countSegments(body || ' ');
    const mediaUrls: string[] = [];
    for (const p of input.media_paths ?? []) {
      const u = await deps.mediaUrl(input.tenant_id, p);
      if (!u) throw new HttpError(422, 'invalid_media', `The photo ${p} is not one of this shop's files.`);
      mediaUrls.push(u);
    }

    // Quiet hours in the recipient's zone.
    const quiet = quietHoursDecision(deps.now(), phone, ctx.tenant.time_zone,
      { start: ctx.settings.quiet_start, end: ctx.settings.quiet_end });

    // The sender before the reservation: unreadable credentials are a 503 with nothing reserved or charged.
    const sender = await deps.senders.forTenant(input.tenant_id);

    const reserved = await deps.rpc('messaging_reserve_send', {
      user_id: user.id, tenant_id: input.tenant_id, customer_id: ctx.customer?.id ?? null, to_phone: phone,
      from_phone: sender.from, from_shared: sender.shared, template: input.template, body,
      media_paths: input.media_paths ?? [], segments: seg.segments, encoding: seg.encoding,
      idempotency_key: input.idempotency_key, send_at: quiet.sendAt?.toISOString() ?? null,
      repair_order_id: input.repair_order_id ?? null, review_code: code,
    }).catch(fromRpc) as { id: string; status: string; segments: number; send_at: string | null; replayed: boolean };

    const answer = (status: number, m: { id: string; status: string; segments: number; send_at: string | null }) =>
      json(status, { message: { id: m.id, status: m.status, segments: m.segments, send_at: m.send_at } }, { 'Cache-Control': 'no-store' });

    if (reserved.replayed) return answer(reserved.status === 'scheduled' ? 202 : 200, reserved);
    if (reserved.status === 'scheduled') return answer(202, reserved);

    const result = await deliverReserved(deps, { id: reserved.id, to: phone, from: sender.from, body, mediaUrls, twilio: sender.twilio });
    if (result.outcome === 'failed') {
      const err = twilioErrorToHttp(result.twilioError?.code ?? null, result.twilioError?.message ?? '');
      throw new HttpError(err.status, err.code, err.message, { message_id: reserved.id, twilio_code: result.twilioError?.code ?? null });
    }
    return answer(result.outcome === 'sent' ? 200 : 202, result.message);
  };
}

function randomCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export function depsFromEnv(env: { get(name: string): string | undefined }): SendSmsDeps {
  const e = readEnv(getterOf(env), {
    ...PLATFORM_ENV,
    TWILIO_API_URL: { default: 'https://api.twilio.com' },
    TWILIO_ACCOUNT_SID: true,
    TWILIO_AUTH_TOKEN: true,
    TWILIO_SHARED_NUMBER: true,
    TWILIO_WEBHOOK_BASE_URL: true,
    SHORT_LINK_BASE_URL: { optional: true },
  });
  const service = serviceClient(e);
  const twilio: TwilioConfig = { apiUrl: e.TWILIO_API_URL, accountSid: e.TWILIO_ACCOUNT_SID, authToken: e.TWILIO_AUTH_TOKEN, timeoutMs: 10_000 };
  const store = credentialStore(service, lazyKeyring(() => keyringFromEnv((k) => env.get(k))));
  return {
    auth: authDepsFromClient(anonClient(e)),
    rpc: rpcFromClient(service),
    twilio,
    statusCallback: `${e.TWILIO_WEBHOOK_BASE_URL.replace(/\/+$/, '')}/twilio-status`,
    senders: senderResolver({ platform: twilio, sharedNumber: e.TWILIO_SHARED_NUMBER, directory: directoryFromDb(service, store) }),
    shortLinkBase: e.SHORT_LINK_BASE_URL ?? `${e.SUPABASE_URL.replace(/\/+$/, '')}/functions/v1/r`,
    mediaUrl: mediaSigner(service),
    now: () => new Date(),
    newCode: randomCode,
    log: createLogger('send-sms'),
  };
}
