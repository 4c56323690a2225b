/**
 * supabase/migrations/*.sql → the database, recorded in supabase_migrations.schema_migrations as the Supabase CLI
 * records them; then supabase/seed.sql once per database.
 *
 * The real CLI (`supabase migration up --remote=<url> --yes`) is used; it works on PostgreSQL and on PGlite
 * through local/db/pglite-server.ts. Only when the CLI itself cannot run (missing binary, no connection it
 * accepts, a crash that is not an SQL error) do we apply the pending files ourselves, one transaction per file,
 * recording the same (version, name, statements) rows. `SP_MIGRATE_WITH=cli|pg` forces one path.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ROOT } from '../config.ts';
import type { DatabaseHandle, Logger } from '../lib/types.ts';
import { lineOf } from './bootstrap.ts';

export const MIGRATIONS_DIR = path.join(ROOT, 'supabase/migrations');
export const SEED_FILE = path.join(ROOT, 'supabase/seed.sql');
export const SUPABASE_CLI = path.join(ROOT, 'node_modules/.bin/supabase');

/** The CLI's file name rule: `<digits>_<name>.sql`; anything else is skipped (the CLI warns the same way). */
const MIGRATION_FILE = /^([0-9]+)_(.*)\.sql$/;

export interface MigrationFile {
  version: string;
  name: string;
  file: string;
}

export function migrationFiles(dir = MIGRATIONS_DIR, log?: Logger): MigrationFile[] {
  if (!fs.existsSync(dir)) return [];
  const out: MigrationFile[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    if (!f.endsWith('.sql')) continue;
    const m = MIGRATION_FILE.exec(f);
    if (!m) {
      log?.warn(`migrate: skipping ${f}: file name must match pattern "<timestamp>_name.sql"`);
      continue;
    }
    out.push({ version: m[1], name: m[2], file: path.join(dir, f) });
  }
  return out;
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs the Supabase CLI from the repository root, never prompting, never over TLS to our loopback servers. */
export function runSupabaseCli(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult & { stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(SUPABASE_CLI, args, {
      cwd: ROOT,
      env: { ...process.env, PGSSLMODE: 'disable', SUPABASE_YES: '1', DO_NOT_TRACK: '1', SUPABASE_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (d) => { stdout += d; output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: -1, output: `${output}${e.message}`, stdout }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output, stdout }); });
  });
}

/** A failed CLI run that is the migration's own SQL error (the fallback would fail the same way). */
function isSqlError(output: string): boolean {
  return /\bERROR: .*\(SQLSTATE [0-9A-Z]{5}\)/.test(output) || /SQLSTATE [0-9A-Z]{5}/.test(output);
}

export async function migrate(db: DatabaseHandle, log: Logger): Promise<void> {
  const started = Date.now();
  const files = migrationFiles(MIGRATIONS_DIR, log);
  const forced = process.env.SP_MIGRATE_WITH;
  if (forced && forced !== 'cli' && forced !== 'pg') throw new Error(`SP_MIGRATE_WITH must be cli or pg (got ${forced})`);
  let via: 'cli' | 'pg' = 'cli';
  if (files.length === 0) {
    log.info('migrate: no migrations in supabase/migrations');
  } else if (forced !== 'pg' && fs.existsSync(SUPABASE_CLI)) {
    const r = await runSupabaseCli(['migration', 'up', `--remote=${db.url}`, '--yes']);
    if (r.code !== 0) {
      const detail = redactOutput(r.output, db.url);
      if (forced === 'cli' || isSqlError(r.output)) throw new Error(`supabase migration up failed (exit ${r.code}):\n${detail}`);
      log.warn(`migrate: the Supabase CLI failed (exit ${r.code}); applying the files with pg instead:\n${detail}`);
      via = 'pg';
    }
  } else {
    if (forced === 'cli') throw new Error(`SP_MIGRATE_WITH=cli but ${SUPABASE_CLI} is missing (npm install)`);
    via = 'pg';
  }
  let applied = 0;
  if (via === 'pg') applied = await migrateWithPg(db, files, log);
  await notifyPostgrest(db);
  log.info(`migrate: ${files.length} migration file(s), ${via === 'cli' ? 'applied with the Supabase CLI' : `${applied} applied with pg (CLI fallback)`} in ${Date.now() - started} ms`);
}

function redactOutput(output: string, url: string): string {
  const pw = new URL(url).password;
  return pw ? output.split(pw).join('***') : output;
}

/** Creates supabase_migrations.schema_migrations exactly as the CLI does (idempotent). */
const HISTORY_DDL = `
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
  alter table supabase_migrations.schema_migrations add column if not exists statements text[];
  alter table supabase_migrations.schema_migrations add column if not exists name text;
`;

/** The fallback: each pending file in its own transaction, recorded with the CLI's (version, name, statements). */
export async function migrateWithPg(db: DatabaseHandle, files: MigrationFile[], log: Logger): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  let applied = 0;
  try {
    await client.query(HISTORY_DDL);
    const { rows } = await client.query<{ version: string }>('select version from supabase_migrations.schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    const last = [...done].sort().at(-1);
    const pending = files.filter((f) => !done.has(f.version));
    const early = pending.filter((f) => last && f.version < last);
    if (early.length) {
      throw new Error(`found local migration files to be inserted before the last migration on the database (${last}): `
        + early.map((f) => path.basename(f.file)).join(', '));
    }
    for (const f of pending) {
      const sql = fs.readFileSync(f.file, 'utf8');
      const statements = splitStatements(sql);
      log.info(`migrate: applying ${path.basename(f.file)}`);
      try {
        await client.query('begin');
        for (const s of statements) {
          try {
            await client.query(s);
          } catch (e) {
            const err = e as pg.DatabaseError;
            const at = sql.indexOf(s);
            throw new Error(`${err.message} (SQLSTATE ${err.code})${at >= 0 ? lineOf(sql, at + Number(err.position ?? 1)) : ''}`);
          }
        }
        await client.query('insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)',
          [f.version, f.name, statements]);
        await client.query('commit');
        applied++;
      } catch (e) {
        await client.query('rollback').catch(() => {});
        throw new Error(`migration ${path.basename(f.file)} failed: ${(e as Error).message}`);
      }
    }
  } finally {
    await client.end().catch(() => {});
  }
  return applied;
}

/**
 * Splits SQL into statements the way the Supabase CLI records them: at `;` outside quotes, quoted identifiers,
 * dollar quotes and comments; each statement trimmed, without its `;`; comments before a statement stay with it;
 * whitespace-only pieces are dropped. `BEGIN ATOMIC … END` bodies are kept whole.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  let atomicDepth = 0;
  const n = sql.length;
  const push = (end: number) => {
    const s = sql.slice(start, end).trim();
    if (s) out.push(s);
  };
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') { depth++; i += 2; } else if (sql[i] === '*' && sql[i + 1] === '/') { depth--; i += 2; } else i++;
      }
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]) && (i < 2 || !/[\w$]/.test(sql[i - 2]));
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') { i += 2; continue; }
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") { i += 2; continue; }
          break;
        }
        i++;
      }
      i++;
    } else if (c === '"') {
      i++;
      while (i < n) {
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') { i += 2; continue; }
          break;
        }
        i++;
      }
      i++;
    } else if (c === '$' && (i === 0 || !/[\w$]/.test(sql[i - 1]))) {
      const m = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length);
        i = end < 0 ? n : end + m[0].length;
      } else i++;
    } else if (/[A-Za-z_]/.test(c) && (i === 0 || !/[\w$]/.test(sql[i - 1]))) {
      const m = /^[A-Za-z_][\w$]*/.exec(sql.slice(i, i + 64))!;
      const word = m[0].toLowerCase();
      if (word === 'begin' && /^begin\s+atomic\b/i.test(sql.slice(i, i + 40))) atomicDepth++;
      else if (word === 'end' && atomicDepth > 0) atomicDepth--;
      i += m[0].length;
    } else if (c === ';' && atomicDepth === 0) {
      push(i);
      start = i + 1;
      i++;
    } else i++;
  }
  push(n);
  return out;
}

export async function notifyPostgrest(db: DatabaseHandle) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query("notify pgrst, 'reload schema'");
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * supabase/seed.sql, once per database: remembered in supabase_migrations.seed_files(path, hash) as the CLI
 * does. A seed that changed after it was applied is not applied again (its rows are there); reset the database
 * to re-seed.
 */
export async function seed(db: DatabaseHandle, log: Logger, file = SEED_FILE): Promise<void> {
  if (!fs.existsSync(file)) {
    log.info(`seed: ${path.relative(ROOT, file)} not found; nothing to seed`);
    return;
  }
  const sql = fs.readFileSync(file, 'utf8');
  const hash = crypto.createHash('sha256').update(sql).digest('hex');
  const rel = path.relative(ROOT, file);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.seed_files (path text not null primary key, hash text not null);`);
    const { rows } = await client.query<{ hash: string }>('select hash from supabase_migrations.seed_files where path = $1', [rel]);
    if (rows.length) {
      if (rows[0].hash !== hash) log.warn(`seed: ${rel} changed since it was applied; not applied again (reset the database to re-seed)`);
      else log.info(`seed: ${rel} already applied`);
      return;
    }
    const started = Date.now();
    try {
      await client.query('begin');
      await client.query(sql);
      await client.query('insert into supabase_migrations.seed_files (path, hash) values ($1, $2)', [rel, hash]);
      await client.query('commit');
    } catch (e) {
      await client.query('rollback').catch(() => {});
      const err = e as pg.DatabaseError;
      throw new Error(`seed ${rel} failed${lineOf(sql, err.position)}: ${err.message}`);
    }
    log.info(`seed: ${rel} applied in ${Date.now() - started} ms`);
  } finally {
    await client.end().catch(() => {});
  }
  await notifyPostgrest(db);
}
