/**
 * POST /functions/v1/telephony-credentials — the "Advanced" bring-your-own Twilio account, and key rotation.
 *   { tenant_id, action: "status" }                                   owners/admins → { subaccount_sid, byo_account_sid }
 *   { tenant_id, action: "save_byo", account_sid, auth_token }        owners/admins → { byo_account_sid, saved: true }
 *       validated with a real call (GET /Accounts/{sid}.json with those credentials) before anything is stored;
 *       stored AES-256-GCM sealed; the token is never echoed, returned or logged.
 *   { tenant_id, action: "remove_byo" }                               owners/admins (not while a number uses it)
 *   { action: "rotate" }                                              service role only → { rotated, total }
 *       re-encrypts every credential not under TELEPHONY_ACTIVE_KEY_ID (docs/runbooks/secrets.md).
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { authDepsFromClient, requireUser, type AuthDeps } from '../_shared/auth.ts';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, readJson, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { anonClient, serviceClient } from '../_shared/supabase.ts';
import { credentialStore, liveNumberOf, type CredentialStore } from '../_shared/telephony/accounts.ts';
import { isServiceCaller, parseTenantId, requirePhoneAdmin, serviceKeysFrom } from '../_shared/telephony/access.ts';
import { keyringFromEnv, type Keyring } from '../_shared/telephony/crypto.ts';
import { TwilioApiError, fetchAccount } from '../_shared/telephony/rest.ts';

export interface CredentialsDeps {
  auth: AuthDeps;
  db: SupabaseClient;
  store: CredentialStore;
  twilioApiUrl: string;
  serviceKeys: string[];
  fetch?: typeof fetch;
  log: Log;
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const AUTH_TOKEN = /^[0-9a-fA-F]{32}$/;

export function createHandler(deps: CredentialsDeps): Handler {
  const { log } = deps;
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const body = await readJson<Record<string, unknown>>(req, 8 * 1024);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'invalid_body', 'Send a JSON object.');
    const action = body.action;

    if (action === 'rotate') {
      if (!isServiceCaller(req, deps.serviceKeys)) throw new HttpError(403, 'forbidden', 'Only the server rotates credential keys.');
      const r = await deps.store.rotate();
      log.info('telephony credentials re-encrypted', r);
      return json(200, r);
    }

    const user = await requireUser(req, deps.auth);
    const tenantId = parseTenantId(body.tenant_id);
    await requirePhoneAdmin(deps.db, user.id, tenantId);

    if (action === 'status') {
      const sids = await deps.store.accountSids(tenantId);
      return json(200, { subaccount_sid: sids.subaccount ?? null, byo_account_sid: sids.byo ?? null }, { 'Cache-Control': 'no-store' });
    }
    if (action === 'save_byo') {
      const sid = typeof body.account_sid === 'string' ? body.account_sid.trim() : '';
      const token = typeof body.auth_token === 'string' ? body.auth_token.trim() : '';
      if (!ACCOUNT_SID.test(sid)) throw new HttpError(400, 'invalid_account_sid', 'The Account SID starts with AC followed by 32 letters and digits (Twilio Console → Account info).');
      if (!AUTH_TOKEN.test(token)) throw new HttpError(400, 'invalid_auth_token', 'The Auth Token is 32 letters and digits (Twilio Console → Account info).');
      const live = await liveNumberOf(deps.db, tenantId);
      if (live && live.credential_kind === 'subaccount') {
        throw new HttpError(409, 'number_on_platform_account', 'Release the current number first: it belongs to the ServicePro account, not yours.');
      }
      let status: string;
      try {
        const acct = await fetchAccount({ apiUrl: deps.twilioApiUrl, accountSid: sid, authToken: token, fetch: deps.fetch, timeoutMs: 10_000 }, sid);
        status = acct.status;
      } catch (e) {
        if (e instanceof TwilioApiError && (e.status === 401 || e.status === 404 || e.code === 20003)) {
          throw new HttpError(422, 'invalid_twilio_credentials', 'Twilio did not accept this Account SID and Auth Token. Copy both again from the Twilio Console.');
        }
        log.warn('byo validation could not reach twilio', { error: (e as Error).message });
        throw new HttpError(502, 'twilio_unavailable', 'We could not reach Twilio to check these credentials. Nothing was saved; please try again.');
      }
      if (status !== 'active') {
        throw new HttpError(422, 'twilio_account_inactive', `That Twilio account is ${status}. Reactivate it in the Twilio Console first.`);
      }
      await deps.store.save(tenantId, 'byo', sid, token);
      log.info('byo twilio account saved', { tenant_id: tenantId, account: sid });
      return json(200, { byo_account_sid: sid, saved: true });
    }
    if (action === 'remove_byo') {
      const live = await liveNumberOf(deps.db, tenantId);
      if (live && live.credential_kind === 'byo') {
        throw new HttpError(409, 'number_on_byo_account', 'Release the number on your own account before disconnecting it.');
      }
      await deps.store.remove(tenantId, 'byo');
      return json(200, { byo_account_sid: null, removed: true });
    }
    throw new HttpError(400, 'invalid_action', 'action must be one of status, save_byo, remove_byo, rotate.');
  }, log, { cors: true });
}

export function depsFromEnv(env: { get(name: string): string | undefined }): CredentialsDeps {
  const e = readEnv(getterOf(env), {
    ...PLATFORM_ENV,
    SUPABASE_SECRET_KEYS: { optional: true },
    TWILIO_API_URL: { default: 'https://api.twilio.com' },
  });
  const db = serviceClient(e);
  let ring: Promise<Keyring> | null = null;
  const keyring = () => (ring ??= keyringFromEnv((k) => env.get(k)).catch((err) => {
    ring = null;
    throw new HttpError(503, 'telephony_not_configured', `Telephony is not configured on this server: ${(err as Error).message}`);
  }));
  return {
    auth: authDepsFromClient(anonClient(e)), db, store: credentialStore(db, keyring), twilioApiUrl: e.TWILIO_API_URL,
    serviceKeys: serviceKeysFrom(e.SUPABASE_SERVICE_ROLE_KEY, e.SUPABASE_SECRET_KEYS), log: createLogger('telephony-credentials'),
  };
}
