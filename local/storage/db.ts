/**
 * Database access under the caller's identity, as supabase/storage does (`src/internal/database` scope):
 * every query runs inside a transaction that first sets, transaction-locally, the role and the JWT claims,
 * so Postgres evaluates the app's RLS policies on storage.objects / storage.buckets itself.
 * The "super user" scope is the service_role (BYPASSRLS), which storage uses for bucket lookups, signed-URL
 * downloads and the like.
 */
import type pg from 'pg';
import type { Claims } from './jwt.ts';

export interface Scope {
  role: string;
  claims: Claims;
  /** The raw bearer token (storage sets `request.jwt`). */
  jwt: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  operation: string;
}

const SCOPE_SQL = `select
  set_config('role', $1, true),
  set_config('request.jwt.claim.role', $2, true),
  set_config('request.jwt', $3, true),
  set_config('request.jwt.claim.sub', $4, true),
  set_config('request.jwt.claims', $5, true),
  set_config('request.headers', $6, true),
  set_config('request.method', $7, true),
  set_config('request.path', $8, true),
  set_config('storage.operation', $9, true),
  set_config('storage.allow_delete_query', 'true', true)`;

export async function applyScope(client: pg.PoolClient, scope: Scope): Promise<void> {
  await client.query(SCOPE_SQL, [
    scope.role,
    scope.role,
    scope.jwt,
    typeof scope.claims.sub === 'string' ? scope.claims.sub : '',
    JSON.stringify(scope.claims),
    JSON.stringify(scope.headers),
    scope.method,
    scope.path,
    scope.operation,
  ]);
}

/** The service_role scope used for storage's `asSuperUser()` lookups within the same request. */
export function superUserScope(of: Scope): Scope {
  return { ...of, role: 'service_role', claims: { role: 'service_role' }, jwt: '' };
}

export interface Tx {
  client: pg.PoolClient;
  /** Runs `fn` under another scope inside this transaction, then restores the transaction's own scope. */
  as<T>(scope: Scope, fn: () => Promise<T>): Promise<T>;
}

/**
 * One transaction on one pooled connection with `scope` applied first. Commits when `fn` resolves, rolls
 * back when it throws. `onCommitted`-style work (file renames) belongs to the caller, after this resolves.
 * `rollbackOnly` runs `fn` and always rolls back (storage's `testPermission`).
 */
export async function withScope<T>(
  pool: pg.Pool,
  scope: Scope,
  fn: (tx: Tx) => Promise<T>,
  opts: { rollbackOnly?: boolean } = {},
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('begin');
    try {
      await applyScope(client, scope);
      const tx: Tx = {
        client,
        async as(other, inner) {
          await applyScope(client, other);
          const result = await inner(); // on error the transaction is aborted anyway
          await applyScope(client, scope);
          return result;
        },
      };
      const result = await fn(tx);
      await client.query(opts.rollbackOnly ? 'rollback' : 'commit');
      return result;
    } catch (err) {
      try { await client.query('rollback'); } catch { broken = true; }
      throw err;
    }
  } finally {
    client.release(broken ? true : undefined);
  }
}
