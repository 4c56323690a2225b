/**
 * POST /functions/v1/twilio-status (verify_jwt = false) — Twilio's message status callbacks.
 * The X-Twilio-Signature is checked over the configured public URL (`${TWILIO_WEBHOOK_BASE_URL}/twilio-status`
 * plus the query as received) with the Auth Token of the account named by AccountSid — the platform account, or a
 * shop's subaccount / BYO account (telephony's credential store); unsigned, mis-signed or unknown-account requests
 * get 403 and nothing is written. A callback signed by a shop's account about a message that is not that shop's
 * own-number message is 403 too (one shop's valid token never moves another shop's messages). Each (MessageSid, MessageStatus) is recorded once,
 * the message only moves forward, error codes are kept. Answers 200 `{ ok, duplicate }`.
 */
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger } from '../_shared/log.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { rpcFromClient } from '../_shared/messaging/deliver.ts';
import { lazyKeyring } from '../_shared/messaging/sender.ts';
import { field as one, notYours, verifiedForm, type TwilioWebhookDeps } from '../_shared/messaging/webhook.ts';
import { credentialStore, tenantAccountResolver } from '../_shared/telephony/accounts.ts';
import { keyringFromEnv } from '../_shared/telephony/crypto.ts';
import { platformAccountResolver } from '../_shared/twilio.ts';

export interface StatusDeps extends TwilioWebhookDeps {
  /** The shop and sender kind of the outbound message with this Twilio SID, or null (not recorded yet / unknown). */
  messageOwner(sid: string): Promise<{ tenant_id: string; from_shared: boolean } | null>;
}

export function createHandler(deps: StatusDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const { params: p, account } = await verifiedForm(req, deps, 'twilio-status');
    const sid = one(p, 'MessageSid') ?? one(p, 'SmsSid');
    const status = one(p, 'MessageStatus') ?? one(p, 'SmsStatus');
    if (!sid || !status) throw new HttpError(400, 'invalid_callback', 'MessageSid and MessageStatus are required.');
    if (account.tenantId !== null) {
      // Signed by a shop's own account: the message must be that shop's, sent from its own number. (Not recorded
      // yet — the callback beat our settle — is allowed: it is kept by SID and applied only if the SID, which only
      // Twilio and the sending shop know, turns out to be that shop's. The platform's token is the master of every
      // subaccount, so it is not narrowed further.)
      const owner = await deps.messageOwner(sid);
      if (owner && (owner.tenant_id !== account.tenantId || owner.from_shared)) throw notYours(deps, 'twilio-status', account, sid);
    }
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

export function depsFromEnv(env: { get(name: string): string | undefined }): StatusDeps {
  const e = readEnv(getterOf(env), {
    SUPABASE_URL: PLATFORM_ENV.SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY: PLATFORM_ENV.SUPABASE_SERVICE_ROLE_KEY,
    TWILIO_ACCOUNT_SID: true, TWILIO_AUTH_TOKEN: true, TWILIO_WEBHOOK_BASE_URL: true,
  });
  const service = serviceClient(e);
  const store = credentialStore(service, lazyKeyring(() => keyringFromEnv((k) => env.get(k))));
  return {
    rpc: rpcFromClient(service),
    accounts: platformAccountResolver(e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN, tenantAccountResolver(store)),
    async messageOwner(sid) {
      const { data, error } = await service.from('messages').select('tenant_id, from_shared')
        .eq('twilio_sid', sid).eq('direction', 'outbound').limit(1);
      if (error) throw new HttpError(503, 'database_unavailable', 'The message could not be looked up; Twilio will retry.');
      return (data?.[0] as { tenant_id: string; from_shared: boolean } | undefined) ?? null;
    },
    webhookBase: e.TWILIO_WEBHOOK_BASE_URL,
    log: createLogger('twilio-status'),
  };
}
