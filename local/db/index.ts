/**
 * The database of the local stack: which one, and starting it.
 *
 *   auto     → `DATABASE_URL` if set (external: we never start or stop it)
 *            → else a local PostgreSQL server when its binaries can be found (SP_PG_BINDIR, PATH,
 *              `pg_config --bindir`, /usr/lib/postgresql/* /bin; 15 preferred)
 *            → else the embedded PGlite, served over the wire protocol by local/db/pglite-server.ts.
 *   `SP_DB=postgres|pglite|external|auto` (or `opts.mode`) forces a choice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PORTS, ROOT, STATE_DIR, HOST } from '../config.ts';
import { isAlive, portOpen, startChild, waitFor } from '../lib/proc.ts';
import type { DatabaseHandle, DbKind, Logger } from '../lib/types.ts';
import { findPostgres, startPostgres, superuserUrl, urlWith } from './postgres.ts';

export type DbMode = 'auto' | DbKind;

export interface DbChoice {
  mode: DbKind;
  reason: string;
}

/** Which database `startDatabase` will use, and why (printed by the orchestrator). */
export function chooseDatabase(requested: DbMode = (process.env.SP_DB as DbMode | undefined) ?? 'auto'): DbChoice {
  if (!['auto', 'postgres', 'pglite', 'external'].includes(requested)) {
    throw new Error(`unknown database mode "${requested}" (SP_DB): use auto, postgres, pglite or external`);
  }
  const url = process.env.DATABASE_URL;
  if (requested === 'external' || (requested === 'auto' && url)) {
    if (!url) throw new Error('database mode "external" needs DATABASE_URL');
    return { mode: 'external', reason: `DATABASE_URL is set (${redact(url)})` };
  }
  if (requested === 'postgres' || requested === 'auto') {
    const pg = findPostgres();
    if (pg) return { mode: 'postgres', reason: `PostgreSQL ${pg.major} server binaries found in ${pg.bindir}` };
    if (requested === 'postgres') {
      throw new Error('database mode "postgres": no PostgreSQL server binaries found (install postgresql-15, or set SP_PG_BINDIR)');
    }
    return { mode: 'pglite', reason: 'no DATABASE_URL and no PostgreSQL server binaries: using the embedded PGlite' };
  }
  return { mode: 'pglite', reason: 'PGlite requested' };
}

/** A connection string with its password replaced by ***, for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

export async function startDatabase(opts: { mode?: DbMode; log: Logger }): Promise<DatabaseHandle> {
  const choice = chooseDatabase(opts.mode);
  opts.log.info(`database: ${choice.mode} (${choice.reason})`);
  if (choice.mode === 'external') return external(process.env.DATABASE_URL!, opts.log);
  if (choice.mode === 'postgres') return startPostgres(findPostgres()!, opts.log);
  return startPglite(opts.log);
}

async function canQuery(url: string): Promise<boolean> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } finally {
    await c.end().catch(() => {});
  }
}

async function external(url: string, log: Logger): Promise<DatabaseHandle> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('DATABASE_URL is not a valid postgres:// URL');
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error(`DATABASE_URL must start with postgres:// or postgresql:// (got ${parsed.protocol})`);
  try {
    await canQuery(url);
  } catch (e) {
    throw new Error(`cannot connect to DATABASE_URL ${redact(url)}: ${(e as Error).message}`);
  }
  log.info(`using the database at ${redact(url)} (not started or stopped by us)`);
  return {
    kind: 'external',
    url,
    urlFor: (role, password) => urlWith(url, role, password),
    maxConnections: 10,
    async stop() { /* not ours */ },
  };
}

/**
 * How many connections each client (PostgREST pool, auth/storage pools, the dispatcher) should open on PGlite.
 * The server serialises work on one backend, so more connections only queue; a few let a client hold a
 * transaction on one while its other requests wait instead of failing.
 */
const PGLITE_CLIENT_CONNECTIONS = 4;

async function startPglite(log: Logger): Promise<DatabaseHandle> {
  const dataDir = path.join(STATE_DIR, 'pglite');
  const port = PORTS.db;
  await stopLeftoverPglite(dataDir, log);
  if (await portOpen(port)) {
    throw new Error(`port ${port} is already in use: another database is listening there (set SP_DB_PORT, or DATABASE_URL to use it)`);
  }
  const fresh = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  const started = Date.now();
  const child = startChild('db', process.execPath, [
    '--import', 'tsx', path.join(ROOT, 'local/db/pglite-server.ts'), '--data', dataDir, '--port', String(port), '--host', HOST,
  ], { cwd: ROOT, env: { ...process.env } });
  const url = superuserUrl(port);
  await waitFor(`PGlite on ${HOST}:${port}`, () => canQuery(url), 120_000, child);
  log.info(`PGlite ${fresh ? 'initialised' : 'opened'} at ${dataDir}, serving ${HOST}:${port} in ${Date.now() - started} ms`);
  return {
    kind: 'pglite',
    url,
    urlFor: (role, password) => urlWith(url, role, password),
    maxConnections: PGLITE_CLIENT_CONNECTIONS,
    async stop() {
      // SIGTERM lets the server close PGlite cleanly (flushes the data folder); SIGKILL only after 20 s.
      await child.stop('SIGTERM', 20_000);
    },
  };
}

/** A PGlite server from a crashed run still holding our data folder: ask it to close, then force it. */
async function stopLeftoverPglite(dataDir: string, log: Logger) {
  const lock = `${dataDir}.lock`;
  if (!fs.existsSync(lock)) return;
  const pid = Number(fs.readFileSync(lock, 'utf8'));
  if (!(pid > 0) || !isAlive(pid)) return; // the server takes a dead process's lock over itself
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch { /* gone */ }
  if (!cmdline.includes('pglite-server')) return;
  log.warn(`a PGlite server (pid ${pid}) from an earlier run still holds ${dataDir}; stopping it`);
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  try {
    await waitFor('the leftover PGlite server to exit', async () => !isAlive(pid), 20_000);
  } catch {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await waitFor('the leftover PGlite server to die', async () => !isAlive(pid), 5_000);
  }
}
