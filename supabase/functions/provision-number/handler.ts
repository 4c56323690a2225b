/**
 * POST /functions/v1/provision-number — a shop's own phone number (owners/admins; plan feature dedicated_number).
 *
 *   { tenant_id, area_code, phone_number?, allow_alternatives? }  → 200/201 { phone_number, status, reused, ... }
 *   { tenant_id, action: "release", confirm: true }               → 200 { phone_number, status: "released" }
 *
 * Provisioning: one Twilio subaccount per shop (created once, its token sealed in tenant_twilio_credentials, then
 * reused; a shop with a bring-your-own account uses that instead); a shop that already has a live number gets it
 * back. Search: local numbers in the area code → nearby (NearNumber, then the same state) → toll-free. When the
 * preferred area code has none, the answer is 409 no_numbers_in_area_code with the alternatives (the owner picks
 * one and calls again with phone_number, or sends allow_alternatives: true to take the first). The number is
 * bought with its SMS/voice webhooks and call status callback set in the same request, then recorded; if anything
 * after the purchase fails, the number is released again (compensation) so nothing is left half-made — the
 * subaccount stays for the next attempt.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { authDepsFromClient, requireUser, type AuthDeps } from '../_shared/auth.ts';
import { requireFeature, requireStanding } from '../_shared/billing/entitlements.ts';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, readJson, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { areaCodeInfo } from '../_shared/messaging/area-codes.ts';
import { anonClient, serviceClient } from '../_shared/supabase.ts';
import { credentialStore, liveNumberOf, type CredentialStore, type TenantAccount } from '../_shared/telephony/accounts.ts';
import { parseTenantId, requirePhoneAdmin } from '../_shared/telephony/access.ts';
import { keyringFromEnv, type Keyring } from '../_shared/telephony/crypto.ts';
import {
  TwilioAmbiguousError, TwilioApiError, buyNumber, createSubaccount, listNumbers, releaseNumber, searchAvailable,
  setAccountStatus, type AvailableNumber, type TwilioCreds,
} from '../_shared/telephony/rest.ts';

export interface ProvisionDeps {
  auth: AuthDeps;
  db: SupabaseClient;
  store: CredentialStore;
  /** The platform's main account (creates subaccounts). */
  twilio: TwilioCreds;
  webhookBase: string;
  log: Log;
}

export interface Alternative {
  phone_number: string;
  friendly_name: string;
  locality: string | null;
  region: string | null;
  kind: 'local' | 'toll_free';
}

const AREA = /^[2-9][0-9]{2}$/;
const E164_US = /^\+1[2-9][0-9]{9}$/;

function twilioFailure(e: unknown, log: Log, what: string): HttpError {
  if (e instanceof TwilioApiError) {
    log.warn(`twilio refused: ${what}`, { status: e.status, twilio_code: e.code });
    if (e.code === 10001 || e.status === 403) {
      return new HttpError(409, 'twilio_account_inactive', 'The shop\'s Twilio account is suspended, so no number can be set up now.');
    }
    if (e.status === 401 || e.code === 20003) {
      return new HttpError(409, 'twilio_credentials_rejected', 'Twilio did not accept the shop\'s account credentials. Check the Advanced settings.');
    }
    if (e.retryable) return new HttpError(503, 'twilio_busy', 'Twilio is busy right now. Please try again in a minute.');
  } else {
    log.warn(`twilio unreachable: ${what}`, { error: (e as Error).message });
  }
  return new HttpError(502, 'twilio_unavailable', `We could not reach Twilio to ${what}. Nothing was set up; please try again.`);
}

export function createHandler(deps: ProvisionDeps): Handler {
  const { log } = deps;
  const base = deps.webhookBase.replace(/\/+$/, '');
  const urls = { smsUrl: `${base}/twilio-inbound`, voiceUrl: `${base}/twilio-voice`, statusCallback: `${base}/twilio-voice?event=status` };

  /** The shop's account: its own (BYO) when saved, else its subaccount — created once. */
  async function accountFor(tenantId: string): Promise<TenantAccount> {
    const byo = await deps.store.get(tenantId, 'byo');
    if (byo) return byo;
    const existing = await deps.store.get(tenantId, 'subaccount');
    if (existing) return existing;
    let created;
    try {
      created = await createSubaccount(deps.twilio, `ServicePro shop ${tenantId}`);
    } catch (e) {
      throw twilioFailure(e, log, 'create the shop\'s phone account');
    }
    if (!created.auth_token) throw new HttpError(502, 'twilio_unavailable', 'Twilio did not return the new account\'s credentials.');
    const won = await deps.store.insertIfAbsent(tenantId, 'subaccount', created.sid, created.auth_token);
    if (!won) {
      // A concurrent request created the shop's subaccount first: close ours so no orphan account stays open.
      await setAccountStatus(deps.twilio, created.sid, 'closed').catch((e) =>
        log.error('could not close a duplicate subaccount', { account: created.sid, error: (e as Error).message }));
      const winner = await deps.store.get(tenantId, 'subaccount');
      if (!winner) throw new HttpError(503, 'database_unavailable', 'Please try again.');
      return winner;
    }
    log.info('subaccount created', { tenant_id: tenantId, account: created.sid });
    return { tenantId, kind: 'subaccount', accountSid: created.sid, authToken: created.auth_token };
  }

  const credsOf = (a: TenantAccount): TwilioCreds => ({ ...deps.twilio, accountSid: a.accountSid, authToken: a.authToken });

  async function search(a: TenantAccount, areaCode: string): Promise<{ preferred: AvailableNumber[]; alternatives: Alternative[] }> {
    const c = credsOf(a);
    const tag = (kind: Alternative['kind']) => (n: AvailableNumber): Alternative =>
      ({ phone_number: n.phone_number, friendly_name: n.friendly_name, locality: n.locality ?? null, region: n.region ?? null, kind });
    try {
      const preferred = await searchAvailable(c, a.accountSid, 'Local', { areaCode, pageSize: 10 });
      if (preferred.length) return { preferred, alternatives: [] };
      const seen = new Set<string>();
      const alternatives: Alternative[] = [];
      const add = (list: Alternative[]) => {
        for (const n of list) if (!seen.has(n.phone_number) && alternatives.length < 10) { seen.add(n.phone_number); alternatives.push(n); }
      };
      add((await searchAvailable(c, a.accountSid, 'Local', { nearNumber: `+1${areaCode}5550100`, pageSize: 5 })).map(tag('local')));
      const region = areaCodeInfo(areaCode)?.region;
      if (region) add((await searchAvailable(c, a.accountSid, 'Local', { inRegion: region, pageSize: 5 })).map(tag('local')));
      add((await searchAvailable(c, a.accountSid, 'TollFree', { pageSize: 5 })).map(tag('toll_free')));
      return { preferred: [], alternatives };
    } catch (e) {
      if (e instanceof TwilioApiError && e.code === 21451) {
        throw new HttpError(400, 'invalid_area_code', `${areaCode} is not an area code Twilio knows. Try the area code of the shop's phone.`);
      }
      throw twilioFailure(e, log, 'search for numbers');
    }
  }

  /** Releases a number bought in this request (compensation). Never throws; logs what it could not undo. */
  async function undoPurchase(a: TenantAccount, phone: string, sid: string | null) {
    const c = credsOf(a);
    try {
      const sids = sid ? [sid] : (await listNumbers(c, a.accountSid, phone)).filter((n) => n.phone_number === phone).map((n) => n.sid);
      for (const s of sids) await releaseNumber(c, a.accountSid, s);
      log.warn('purchase undone', { tenant_id: a.tenantId, released: sids.length });
    } catch (e) {
      log.error('could not undo a purchase: release it by hand', { tenant_id: a.tenantId, number_sid: sid, error: (e as Error).message });
    }
  }

  async function buyAndRecord(a: TenantAccount, candidates: string[]) {
    const c = credsOf(a);
    let lastTaken: TwilioApiError | null = null;
    for (const phone of candidates.slice(0, 3)) {
      let bought;
      try {
        bought = await buyNumber(c, a.accountSid, { phoneNumber: phone, ...urls, friendlyName: `ServicePro ${a.tenantId}` });
      } catch (e) {
        if (e instanceof TwilioApiError && (e.code === 21422 || e.code === 21452)) { lastTaken = e; continue; }
        // No clear answer (timeout, 5xx): the purchase may have gone through. Release whatever got bought.
        if (e instanceof TwilioAmbiguousError || (e instanceof TwilioApiError && e.status >= 500)) await undoPurchase(a, phone, null);
        throw twilioFailure(e, log, 'buy the number');
      }
      const { data, error } = await deps.db.from('tenant_phone_numbers').insert({
        tenant_id: a.tenantId, e164: bought.phone_number, twilio_number_sid: bought.sid, subaccount_sid: a.accountSid,
        credential_kind: a.kind, status: 'active',
      }).select('e164, status').single();
      if (error) {
        await undoPurchase(a, bought.phone_number, bought.sid);
        if (error.code === '23505') {
          const winner = await liveNumberOf(deps.db, a.tenantId);
          if (winner) return { row: { e164: winner.e164, status: winner.status }, created: false };
        }
        log.error('recording the number failed; purchase undone', { tenant_id: a.tenantId, code: error.code });
        throw new HttpError(503, 'provisioning_failed', 'We could not finish setting up the number, so we released it again. Nothing is left half-done — please try again.');
      }
      log.info('number provisioned', { tenant_id: a.tenantId, number_sid: bought.sid });
      return { row: data as { e164: string; status: string }, created: true };
    }
    throw new HttpError(409, 'number_taken', lastTaken
      ? 'Those numbers were just taken by someone else. Search again to see what is still free.'
      : 'No number to buy.');
  }

  async function provision(userId: string, body: Record<string, unknown>) {
    const tenantId = parseTenantId(body.tenant_id);
    await requirePhoneAdmin(deps.db, userId, tenantId);
    await requireFeature(deps.db, tenantId, 'dedicated_number');
    await requireStanding(deps.db, tenantId, ['ok']);
    const live = await liveNumberOf(deps.db, tenantId);
    if (live) return json(200, { phone_number: live.e164, status: live.status, reused: true });

    const areaCode = typeof body.area_code === 'string' ? body.area_code.trim() : String(body.area_code ?? '');
    if (!AREA.test(areaCode)) throw new HttpError(400, 'invalid_area_code', 'area_code must be a 3-digit US area code, like 918.');
    const chosen = body.phone_number;
    if (chosen !== undefined && (typeof chosen !== 'string' || !E164_US.test(chosen))) {
      throw new HttpError(400, 'invalid_phone_number', 'phone_number must be one of the offered numbers, in E.164 (+19185550123).');
    }
    const account = await accountFor(tenantId);
    let candidates: string[];
    if (typeof chosen === 'string') {
      candidates = [chosen];
    } else {
      const found = await search(account, areaCode);
      if (found.preferred.length) candidates = found.preferred.map((n) => n.phone_number);
      else if (!found.alternatives.length) {
        throw new HttpError(503, 'no_numbers_available',
          `No numbers left in ${areaCode}, nearby or toll-free right now. Please try again later or another area code.`);
      } else if (body.allow_alternatives === true) {
        candidates = found.alternatives.map((n) => n.phone_number);
      } else {
        const alts = found.alternatives;
        const codes = [...new Set(alts.filter((n) => n.kind === 'local').map((n) => n.phone_number.slice(2, 5)))];
        const tollFree = alts.filter((n) => n.kind === 'toll_free').length;
        const where = [codes.length ? `in ${codes.join(', ')}` : '', tollFree ? `${tollFree} toll-free` : ''].filter(Boolean).join(' and ');
        throw new HttpError(409, 'no_numbers_in_area_code',
          `No numbers left in ${areaCode} — here are ${alts.length} numbers ${where} instead. Pick one to continue.`,
          { area_code: areaCode, alternatives: alts });
      }
    }
    const r = await buyAndRecord(account, candidates);
    return json(r.created ? 201 : 200, { phone_number: r.row.e164, status: r.row.status, reused: !r.created });
  }

  async function release(userId: string, body: Record<string, unknown>) {
    const tenantId = parseTenantId(body.tenant_id);
    await requirePhoneAdmin(deps.db, userId, tenantId);
    if (body.confirm !== true) {
      throw new HttpError(400, 'confirmation_required',
        'Releasing gives the number back to Twilio for good: customers who call or text it will not reach you. Send confirm: true to go ahead.');
    }
    const live = await liveNumberOf(deps.db, tenantId);
    if (!live) throw new HttpError(404, 'no_number', 'This shop has no phone number to release.');
    const account = await deps.store.get(tenantId, live.credential_kind);
    if (!account || account.accountSid !== live.subaccount_sid) {
      throw new HttpError(409, 'twilio_account_missing', 'The account that owns this number is no longer connected. Reconnect it in Advanced settings first.');
    }
    const mark = async (status: string, extra: Record<string, unknown> = {}) => {
      const { error } = await deps.db.from('tenant_phone_numbers').update({ status, ...extra }).eq('id', live.id);
      if (error) throw new HttpError(503, 'database_unavailable', 'Please try again.');
    };
    await mark('releasing');
    try {
      await releaseNumber({ ...deps.twilio, accountSid: account.accountSid, authToken: account.authToken }, account.accountSid, live.twilio_number_sid);
    } catch (e) {
      throw twilioFailure(e, log, 'release the number (it stays "releasing"; try again)');
    }
    await mark('released', { released_at: new Date().toISOString() });
    log.info('number released', { tenant_id: tenantId, number_sid: live.twilio_number_sid });
    return json(200, { phone_number: live.e164, status: 'released' });
  }

  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const user = await requireUser(req, deps.auth);
    const body = await readJson<Record<string, unknown>>(req, 16 * 1024);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'invalid_body', 'Send a JSON object.');
    const action = body.action ?? 'provision';
    if (action === 'provision') return await provision(user.id, body);
    if (action === 'release') return await release(user.id, body);
    throw new HttpError(400, 'invalid_action', 'action must be "provision" or "release".');
  }, log, { cors: true });
}

export function depsFromEnv(env: { get(name: string): string | undefined }): ProvisionDeps {
  const e = readEnv(getterOf(env), {
    ...PLATFORM_ENV,
    TWILIO_API_URL: { default: 'https://api.twilio.com' },
    TWILIO_ACCOUNT_SID: true, TWILIO_AUTH_TOKEN: true, TWILIO_WEBHOOK_BASE_URL: true,
  });
  const db = serviceClient(e);
  let ring: Promise<Keyring> | null = null;
  // Read lazily: a missing key fails the request with a clear 503, not the worker's boot.
  const keyring = () => (ring ??= keyringFromEnv((k) => env.get(k)).catch((err) => {
    ring = null;
    throw new HttpError(503, 'telephony_not_configured', `Phone numbers are not configured on this server: ${(err as Error).message}`);
  }));
  return {
    auth: authDepsFromClient(anonClient(e)),
    db,
    store: credentialStore(db, keyring),
    twilio: { apiUrl: e.TWILIO_API_URL, accountSid: e.TWILIO_ACCOUNT_SID, authToken: e.TWILIO_AUTH_TOKEN, timeoutMs: 15_000 },
    webhookBase: e.TWILIO_WEBHOOK_BASE_URL,
    log: createLogger('provision-number'),
  };
}
