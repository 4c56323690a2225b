/**
 * Which Twilio account speaks for a shop, and the server-only credential store behind it
 * (public.tenant_twilio_credentials, service role only). Tokens are sealed with ./crypto.ts before they reach the
 * database and opened only in memory, for one request. Nothing here logs or returns a token to a caller.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { HttpError } from '../http.ts';
import type { AccountResolver } from '../twilio.ts';
import { KeyringError, open, seal, type Keyring } from './crypto.ts';

export type CredentialKind = 'subaccount' | 'byo';

export interface TenantAccount {
  tenantId: string;
  kind: CredentialKind;
  accountSid: string;
  authToken: string;
}

interface Row {
  tenant_id: string;
  kind: CredentialKind;
  account_sid: string;
  auth_token_ciphertext: string;
  nonce: string;
  key_id: string;
}

const COLS = 'tenant_id, kind, account_sid, auth_token_ciphertext, nonce, key_id';
const dbDown = () => new HttpError(503, 'database_unavailable', 'Phone settings could not be read right now. Please try again.');

export interface CredentialStore {
  get(tenantId: string, kind: CredentialKind): Promise<TenantAccount | null>;
  /** Which account SIDs the shop has, without opening anything. */
  accountSids(tenantId: string): Promise<Partial<Record<CredentialKind, string>>>;
  /** Inserts, or replaces the row for (tenant, kind). */
  save(tenantId: string, kind: CredentialKind, accountSid: string, authToken: string): Promise<void>;
  /** Inserts only when (tenant, kind) has no row yet: false when another request got there first. */
  insertIfAbsent(tenantId: string, kind: CredentialKind, accountSid: string, authToken: string): Promise<boolean>;
  remove(tenantId: string, kind: CredentialKind): Promise<void>;
  /** The shop and token of an account SID we manage (webhooks name their AccountSid). */
  byAccountSid(accountSid: string): Promise<TenantAccount | null>;
  /** Re-encrypts every row not under the active key. */
  rotate(): Promise<{ rotated: number; total: number; unreadable: number }>;
}

export function credentialStore(db: SupabaseClient, ring: () => Promise<Keyring>): CredentialStore {
  const openRow = async (r: Row): Promise<TenantAccount> => {
    const keyring = await ring();
    let authToken: string;
    try {
      authToken = await open(keyring, { ciphertext: r.auth_token_ciphertext, nonce: r.nonce, key_id: r.key_id },
        { tenantId: r.tenant_id, kind: r.kind, accountSid: r.account_sid });
    } catch (e) {
      // A key was removed too early (see the rotation runbook) or the row was altered: an operator problem.
      throw new HttpError(503, 'credential_unreadable',
        `The shop's Twilio credentials cannot be read right now (${e instanceof KeyringError ? e.message : 'decryption failed'}).`);
    }
    return { tenantId: r.tenant_id, kind: r.kind, accountSid: r.account_sid, authToken };
  };
  const sealed = async (tenantId: string, kind: CredentialKind, accountSid: string, authToken: string) => {
    const s = await seal(await ring(), authToken, { tenantId, kind, accountSid });
    return { tenant_id: tenantId, kind, account_sid: accountSid, auth_token_ciphertext: s.ciphertext, nonce: s.nonce, key_id: s.key_id };
  };
  return {
    async get(tenantId, kind) {
      const { data, error } = await db.from('tenant_twilio_credentials').select(COLS)
        .eq('tenant_id', tenantId).eq('kind', kind).maybeSingle();
      if (error) throw dbDown();
      return data ? await openRow(data as Row) : null;
    },
    async accountSids(tenantId) {
      const { data, error } = await db.from('tenant_twilio_credentials').select('kind, account_sid').eq('tenant_id', tenantId);
      if (error) throw dbDown();
      return Object.fromEntries((data as { kind: CredentialKind; account_sid: string }[]).map((r) => [r.kind, r.account_sid]));
    },
    async save(tenantId, kind, accountSid, authToken) {
      const row = await sealed(tenantId, kind, accountSid, authToken);
      const { error } = await db.from('tenant_twilio_credentials')
        .upsert({ ...row, rotated_at: null, created_at: new Date().toISOString() }, { onConflict: 'tenant_id,kind' });
      if (error) throw dbDown();
    },
    async insertIfAbsent(tenantId, kind, accountSid, authToken) {
      const row = await sealed(tenantId, kind, accountSid, authToken);
      const { data, error } = await db.from('tenant_twilio_credentials')
        .upsert(row, { onConflict: 'tenant_id,kind', ignoreDuplicates: true }).select('account_sid');
      if (error) throw dbDown();
      return (data ?? []).length === 1;
    },
    async remove(tenantId, kind) {
      const { error } = await db.from('tenant_twilio_credentials').delete().eq('tenant_id', tenantId).eq('kind', kind);
      if (error) throw dbDown();
    },
    async byAccountSid(accountSid) {
      if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) return null;
      const { data, error } = await db.from('tenant_twilio_credentials').select(COLS).eq('account_sid', accountSid).limit(1);
      if (error) throw dbDown();
      const r = (data as Row[])[0];
      return r ? await openRow(r) : null;
    },
    async rotate() {
      const keyring = await ring();
      const { data, error } = await db.from('tenant_twilio_credentials').select(COLS);
      if (error) throw dbDown();
      const rows = data as Row[];
      let rotated = 0;
      let unreadable = 0;
      for (const r of rows) {
        if (r.key_id === keyring.activeKeyId) continue;
        let plain: TenantAccount;
        try {
          plain = await openRow(r);
        } catch {
          // Its key is not loaded (or the row was altered): leave it, count it; the old key must stay until 0.
          unreadable++;
          continue;
        }
        const s = await seal(keyring, plain.authToken, { tenantId: r.tenant_id, kind: r.kind, accountSid: r.account_sid });
        // Only replace the row we read (a concurrent save under the new key wins).
        const { error: upErr, data: up } = await db.from('tenant_twilio_credentials')
          .update({ auth_token_ciphertext: s.ciphertext, nonce: s.nonce, key_id: s.key_id, rotated_at: new Date().toISOString() })
          .eq('tenant_id', r.tenant_id).eq('kind', r.kind).eq('key_id', r.key_id).eq('nonce', r.nonce).select('kind');
        if (upErr) throw dbDown();
        rotated += (up ?? []).length;
      }
      return { rotated, total: rows.length, unreadable };
    },
  };
}

/** For messaging's webhooks (platformAccountResolver's `shops`): a shop's account by SID, with its token. */
export function tenantAccountResolver(store: CredentialStore): AccountResolver {
  return {
    async accountFor(sid) {
      const a = sid ? await store.byAccountSid(sid) : null;
      return a ? { accountSid: a.accountSid, authToken: a.authToken, tenantId: a.tenantId } : null;
    },
  };
}

export interface PhoneNumberRow {
  id: string;
  tenant_id: string;
  e164: string;
  twilio_number_sid: string;
  subaccount_sid: string;
  credential_kind: CredentialKind;
  status: 'active' | 'releasing' | 'released' | 'suspended';
  ivr_mode: 'forward' | 'sip' | 'ivr';
  forward_to: string | null;
  sip_uri: string | null;
  hours: Record<string, { open: string; close: string } | null>;
  greeting: string | null;
  after_hours_message: string | null;
}

export const NUMBER_COLS =
  'id, tenant_id, e164, twilio_number_sid, subaccount_sid, credential_kind, status, ivr_mode, forward_to, sip_uri, hours, greeting, after_hours_message';

/** The shop's live (not released) number, or null. */
export async function liveNumberOf(db: SupabaseClient, tenantId: string): Promise<PhoneNumberRow | null> {
  const { data, error } = await db.from('tenant_phone_numbers').select(NUMBER_COLS)
    .eq('tenant_id', tenantId).neq('status', 'released').maybeSingle();
  if (error) throw dbDown();
  return data as PhoneNumberRow | null;
}

/** The live number row for a called number (E.164), or null. */
export async function numberByE164(db: SupabaseClient, e164: string): Promise<PhoneNumberRow | null> {
  const { data, error } = await db.from('tenant_phone_numbers').select(NUMBER_COLS)
    .eq('e164', e164).neq('status', 'released').maybeSingle();
  if (error) throw dbDown();
  return data as PhoneNumberRow | null;
}
