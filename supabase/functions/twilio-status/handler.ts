/**
 * POST /functions/v1/twilio-status (verify_jwt = false) — Twilio's message status callbacks.
 * The X-Twilio-Signature is checked over the configured public URL (`${TWILIO_WEBHOOK_BASE_URL}/twilio-status`
 * plus the query as received) with the Auth Token of the account named by AccountSid; unsigned, mis-signed or
 * unknown-account requests get 403 and nothing is written. Each (MessageSid, MessageStatus) is recorded once,
 * the message only moves forward, error codes are kept. Answers 200 `{ ok, duplicate }`.
 */
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger } from '../_shared/log.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { rpcFromClient } from '../_shared/messaging/deliver.ts';
import { field as one, verifiedForm, type TwilioWebhookDeps } from '../_shared/messaging/webhook.ts';
import { platformTokenResolver } from '../_shared/twilio.ts';

export type { TwilioWebhookDeps };

export function createHandler(deps: TwilioWebhookDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const p = await verifiedForm(req, deps, 'twilio-status');
    const sid = one(p, 'MessageSid') ?? one(p, 'SmsSid');
    const status = one(p, 'MessageStatus') ?? one(p, 'SmsStatus');
    if (!sid || !status) throw new HttpError(400, 'invalid_callback', 'MessageSid and MessageStatus are required.');
    const errorCode = one(p, 'ErrorCode');
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) if (k !== 'Body') raw[k] = v;
    const r = await deps.rpc('messaging_record_status', {
      message_sid: sid, status: status.toLowerCase(), error_code: errorCode && /^\d+$/.test(errorCode) ? Number(errorCode) : null,
      account_sid: one(p, 'AccountSid'), idempotency_token: req.headers.get('i-twilio-idempotency-token'), raw,
    }) as { duplicate: boolean; message_id?: string | null; status?: string | null };
    deps.log.info('status callback', { sid, status, duplicate: r.duplicate, message_id: r.message_id ?? null, now: r.status ?? null });
    return json(200, { ok: true, duplicate: r.duplicate });
  }, deps.log);
}

export function depsFromEnv(env: { get(name: string): string | undefined }): TwilioWebhookDeps {
  const e = readEnv(getterOf(env), {
    SUPABASE_URL: PLATFORM_ENV.SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY: PLATFORM_ENV.SUPABASE_SERVICE_ROLE_KEY,
    TWILIO_ACCOUNT_SID: true, TWILIO_AUTH_TOKEN: true, TWILIO_WEBHOOK_BASE_URL: true,
  });
  return {
    rpc: rpcFromClient(serviceClient(e)),
    tokens: platformTokenResolver(e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN),
    webhookBase: e.TWILIO_WEBHOOK_BASE_URL,
    log: createLogger('twilio-status'),
  };
}
