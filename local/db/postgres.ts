/**
 * A real PostgreSQL server (Debian's PostgreSQL 15 in CI) started by the local stack.
 *
 * - One cluster at `${STATE_DIR}/pg`, created once with initdb; owned by the `postgres` OS user when we run as
 *   root (PostgreSQL refuses to run as root), so every server command then goes through `runuser -u postgres`.
 * - TCP on 127.0.0.1:PORTS.db only, no Unix socket (nothing to collide with another cluster), scram-sha-256
 *   password auth for role `postgres` with DB_PASSWORD.
 * - The postmaster runs in the foreground as a child of the stack (startChild), so its log is in
 *   `${STATE_DIR}/logs/db.log` and its pid is in `${STATE_DIR}/run/db.pid`.
 * - pg_cron is preloaded when Debian's postgresql-NN-cron package is installed; otherwise the bootstrap creates
 *   a `cron` stand-in and local/db/scheduler.ts runs it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DB_PASSWORD, HOST, PORTS, STATE_DIR } from '../config.ts';
import { isAlive, portOpen, startChild, waitFor } from '../lib/proc.ts';
import type { DatabaseHandle, Logger } from '../lib/types.ts';

export interface PgInstall {
  bindir: string;
  /** Major version, e.g. 15. */
  major: number;
  /** The extension directory (`pg_config --sharedir`/extension) of this installation, when known. */
  extensionDir: string | null;
}

const PREFERRED_MAJOR = 15;

function tryExec(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function majorOf(bindir: string): number | null {
  const out = tryExec(path.join(bindir, 'postgres'), ['--version']);
  const m = out?.match(/\(PostgreSQL\)\s+(\d+)/);
  return m ? Number(m[1]) : null;
}

function isServerBindir(dir: string): boolean {
  return ['postgres', 'initdb', 'pg_ctl'].every((b) => {
    try {
      fs.accessSync(path.join(dir, b), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Finds PostgreSQL server binaries: `SP_PG_BINDIR`, then PATH, then `pg_config --bindir`, then
 * /usr/lib/postgresql/* /bin. Among several installations version 15 is preferred (hosted Supabase's oldest
 * supported major), else the newest.
 */
export function findPostgres(): PgInstall | null {
  const candidates: string[] = [];
  if (process.env.SP_PG_BINDIR) candidates.push(process.env.SP_PG_BINDIR);
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(dir);
  const fromPgConfig = tryExec('pg_config', ['--bindir']);
  if (fromPgConfig) candidates.push(fromPgConfig);
  const debianRoot = '/usr/lib/postgresql';
  if (fs.existsSync(debianRoot)) {
    for (const v of fs.readdirSync(debianRoot)) candidates.push(path.join(debianRoot, v, 'bin'));
  }
  const found: PgInstall[] = [];
  const seen = new Set<string>();
  for (const dir of candidates) {
    let real: string;
    try {
      // /usr/local/bin may hold symlinks into /usr/lib/postgresql/NN/bin: use the real directory.
      real = path.dirname(fs.realpathSync(path.join(dir, 'postgres')));
    } catch {
      continue;
    }
    if (seen.has(real) || !isServerBindir(real)) continue;
    seen.add(real);
    const major = majorOf(real);
    if (major === null) continue;
    found.push({ bindir: real, major, extensionDir: extensionDirFor(real, major) });
  }
  if (found.length === 0) return null;
  // An explicit SP_PG_BINDIR wins; otherwise prefer 15, then the newest.
  if (process.env.SP_PG_BINDIR && found[0].bindir === fs.realpathSync(process.env.SP_PG_BINDIR)) return found[0];
  return found.find((f) => f.major === PREFERRED_MAJOR) ?? found.sort((a, b) => b.major - a.major)[0];
}

function extensionDirFor(bindir: string, major: number): string | null {
  const pgConfig = path.join(bindir, 'pg_config');
  const share = fs.existsSync(pgConfig) ? tryExec(pgConfig, ['--sharedir']) : null;
  const dirs = [share && path.join(share, 'extension'), `/usr/share/postgresql/${major}/extension`];
  return dirs.find((d): d is string => !!d && fs.existsSync(d)) ?? null;
}

/** Whether pg_cron's files are installed for this server (Debian: postgresql-NN-cron). */
export function hasPgCron(install: PgInstall): boolean {
  if (!install.extensionDir || !fs.existsSync(path.join(install.extensionDir, 'pg_cron.control'))) return false;
  const pkglib = tryExec(path.join(install.bindir, 'pg_config'), ['--pkglibdir']) ?? `/usr/lib/postgresql/${install.major}/lib`;
  return fs.existsSync(path.join(pkglib, 'pg_cron.so'));
}

const asRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server tool, as the `postgres` OS user when we are root. */
function runPgTool(bin: string, args: string[], opts: { input?: string } = {}) {
  const [cmd, argv] = asRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function chownToPostgres(p: string) {
  if (asRoot()) execFileSync('chown', ['-R', 'postgres:postgres', p]);
}

export function superuserUrl(port = PORTS.db) {
  return `postgresql://postgres:${encodeURIComponent(DB_PASSWORD)}@${HOST}:${port}/postgres`;
}

export function urlWith(base: string, role: string, password: string): string {
  const u = new URL(base);
  u.username = encodeURIComponent(role);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** The settings file we own inside the cluster, rewritten on every start so port or pg_cron changes apply. */
function writeSettings(pgdata: string, install: PgInstall, port: number) {
  const lines = [
    '# Written by local/db/postgres.ts on every start; edits are overwritten.',
    `listen_addresses = '${HOST}'`,
    `port = ${port}`,
    "unix_socket_directories = ''",
    'max_connections = 200',
    'shared_buffers = 256MB',
    // A local/CI database: durability after a power cut is not needed, speed is.
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'max_wal_size = 1GB',
    "password_encryption = 'scram-sha-256'",
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    'log_min_messages = warning',
    "log_line_prefix = '%m [%p] %q%u@%d '",
  ];
  if (hasPgCron(install)) {
    lines.push("shared_preload_libraries = 'pg_cron'", "cron.database_name = 'postgres'", "cron.timezone = 'GMT'");
  }
  fs.writeFileSync(path.join(pgdata, 'servicepro.conf'), lines.join('\n') + '\n');
  chownToPostgres(path.join(pgdata, 'servicepro.conf'));
}

function initCluster(pgdata: string, install: PgInstall, log: Logger) {
  const started = Date.now();
  fs.mkdirSync(path.dirname(pgdata), { recursive: true });
  fs.mkdirSync(pgdata, { mode: 0o700 });
  // The postgres OS user must be able to reach the cluster: every parent must be traversable.
  for (let d = path.dirname(pgdata); d !== path.dirname(d); d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) {
      throw new Error(`${d} is not traversable by other users, so the postgres OS user cannot reach ${pgdata}; `
        + 'choose another SP_STATE_DIR or chmod o+x it');
    }
  }
  const pwdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-initdb-'));
  const pwfile = path.join(pwdir, 'pw');
  fs.writeFileSync(pwfile, DB_PASSWORD + '\n', { mode: 0o600 });
  chownToPostgres(pgdata);
  chownToPostgres(pwdir);
  try {
    const r = runPgTool(path.join(install.bindir, 'initdb'), [
      '-D', pgdata, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256',
      '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions',
    ]);
    if (r.status !== 0) {
      fs.rmSync(pgdata, { recursive: true, force: true });
      throw new Error(`initdb failed (exit ${r.status}):\n${r.output}`);
    }
  } finally {
    fs.rmSync(pwdir, { recursive: true, force: true });
  }
  fs.appendFileSync(path.join(pgdata, 'postgresql.conf'), "\ninclude_if_exists = 'servicepro.conf'\n");
  log.info(`initdb ${pgdata} (PostgreSQL ${install.major}) in ${Date.now() - started} ms`);
}

/** Removes a postmaster.pid whose process is gone; stops a leftover postmaster of this cluster. */
async function recoverStalePid(pgdata: string, install: PgInstall, log: Logger) {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch { /* gone */ }
  if (pid > 0 && isAlive(pid) && cmdline.includes('postgres')) {
    log.warn(`a postmaster (pid ${pid}) from an earlier run still serves ${pgdata}; stopping it`);
    const r = runPgTool(path.join(install.bindir, 'pg_ctl'), ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '30']);
    if (r.status !== 0) {
      try { process.kill(pid, 'SIGQUIT'); } catch { /* gone */ }
    }
    await waitFor('the leftover postmaster to exit', async () => !isAlive(pid), 30_000);
  }
  if (fs.existsSync(pidFile)) {
    log.warn(`removing stale ${pidFile} (pid ${pid} is gone)`);
    fs.rmSync(pidFile, { force: true });
  }
}

/** Starts (initialising once) the local PostgreSQL cluster and waits until it accepts password logins. */
export async function startPostgres(install: PgInstall, log: Logger): Promise<DatabaseHandle> {
  const pgdata = path.join(STATE_DIR, 'pg');
  const port = PORTS.db;
  if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
    fs.rmSync(pgdata, { recursive: true, force: true });
    initCluster(pgdata, install, log);
  } else {
    const ver = Number(fs.readFileSync(path.join(pgdata, 'PG_VERSION'), 'utf8').trim());
    if (ver !== install.major) {
      throw new Error(`${pgdata} was created by PostgreSQL ${ver} but the server found is ${install.major} (${install.bindir}); `
        + `remove ${pgdata} or set SP_PG_BINDIR to a PostgreSQL ${ver} bin directory`);
    }
  }
  await recoverStalePid(pgdata, install, log);
  if (await portOpen(port)) {
    throw new Error(`port ${port} is already in use: another database is listening there (set SP_DB_PORT, or DATABASE_URL to use it)`);
  }
  writeSettings(pgdata, install, port);
  chownToPostgres(pgdata);

  const postgresBin = path.join(install.bindir, 'postgres');
  const [cmd, args] = asRoot()
    ? ['runuser', ['-u', 'postgres', '--', postgresBin, '-D', pgdata]]
    : [postgresBin, ['-D', pgdata]];
  const started = Date.now();
  const child = startChild('db', cmd, args);
  const url = superuserUrl(port);
  const pg = (await import('pg')).default;
  await waitFor(`PostgreSQL on ${HOST}:${port}`, async () => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('select 1');
      return true;
    } finally {
      await c.end().catch(() => {});
    }
  }, 60_000, child);
  log.info(`PostgreSQL ${install.major} up on ${HOST}:${port} in ${Date.now() - started} ms${hasPgCron(install) ? ' (pg_cron preloaded)' : ''}`);

  let stopped = false;
  return {
    kind: 'postgres',
    url,
    urlFor: (role, password) => urlWith(url, role, password),
    maxConnections: 20,
    async stop() {
      if (stopped) return;
      stopped = true;
      const r = runPgTool(path.join(install.bindir, 'pg_ctl'), ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '30']);
      if (r.status !== 0 && child.proc.exitCode === null) log.warn(`pg_ctl stop: ${r.output}`);
      await child.stop('SIGINT', 10_000);
    },
  };
}
