/**
 * Who sends a shop's text, in one place (send-sms, message-dispatcher):
 *   - a shop with an `active` own number (public.tenant_phone_numbers) sends From that number with the Twilio
 *     account that owns it — its subaccount, or its bring-your-own account — authenticated with that account's own
 *     auth token, opened from the encrypted credential store for this request only (from_shared = false);
 *   - every other shop (no number, or one that is `releasing`, `released` or `suspended`) sends from the platform's
 *     shared number with the platform account (from_shared = true).
 * A number whose account's credentials cannot be read (missing, or sealed under a key TELEPHONY_KEYS no longer has)
 * is a 503 `credential_unreadable` — never a silent fall-back to the shared number, which would change the number
 * the shop's customers see and reply to.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { HttpError } from '../http.ts';
import type { CredentialKind, CredentialStore, TenantAccount } from '../telephony/accounts.ts';
import type { TwilioConfig } from '../twilio.ts';

export type SenderKind = 'platform' | CredentialKind;

export interface Sender {
  /** E.164 From. */
  from: string;
  /** true: the platform's shared number. */
  shared: boolean;
  kind: SenderKind;
  /** The account to call Twilio with (its SID and token). */
  twilio: TwilioConfig;
}

/** A shop's number as the sender needs it. `account_sid` is the account that owns it (subaccount or BYO). */
export interface ShopNumber {
  tenant_id: string;
  e164: string;
  status: 'active' | 'releasing' | 'released' | 'suspended';
  account_sid: string;
  credential_kind: CredentialKind;
}

/** What the resolver reads; `directoryFromDb` is the real one, tests pass their own. */
export interface SenderDirectory {
  /** The shop's number that may send now (status `active`), or null. */
  activeNumber(tenantId: string): Promise<ShopNumber | null>;
  /** The shop's most recent row for this number, whatever its status (what sent an older message). */
  numberRecord(tenantId: string, e164: string): Promise<ShopNumber | null>;
  /** The shop's credentials of that kind, opened (503 credential_unreadable when they cannot be). */
  credentials(tenantId: string, kind: CredentialKind): Promise<TenantAccount | null>;
}

/** A message row as reserved (messages.from_phone / from_shared). */
export interface ReservedFrom {
  tenant_id: string;
  from_phone: string | null;
  from_shared: boolean;
}

export interface SenderResolver {
  /** For a new send: the shop's own active number with its account, else the shared number. */
  forTenant(tenantId: string): Promise<Sender>;
  /**
   * For a message reserved earlier (scheduled): the number it was reserved with while that number can still send.
   * `changed` is true when it was re-resolved (see the comment inside) and the row must be re-pointed.
   */
  forReserved(m: ReservedFrom): Promise<Sender & { changed: boolean }>;
  /** The account that sent (or may have sent) a message — for reconciliation; never re-resolved. */
  accountThatSent(m: ReservedFrom): Promise<TwilioConfig>;
}

const unreadable = (why: string) => new HttpError(503, 'credential_unreadable',
  `The shop's Twilio credentials cannot be read right now (${why}). Nothing was sent; try again later.`);

export function senderResolver(opts: { platform: TwilioConfig; sharedNumber: string; directory: SenderDirectory }): SenderResolver {
  const { platform, sharedNumber, directory } = opts;
  const shared = (): Sender => ({ from: sharedNumber, shared: true, kind: 'platform', twilio: platform });

  const accountOf = async (n: ShopNumber): Promise<TwilioConfig> => {
    const acct = await directory.credentials(n.tenant_id, n.credential_kind);
    if (!acct) throw unreadable(`no ${n.credential_kind} credentials are stored for ${n.e164}`);
    // The number belongs to one account; credentials of another (a BYO account replaced since) cannot send from it.
    if (acct.accountSid !== n.account_sid) throw unreadable(`the stored ${n.credential_kind} account does not own ${n.e164}`);
    return { ...platform, accountSid: acct.accountSid, authToken: acct.authToken };
  };
  const own = async (n: ShopNumber): Promise<Sender> =>
    ({ from: n.e164, shared: false, kind: n.credential_kind, twilio: await accountOf(n) });

  const forTenant = async (tenantId: string): Promise<Sender> => {
    const n = await directory.activeNumber(tenantId);
    return n ? await own(n) : shared();
  };

  return {
    forTenant,
    async forReserved(m) {
      // Reserved on the shared number: it stays there even if the shop got its own number since — the opt-out
      // check at reservation was against the shared number, and the thread continues where it started. Only a
      // changed platform number (configuration) re-points it.
      if (m.from_shared || !m.from_phone) return { ...shared(), changed: m.from_phone !== sharedNumber };
      // Reserved on the shop's own number: sent from it while it is active. If it was released (or is being
      // released, or suspended) in between, the text still goes — it is the shop's pickup notice or reminder, which
      // the customer expects — from whatever the shop sends from now (a new own number, else the shared number),
      // rather than failing it or calling Twilio with a number the account no longer owns (21606).
      const n = await directory.numberRecord(m.tenant_id, m.from_phone);
      if (n && n.status === 'active') return { ...(await own(n)), changed: false };
      const now = await forTenant(m.tenant_id);
      return { ...now, changed: now.from !== m.from_phone || now.shared !== m.from_shared };
    },
    async accountThatSent(m) {
      if (m.from_shared || !m.from_phone) return platform;
      const n = await directory.numberRecord(m.tenant_id, m.from_phone);
      if (!n) throw unreadable(`no record of the number ${m.from_phone}`);
      return await accountOf(n);
    },
  };
}

const dbDown = () => new HttpError(503, 'database_unavailable', 'Phone settings could not be read right now. Please try again.');
const COLS = 'tenant_id, e164, status, subaccount_sid, credential_kind';
const toShopNumber = (r: Record<string, unknown>): ShopNumber => ({
  tenant_id: r.tenant_id as string, e164: r.e164 as string, status: r.status as ShopNumber['status'],
  account_sid: r.subaccount_sid as string, credential_kind: r.credential_kind as CredentialKind,
});

/** The directory over the service-role client and the credential store. */
export function directoryFromDb(db: SupabaseClient, store: CredentialStore): SenderDirectory {
  return {
    async activeNumber(tenantId) {
      const { data, error } = await db.from('tenant_phone_numbers').select(COLS)
        .eq('tenant_id', tenantId).eq('status', 'active').order('created_at', { ascending: false }).limit(1);
      if (error) throw dbDown();
      return data?.[0] ? toShopNumber(data[0]) : null;
    },
    async numberRecord(tenantId, e164) {
      const { data, error } = await db.from('tenant_phone_numbers').select(COLS)
        .eq('tenant_id', tenantId).eq('e164', e164).order('created_at', { ascending: false }).limit(1);
      if (error) throw dbDown();
      return data?.[0] ? toShopNumber(data[0]) : null;
    },
    credentials: (tenantId, kind) => store.get(tenantId, kind),
  };
}

/**
 * Keyring loader for messaging functions: read lazily (a shop without its own number never needs it, so a server
 * without TELEPHONY_KEYS still sends from the shared number), cached, retried after a failure.
 */
export function lazyKeyring<T>(load: () => Promise<T>): () => Promise<T> {
  let ring: Promise<T> | null = null;
  return () => (ring ??= Promise.resolve().then(load).catch((err) => {
    ring = null;
    throw unreadable((err as Error).message);
  }));
}

/** Is this error "the shop's credentials cannot be used" (as opposed to a database hiccup)? */
export function isCredentialError(e: unknown): boolean {
  return e instanceof HttpError && e.code === 'credential_unreadable';
}
