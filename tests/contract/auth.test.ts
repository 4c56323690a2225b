/**
 * The Auth contract the app relies on, driven through the real supabase-js against the running stack:
 * gateway /auth/v1 (Kong's apikey mapping) → the GoTrue stand-in (local/auth) → the auth schema.
 * Shapes, error codes and access-token claims are GoTrue's (shared reference §3). Every run uses fresh addresses
 * and deletes the users it created.
 */
import { randomUUID } from 'node:crypto';
import {
  createClient,
  isAuthApiError,
  isAuthSessionMissingError,
  isAuthWeakPasswordError,
  type Session,
  type SupabaseClient,
} from '@supabase/supabase-js';
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { env } from '../helpers/env.ts';

const options = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };
const PASSWORD = 'correct-horse-battery-1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const created = new Set<string>();
let db: pg.Pool;

const anon = (): SupabaseClient => createClient(env.apiUrl, env.anonKey, options);
const service = (): SupabaseClient => createClient(env.apiUrl, env.serviceRoleKey, options);
const uniqueEmail = (label: string) => `auth-${label}-${randomUUID()}@test.local`;

/** Asserts a supabase-js auth error carries GoTrue's status and error code. */
function expectApiError(error: unknown, code: string, status: number) {
  const e = error as { name?: string; message?: string; code?: string; status?: number } | null;
  expect(isAuthApiError(error), `expected an AuthApiError ${code}, got ${e?.name}: ${e?.message}`).toBe(true);
  expect(e?.code).toBe(code);
  expect(e?.status).toBe(status);
}

/** Signs up a fresh user on a fresh client (autoconfirm: the client holds the session). */
async function signUp(label: string, data: Record<string, unknown> = {}) {
  const client = anon();
  const email = uniqueEmail(label);
  const res = await client.auth.signUp({ email, password: PASSWORD, options: { data } });
  expect(res.error).toBeNull();
  expect(res.data.session).not.toBeNull();
  created.add(res.data.user!.id);
  return { client, email, user: res.data.user!, session: res.data.session! };
}

async function signIn(email: string, password = PASSWORD) {
  const client = anon();
  const res = await client.auth.signInWithPassword({ email, password });
  expect(res.error).toBeNull();
  return { client, session: res.data.session! };
}

async function claimsOf(accessToken: string) {
  const { payload } = await jwtVerify(accessToken, new TextEncoder().encode(env.jwtSecret), { algorithms: ['HS256'] });
  return payload as Record<string, unknown>;
}

beforeAll(() => {
  db = new pg.Pool({ connectionString: env.dbUrl, max: 2 });
});

afterAll(async () => {
  const admin = service().auth.admin;
  await Promise.all([...created].map((id) => admin.deleteUser(id).catch(() => undefined)));
  await db?.end();
});

describe('sign up', () => {
  it('answers with a GoTrue session and user, and an access token carrying the documented claims', async () => {
    const { email, user, session } = await signUp('shape', { full_name: 'Ada Lovelace' });

    expect(session).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    expect(typeof session.refresh_token).toBe('string');
    expect(session.refresh_token.length).toBeGreaterThanOrEqual(12);
    expect(session.expires_at).toBeGreaterThan(Math.floor(Date.now() / 1000) + 3500);

    expect(user.id).toMatch(UUID);
    expect(user).toMatchObject({
      aud: 'authenticated',
      role: 'authenticated',
      email,
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: { full_name: 'Ada Lovelace', email, email_verified: true, phone_verified: false, sub: user.id },
      is_anonymous: false,
    });
    expect(user.email_confirmed_at).toMatch(RFC3339);
    expect(user.last_sign_in_at).toMatch(RFC3339);
    expect(user.created_at).toMatch(RFC3339);
    expect(user.identities).toHaveLength(1);
    expect(user.identities![0]).toMatchObject({ id: user.id, user_id: user.id, provider: 'email', email });
    expect(user.identities![0].identity_id).toMatch(UUID);
    expect(user.identities![0].identity_data).toMatchObject({ sub: user.id, email, email_verified: true });

    expect(decodeProtectedHeader(session.access_token)).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    const claims = await claimsOf(session.access_token);
    expect(claims).toMatchObject({
      iss: `${env.apiUrl}/auth/v1`,
      sub: user.id,
      aud: 'authenticated',
      role: 'authenticated',
      email,
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: { full_name: 'Ada Lovelace' },
      aal: 'aal1',
      is_anonymous: false,
    });
    expect(claims.session_id).toMatch(UUID);
    expect(claims.exp! as number - (claims.iat as number)).toBe(3600);
    expect(claims.exp).toBe(session.expires_at);
    expect(claims.amr).toEqual([{ method: 'password', timestamp: expect.any(Number) }]);
  });

  it('refuses an address that is already registered, whatever its case', async () => {
    const { email } = await signUp('dup');
    for (const again of [email, email.toUpperCase()]) {
      const { data, error } = await anon().auth.signUp({ email: again, password: PASSWORD });
      expectApiError(error, 'user_already_exists', 422);
      expect(data.user).toBeNull();
    }
  });

  it('lets exactly one of several concurrent sign-ups of one address win', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all(Array.from({ length: 5 }, () => anon().auth.signUp({ email, password: PASSWORD })));
    const winners = results.filter((r) => !r.error);
    expect(winners).toHaveLength(1);
    created.add(winners[0].data.user!.id);
    for (const loser of results.filter((r) => r.error)) expectApiError(loser.error, 'user_already_exists', 422);
  });

  it('refuses a weak password with the reasons, and a malformed address', async () => {
    const weak = await anon().auth.signUp({ email: uniqueEmail('weak'), password: '12345' });
    expect(isAuthWeakPasswordError(weak.error)).toBe(true);
    expect(weak.error).toMatchObject({ status: 422, code: 'weak_password', reasons: ['length'] });
    expect(weak.error!.message).toBe('Password should be at least 6 characters.');

    const bad = await anon().auth.signUp({ email: 'not-an-address', password: PASSWORD });
    expectApiError(bad.error, 'validation_failed', 400);
  });

  it('stores a bcrypt hash in auth.users, which the API roles cannot read', async () => {
    const { user } = await signUp('storage');
    const { rows } = await db.query('select encrypted_password, raw_user_meta_data from auth.users where id = $1', [user.id]);
    expect(rows[0].encrypted_password).toMatch(/^\$2[aby]\$10\$.{53}$/);
    expect(rows[0].encrypted_password).not.toContain(PASSWORD);

    const c = await db.connect();
    try {
      await c.query('begin');
      await c.query('set local role authenticated');
      await expect(c.query('select id from auth.users limit 1')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.query('rollback');
      c.release();
    }
  });
});

describe('sign in with password', () => {
  it('opens a new session and stamps last_sign_in_at', async () => {
    const { email, user } = await signUp('signin');
    const { session } = await signIn(email);
    expect(session.user.id).toBe(user.id);
    expect(Date.parse(session.user.last_sign_in_at!)).toBeGreaterThanOrEqual(Date.parse(user.last_sign_in_at!));
    const [a, b] = await Promise.all([claimsOf(session.access_token), claimsOf((await signIn(email)).session.access_token)]);
    expect(a.session_id).not.toBe(b.session_id);
  });

  it('answers a wrong password and an unknown address alike: 400 invalid_credentials', async () => {
    const { email } = await signUp('wrongpw');
    for (const attempt of [{ email, password: 'not-the-password' }, { email: uniqueEmail('nobody'), password: PASSWORD }]) {
      const { data, error } = await anon().auth.signInWithPassword(attempt);
      expectApiError(error, 'invalid_credentials', 400);
      expect(error!.message).toBe('Invalid login credentials');
      expect(data.session).toBeNull();
    }
  });

  it('refuses an unconfirmed address with 400 email_not_confirmed', async () => {
    const email = uniqueEmail('unconfirmed');
    const { data, error } = await service().auth.admin.createUser({ email, password: PASSWORD });
    expect(error).toBeNull();
    created.add(data.user!.id);
    expect(data.user!.email_confirmed_at).toBeUndefined();
    const res = await anon().auth.signInWithPassword({ email, password: PASSWORD });
    expectApiError(res.error, 'email_not_confirmed', 400);
  });
});

describe('refresh tokens', () => {
  it('rotate on every refresh; a rotated token is refused and takes its whole session down', async () => {
    const { client, session: s0 } = await signUp('refresh');
    const sessionId = (await claimsOf(s0.access_token)).session_id;

    const r1 = await client.auth.refreshSession({ refresh_token: s0.refresh_token });
    expect(r1.error).toBeNull();
    const s1 = r1.data.session!;
    expect(s1.refresh_token).not.toBe(s0.refresh_token);
    expect((await claimsOf(s1.access_token)).session_id).toBe(sessionId);

    // GoTrue: the direct parent of the active token (a client that lost the last answer) gets that token back.
    const lost = await anon().auth.refreshSession({ refresh_token: s0.refresh_token });
    expect(lost.error).toBeNull();
    expect(lost.data.session!.refresh_token).toBe(s1.refresh_token);

    const r2 = await anon().auth.refreshSession({ refresh_token: s1.refresh_token });
    expect(r2.error).toBeNull();
    const s2 = r2.data.session!;

    // s0 is now two rotations old: reuse is detected, and every token of the session is revoked.
    const reused = await anon().auth.refreshSession({ refresh_token: s0.refresh_token });
    expectApiError(reused.error, 'refresh_token_already_used', 400);
    expect(reused.data.session).toBeNull();
    const after = await anon().auth.refreshSession({ refresh_token: s2.refresh_token });
    expectApiError(after.error, 'refresh_token_already_used', 400);
  });

  it('refuses a token it never issued with 400 refresh_token_not_found', async () => {
    const { error } = await anon().auth.refreshSession({ refresh_token: `never-issued-${randomUUID()}` });
    expectApiError(error, 'refresh_token_not_found', 400);
  });
});

describe('GET /user', () => {
  it('returns the signed-in user', async () => {
    const { client, user, session } = await signUp('getuser');
    const { data, error } = await client.auth.getUser();
    expect(error).toBeNull();
    expect(data.user).toMatchObject({ id: user.id, email: user.email, role: 'authenticated' });
    const byToken = await anon().auth.getUser(session.access_token);
    expect(byToken.data.user!.id).toBe(user.id);
  });

  it('answers 403 bad_jwt for the anon key, a foreign signature and an expired token', async () => {
    const { user } = await signUp('badjwt');
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: user.id, aud: 'authenticated', role: 'authenticated' };
    const forged = await new SignJWT({ ...claims, iat: now, exp: now + 600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    const expired = await new SignJWT({ ...claims, iat: now - 7200, exp: now - 3600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(env.jwtSecret));
    for (const token of [env.anonKey, forged, expired]) {
      const { data, error } = await anon().auth.getUser(token);
      expectApiError(error, 'bad_jwt', 403);
      expect(data.user).toBeNull();
    }
  });
});

describe('updateUser', () => {
  it('merges data into user_metadata (null removes a key) and never touches app_metadata', async () => {
    const { client, user, session } = await signUp('update', { full_name: 'Before', nickname: 'b' });
    const { data, error } = await client.auth.updateUser({ data: { full_name: 'After', nickname: null, shop: 'Main St' } });
    expect(error).toBeNull();
    expect(data.user!.user_metadata).toMatchObject({ full_name: 'After', shop: 'Main St', sub: user.id });
    expect(data.user!.user_metadata).not.toHaveProperty('nickname');
    expect(data.user!.app_metadata).toEqual({ provider: 'email', providers: ['email'] });

    // The next access token carries the new metadata.
    const refreshed = await client.auth.refreshSession({ refresh_token: session.refresh_token });
    expect((await claimsOf(refreshed.data.session!.access_token)).user_metadata).toMatchObject({ full_name: 'After', shop: 'Main St' });
  });

  it('refuses app_metadata from the user with 403 not_admin and changes nothing', async () => {
    const { client, user } = await signUp('appmeta');
    const attempt = { app_metadata: { role: 'owner' }, data: { sneaky: true } } as unknown as Parameters<typeof client.auth.updateUser>[0];
    const { error } = await client.auth.updateUser(attempt);
    expectApiError(error, 'not_admin', 403);
    const { data } = await service().auth.admin.getUserById(user.id);
    expect(data.user!.app_metadata).toEqual({ provider: 'email', providers: ['email'] });
    expect(data.user!.user_metadata).not.toHaveProperty('sneaky');
  });

  it('changes the password, ends the other sessions and keeps this one', async () => {
    const { client, email, session } = await signUp('passwd');
    const other = await signIn(email);

    const same = await client.auth.updateUser({ password: PASSWORD });
    expectApiError(same.error, 'same_password', 422);

    const changed = await client.auth.updateUser({ password: 'a-new-password-2' });
    expect(changed.error).toBeNull();

    const otherRefresh = await anon().auth.refreshSession({ refresh_token: other.session.refresh_token });
    expectApiError(otherRefresh.error, 'refresh_token_not_found', 400);
    const ownRefresh = await anon().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(ownRefresh.error).toBeNull();

    expectApiError((await anon().auth.signInWithPassword({ email, password: PASSWORD })).error, 'invalid_credentials', 400);
    expect((await anon().auth.signInWithPassword({ email, password: 'a-new-password-2' })).error).toBeNull();
  });
});

describe('sign out', () => {
  it('global: the refresh token is dead and the access token no longer finds its session', async () => {
    const { client, session } = await signUp('signout');
    const { error } = await client.auth.signOut();
    expect(error).toBeNull();

    const refresh = await anon().auth.refreshSession({ refresh_token: session.refresh_token });
    expectApiError(refresh.error, 'refresh_token_not_found', 400);

    // GET /user → 403 session_not_found, which auth-js turns into AuthSessionMissingError.
    const { data, error: userError } = await anon().auth.getUser(session.access_token);
    expect(isAuthSessionMissingError(userError)).toBe(true);
    expect(data.user).toBeNull();
  });

  it('others and local end exactly the sessions they name', async () => {
    const { email } = await signUp('scopes');
    const a = await signIn(email);
    const b = await signIn(email);
    const c = await signIn(email);

    expect((await a.client.auth.signOut({ scope: 'others' })).error).toBeNull();
    expectApiError((await anon().auth.refreshSession({ refresh_token: b.session.refresh_token })).error, 'refresh_token_not_found', 400);
    expectApiError((await anon().auth.refreshSession({ refresh_token: c.session.refresh_token })).error, 'refresh_token_not_found', 400);
    expect((await a.client.auth.getUser()).error).toBeNull();

    const d = await signIn(email);
    expect((await a.client.auth.signOut({ scope: 'local' })).error).toBeNull();
    expectApiError((await anon().auth.refreshSession({ refresh_token: a.session.refresh_token })).error, 'refresh_token_not_found', 400);
    expect((await anon().auth.refreshSession({ refresh_token: d.session.refresh_token })).error).toBeNull();
  });
});

describe('admin API (service role)', () => {
  let session: Session;

  beforeAll(async () => {
    session = (await signUp('not-admin')).session;
  });

  it('creates a confirmed user with metadata; app_metadata set by the server reaches the access token', async () => {
    const admin = service().auth.admin;
    const email = uniqueEmail('admin-create');
    const { data, error } = await admin.createUser({
      email,
      password: PASSWORD,
      email_confirm: true,
      user_metadata: { full_name: 'Grace' },
      app_metadata: { plan: 'pro' },
    });
    expect(error).toBeNull();
    created.add(data.user!.id);
    expect(data.user).toMatchObject({
      email,
      role: 'authenticated',
      app_metadata: { provider: 'email', providers: ['email'], plan: 'pro' },
      user_metadata: { full_name: 'Grace', email_verified: true },
    });
    expect(data.user!.email_confirmed_at).toMatch(RFC3339);

    const updated = await admin.updateUserById(data.user!.id, { app_metadata: { plan: 'team', seats: 3 }, user_metadata: { full_name: 'Grace H.' } });
    expect(updated.error).toBeNull();
    expect(updated.data.user!.app_metadata).toEqual({ provider: 'email', providers: ['email'], plan: 'team', seats: 3 });

    const { session: s } = await signIn(email);
    const claims = await claimsOf(s.access_token);
    expect(claims.app_metadata).toEqual({ provider: 'email', providers: ['email'], plan: 'team', seats: 3 });
    expect(claims.user_metadata).toMatchObject({ full_name: 'Grace H.' });

    const dup = await admin.createUser({ email, password: PASSWORD });
    expectApiError(dup.error, 'email_exists', 422);
  });

  it('lists users page by page with GoTrue pagination', async () => {
    const admin = service().auth.admin;
    await signUp('list-1');
    await signUp('list-2');
    const first = await admin.listUsers({ page: 1, perPage: 1 });
    expect(first.error).toBeNull();
    const data = first.data as { users: { id: string }[]; aud: string; total: number; nextPage: number | null };
    expect(data.users).toHaveLength(1);
    expect(data.aud).toBe('authenticated');
    expect(data.total).toBeGreaterThanOrEqual(2);
    expect(data.nextPage).toBe(2);
    const second = await admin.listUsers({ page: 2, perPage: 1 });
    expect(second.data.users).toHaveLength(1);
    expect(second.data.users[0].id).not.toBe(data.users[0].id);
  });

  it('gets and deletes a user; the deleted user cannot sign in', async () => {
    const admin = service().auth.admin;
    const { email, user } = await signUp('admin-delete');
    const got = await admin.getUserById(user.id);
    expect(got.error).toBeNull();
    expect(got.data.user!.email).toBe(email);

    expect((await admin.deleteUser(user.id)).error).toBeNull();
    created.delete(user.id);
    expectApiError((await admin.getUserById(user.id)).error, 'user_not_found', 404);
    expectApiError((await anon().auth.signInWithPassword({ email, password: PASSWORD })).error, 'invalid_credentials', 400);
  });

  it('is refused to the anon key and to a signed-in user: 403 not_admin', async () => {
    expectApiError((await anon().auth.admin.listUsers()).error, 'not_admin', 403);
    const asUser = createClient(env.apiUrl, env.anonKey, {
      ...options,
      global: { headers: { Authorization: `Bearer ${session.access_token}` } },
    });
    expectApiError((await asUser.auth.admin.listUsers()).error, 'not_admin', 403);
    expectApiError((await asUser.auth.admin.createUser({ email: uniqueEmail('nope'), password: PASSWORD })).error, 'not_admin', 403);
  });
});
