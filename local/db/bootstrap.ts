/**
 * The platform bootstrap: what hosted Supabase has before the first migration (roles, schemas auth, storage,
 * extensions, net, vault, cron, default privileges). Written for ServicePro, not copied from upstream.
 *
 * Every `local/db/bootstrap/*.sql` is applied in filename order, each in its own transaction under an advisory
 * lock (roles are cluster-wide: two databases of one server may bootstrap at once). The files are idempotent,
 * so this runs on every start: running it twice changes nothing.
 * The files see the stack's database password as `current_setting('servicepro.db_password')` (transaction-local;
 * it is never logged).
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DB_PASSWORD, ROOT } from '../config.ts';
import type { DatabaseHandle, Logger } from '../lib/types.ts';
import { redact } from './index.ts';

export const BOOTSTRAP_DIR = path.join(ROOT, 'local/db/bootstrap');

/** The bootstrap files in the order they are applied. */
export function bootstrapFiles(dir = BOOTSTRAP_DIR): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => path.join(dir, f));
}

/** "line N" for a PostgreSQL error position (1-based character offset) in `sql`. */
export function lineOf(sql: string, position: string | number | undefined): string {
  const pos = Number(position);
  if (!pos) return '';
  return ` (line ${sql.slice(0, pos - 1).split('\n').length})`;
}

export async function bootstrap(db: DatabaseHandle, log: Logger): Promise<void> {
  const started = Date.now();
  const client = new pg.Client({ connectionString: db.url });
  client.on('notice', (n) => {
    if (n.severity === 'WARNING') log.warn(`bootstrap: ${n.message}`);
  });
  await client.connect();
  const applied: string[] = [];
  try {
    for (const file of bootstrapFiles()) {
      const sql = fs.readFileSync(file, 'utf8');
      const name = path.basename(file);
      try {
        await client.query('begin');
        await client.query(`select pg_advisory_xact_lock(hashtext('servicepro.bootstrap')),
          set_config('servicepro.db_password', $1, true), set_config('client_min_messages', 'warning', true)`, [DB_PASSWORD]);
        await client.query(sql);
        await client.query('commit');
        applied.push(name);
      } catch (e) {
        await client.query('rollback').catch(() => {});
        const err = e as pg.DatabaseError;
        throw new Error(`bootstrap ${name} failed${lineOf(sql, err.position)}: ${err.message}${err.detail ? ` (${err.detail})` : ''}`);
      }
    }
  } finally {
    await client.end().catch(() => {});
  }
  if (db.kind !== 'pglite') await ensureAuthenticatorLogin(db, log);
  log.info(`bootstrap: ${applied.join(', ')} applied in ${Date.now() - started} ms`);
}

/**
 * PostgREST logs in as `authenticator` with the stack's password. A role that already existed (an external
 * database) keeps its password unless that login fails; then it is set, with a warning. (PGlite does not check
 * passwords.)
 */
async function ensureAuthenticatorLogin(db: DatabaseHandle, log: Logger) {
  const url = db.urlFor('authenticator', DB_PASSWORD);
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    return;
  } catch (e) {
    const code = (e as pg.DatabaseError).code;
    if (code !== '28P01' && code !== '28000') throw new Error(`cannot log in as authenticator at ${redact(url)}: ${(e as Error).message}`);
  } finally {
    await probe.end().catch(() => {});
  }
  log.warn('bootstrap: authenticator could not log in with the stack password; setting it');
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const { rows } = await c.query<{ q: string }>("select format('alter role authenticator password %L', $1::text) as q", [DB_PASSWORD]);
    await c.query(rows[0].q);
  } finally {
    await c.end().catch(() => {});
  }
}
