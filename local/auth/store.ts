/**
 * Database access for the auth server: parameterized SQL on the auth schema, transactions, and the user JSON
 * GoTrue returns (internal/models/user.go, identity.go), built from the rows as they are in the database.
 */
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';

export type Db = Pool | PoolClient;
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Timestamps stay text (microseconds, exact) instead of becoming millisecond JS Dates; everything else as usual. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 1184 || oid === 1114) return (v: string) => v;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export async function query<R extends Record<string, unknown>>(db: Db, text: string, values: unknown[] = []): Promise<R[]> {
  const res = await db.query({ text, values, types: TYPES } as pg.QueryConfig);
  return res.rows as R[];
}

export async function one<R extends Record<string, unknown>>(db: Db, text: string, values: unknown[] = []): Promise<R | undefined> {
  return (await query<R>(db, text, values))[0];
}

/** Marks a result that must be committed even though the request fails (GoTrue's NewCommitWithError). */
export class CommitThenFail {
  constructor(readonly error: Error) {}
}

/** Runs `fn` in one transaction on one pooled connection; rolls back on any error. */
export async function transaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('begin');
    let result: T;
    try {
      result = await fn(client);
    } catch (e) {
      try {
        await client.query('rollback');
      } catch (re) {
        broken = re as Error;
      }
      throw e;
    }
    await client.query('commit');
    if (result instanceof CommitThenFail) throw result.error;
    return result;
  } finally {
    client.release(broken);
  }
}

export interface UserRow extends Record<string, unknown> {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: string | null;
  invited_at: string | null;
  confirmation_sent_at: string | null;
  recovery_sent_at: string | null;
  email_change: string | null;
  email_change_sent_at: string | null;
  last_sign_in_at: string | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  created_at: string | null;
  updated_at: string | null;
  phone: string | null;
  phone_confirmed_at: string | null;
  phone_change: string | null;
  phone_change_sent_at: string | null;
  confirmed_at: string | null;
  reauthentication_sent_at: string | null;
  banned_until: string | null;
  deleted_at: string | null;
  is_anonymous: boolean;
  /** Computed by the queries below: banned_until is in the future. */
  is_banned?: boolean;
}

export interface IdentityRow extends Record<string, unknown> {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown> | null;
  provider: string;
  last_sign_in_at: string | null;
  created_at: string | null;
  updated_at: string | null;
  email: string | null;
}

const USER_COLUMNS = 'u.*, coalesce(u.banned_until > now(), false) as is_banned';

export const findUserById = (db: Db, id: string) =>
  one<UserRow>(db, `select ${USER_COLUMNS} from auth.users u where u.id = $1`, [id]);

export const findUserByIdForUpdate = (db: Db, id: string) =>
  one<UserRow>(db, `select ${USER_COLUMNS} from auth.users u where u.id = $1 for update`, [id]);

/** GoTrue FindUserByEmailAndAudience: case-insensitive, non-SSO users of the audience. */
export const findUserByEmail = (db: Db, email: string, aud: string) =>
  one<UserRow>(
    db,
    `select ${USER_COLUMNS} from auth.users u
      where lower(u.email) = lower($1) and u.aud = $2 and u.is_sso_user = false
      order by u.created_at nulls last limit 1`,
    [email, aud],
  );

/** Another user holding this email (GoTrue IsDuplicatedEmail), optionally ignoring `exceptId`. */
export const findOtherUserByEmail = (db: Db, email: string, aud: string, exceptId: string | null) =>
  one<{ id: string }>(
    db,
    `select u.id from auth.users u
      where lower(u.email) = lower($1) and u.aud = $2 and u.is_sso_user = false
        and ($3::uuid is null or u.id <> $3::uuid)
      limit 1`,
    [email, aud, exceptId],
  );

export const findUserByPhone = (db: Db, phone: string, exceptId: string | null) =>
  one<{ id: string }>(db, `select u.id from auth.users u where u.phone = $1 and ($2::uuid is null or u.id <> $2::uuid) limit 1`, [
    phone,
    exceptId,
  ]);

export const identitiesOf = (db: Db, userIds: string[]) =>
  query<IdentityRow>(db, `select * from auth.identities where user_id = any($1::uuid[]) order by created_at nulls first, id`, [
    userIds,
  ]);

/** Records an audit trail entry the way GoTrue does (auth.audit_log_entries.payload). */
export async function audit(
  db: Db,
  action: string,
  logType: 'account' | 'team' | 'token' | 'user',
  actor: { id: string; email?: string | null; role?: string | null } | null,
  ip: string | null,
  traits?: Record<string, unknown>,
): Promise<void> {
  const payload: Record<string, unknown> = {
    action,
    actor_id: actor?.id ?? NIL_UUID,
    actor_username: actor?.email ?? '',
    actor_via_sso: false,
    log_type: logType,
  };
  if (traits) payload.traits = traits;
  await query(
    db,
    `insert into auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
     values ($1, gen_random_uuid(), $2::json, now(), $3)`,
    [NIL_UUID, JSON.stringify(payload), ip ?? ''],
  );
}

// ------------------------------------------------------------------------------------------------------------
// JSON shapes

/**
 * Postgres timestamp text ("2026-09-28 20:04:39.768193+00", any session TimeZone) → Go's RFC3339Nano in UTC
 * ("2026-09-28T20:04:39.768193Z": trailing zeros of the fraction trimmed, no fraction when it is zero).
 */
export function rfc3339(pgText: string | null | undefined): string | null {
  if (pgText === null || pgText === undefined) return null;
  const m = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/.exec(pgText);
  if (!m) return pgText; // 'infinity' and friends: pass through untouched
  const [, y, mo, d, h, mi, s, frac = '', sign, oh = '0', om = '0', os = '0'] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (sign) ms -= (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * 1000;
  const base = new Date(ms).toISOString().slice(0, 19);
  const fraction = frac.replace(/0+$/, '');
  return `${base}${fraction ? `.${fraction}` : ''}Z`;
}

/** Go's zero time, which GoTrue prints for a NULL non-pointer timestamp (created_at/updated_at of seeded rows). */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Go marshals maps with sorted keys; metadata read back from jsonb is printed the same way. */
export function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) out[k] = sortKeysDeep((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

export function metadata(v: Record<string, unknown> | null | undefined): Record<string, unknown> {
  return (sortKeysDeep(v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, unknown>);
}

export function identityJson(i: IdentityRow): Record<string, unknown> {
  const o: Record<string, unknown> = {
    identity_id: i.id,
    id: i.provider_id,
    user_id: i.user_id,
  };
  if (i.identity_data && Object.keys(i.identity_data).length) o.identity_data = metadata(i.identity_data);
  o.provider = i.provider;
  if (i.last_sign_in_at) o.last_sign_in_at = rfc3339(i.last_sign_in_at);
  o.created_at = rfc3339(i.created_at) ?? GO_ZERO_TIME;
  o.updated_at = rfc3339(i.updated_at) ?? GO_ZERO_TIME;
  if (i.email) o.email = i.email;
  return o;
}

/** The user object exactly as GoTrue serialises models.User (field order, omitempty rules, secrets left out). */
export function userJson(u: UserRow, identities: IdentityRow[]): Record<string, unknown> {
  const o: Record<string, unknown> = { id: u.id, aud: u.aud ?? '', role: u.role ?? '', email: u.email ?? '' };
  const opt = (key: string, v: string | null) => {
    if (v) o[key] = rfc3339(v);
  };
  opt('email_confirmed_at', u.email_confirmed_at);
  opt('invited_at', u.invited_at);
  o.phone = u.phone ?? '';
  opt('phone_confirmed_at', u.phone_confirmed_at);
  opt('confirmation_sent_at', u.confirmation_sent_at);
  opt('confirmed_at', u.confirmed_at);
  opt('recovery_sent_at', u.recovery_sent_at);
  if (u.email_change) o.new_email = u.email_change;
  opt('email_change_sent_at', u.email_change_sent_at);
  if (u.phone_change) o.new_phone = u.phone_change;
  opt('phone_change_sent_at', u.phone_change_sent_at);
  opt('reauthentication_sent_at', u.reauthentication_sent_at);
  opt('last_sign_in_at', u.last_sign_in_at);
  o.app_metadata = metadata(u.raw_app_meta_data);
  o.user_metadata = metadata(u.raw_user_meta_data);
  o.identities = identities.map(identityJson);
  o.created_at = rfc3339(u.created_at) ?? GO_ZERO_TIME;
  o.updated_at = rfc3339(u.updated_at) ?? GO_ZERO_TIME;
  opt('banned_until', u.banned_until);
  opt('deleted_at', u.deleted_at);
  o.is_anonymous = u.is_anonymous ?? false;
  return o;
}

/** Loads a user and their identities and returns the JSON; undefined when the user does not exist. */
export async function loadUserJson(db: Db, id: string): Promise<{ row: UserRow; json: Record<string, unknown> } | undefined> {
  const row = await findUserById(db, id);
  if (!row) return undefined;
  return { row, json: userJson(row, await identitiesOf(db, [id])) };
}
