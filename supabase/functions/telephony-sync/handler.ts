/**
 * POST /functions/v1/telephony-sync — keeps each shop's Twilio account in line with its billing status.
 * Called by the tenants.status trigger through pg_net ({ tenant_id }) with Vault's cron_function_key, and usable as
 * a periodic reconcile ({} → every shop with a subaccount or a live number). Service callers only.
 * Desired state is read here, never taken from the request: suspended/canceled → the shop's subaccount is
 * suspended at Twilio and its number row 'suspended' (kept: nothing is released); any other status → reactivated
 * and 'active'. Idempotent: already-right accounts are left alone. A bring-your-own account is the shop's own, so
 * only our row changes (the voice webhook answers the closed message while suspended).
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, readJson, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { isServiceCaller, parseTenantId, serviceKeysFrom } from '../_shared/telephony/access.ts';
import { TwilioApiError, fetchAccount, setAccountStatus, type TwilioCreds } from '../_shared/telephony/rest.ts';

export interface SyncDeps {
  db: SupabaseClient;
  /** The platform's main account: the parent may change its subaccounts' status. */
  twilio: TwilioCreds;
  serviceKeys: string[];
  log: Log;
}

export interface SyncResult {
  tenant_id: string;
  desired: 'active' | 'suspended';
  twilio: 'changed' | 'unchanged' | 'not_ours' | 'missing' | 'none' | 'error';
  numbers: number;
}

const SUSPENDED = new Set(['suspended', 'canceled']);

export async function syncTenant(deps: SyncDeps, tenantId: string): Promise<SyncResult> {
  const { data: t, error } = await deps.db.from('tenants').select('status').eq('id', tenantId).maybeSingle();
  if (error) throw new HttpError(503, 'database_unavailable', 'Try again.');
  if (!t) throw new HttpError(404, 'tenant_not_found', 'No such shop.');
  const desired = SUSPENDED.has((t as { status: string }).status) ? 'suspended' : 'active';
  const { data: cred, error: cErr } = await deps.db.from('tenant_twilio_credentials').select('account_sid')
    .eq('tenant_id', tenantId).eq('kind', 'subaccount').maybeSingle();
  if (cErr) throw new HttpError(503, 'database_unavailable', 'Try again.');
  let twilio: SyncResult['twilio'] = 'none';
  if (cred) {
    const sid = (cred as { account_sid: string }).account_sid;
    try {
      const acct = await fetchAccount(deps.twilio, sid);
      if (acct.status === 'closed') twilio = 'not_ours';
      else if (acct.status === desired) twilio = 'unchanged';
      else {
        await setAccountStatus(deps.twilio, sid, desired);
        twilio = 'changed';
        deps.log.info('subaccount status changed', { tenant_id: tenantId, account: sid, status: desired });
      }
    } catch (e) {
      if (e instanceof TwilioApiError && e.status === 404) {
        // Closed or deleted at Twilio: nothing left to suspend or reactivate there; say so and carry on.
        deps.log.warn('subaccount not found at twilio', { tenant_id: tenantId, account: sid });
        twilio = 'missing';
        return { tenant_id: tenantId, desired, twilio, numbers: await followRows(deps, tenantId, desired) };
      }
      deps.log.error('subaccount status not synced', {
        tenant_id: tenantId, account: sid, status: e instanceof TwilioApiError ? e.status : null, error: (e as Error).message,
      });
      twilio = 'error';
    }
  }
  // Rows follow only once Twilio agrees (or there is nothing at Twilio to change), so a retry finishes the job.
  const numbers = twilio === 'error' ? 0 : await followRows(deps, tenantId, desired);
  return { tenant_id: tenantId, desired, twilio, numbers };
}

async function followRows(deps: SyncDeps, tenantId: string, desired: 'active' | 'suspended'): Promise<number> {
  const [from, to] = desired === 'suspended' ? ['active', 'suspended'] : ['suspended', 'active'];
  const { data: rows, error } = await deps.db.from('tenant_phone_numbers').update({ status: to })
    .eq('tenant_id', tenantId).eq('status', from).select('id');
  if (error) throw new HttpError(503, 'database_unavailable', 'Try again.');
  return (rows ?? []).length;
}

export function createHandler(deps: SyncDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    if (!isServiceCaller(req, deps.serviceKeys)) throw new HttpError(403, 'forbidden', 'Only the server calls this.');
    const body = await readJson<Record<string, unknown>>(req, 8 * 1024).catch(() => ({} as Record<string, unknown>));
    let ids: string[];
    if (body && body.tenant_id !== undefined) ids = [parseTenantId(body.tenant_id)];
    else {
      const [c, n] = await Promise.all([
        deps.db.from('tenant_twilio_credentials').select('tenant_id').eq('kind', 'subaccount'),
        deps.db.from('tenant_phone_numbers').select('tenant_id').neq('status', 'released'),
      ]);
      if (c.error || n.error) throw new HttpError(503, 'database_unavailable', 'Try again.');
      ids = [...new Set([...(c.data ?? []), ...(n.data ?? [])].map((r) => (r as { tenant_id: string }).tenant_id))];
    }
    const results: SyncResult[] = [];
    for (const id of ids) results.push(await syncTenant(deps, id));
    const failed = results.filter((r) => r.twilio === 'error').length;
    return json(failed ? 502 : 200, { results, failed });
  }, deps.log);
}

export function depsFromEnv(env: { get(name: string): string | undefined }): SyncDeps {
  const e = readEnv(getterOf(env), {
    ...PLATFORM_ENV,
    SUPABASE_SECRET_KEYS: { optional: true },
    TWILIO_API_URL: { default: 'https://api.twilio.com' },
    TWILIO_ACCOUNT_SID: true, TWILIO_AUTH_TOKEN: true,
  });
  return {
    db: serviceClient(e),
    twilio: { apiUrl: e.TWILIO_API_URL, accountSid: e.TWILIO_ACCOUNT_SID, authToken: e.TWILIO_AUTH_TOKEN, timeoutMs: 10_000 },
    serviceKeys: serviceKeysFrom(e.SUPABASE_SERVICE_ROLE_KEY, e.SUPABASE_SECRET_KEYS),
    log: createLogger('telephony-sync'),
  };
}
