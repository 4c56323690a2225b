/**
 * The local stand-in for Supabase Auth (GoTrue) behind `/auth/v1`: the email+password subset supabase-js v2
 * (auth-js) uses, with GoTrue's routes, JSON shapes, error codes and access-token claims.
 *
 * Users, identities, sessions and refresh tokens live in the auth schema of the stack's database
 * (local/db/bootstrap/20-auth.sql) and are written with plain SQL, so app triggers on auth.users and FKs to it
 * behave as in production. Behaviour follows supabase/auth (internal/api/*.go); where this server differs on
 * purpose it says so next to the code and in local/auth/README.md.
 *
 * The handler receives requests whose `/auth/v1` prefix the gateway already stripped and whose Authorization
 * header the gateway already derived from `apikey` the way Kong does.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import bcrypt from 'bcryptjs';
import type { Pool, PoolClient } from 'pg';
import type { JWTPayload } from 'jose';
import type { FetchHandler, Logger } from '../lib/types.ts';
import {
  HttpError,
  OAuthError,
  WeakPasswordError,
  badRequest,
  errorResponse,
  forbidden,
  internalError,
  json,
  notFound,
  unprocessable,
} from './errors.ts';
import {
  CommitThenFail,
  NIL_UUID,
  audit,
  findOtherUserByEmail,
  findUserByEmail,
  findUserById,
  findUserByIdForUpdate,
  findUserByPhone,
  identitiesOf,
  loadUserJson,
  one,
  query,
  transaction,
  userJson,
  type Db,
  type UserRow,
} from './store.ts';
import { buildClaims, newRefreshToken, newTokenHash, signAccessToken, verifyBearer, type AmrEntry } from './tokens.ts';
import {
  checkPasswordStrength,
  parseGoDuration,
  parsePagination,
  parseParams,
  readBodyText,
  readParams,
  validateEmail,
  validatePhone,
  type Schema,
} from './validate.ts';

export interface AuthServiceOptions {
  /** Connections to the stack's database. Hosted GoTrue logs in as supabase_auth_admin; prefer a pool doing the same. */
  pool: Pool;
  /** The project's JWT secret (HS256), shared with PostgREST, storage and the functions verifier. */
  jwtSecret: string;
  /** `iss` of access tokens: `${API_URL}/auth/v1`. */
  issuer: string;
  /** Access-token lifetime (GOTRUE_JWT_EXP). Default 3600. */
  jwtExpirySeconds?: number;
  /** GOTRUE_MAILER_AUTOCONFIRM: sign-ups are confirmed at once and get a session. Default true. */
  autoconfirm?: boolean;
  /** GOTRUE_PASSWORD_MIN_LENGTH. Default 6. */
  minPasswordLength?: number;
  /**
   * GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL: seconds during which an already rotated refresh token may still be
   * exchanged. Hosted default is 10; the local default is 0 (strict) so tests see reuse detection immediately.
   * Independently of it, the direct parent of a session's active token always yields that active token, as GoTrue.
   */
  refreshTokenReuseIntervalSeconds?: number;
  log: Logger;
}

export interface AuthService {
  handler: FetchHandler;
  /** Refuses new requests (503) and waits for the ones in flight. The pool belongs to the caller. */
  close(): Promise<void>;
}

/** GOTRUE_JWT_ADMIN_ROLES as the Supabase CLI sets it. */
const ADMIN_ROLES = ['service_role'];
/** GOTRUE_JWT_DEFAULT_GROUP_NAME / GOTRUE_JWT_AUD. */
const DEFAULT_ROLE = 'authenticated';
const DEFAULT_AUD = 'authenticated';
/** GOTRUE_JWT_ADMIN_GROUP_NAME: a user whose role is this may set their own app_metadata. */
const ADMIN_GROUP = 'admin';
/** GOTRUE_SMTP_MAX_FREQUENCY: minimum seconds between two confirmation / email-change mails to one user. */
const MAIL_MAX_FREQUENCY_SECONDS = 60;
const BCRYPT_COST = 10;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BCRYPT_HASH_RE = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

const SIGNUP: Schema = {
  email: 'string', phone: 'string', password: 'string', data: 'object', channel: 'string',
  code_challenge: 'string', code_challenge_method: 'string', gotrue_meta_security: 'object',
};
const PASSWORD_GRANT: Schema = { email: 'string', phone: 'string', password: 'string', gotrue_meta_security: 'object' };
const REFRESH_GRANT: Schema = { refresh_token: 'string' };
const USER_UPDATE: Schema = {
  email: 'string', password: 'nullable_string', nonce: 'string', data: 'object', app_metadata: 'object',
  phone: 'string', channel: 'string', code_challenge: 'string', code_challenge_method: 'string',
};
const ADMIN_USER: Schema = {
  id: 'string', aud: 'string', role: 'string', email: 'string', phone: 'string', password: 'nullable_string',
  password_hash: 'string', email_confirm: 'bool', phone_confirm: 'bool', user_metadata: 'object', app_metadata: 'object',
  ban_duration: 'string',
};
const ADMIN_DELETE: Schema = { should_soft_delete: 'bool' };

type Meta = Record<string, unknown>;
interface SignupParams extends Meta { email?: string; phone?: string; password?: string; data?: Meta }
interface PasswordGrantParams extends Meta { email?: string; phone?: string; password?: string }
interface UserUpdateParams extends Meta { email?: string; password?: string; data?: Meta; app_metadata?: Meta; phone?: string }
interface AdminUserParams extends Meta {
  id?: string; aud?: string; role?: string; email?: string; phone?: string; password?: string; password_hash?: string;
  email_confirm?: boolean; phone_confirm?: boolean; user_metadata?: Meta; app_metadata?: Meta; ban_duration?: string;
}

interface RequestInfo {
  req: Request;
  url: URL;
  ip: string | null;
  userAgent: string | null;
}

interface SessionRow extends Record<string, unknown> {
  id: string;
  user_id: string;
  aal: string | null;
}

interface Issued {
  user: UserRow;
  session: { id: string; aal: string | null };
  amr: AmrEntry[];
  refreshToken: string;
}

interface Authenticated {
  claims: JWTPayload & { session_id?: unknown; role?: unknown };
  user: UserRow;
  session: SessionRow | null;
}

export function createAuthService(opts: AuthServiceOptions): AuthService {
  const { pool, issuer, log } = opts;
  const key = new TextEncoder().encode(opts.jwtSecret);
  const expiry = opts.jwtExpirySeconds ?? 3600;
  const autoconfirm = opts.autoconfirm ?? true;
  const minPasswordLength = opts.minPasswordLength ?? 6;
  const reuseInterval = opts.refreshTokenReuseIntervalSeconds ?? 0;
  if (opts.jwtSecret.length < 32) log.warn('the JWT secret is shorter than 32 characters');

  const inflight = new Set<Promise<Response>>();
  let closed = false;

  // ---------------------------------------------------------------------------------------------------------
  // Shared steps

  /** Verifies the bearer token and loads its user and session (GoTrue requireAuthentication). */
  async function authenticate(req: Request): Promise<Authenticated> {
    const claims = await verifyBearer(bearerToken(req), key);
    const sub = claims.sub;
    if (!sub) throw forbidden('bad_jwt', 'invalid claim: missing sub claim');
    if (!UUID_RE.test(sub)) throw badRequest('bad_jwt', 'invalid claim: sub claim must be a UUID');
    const user = await findUserById(pool, sub);
    if (!user) throw forbidden('user_not_found', 'User from sub claim in JWT does not exist');
    let session: SessionRow | null = null;
    const sid = (claims as { session_id?: unknown }).session_id;
    if (typeof sid === 'string' && sid !== '' && sid !== NIL_UUID) {
      if (!UUID_RE.test(sid)) throw forbidden('bad_jwt', 'invalid claim: session_id claim must be a UUID');
      session = (await one<SessionRow>(pool, 'select id, user_id, aal from auth.sessions where id = $1', [sid])) ?? null;
      if (!session) throw forbidden('session_not_found', 'Session from session_id claim in JWT does not exist');
    }
    return { claims, user, session };
  }

  /** GoTrue requireAdminCredentials: any valid token whose role is an admin role (the service_role key). */
  async function requireAdmin(req: Request): Promise<{ role: string }> {
    const claims = await verifyBearer(bearerToken(req), key);
    const role = typeof claims.role === 'string' ? claims.role : '';
    if (!ADMIN_ROLES.includes(role)) throw forbidden('not_admin', 'User not allowed');
    return { role };
  }

  /** Creates a session, its amr claim and first refresh token, and stamps last_sign_in_at (one statement). */
  async function issueSession(c: PoolClient, userId: string, method: string, info: RequestInfo): Promise<Issued> {
    const sessionId = randomUUID();
    const refreshToken = newRefreshToken();
    const row = await one<UserRow & { amr_ts: number }>(
      c,
      `with s as (
         insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
         values ($1::uuid, $2::uuid, now(), now(), 'aal1', $3, $4::inet)
         returning id
       ), a as (
         insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
         select gen_random_uuid(), s.id, now(), now(), $5 from s
         returning updated_at
       ), r as (
         insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
         select $6::uuid, $7, $2::uuid::text, false, now(), now(), null, s.id from s
         returning id
       ), u as (
         update auth.users set last_sign_in_at = now(), updated_at = now() where id = $2::uuid returning *
       )
       select u.*, coalesce(u.banned_until > now(), false) as is_banned,
              (select floor(extract(epoch from a.updated_at))::float8 from a) as amr_ts
         from u`,
      [sessionId, userId, info.userAgent, info.ip, method, NIL_UUID, refreshToken],
    );
    if (!row) throw internalError('Database error granting user', new Error(`user ${userId} vanished while signing in`));
    const { amr_ts, ...user } = row;
    return {
      user: user as UserRow,
      session: { id: sessionId, aal: 'aal1' },
      amr: [{ method, timestamp: Number(amr_ts) }],
      refreshToken,
    };
  }

  /** GoTrue's AccessTokenResponse for an issued or refreshed session. */
  async function sessionJson(db: Db, issued: Issued, weak?: WeakPasswordError): Promise<Record<string, unknown>> {
    const claims = buildClaims(issued.user, issued.session, issued.amr, issuer, expiry);
    const body: Record<string, unknown> = {
      access_token: await signAccessToken(claims, key),
      token_type: 'bearer',
      expires_in: expiry,
      expires_at: claims.exp,
      refresh_token: issued.refreshToken,
      user: userJson(issued.user, await identitiesOf(db, [issued.user.id])),
    };
    if (weak) body.weak_password = { message: weak.message, reasons: weak.reasons };
    return body;
  }

  /** Confirms the email address (GoTrue User.Confirm): also flags email_verified in metadata and identity. */
  async function confirmEmail(c: PoolClient, userId: string): Promise<void> {
    await query(
      c,
      `update auth.users
          set confirmation_token = '', email_confirmed_at = now(),
              raw_user_meta_data = coalesce(raw_user_meta_data, '{}'::jsonb) || '{"email_verified": true}'::jsonb,
              updated_at = now()
        where id = $1`,
      [userId],
    );
    await query(
      c,
      `update auth.identities set identity_data = identity_data || '{"email_verified": true}'::jsonb, updated_at = now()
        where user_id = $1 and provider = 'email'`,
      [userId],
    );
  }

  /** Merges metadata like GoTrue's UpdateUserMetaData/UpdateAppMetaData: top-level keys, null deletes a key. */
  async function mergeMetadata(c: PoolClient, userId: string, column: 'raw_user_meta_data' | 'raw_app_meta_data', updates: Meta) {
    const set: Meta = {};
    const remove: string[] = [];
    for (const [k, v] of Object.entries(updates)) {
      if (v === null) remove.push(k);
      else set[k] = v;
    }
    await query(
      c,
      `update auth.users set ${column} = (coalesce(${column}, '{}'::jsonb) - $2::text[]) || $3::jsonb, updated_at = now()
        where id = $1`,
      [userId, remove, JSON.stringify(set)],
    );
  }

  /** Stores a new password and ends the user's other sessions (GoTrue User.UpdatePassword). */
  async function updatePassword(c: PoolClient, userId: string, hash: string | null, keepSessionId: string | null) {
    await query(
      c,
      `update auth.users
          set encrypted_password = $2, confirmation_token = '', confirmation_sent_at = null, recovery_token = '',
              recovery_sent_at = null, email_change_token_current = '', email_change_token_new = '',
              email_change_sent_at = null, phone_change_token = '', phone_change_sent_at = null,
              reauthentication_token = '', reauthentication_sent_at = null, updated_at = now()
        where id = $1`,
      [userId, hash],
    );
    await query(c, 'delete from auth.sessions where user_id = $1 and ($2::uuid is null or id <> $2::uuid)', [userId, keepSessionId]);
  }

  /** GoTrue's SMTP max-frequency rule for confirmation and email-change mails (429 over_email_send_rate_limit). */
  async function throttleMail(c: PoolClient, userId: string, column: 'confirmation_sent_at' | 'email_change_sent_at') {
    const row = await one<{ left: number | null }>(
      c,
      `select floor(extract(epoch from (${column} + make_interval(secs => $2) - now())))::int as left from auth.users where id = $1`,
      [userId, MAIL_MAX_FREQUENCY_SECONDS],
    );
    const left = row?.left ?? null;
    if (left !== null && left > 0) {
      throw new HttpError(429, 'over_email_send_rate_limit', `For security purposes, you can only request this after ${left} seconds.`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Endpoints

  async function signup(info: RequestInfo): Promise<Response> {
    const p = await readParams<SignupParams>(info.req, 'SignupParams', SIGNUP);
    if (!p.email && !p.phone) throw unprocessable('anonymous_provider_disabled', 'Anonymous sign-ins are disabled');
    const data: Meta = p.data ?? {};
    if (!p.password) throw badRequest('validation_failed', 'Signup requires a valid password');
    checkPasswordStrength(p.password, minPasswordLength);
    if (p.email && p.phone) throw badRequest('validation_failed', 'Only an email address or phone number should be provided on signup.');
    if (!p.email) throw badRequest('phone_provider_disabled', 'Phone signups are disabled');
    const email = validateEmail(p.email);
    const aud = requestAud(info.req, null);

    const existing = await findUserByEmail(pool, email, aud);
    if (existing) return repeatedSignup(info, existing, data, aud);

    const hash = await bcrypt.hash(p.password, BCRYPT_COST);
    const id = randomUUID();
    const claims = { sub: id, email, email_verified: false, phone_verified: false };
    const identityData: Meta = { ...claims };
    for (const [k, v] of Object.entries(data)) if (!(k in identityData)) identityData[k] = v;
    const userMeta: Meta = { ...data, ...claims };
    const appMeta = { provider: 'email', providers: ['email'] };

    let body: Record<string, unknown>;
    try {
      body = await transaction(pool, async (c) => {
        // As GoTrue: insert (role still empty), then set the role, then add the identity, then confirm — each a
        // separate statement, so INSERT/UPDATE triggers on auth.users see the same sequence as in production.
        await query(
          c,
          `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, confirmation_token, recovery_token,
                                   email_change_token_new, email_change, phone_change, phone_change_token,
                                   email_change_token_current, reauthentication_token, raw_app_meta_data,
                                   raw_user_meta_data, created_at, updated_at, is_sso_user, is_anonymous)
           values ($1, $2, $3, '', $4, $5, '', '', '', '', '', '', '', '', $6::jsonb, $7::jsonb, now(), now(), false, false)`,
          [NIL_UUID, id, aud, email, hash, JSON.stringify(appMeta), JSON.stringify(userMeta)],
        );
        await query(c, 'update auth.users set role = $2, updated_at = now() where id = $1', [id, DEFAULT_ROLE]);
        await query(
          c,
          `insert into auth.identities (id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
           values (gen_random_uuid(), $1::text, $1::text::uuid, $2::jsonb, 'email', now(), now(), now())`,
          [id, JSON.stringify(identityData)],
        );
        const actor = { id, email };
        if (autoconfirm) {
          await audit(c, 'user_signedup', 'team', actor, info.ip, { provider: 'email' });
          await confirmEmail(c, id);
          await audit(c, 'login', 'account', actor, info.ip, { provider: 'email' });
          return sessionJson(c, await issueSession(c, id, 'password', info));
        }
        await audit(c, 'user_confirmation_requested', 'user', actor, info.ip, { provider: 'email' });
        await query(c, 'update auth.users set confirmation_token = $2, confirmation_sent_at = now(), updated_at = now() where id = $1', [
          id,
          newTokenHash(),
        ]);
        log.info(`sign-up of user ${id} awaits confirmation (the local stack sends no confirmation mail; confirm it with the admin API)`);
        const loaded = await loadUserJson(c, id);
        return loaded!.json;
      });
    } catch (e) {
      if (pgConstraint(e) === 'users_email_partial_key') {
        // A concurrent sign-up of the same address committed first: answer as GoTrue does for an existing user.
        const winner = await findUserByEmail(pool, email, aud);
        if (winner) return repeatedSignup(info, winner, data, aud);
      }
      throw asDbError(e, 'Database error saving new user');
    }
    return json(200, body);
  }

  /** Sign-up of an address that already has a user (GoTrue Signup's UserExistsError branch). */
  async function repeatedSignup(info: RequestInfo, existing: UserRow, data: Meta, aud: string): Promise<Response> {
    if (existing.email_confirmed_at) {
      await audit(pool, 'user_repeated_signup', 'user', existing, info.ip, { provider: 'email' });
      if (autoconfirm) throw unprocessable('user_already_exists', 'User already registered');
      // Confirmations on: GoTrue answers with an obfuscated user so sign-up cannot be used to probe addresses.
      const now = new Date().toISOString();
      const fake: UserRow = {
        ...existing,
        id: randomUUID(),
        aud,
        role: '',
        email_change: '',
        phone: '',
        created_at: now,
        updated_at: now,
        confirmation_sent_at: now,
        last_sign_in_at: null,
        confirmed_at: null,
        email_change_sent_at: null,
        email_confirmed_at: null,
        phone_confirmed_at: null,
        raw_user_meta_data: data,
        raw_app_meta_data: { provider: 'email', providers: ['email'] },
      };
      return json(200, userJson(fake, []));
    }
    // Deliberate difference: with autoconfirm GoTrue would confirm this unconfirmed user and return a session
    // without checking the password; here the address is simply reported as taken.
    if (autoconfirm) throw unprocessable('user_already_exists', 'User already registered');
    const body = await transaction(pool, async (c) => {
      const row = await findUserByIdForUpdate(c, existing.id);
      if (!row) throw internalError('Database error finding user', new Error('user vanished during repeated sign-up'));
      await throttleMail(c, row.id, 'confirmation_sent_at');
      await query(c, 'update auth.users set confirmation_token = $2, confirmation_sent_at = now(), updated_at = now() where id = $1', [
        row.id,
        newTokenHash(),
      ]);
      await audit(c, 'user_confirmation_requested', 'user', row, info.ip, { provider: 'email' });
      return (await loadUserJson(c, row.id))!.json;
    });
    return json(200, body);
  }

  async function token(info: RequestInfo): Promise<Response> {
    const grant = info.url.searchParams.get('grant_type') ?? '';
    if (grant === 'password') return passwordGrant(info);
    if (grant === 'refresh_token') return refreshGrant(info);
    // GoTrue answers every other grant type (pkce, id_token, web3 are not supported locally) like this.
    throw badRequest('invalid_credentials', 'unsupported_grant_type');
  }

  async function passwordGrant(info: RequestInfo): Promise<Response> {
    const p = await readParams<PasswordGrantParams>(info.req, 'PasswordGrantParams', PASSWORD_GRANT);
    if (p.email && p.phone) throw badRequest('validation_failed', 'Only an email address or phone number should be provided on login.');
    if (!p.email && p.phone) throw unprocessable('phone_provider_disabled', 'Phone logins are disabled');
    if (!p.email) throw badRequest('validation_failed', 'missing email or phone');
    const aud = requestAud(info.req, null);
    let user: UserRow | undefined;
    try {
      user = await findUserByEmail(pool, p.email, aud);
    } catch (e) {
      throw internalError('Database error querying schema', e);
    }
    const invalid = () => badRequest('invalid_credentials', 'Invalid login credentials');
    if (!user || !user.encrypted_password) throw invalid();
    if (user.is_banned) throw badRequest('user_banned', 'User is banned');
    const password = p.password ?? '';
    let valid = false;
    try {
      valid = BCRYPT_HASH_RE.test(user.encrypted_password) && (await bcrypt.compare(password, user.encrypted_password));
    } catch {
      valid = false;
    }
    if (!valid) throw invalid();
    let weak: WeakPasswordError | undefined;
    try {
      checkPasswordStrength(password, minPasswordLength);
    } catch (e) {
      if (e instanceof WeakPasswordError) weak = e;
    }
    if (!user.email_confirmed_at) throw badRequest('email_not_confirmed', 'Email not confirmed');
    const signedIn = user;
    const body = await transaction(pool, async (c) => {
      await audit(c, 'login', 'account', signedIn, info.ip, { provider: 'email' });
      return sessionJson(c, await issueSession(c, signedIn.id, 'password', info), weak);
    }).catch((e) => {
      throw asDbError(e, 'Database error granting user');
    });
    return json(200, body);
  }

  async function refreshGrant(info: RequestInfo): Promise<Response> {
    const p = await readParams<{ refresh_token?: string }>(info.req, 'RefreshTokenGrantParams', REFRESH_GRANT);
    const tokenText = p.refresh_token;
    if (!tokenText) throw new OAuthError('invalid_request', 'refresh_token required');
    const notFoundErr = () => badRequest('refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');

    const found = await one<{ user_id: string | null; session_id: string | null; sid: string | null; expired: boolean }>(
      pool,
      `select rt.user_id, rt.session_id, s.id as sid, coalesce(s.not_after < now(), false) as expired
         from auth.refresh_tokens rt left join auth.sessions s on s.id = rt.session_id
        where rt.token = $1`,
      [tokenText],
    );
    if (!found || !found.user_id || !UUID_RE.test(found.user_id)) throw notFoundErr();
    const user = await findUserById(pool, found.user_id);
    if (!user) throw notFoundErr();
    if (user.is_banned) throw badRequest('user_banned', 'Invalid Refresh Token: User Banned');
    if (!found.sid) {
      await query(pool, 'delete from auth.refresh_tokens where token = $1', [tokenText]);
      throw badRequest('session_not_found', 'Invalid Refresh Token: No Valid Session Found');
    }
    if (found.expired) throw badRequest('session_expired', 'Invalid Refresh Token: Session Expired');

    const result = await transaction(pool, async (c) => {
      // Lock the token and its session: concurrent refreshes of one session are serialised.
      const tok = await one<{ id: string; token: string; revoked: boolean | null; session_id: string; within_reuse: boolean }>(
        c,
        `select id, token, revoked, session_id, coalesce(updated_at + make_interval(secs => $2) > now(), false) as within_reuse
           from auth.refresh_tokens where token = $1 for update`,
        [tokenText, reuseInterval],
      );
      if (!tok) throw notFoundErr();
      const session = await one<SessionRow>(c, 'select id, user_id, aal from auth.sessions where id = $1 for update', [tok.session_id]);
      if (!session) throw badRequest('session_not_found', 'Invalid Refresh Token: No Valid Session Found');

      let issuedToken: string | null = null;
      if (tok.revoked) {
        const active = await one<{ token: string; parent: string | null }>(
          c,
          'select token, parent from auth.refresh_tokens where session_id = $1 and revoked = false order by id desc limit 1',
          [session.id],
        );
        if (active && active.parent === tok.token) {
          // The client lost the answer to its last refresh: hand back the currently active token (GoTrue does).
          issuedToken = active.token;
        } else if (!tok.within_reuse) {
          // Reuse of a rotated token: revoke the whole family and refuse (committed even though the request fails).
          await query(c, 'update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and revoked = false', [
            session.id,
          ]);
          log.warn(`refresh token reuse detected for session ${session.id}: all its refresh tokens were revoked`);
          return new CommitThenFail(badRequest('refresh_token_already_used', 'Invalid Refresh Token: Already Used'));
        }
      }
      const current = await findUserById(c, user!.id);
      if (!current) throw notFoundErr();
      await audit(c, 'token_refreshed', 'token', current, info.ip);
      let latest: UserRow = current;
      if (!issuedToken) {
        issuedToken = newRefreshToken();
        await query(c, 'update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1', [tok.id]);
        await query(
          c,
          `insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
           values ($1, $2, $3, false, now(), now(), $4, $5)`,
          [NIL_UUID, issuedToken, current.id, tok.token, session.id],
        );
        await audit(c, 'token_revoked', 'token', current, info.ip);
        latest = (await one<UserRow>(
          c,
          `update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1
           returning *, coalesce(banned_until > now(), false) as is_banned`,
          [current.id],
        ))!;
      }
      await query(
        c,
        `update auth.sessions set refreshed_at = (now() at time zone 'utc'), updated_at = now(), user_agent = $2, ip = $3::inet
          where id = $1`,
        [session.id, info.userAgent, info.ip],
      );
      const amr = await sessionAmr(c, session.id);
      return sessionJson(c, { user: latest, session: { id: session.id, aal: session.aal }, amr, refreshToken: issuedToken });
    }).catch((e) => {
      throw asDbError(e, 'Database error refreshing the session');
    });
    return json(200, result);
  }

  async function getUser(info: RequestInfo): Promise<Response> {
    const { claims, user } = await authenticate(info.req);
    checkAudience(info.req, claims);
    return json(200, userJson(user, await identitiesOf(pool, [user.id])));
  }

  async function updateUser(info: RequestInfo): Promise<Response> {
    const { claims, user, session } = await authenticate(info.req);
    const p = await readParams<UserUpdateParams>(info.req, 'UserUpdateParams', USER_UPDATE);
    const aud = requestAud(info.req, claims);
    let email: string | undefined;
    if (p.email) email = validateEmail(p.email);
    if (p.phone) {
      validatePhone(p.phone);
      // The local stack has no SMS provider for GoTrue, so a phone change could never be confirmed.
      throw unprocessable('phone_provider_disabled', 'Phone signups are disabled');
    }
    if (p.password !== undefined) checkPasswordStrength(p.password, minPasswordLength);
    if (p.app_metadata !== undefined && !(user.aud === DEFAULT_AUD && user.role === ADMIN_GROUP)) {
      throw forbidden('not_admin', 'Updating app_metadata requires admin privileges');
    }
    if (email && email !== user.email && (await findOtherUserByEmail(pool, email, aud, user.id))) {
      throw unprocessable('email_exists', 'A user with this email address has already been registered');
    }
    let hash: string | null | undefined;
    if (p.password !== undefined) {
      if (p.password !== '' && user.encrypted_password && BCRYPT_HASH_RE.test(user.encrypted_password)) {
        if (await bcrypt.compare(p.password, user.encrypted_password)) {
          throw unprocessable('same_password', 'New password should be different from the old password.');
        }
      }
      hash = p.password === '' ? null : await bcrypt.hash(p.password, BCRYPT_COST);
    }

    const body = await transaction(pool, async (c) => {
      const row = await findUserByIdForUpdate(c, user.id);
      if (!row) throw forbidden('user_not_found', 'User from sub claim in JWT does not exist');
      if (hash !== undefined) {
        await updatePassword(c, row.id, hash, session?.id ?? null);
        await audit(c, 'user_updated_password', 'user', row, info.ip);
      }
      if (p.data) await mergeMetadata(c, row.id, 'raw_user_meta_data', p.data);
      if (p.app_metadata) await mergeMetadata(c, row.id, 'raw_app_meta_data', p.app_metadata);
      if (email && email !== row.email) {
        // Hosted GoTrue never changes the address of a permanent user without confirming the new one: it records
        // the pending change (new_email) and mails a link. No mail leaves the local stack; an admin can set the
        // address directly (PUT /admin/users/{id}).
        await throttleMail(c, row.id, 'email_change_sent_at');
        await query(
          c,
          `update auth.users set email_change = $2, email_change_sent_at = now(), email_change_token_new = $3,
                  email_change_token_current = $4, email_change_confirm_status = 0, updated_at = now()
            where id = $1`,
          [row.id, email, newTokenHash(), row.email ? newTokenHash() : ''],
        );
        log.info(`email change of user ${row.id} recorded as pending (the local stack sends no confirmation mail)`);
      }
      await audit(c, 'user_modified', 'user', row, info.ip);
      return (await loadUserJson(c, row.id))!.json;
    }).catch((e) => {
      throw asDbError(e, 'Error updating user');
    });
    return json(200, body);
  }

  async function logout(info: RequestInfo): Promise<Response> {
    const { user, session } = await authenticate(info.req);
    const raw = info.url.searchParams.get('scope') ?? '';
    if (!['', 'global', 'local', 'others'].includes(raw)) {
      throw badRequest('validation_failed', `Unsupported logout scope ${JSON.stringify(raw)}`);
    }
    const scope = raw === '' ? 'global' : raw;
    await transaction(pool, async (c) => {
      await audit(c, 'logout', 'account', user, info.ip);
      if (session && scope === 'local') {
        await query(c, 'delete from auth.sessions where id = $1', [session.id]);
      } else if (session && scope === 'others') {
        await query(c, 'delete from auth.sessions where user_id = $1 and id <> $2', [user.id, session.id]);
      } else {
        await query(c, 'delete from auth.sessions where user_id = $1', [user.id]);
      }
    }).catch((e) => {
      throw asDbError(e, 'Error logging out user');
    });
    return new Response(null, { status: 204 });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Admin

  async function adminListUsers(info: RequestInfo): Promise<Response> {
    await requireAdmin(info.req);
    const { page, perPage } = parsePagination(info.url);
    const order = parseSort(info.url);
    const filter = info.url.searchParams.get('filter') || null;
    const aud = requestAud(info.req, null);
    const where = `u.aud = $1 and ($2::text is null or u.email ilike '%' || $2 || '%'
                   or u.raw_user_meta_data ->> 'full_name' ilike '%' || $2 || '%')`;
    const total = Number((await one<{ n: string }>(pool, `select count(*) as n from auth.users u where ${where}`, [aud, filter]))!.n);
    const rows = await query<UserRow>(
      pool,
      `select u.*, coalesce(u.banned_until > now(), false) as is_banned from auth.users u where ${where}
        order by u.created_at ${order} nulls last, u.id ${order} limit $3 offset $4`,
      [aud, filter, perPage, (page - 1) * perPage],
    );
    const identities = await identitiesOf(pool, rows.map((r) => r.id));
    const users = rows.map((r) => userJson(r, identities.filter((i) => i.user_id === r.id)));
    // GoTrue addPaginationHeaders: a "next" link while pages remain, always a "last" link, and the total count.
    const last = Math.ceil(total / perPage);
    const base = `${issuer}/admin/users`;
    const links: string[] = [];
    if (page + 1 <= last) links.push(`<${base}?page=${page + 1}&per_page=${perPage}>; rel="next"`);
    links.push(`<${base}?page=${last}&per_page=${perPage}>; rel="last"`);
    return json(200, { users, aud }, { Link: links.join(', '), 'X-Total-Count': String(total) });
  }

  async function adminCreateUser(info: RequestInfo): Promise<Response> {
    const admin = await requireAdmin(info.req);
    const p = await readParams<AdminUserParams>(info.req, 'AdminUserParams', ADMIN_USER);
    const aud = p.aud || requestAud(info.req, null);
    if (!p.email && !p.phone) throw badRequest('validation_failed', 'Cannot create a user without either an email or phone');
    const providers: string[] = [];
    let email: string | null = null;
    let phone: string | null = null;
    if (p.email) {
      email = validateEmail(p.email);
      if (await findOtherUserByEmail(pool, email, aud, null)) {
        throw unprocessable('email_exists', 'A user with this email address has already been registered');
      }
      providers.push('email');
    }
    if (p.phone) {
      phone = validatePhone(p.phone);
      if (await findUserByPhone(pool, phone, null)) throw unprocessable('phone_exists', 'Phone number already registered by another user');
      providers.push('phone');
    }
    if (p.password !== undefined && p.password_hash) {
      throw badRequest('validation_failed', 'Only a password or a password hash should be provided');
    }
    let hash: string;
    if (p.password_hash) {
      if (!BCRYPT_HASH_RE.test(p.password_hash)) {
        throw badRequest('validation_failed', 'Invalid password hash: only bcrypt hashes ($2a$, $2b$, $2y$) are supported locally');
      }
      hash = p.password_hash;
    } else {
      // No password: GoTrue stores a random one, so the account cannot be signed into with a password.
      const password = p.password ? p.password : newTokenHash();
      if (Buffer.byteLength(password, 'utf8') > 72) throw badRequest('validation_failed', 'bcrypt: password length exceeds 72 bytes');
      hash = await bcrypt.hash(password, BCRYPT_COST);
    }
    let id: string = randomUUID();
    if (p.id) {
      if (!UUID_RE.test(p.id)) throw badRequest('validation_failed', 'ID must conform to the uuid v4 format');
      if (p.id === NIL_UUID) throw badRequest('validation_failed', 'ID cannot be a nil uuid');
      id = p.id.toLowerCase();
    }
    const banMs = p.ban_duration ? banDuration(p.ban_duration) : undefined;
    const userMeta = p.user_metadata ?? {};
    const appMeta = { provider: providers[0], providers };

    const body = await transaction(pool, async (c) => {
      await query(
        c,
        `insert into auth.users (instance_id, id, aud, role, email, phone, encrypted_password, confirmation_token, recovery_token,
                                 email_change_token_new, email_change, phone_change, phone_change_token,
                                 email_change_token_current, reauthentication_token, raw_app_meta_data,
                                 raw_user_meta_data, created_at, updated_at, is_sso_user, is_anonymous)
         values ($1, $2, $3, '', $4, $5, $6, '', '', '', '', '', '', '', '', $7::jsonb, $8::jsonb, now(), now(), false, false)`,
        [NIL_UUID, id, aud, email, phone, hash, JSON.stringify(appMeta), JSON.stringify(userMeta)],
      );
      if (email) await insertIdentity(c, id, 'email', { sub: id, email, email_verified: false, phone_verified: false });
      if (phone) await insertIdentity(c, id, 'phone', { sub: id, phone, email_verified: false, phone_verified: false });
      await audit(c, 'user_signedup', 'team', { id: NIL_UUID, email: admin.role }, info.ip, { user_id: id, user_email: email, user_phone: phone });
      await query(c, 'update auth.users set role = $2, updated_at = now() where id = $1', [id, p.role || DEFAULT_ROLE]);
      if (p.app_metadata) await mergeMetadata(c, id, 'raw_app_meta_data', p.app_metadata);
      if (p.email_confirm) await confirmEmail(c, id);
      if (p.phone_confirm) await query(c, 'update auth.users set phone_confirmed_at = now(), updated_at = now() where id = $1', [id]);
      if (banMs !== undefined) await ban(c, id, banMs);
      return (await loadUserJson(c, id))!.json;
    }).catch((e) => {
      const constraint = pgConstraint(e);
      if (constraint === 'users_email_partial_key') throw unprocessable('email_exists', 'A user with this email address has already been registered');
      if (constraint === 'users_phone_key') throw unprocessable('phone_exists', 'Phone number already registered by another user');
      if (constraint === 'users_pkey') throw unprocessable('user_already_exists', 'A user with this ID already exists');
      throw asDbError(e, 'Database error creating new user');
    });
    return json(200, body);
  }

  async function adminGetUser(info: RequestInfo, id: string): Promise<Response> {
    await requireAdmin(info.req);
    const loaded = await loadUserJson(pool, checkUserId(id));
    if (!loaded) throw notFound('user_not_found', 'User not found');
    return json(200, loaded.json);
  }

  async function adminUpdateUser(info: RequestInfo, rawId: string): Promise<Response> {
    const admin = await requireAdmin(info.req);
    const id = checkUserId(rawId);
    const existing = await findUserById(pool, id);
    if (!existing) throw notFound('user_not_found', 'User not found');
    const p = await readParams<AdminUserParams>(info.req, 'AdminUserParams', ADMIN_USER);
    const email = p.email ? validateEmail(p.email) : null;
    const phone = p.phone ? validatePhone(p.phone) : null;
    const banMs = p.ban_duration ? banDuration(p.ban_duration) : undefined;
    let hash: string | null | undefined;
    if (p.password !== undefined) {
      checkPasswordStrength(p.password, minPasswordLength);
      hash = await bcrypt.hash(p.password, BCRYPT_COST);
    }
    const aud = existing.aud ?? DEFAULT_AUD;
    if (email && email !== existing.email && (await findOtherUserByEmail(pool, email, aud, id))) {
      throw unprocessable('email_exists', 'A user with this email address has already been registered');
    }
    if (phone && phone !== existing.phone && (await findUserByPhone(pool, phone, id))) {
      throw unprocessable('phone_exists', 'Phone number already registered by another user');
    }

    const body = await transaction(pool, async (c) => {
      const row = await findUserByIdForUpdate(c, id);
      if (!row) throw notFound('user_not_found', 'User not found');
      if (p.role) await query(c, 'update auth.users set role = $2, updated_at = now() where id = $1', [id, p.role.trim()]);
      if (p.email_confirm) await confirmEmail(c, id);
      if (p.phone_confirm) await query(c, 'update auth.users set phone_confirmed_at = now(), updated_at = now() where id = $1', [id]);
      // An admin password change signs the user out everywhere (GoTrue UpdatePassword without a session).
      if (hash !== undefined) await updatePassword(c, id, hash, null);
      if (email) {
        await upsertIdentity(c, id, 'email', { email, email_verified: !!p.email_confirm });
        await query(c, 'update auth.users set email = $2, updated_at = now() where id = $1', [id, email]);
      }
      if (phone) {
        await upsertIdentity(c, id, 'phone', { phone, phone_verified: !!p.phone_confirm });
        await query(c, 'update auth.users set phone = $2, updated_at = now() where id = $1', [id, phone]);
      }
      if (p.app_metadata) await mergeMetadata(c, id, 'raw_app_meta_data', p.app_metadata);
      if (p.user_metadata) await mergeMetadata(c, id, 'raw_user_meta_data', p.user_metadata);
      if (banMs !== undefined) await ban(c, id, banMs);
      await audit(c, 'user_modified', 'user', { id: NIL_UUID, email: admin.role }, info.ip, {
        user_id: id, user_email: email ?? row.email, user_phone: phone ?? row.phone,
      });
      return (await loadUserJson(c, id))!.json;
    }).catch((e) => {
      const constraint = pgConstraint(e);
      if (constraint === 'users_email_partial_key') throw unprocessable('email_exists', 'A user with this email address has already been registered');
      if (constraint === 'users_phone_key') throw unprocessable('phone_exists', 'Phone number already registered by another user');
      throw asDbError(e, 'Error updating user');
    });
    return json(200, body);
  }

  async function adminDeleteUser(info: RequestInfo, rawId: string): Promise<Response> {
    const admin = await requireAdmin(info.req);
    const id = checkUserId(rawId);
    const existing = await findUserById(pool, id);
    if (!existing) throw notFound('user_not_found', 'User not found');
    const text = await readBodyText(info.req);
    // The body is optional here (GoTrue only parses a non-empty one).
    const p = text.trim() === '' ? {} : parseParams<{ should_soft_delete?: boolean }>(text, 'adminUserDeleteParams', ADMIN_DELETE);
    await transaction(pool, async (c) => {
      await audit(c, 'user_deleted', 'team', { id: NIL_UUID, email: admin.role }, info.ip, {
        user_id: id, user_email: existing.email, user_phone: existing.phone,
      });
      if (!p.should_soft_delete) {
        await query(c, 'delete from auth.users where id = $1', [id]);
        return;
      }
      if (existing.deleted_at) return;
      // GoTrue SoftDeleteUser: keep the row (and rows referencing it) but make it unusable and anonymous.
      await query(
        c,
        `update auth.users
            set email = case when email is null or email = '' then email else encode(sha256(convert_to(email || id::text, 'UTF8')), 'hex') end,
                phone = case when phone is null or phone = '' then phone else encode(sha256(convert_to(phone || id::text, 'UTF8')), 'hex') end,
                encrypted_password = '', confirmation_token = '', recovery_token = '', email_change_token_current = '',
                email_change_token_new = '', email_change = '', phone_change = '', phone_change_token = '',
                reauthentication_token = '', raw_app_meta_data = '{}'::jsonb, raw_user_meta_data = '{}'::jsonb,
                deleted_at = now(), updated_at = now()
          where id = $1`,
        [id],
      );
      await query(
        c,
        `update auth.identities
            set provider_id = encode(sha256(convert_to(provider_id || user_id::text, 'UTF8')), 'hex'),
                identity_data = '{}'::jsonb, updated_at = now()
          where user_id = $1`,
        [id],
      );
      await query(c, 'delete from auth.sessions where user_id = $1', [id]);
    }).catch((e) => {
      throw asDbError(e, 'Database error deleting user');
    });
    return json(200, {});
  }

  async function insertIdentity(c: PoolClient, userId: string, provider: string, data: Meta) {
    await query(
      c,
      `insert into auth.identities (id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
       values (gen_random_uuid(), $1::text, $1::text::uuid, $2::jsonb, $3, now(), now(), now())`,
      [userId, JSON.stringify(data), provider],
    );
  }

  /** Admin email/phone change: update the provider's identity, or create it when the user has none. */
  async function upsertIdentity(c: PoolClient, userId: string, provider: 'email' | 'phone', changes: Meta) {
    const updated = await query(
      c,
      `update auth.identities set identity_data = identity_data || $3::jsonb, updated_at = now()
        where provider_id = $1 and provider = $2 returning id`,
      [userId, provider, JSON.stringify(changes)],
    );
    if (!updated.length) {
      await insertIdentity(c, userId, provider, { sub: userId, email_verified: false, phone_verified: false, ...changes });
      // GoTrue keeps app_metadata.providers in step with the identities.
      await query(
        c,
        `update auth.users
            set raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb)
                  || jsonb_build_object('providers', (select jsonb_agg(distinct provider) from auth.identities where user_id = $1))
                  || jsonb_build_object('provider', coalesce(raw_app_meta_data ->> 'provider', $2::text)),
                updated_at = now()
          where id = $1`,
        [userId, provider],
      );
    }
  }

  async function ban(c: PoolClient, userId: string, ms: number) {
    await query(
      c,
      `update auth.users set banned_until = case when $2::float8 = 0 then null else now() + make_interval(secs => $2::float8 / 1000) end,
              updated_at = now()
        where id = $1`,
      [userId, ms],
    );
  }

  // ---------------------------------------------------------------------------------------------------------
  // Routing

  async function route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const info: RequestInfo = { req, url, ip: clientIp(req), userAgent: req.headers.get('user-agent') };
    const m = req.method.toUpperCase();
    const only = (method: string, fn: () => Promise<Response> | Response) => (m === method ? fn() : methodNotAllowed());

    switch (path) {
      case '/health':
        return only('GET', () => json(200, { version: 'local', name: 'GoTrue', description: 'GoTrue is a user registration and authentication API' }));
      case '/settings':
        return only('GET', () => json(200, settings(autoconfirm)));
      case '/.well-known/jwks.json':
        // Only asymmetric signing keys are published; with the HS256 project secret the set is empty.
        return only('GET', () => json(200, { keys: [] }));
      case '/signup':
        return only('POST', () => signup(info));
      case '/token':
        return only('POST', () => token(info));
      case '/logout':
        return only('POST', () => logout(info));
      case '/user':
        if (m === 'GET') return getUser(info);
        if (m === 'PUT') return updateUser(info);
        return methodNotAllowed();
      case '/admin/users':
        if (m === 'GET') return adminListUsers(info);
        if (m === 'POST') return adminCreateUser(info);
        return methodNotAllowed();
    }
    const user = /^\/admin\/users\/([^/]+)$/.exec(path);
    if (user) {
      const id = decodeURIComponent(user[1]);
      if (m === 'GET') return adminGetUser(info, id);
      if (m === 'PUT') return adminUpdateUser(info, id);
      if (m === 'DELETE') return adminDeleteUser(info, id);
      return methodNotAllowed();
    }
    return new Response('404 page not found\n', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  }

  const handler: FetchHandler = (req) => {
    if (closed) return Promise.resolve(errorResponse(new HttpError(503, 'unexpected_failure', 'The auth server is shutting down'), req, log));
    const p = route(req).catch((e) => errorResponse(e, req, log));
    inflight.add(p);
    p.finally(() => inflight.delete(p));
    return p;
  };

  return {
    handler,
    async close() {
      closed = true;
      await Promise.allSettled([...inflight]);
    },
  };
}

// -------------------------------------------------------------------------------------------------------------
// Helpers without state

function bearerToken(req: Request): string {
  const m = /^(?:B|b)earer (\S+)$/.exec(req.headers.get('authorization') ?? '');
  if (!m) throw new HttpError(401, 'no_authorization', 'This endpoint requires a Bearer token');
  return m[1];
}

/** GoTrue requestAud: the X-JWT-AUD header, else the token's audience, else the configured default. */
function requestAud(req: Request, claims: JWTPayload | null): string {
  const header = req.headers.get('x-jwt-aud');
  if (header) return header;
  const aud = claims?.aud;
  const first = Array.isArray(aud) ? aud[0] : aud;
  return first || DEFAULT_AUD;
}

function checkAudience(req: Request, claims: JWTPayload) {
  const tokenAud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
  if (!tokenAud || tokenAud !== requestAud(req, claims)) {
    throw badRequest('validation_failed', "Token audience doesn't match request audience");
  }
}

function checkUserId(id: string): string {
  if (!UUID_RE.test(id)) throw notFound('validation_failed', 'user_id must be an UUID');
  return id.toLowerCase();
}

function banDuration(s: string): number {
  if (s === 'none') return 0;
  try {
    return parseGoDuration(s);
  } catch (e) {
    throw badRequest('validation_failed', `invalid format for ban duration: ${(e as Error).message}`);
  }
}

function parseSort(url: URL): 'asc' | 'desc' {
  const raw = url.searchParams.get('sort');
  if (!raw) return 'desc';
  const [field, dir = 'asc', ...rest] = raw.trim().split(/\s+/);
  if (field !== 'created_at' || rest.length || !['asc', 'desc'].includes(dir.toLowerCase())) {
    throw badRequest('validation_failed', `Bad Sort Parameters: ${JSON.stringify(raw)} is not a valid sort (only "created_at asc|desc")`);
  }
  return dir.toLowerCase() as 'asc' | 'desc';
}

async function sessionAmr(db: Db, sessionId: string): Promise<AmrEntry[]> {
  const rows = await query<{ method: string; ts: number }>(
    db,
    `select authentication_method as method, floor(extract(epoch from updated_at))::float8 as ts
       from auth.mfa_amr_claims where session_id = $1 order by updated_at desc`,
    [sessionId],
  );
  return rows.map((r) => ({ method: r.method, timestamp: Number(r.ts) }));
}

function clientIp(req: Request): string | null {
  const fwd = req.headers.get('x-forwarded-for')?.split(',')[0]?.trim() || req.headers.get('x-real-ip')?.trim();
  return fwd && isIP(fwd) ? fwd : null;
}

function methodNotAllowed(): Response {
  return new Response(null, { status: 405 });
}

function pgConstraint(e: unknown): string | undefined {
  const err = e as { code?: string; constraint?: string };
  return err && err.code === '23505' ? err.constraint : undefined;
}

/** Passes API errors through; anything else (a database error) becomes GoTrue's 500 with the given message. */
function asDbError(e: unknown, message: string): Error {
  if (e instanceof HttpError || e instanceof WeakPasswordError || e instanceof OAuthError) return e;
  return internalError(message, e);
}

function settings(autoconfirm: boolean) {
  const providers = [
    'anonymous_users', 'apple', 'azure', 'bitbucket', 'discord', 'facebook', 'figma', 'fly', 'github', 'gitlab',
    'google', 'keycloak', 'kakao', 'linkedin', 'linkedin_oidc', 'notion', 'spotify', 'slack', 'slack_oidc', 'workos',
    'twitch', 'twitter', 'email', 'phone', 'zoom',
  ];
  const external: Record<string, boolean> = {};
  for (const p of providers) external[p] = p === 'email';
  return {
    external,
    disable_signup: false,
    mailer_autoconfirm: autoconfirm,
    phone_autoconfirm: false,
    sms_provider: '',
    saml_enabled: false,
  };
}
