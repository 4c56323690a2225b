/**
 * Direct SQL access for tests: a `pg` pool on the stack's database (DB_URL, the `postgres` superuser) and
 * `asUser`, which runs a callback inside one transaction under a user's identity exactly the way PostgREST runs a
 * request: transaction-local `search_path`, `role`, `request.jwt.claims`, `request.method`, `request.path`,
 * `request.headers`, `request.cookies` (see docs/tenancy.md and shared reference §2.6). RLS, grants and
 * `auth.uid()` therefore behave as they do behind /rest/v1.
 *
 * Only DB_URL is needed, so SQL-level tests also run against a bare Postgres with the bootstrap and migrations.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { env } from './env.ts';

let pool: pg.Pool | undefined;

/** The shared superuser pool (bypasses RLS: use it to arrange and inspect, never to assert access). */
export function db(): pg.Pool {
  if (!pool) {
    pool = new pg.Pool({ connectionString: env.dbUrl, max: Number(process.env.SP_TEST_DB_POOL ?? 4) });
    pool.on('error', () => {}); // an idle client dropped by the server must not crash the test run
  }
  return pool;
}

export async function closeDb(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.end();
}

/** Access-token claims as the auth server issues them (shared reference §3.2). */
export interface JwtClaims {
  role: 'anon' | 'authenticated' | 'service_role';
  sub?: string;
  aud?: string;
  email?: string;
  phone?: string;
  app_metadata?: Record<string, unknown>;
  user_metadata?: Record<string, unknown>;
  [claim: string]: unknown;
}

/** Claims for a signed-in user (userId) or for the anon key (null). `extra` overrides or adds claims. */
export function claimsFor(userId: string | null, extra: Partial<JwtClaims> = {}): JwtClaims {
  const now = Math.floor(Date.now() / 1000);
  if (userId === null) return { iss: 'supabase-demo', role: 'anon', iat: now, exp: now + 3600, ...extra };
  return {
    iss: 'http://127.0.0.1:54321/auth/v1',
    aud: 'authenticated',
    sub: userId,
    role: 'authenticated',
    iat: now,
    exp: now + 3600,
    email: '',
    phone: '',
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: now }],
    session_id: randomUUID(),
    is_anonymous: false,
    ...extra,
  };
}

export interface AsUserOptions {
  /** Claims to merge over claimsFor(userId) (e.g. a forged user_metadata). */
  claims?: Partial<JwtClaims>;
  /** Roll back instead of committing (PostgREST commits; tests that only probe may prefer not to). */
  rollback?: boolean;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

/**
 * Run `fn` in one transaction as the given user (null = anon), the way PostgREST does a request. Commits on
 * success (unless `rollback`), rolls back and rethrows on error. Do not run statements after an error inside
 * `fn`: the transaction is aborted, as it would be for PostgREST.
 */
export async function asUser<T>(
  userId: string | null,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: AsUserOptions = {},
): Promise<T> {
  const claims = claimsFor(userId, opts.claims);
  const client = await db().connect();
  try {
    await client.query('begin');
    await client.query(
      `select set_config('search_path', 'public, extensions', true),
              set_config('role', $1, true),
              set_config('request.jwt.claims', $2, true),
              set_config('request.method', $3, true),
              set_config('request.path', $4, true),
              set_config('request.headers', $5, true),
              set_config('request.cookies', '{}', true)`,
      [claims.role, JSON.stringify(claims), opts.method ?? 'POST', opts.path ?? '/rpc/test',
        JSON.stringify(opts.headers ?? {})],
    );
    const result = await fn(client);
    await client.query(opts.rollback ? 'rollback' : 'commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** asUser(null, …): the anon role with the anon key's claims. */
export function asAnon<T>(fn: (client: pg.PoolClient) => Promise<T>, opts: AsUserOptions = {}): Promise<T> {
  return asUser(null, fn, opts);
}

/** Await a promise that must fail with a Postgres error; returns the error (code, message, …). */
export async function sqlError(p: Promise<unknown>): Promise<pg.DatabaseError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof pg.DatabaseError) return err;
    throw err;
  }
  throw new Error('expected a database error, but the statement succeeded');
}

/** A unique, valid address for one test run: `<label>-<random>@test.servicepro.local`. */
export function uniqueEmail(label: string): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}@test.servicepro.local`;
}

/**
 * A user written straight into auth.users (as the auth server stores one), for SQL-level tests that do not go
 * through the API. API tests create users through supabase-js instead (tests/helpers/personas.ts).
 */
export async function createAuthUser(
  opts: { email?: string; userMetadata?: Record<string, unknown> } = {},
): Promise<{ id: string; email: string }> {
  const id = randomUUID();
  const email = opts.email ?? uniqueEmail('user');
  await db().query(
    `insert into auth.users (id, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     values ($1, $2, '{"provider":"email","providers":["email"]}', $3, now(), now())`,
    [id, email, JSON.stringify(opts.userMetadata ?? {})],
  );
  return { id, email };
}
