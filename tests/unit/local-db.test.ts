/**
 * The local stack's database layer (local/db/*) against real databases it starts itself: Debian's PostgreSQL
 * (when its server binaries are installed) and the embedded PGlite served by local/db/pglite-server.ts.
 * Runs without the stack, on the db engineer's ports (55510-55519) and a temporary SP_STATE_DIR.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';

// local/config.ts reads these when first imported: set them before any local module is loaded (dynamic imports).
const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-local-db-test-'));
fs.chmodSync(STATE, 0o755); // the postgres OS user must reach the cluster below it
process.env.SP_STATE_DIR = STATE;
process.env.SP_QUIET = '1';
delete process.env.DATABASE_URL;
const PG_PORT = await freePort();
const PGLITE_PORT = await freePort();
const HTTP_PORT = await freePort();

type Db = import('../../local/lib/types.ts').DatabaseHandle;
const quiet = { info: () => {}, warn: () => {}, error: (m: string) => console.error(m) };

const { findPostgres } = await import('../../local/db/postgres.ts');
const pgInstall = findPostgres();
let pgliteAvailable = true;
try {
  await import('@electric-sql/pglite');
} catch {
  pgliteAvailable = false;
}
if (!pgInstall && !pgliteAvailable) {
  throw new Error('local-db tests need a PostgreSQL server (apt-get install postgresql-15) or @electric-sql/pglite (npm install); neither is available');
}
if (!pgInstall) console.warn('[local-db.test] no PostgreSQL server binaries found: the PostgreSQL 15 half of these tests is skipped (PGlite half runs)');

afterAll(() => {
  fs.rmSync(STATE, { recursive: true, force: true });
});

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** Everything the bootstrap can change, as text, to compare two runs. */
const SNAPSHOT_SQL = `
select
  (select string_agg(x, E'\\n' order by x) from (
     select rolname || ' login=' || rolcanlogin || ' inherit=' || rolinherit || ' bypassrls=' || rolbypassrls
            || ' super=' || rolsuper || ' config=' || coalesce(array_to_string(rolconfig, ','), '') x
     from pg_roles where rolname !~ '^pg_') r) as roles,
  (select string_agg(x, E'\\n' order by x) from (
     select r.rolname || ' member of ' || g.rolname x
     from pg_auth_members m join pg_roles r on r.oid = m.member join pg_roles g on g.oid = m.roleid) r) as members,
  (select string_agg(x, E'\\n' order by x) from (
     select nspname || ' ' || coalesce(nspacl::text, '') x from pg_namespace where nspname !~ '^pg_') n) as schemas,
  (select string_agg(x, E'\\n' order by x) from (
     select c.oid::regclass::text || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '') || ' rls=' || c.relrowsecurity x
     from pg_class c where c.relnamespace::regnamespace::text !~ '^(pg_|information_schema)') c) as relations,
  (select string_agg(x, E'\\n' order by x) from (
     select p.oid::regprocedure::text || ' ' || coalesce(p.proacl::text, '') || ' ' || md5(p.prosrc) x
     from pg_proc p where p.pronamespace::regnamespace::text !~ '^(pg_|information_schema)') p) as routines,
  (select string_agg(x, E'\\n' order by x) from (
     select defaclrole::regrole::text || ' ' || defaclobjtype::text || ' ' || defaclnamespace::regnamespace::text || ' ' || defaclacl::text x
     from pg_default_acl) d) as default_acl,
  (select string_agg(x, E'\\n' order by x) from (
     select polrelid::regclass::text || ' ' || polname || ' ' || pg_get_expr(polqual, polrelid) x from pg_policy) p) as policies,
  (select string_agg(extname || '@' || extnamespace::regnamespace::text, ' ' order by extname) from pg_extension) as extensions`;

async function snapshot(url: string): Promise<Record<string, string>> {
  return withClient(url, async (c) => (await c.query(SNAPSHOT_SQL)).rows[0]);
}

/** A loopback HTTP server that records what it receives; `/slow` answers after 2 s. */
function startHttpServer() {
  const received: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const reply = () => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-served-by': 'local-db-test' });
        res.end(JSON.stringify({ ok: true, echo: body ? JSON.parse(body) : null }));
      };
      if (req.url?.startsWith('/slow')) setTimeout(reply, 2000);
      else reply();
    });
  });
  return new Promise<{ received: typeof received; close: () => Promise<void> }>((resolve) => {
    server.listen(HTTP_PORT, '127.0.0.1', () => resolve({
      received,
      close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
    }));
  });
}

const kinds: Array<{ kind: 'postgres' | 'pglite'; port: number; available: boolean }> = [
  { kind: 'postgres', port: PG_PORT, available: !!pgInstall },
  { kind: 'pglite', port: PGLITE_PORT, available: pgliteAvailable },
];

describe.each(kinds)('local database on $kind', ({ kind, port, available }) => {
  let db: Db;

  beforeAll(async () => {
    if (!available) return;
    process.env.SP_DB_PORT = String(port);
    // config.ts was loaded with the first kind's port: re-read it for this kind.
    const config = await import('../../local/config.ts');
    (config.PORTS as { db: number }).db = port;
    const { startDatabase } = await import('../../local/db/index.ts');
    db = await startDatabase({ mode: kind, log: quiet });
    // Every test may rely on the platform bootstrap (the idempotence test runs it twice more).
    const { bootstrap } = await import('../../local/db/bootstrap.ts');
    await bootstrap(db, quiet);
  }, 180_000);

  afterAll(async () => {
    await db?.stop();
  }, 60_000);

  it.skipIf(!available)('chooses and reports the database', async () => {
    const { chooseDatabase } = await import('../../local/db/index.ts');
    expect(chooseDatabase(kind).mode).toBe(kind);
    expect(db.kind).toBe(kind);
    expect(db.url).toContain(`:${port}/`);
    expect(new URL(db.urlFor('authenticator', 'p@ss:w/rd')).password).toBe(encodeURIComponent('p@ss:w/rd'));
    await withClient(db.url, async (c) => {
      const { rows } = await c.query('select current_user as u, (select rolsuper from pg_roles where rolname = current_user) as s');
      expect(rows[0]).toEqual({ u: 'postgres', s: true });
    });
  });

  it.skipIf(!available)('bootstrap is idempotent: a second run changes nothing', async () => {
    const { bootstrap } = await import('../../local/db/bootstrap.ts');
    const first = await snapshot(db.url);
    await bootstrap(db, quiet);
    const second = await snapshot(db.url);
    for (const key of Object.keys(first)) expect(second[key], `bootstrap changed ${key} on its second run`).toBe(first[key]);

    expect(first.roles).toMatch(/^anon login=false inherit=false bypassrls=false super=false config=statement_timeout=3s$/m);
    expect(first.roles).toMatch(/^authenticated login=false inherit=false bypassrls=false super=false config=statement_timeout=8s$/m);
    expect(first.roles).toMatch(/^service_role login=false inherit=false bypassrls=true /m);
    expect(first.roles).toMatch(/^authenticator login=true inherit=false /m);
    for (const r of ['anon', 'authenticated', 'service_role']) expect(first.members).toContain(`authenticator member of ${r}`);
    expect(first.roles).toMatch(/^supabase_admin /m);
    expect(first.roles).toMatch(/^supabase_auth_admin login=true/m);
    expect(first.roles).toMatch(/^supabase_storage_admin login=true/m);
    expect(first.extensions).toMatch(/pgcrypto@extensions/);
    expect(first.extensions).toMatch(/uuid-ossp@extensions/);
    expect(first.schemas).toMatch(/^net /m);
    expect(first.schemas).toMatch(/^vault /m);
  }, 60_000);

  it.skipIf(!available)('authenticator logs in with the stack password; API roles get public by default privileges and RLS decides', async () => {
    const { DB_PASSWORD } = await import('../../local/config.ts');
    await withClient(db.url, (c) => c.query(`
      drop table if exists public.rls_probe;
      create table public.rls_probe (id int primary key, owner text not null);
      alter table public.rls_probe enable row level security;
      create policy rls_probe_select on public.rls_probe for select to authenticated
        using (owner = current_setting('request.jwt.claims', true)::jsonb ->> 'sub');
      insert into public.rls_probe values (1, 'u1'), (2, 'u2');`));
    await withClient(db.urlFor('authenticator', DB_PASSWORD), async (c) => {
      expect((await c.query('select current_user as u')).rows[0].u).toBe('authenticator');
      await expect(c.query('select * from public.rls_probe')).rejects.toThrow(/permission denied/);
      await c.query('begin');
      await c.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"sub":"u1","role":"authenticated"}', true)`);
      expect((await c.query('select id from public.rls_probe')).rows).toEqual([{ id: 1 }]);
      await c.query('commit');
      await c.query('begin');
      await c.query(`select set_config('role', 'service_role', true)`);
      expect((await c.query('select id from public.rls_probe order by id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
      await c.query('commit');
      await c.query('begin');
      await c.query(`select set_config('role', 'anon', true)`);
      expect((await c.query('select id from public.rls_probe')).rows).toEqual([]);
      for (const q of ['select * from net.http_request_queue', 'select * from vault.decrypted_secrets', 'select * from cron.job']) {
        await c.query('savepoint s');
        await expect(c.query(q), q).rejects.toThrow(/permission denied/);
        await c.query('rollback to savepoint s');
      }
      await c.query('rollback');
      expect((await c.query('select current_user as u')).rows[0].u).toBe('authenticator');
    });
  }, 30_000);

  const authFile = path.resolve(__dirname, '../../local/db/bootstrap/20-auth.sql');
  it.skipIf(!available || !fs.existsSync(authFile))('auth.uid(), auth.role(), auth.jwt() read request.jwt.claims under role authenticated', async () => {
    await withClient(db.url, async (c) => {
      await c.query('begin');
      await c.query(`select set_config('role', 'authenticated', true),
        set_config('request.jwt.claims', '{"sub":"6c5b7e9a-1f0e-4d7a-9a57-1b2c3d4e5f60","role":"authenticated","email":"a@b.c","app_metadata":{"tenant":"t1"}}', true)`);
      const { rows } = await c.query(`select current_user as cu, auth.uid() as uid, auth.role() as role, auth.email() as email,
        auth.jwt() -> 'app_metadata' ->> 'tenant' as tenant`);
      expect(rows[0]).toEqual({ cu: 'authenticated', uid: '6c5b7e9a-1f0e-4d7a-9a57-1b2c3d4e5f60', role: 'authenticated', email: 'a@b.c', tenant: 't1' });
      await c.query('rollback');
      expect((await c.query('select auth.uid() as uid')).rows[0].uid).toBeNull();
    });
  });

  it.skipIf(!available)('vault stand-in: create_secret, decrypted_secrets, update_secret', async () => {
    await withClient(db.url, async (c) => {
      const name = `project_url_${kind}`;
      await c.query('delete from vault.secrets where name = $1', [name]);
      const { rows: [{ id }] } = await c.query(`select vault.create_secret('http://127.0.0.1:54321', $1, 'gateway') as id`, [name]);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await c.query('select decrypted_secret, description from vault.decrypted_secrets where name = $1', [name])).rows)
        .toEqual([{ decrypted_secret: 'http://127.0.0.1:54321', description: 'gateway' }]);
      await c.query(`select vault.update_secret($1, 'http://127.0.0.1:9')`, [id]);
      expect((await c.query('select decrypted_secret from vault.decrypted_secrets where id = $1', [id])).rows[0].decrypted_secret).toBe('http://127.0.0.1:9');
      await expect(c.query(`select vault.create_secret('dup', $1)`, [name])).rejects.toThrow(/duplicate key/);
    });
  });

  it.skipIf(!available)('cron: schedule syntax, upsert by name, run as the job owner, failures recorded', async () => {
    const { runCronJobNow } = await import('../../local/db/scheduler.ts');
    const standIn = await withClient(db.url, async (c) =>
      (await c.query(`select to_regprocedure('cron._schedule_matches(text, timestamptz)') is not null as s`)).rows[0].s);
    await withClient(db.url, async (c) => {
      if (standIn) {
        const m = async (schedule: string, at: string) =>
          (await c.query('select cron._schedule_matches($1, $2::timestamptz) as m', [schedule, at])).rows[0].m;
        // 2025-01-06 is a Monday.
        expect(await m('*/15 * * * *', '2025-01-06T10:30:00Z')).toBe(true);
        expect(await m('*/15 * * * *', '2025-01-06T10:31:00Z')).toBe(false);
        expect(await m('0 9-17 * * 1-5', '2025-01-06T12:00:40Z')).toBe(true);
        expect(await m('0 9-17 * * 1-5', '2025-01-05T12:00:00Z')).toBe(false); // Sunday
        expect(await m('5,10,15 0 * * *', '2025-01-06T00:10:00Z')).toBe(true);
        expect(await m('0 0 * * sun', '2025-01-05T00:00:00Z')).toBe(true);
        expect(await m('0 0 * * 7', '2025-01-05T00:00:00Z')).toBe(true);
        expect(await m('0 0 1 jan-mar *', '2025-02-01T00:00:00Z')).toBe(true);
        expect(await m('0 0 13 * 5', '2025-01-06T00:00:00Z')).toBe(false); // neither the 13th nor a Friday
        expect(await m('0 0 13 * 5', '2025-01-10T00:00:00Z')).toBe(true); // a Friday: either day field matches
        expect(await m('@hourly', '2025-01-06T07:00:00Z')).toBe(true);
        expect(await m('10-20/5 * * * *', '2025-01-06T07:15:00Z')).toBe(true);
        expect(await m('10-20/5 * * * *', '2025-01-06T07:16:00Z')).toBe(false);
      }
      // As Debian's pg_cron 1.4 (checked against it): interval schedules, out-of-range values, a step without a range,
      // too few fields are rejected. (A sixth field is ignored by pg_cron, like a crontab command, so not listed.)
      for (const bad of ['10 seconds', '61 * * * *', '5/10 * * * *', '* * * *', 'every minute', '*/0 * * * *', '0 0 32 * *', '0 0 * foo *']) {
        await expect(c.query(`select cron.schedule('bad', $1, 'select 1')`, [bad]), bad).rejects.toThrow(/invalid schedule/);
      }
      await c.query(`drop table if exists public.cron_probe; create table public.cron_probe (who text, at timestamptz default now());
                     grant insert, select on public.cron_probe to service_role`);
      await c.query(`select cron.unschedule(jobid) from cron.job where jobname in ('probe', 'probe_fail')`);
      const a = (await c.query(`select cron.schedule('probe', '* * * * *', 'select 1') as id`)).rows[0].id;
      await c.query('set role service_role');
      const b = (await c.query(`select cron.schedule('probe', '*/5 * * * *', $$insert into public.cron_probe (who) values (current_user)$$) as id`)).rows[0].id;
      await c.query(`select cron.schedule('probe_fail', '0 0 * * *', 'select 1/0')`);
      await c.query('reset role');
      // The job names are per owner: postgres's 'probe' and service_role's 'probe' are two jobs.
      expect(b).not.toBe(a);
      const again = (await c.query(`select cron.schedule('probe', '*/10 * * * *', 'select 2') as id`)).rows[0].id;
      expect(again).toBe(a);
      expect((await c.query(`select schedule, command from cron.job where jobid = $1`, [a])).rows[0]).toEqual({ schedule: '*/10 * * * *', command: 'select 2' });
      await c.query(`select cron.unschedule('probe')`); // postgres's
      expect((await c.query(`select username from cron.job where jobname = 'probe'`)).rows).toEqual([{ username: 'service_role' }]);
      await expect(c.query(`select cron.unschedule('no_such_job')`)).rejects.toThrow(/could not find valid entry/);
    });
    const ok = await runCronJobNow(db.url, 'probe');
    expect(ok).toEqual({ status: 'succeeded', message: 'INSERT 0 1' });
    const fail = await runCronJobNow(db.url, 'probe_fail');
    expect(fail.status).toBe('failed');
    expect(fail.message).toMatch(/division by zero/);
    await withClient(db.url, async (c) => {
      expect((await c.query('select who from public.cron_probe')).rows).toEqual([{ who: 'service_role' }]);
      const { rows } = await c.query(`select j.jobname, d.status, d.return_message, d.username, d.start_time <= d.end_time as ordered
        from cron.job_run_details d join cron.job j using (jobid) where j.jobname in ('probe', 'probe_fail') order by d.runid`);
      expect(rows).toEqual([
        { jobname: 'probe', status: 'succeeded', return_message: 'INSERT 0 1', username: 'service_role', ordered: true },
        { jobname: 'probe_fail', status: 'failed', return_message: expect.stringMatching(/division by zero/), username: 'service_role', ordered: true },
      ]);
      await c.query(`select cron.unschedule(jobid) from cron.job where jobname in ('probe', 'probe_fail')`);
    });
  }, 30_000);

  it.skipIf(!available)('net: the dispatcher sends queued requests and records pg_net responses (post, get with params, timeout, refused)', async () => {
    const { startScheduler, drainNetQueue } = await import('../../local/db/scheduler.ts');
    const server = await startHttpServer();
    const scheduler = await startScheduler(db, { log: quiet });
    try {
      const ids = await withClient(db.url, async (c) => {
        await c.query('truncate net._http_response');
        const post = (await c.query(`select net.http_post(
            url := 'http://127.0.0.1:${HTTP_PORT}/functions/v1/tick',
            body := jsonb_build_object('n', 1),
            headers := '{"Content-Type": "application/json", "Authorization": "Bearer k"}') as id`)).rows[0].id;
        const get = (await c.query(`select net.http_get('http://127.0.0.1:${HTTP_PORT}/q', params := '{"a": "x y", "b": "ü&="}') as id`)).rows[0].id;
        return { post, get };
      });
      // The running dispatcher (NOTIFY or 500 ms poll) sends both; wait for their responses.
      const rows = await waitForRows(db.url, 'select * from net._http_response where id = any($1) order by id', [[ids.post, ids.get]], 2);
      expect(rows[0]).toMatchObject({ id: ids.post, status_code: 201, content_type: 'application/json', timed_out: false, error_msg: null });
      expect(JSON.parse(rows[0].content)).toEqual({ ok: true, echo: { n: 1 } });
      expect(rows[0].headers['x-served-by']).toBe('local-db-test');
      expect(rows[1]).toMatchObject({ id: ids.get, status_code: 201 });
      const postReq = server.received.find((r) => r.url === '/functions/v1/tick')!;
      expect(postReq).toMatchObject({ method: 'POST', body: '{"n": 1}' });
      expect(postReq.headers.authorization).toBe('Bearer k');
      expect(postReq.headers['content-type']).toBe('application/json');
      expect(server.received.find((r) => r.method === 'GET')!.url).toBe('/q?a=x%20y&b=%C3%BC%26%3D');
      await withClient(db.url, async (c) => {
        expect((await c.query('select count(*)::int as n from net.http_request_queue')).rows[0].n).toBe(0);
        await expect(c.query(`select net.http_post('http://x', '{}', headers := '{"Content-Type": "text/plain"}')`)).rejects.toThrow(/Content-Type header must be "application\/json"/);
      });
    } finally {
      await scheduler.stop();
    }
    // Without the service: the test helper drains the queue itself.
    const ids = await withClient(db.url, async (c) => ({
      slow: (await c.query(`select net.http_post('http://127.0.0.1:${HTTP_PORT}/slow', '{}'::jsonb, timeout_milliseconds := 200) as id`)).rows[0].id,
      refused: (await c.query(`select net.http_get('http://127.0.0.1:55519/nothing-listens-here') as id`)).rows[0].id,
    }));
    expect(await drainNetQueue(db.url, 10_000)).toBe(2);
    const rows = await waitForRows(db.url, 'select * from net._http_response where id = any($1) order by id', [[ids.slow, ids.refused]], 2);
    expect(rows[0]).toMatchObject({ status_code: null, timed_out: true, error_msg: 'Timeout of 200 ms reached' });
    expect(rows[1]).toMatchObject({ status_code: null, timed_out: false });
    expect(rows[1].error_msg).toMatch(/ECONNREFUSED|fetch failed/);
    await server.close();
  }, 30_000);

  it.skipIf(!available)('migrations without the CLI record what the CLI records; seed applies once', async () => {
    const { migrateWithPg, migrationFiles, seed, splitStatements } = await import('../../local/db/migrate.ts');
    expect(splitStatements(`-- c\ncreate table a (x text default 'a;b');\ncreate function f() returns int language sql begin atomic select 1; select 2; end;\n`
      + `select $q$;$q$, "we;ird", e'\\';'; /* x; */ select 3;`)).toEqual([
      "-- c\ncreate table a (x text default 'a;b')",
      'create function f() returns int language sql begin atomic select 1; select 2; end',
      `select $q$;$q$, "we;ird", e'\\';'`,
      '/* x; */ select 3',
    ]);
    const dir = fs.mkdtempSync(path.join(STATE, 'migrations-'));
    fs.writeFileSync(path.join(dir, '20990101000000_probe_one.sql'), 'create table public.mig_probe (id int);\ninsert into public.mig_probe values (1);\n');
    fs.writeFileSync(path.join(dir, '20990101000001_probe_two.sql'), 'alter table public.mig_probe add column note text;\n');
    fs.writeFileSync(path.join(dir, 'README.sql'), 'this is not a migration');
    const files = migrationFiles(dir);
    expect(files.map((f) => [f.version, f.name])).toEqual([['20990101000000', 'probe_one'], ['20990101000001', 'probe_two']]);
    expect(await migrateWithPg(db, files, quiet)).toBe(2);
    expect(await migrateWithPg(db, files, quiet)).toBe(0);
    await withClient(db.url, async (c) => {
      const { rows } = await c.query(`select version, name, statements from supabase_migrations.schema_migrations where version like '2099%' order by version`);
      expect(rows).toEqual([
        { version: '20990101000000', name: 'probe_one', statements: ['create table public.mig_probe (id int)', 'insert into public.mig_probe values (1)'] },
        { version: '20990101000001', name: 'probe_two', statements: ['alter table public.mig_probe add column note text'] },
      ]);
    });
    const bad = path.join(dir, '20990101000002_bad.sql');
    fs.writeFileSync(bad, 'insert into public.mig_probe values (2);\nselect * from nowhere;\n');
    await expect(migrateWithPg(db, migrationFiles(dir), quiet)).rejects.toThrow(/20990101000002_bad\.sql failed: relation "nowhere" does not exist.*line 2/s);
    await withClient(db.url, async (c) => {
      expect((await c.query('select count(*)::int as n from public.mig_probe')).rows[0].n).toBe(1); // rolled back whole
    });
    const seedFile = path.join(dir, 'seed.sql');
    fs.writeFileSync(seedFile, `insert into public.mig_probe (id, note) values (100, 'seeded');`);
    await seed(db, quiet, seedFile);
    await seed(db, quiet, seedFile);
    await withClient(db.url, async (c) => {
      expect((await c.query('select count(*)::int as n from public.mig_probe where id = 100')).rows[0].n).toBe(1);
      expect((await c.query(`select hash from supabase_migrations.seed_files where path like '%seed.sql'`)).rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
      await c.query(`drop table public.mig_probe; delete from supabase_migrations.schema_migrations where version like '2099%';
                     delete from supabase_migrations.seed_files where path like '%migrations-%'`);
    });
  }, 30_000);

  it.skipIf(!available)('generated types come from the real CLI and are deterministic', async () => {
    const { generateTypes } = await import('../../local/db/types.ts');
    await withClient(db.url, (c) => c.query(`drop table if exists public.types_probe;
      create table public.types_probe (id bigint generated always as identity primary key, label text not null, note text)`));
    const a = await generateTypes(db);
    const b = await generateTypes(db);
    expect(a).toBe(b);
    expect(a).toMatch(/export type Database = \{/);
    expect(a).toMatch(/"?types_probe"?: \{/);
    expect(a).not.toMatch(/[ \t]+$/m);
    await withClient(db.url, (c) => c.query('drop table public.types_probe'));
  }, 60_000);

  if (kind === 'pglite') {
    it.skipIf(!available)('PGlite server: transactions of several connections are serialised, never mixed', async () => {
      const clients = await Promise.all([0, 1, 2, 3].map(async () => {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        return c;
      }));
      try {
        await clients[0].query('drop table if exists public.mux_probe; create table public.mux_probe (conn int, i int)');
        await Promise.all(clients.map(async (c, n) => {
          for (let i = 0; i < 15; i++) {
            await c.query('begin');
            await c.query('insert into public.mux_probe values ($1, $2)', [n, i]);
            // Another connection's row must never be visible half-way: the count is ours alone.
            const { rows } = await c.query('select count(*)::int as n from public.mux_probe where conn = $1', [n]);
            expect(rows[0].n).toBe(i - Math.ceil(i / 3) + 1); // committed earlier rows (every third rolled back) + this one
            if (i % 3 === 0) await c.query('rollback');
            else await c.query('commit');
            // Same-named prepared statements on every connection, different text: renamed per connection.
            const r = await c.query({ name: 'probe', text: `select $1::int + ${n} as v`, values: [i] });
            expect(r.rows[0].v).toBe(i + n);
          }
        }));
        const { rows } = await clients[0].query('select conn, count(*)::int as n from public.mux_probe group by conn order by conn');
        expect(rows).toEqual([0, 1, 2, 3].map((conn) => ({ conn, n: 10 })));
        // SET ROLE on one connection is not seen by another.
        await clients[1].query('set role anon');
        expect((await clients[2].query('select current_user as u')).rows[0].u).toBe('postgres');
        expect((await clients[1].query('select current_user as u')).rows[0].u).toBe('anon');
        await clients[1].query('reset role');
        // NOTIFY reaches the listening connection only.
        const got: string[] = [];
        clients.forEach((c, n) => c.on('notification', (m) => got.push(`${n}:${m.channel}:${m.payload}`)));
        await clients[3].query('listen pgrst');
        await clients[0].query(`notify pgrst, 'reload schema'`);
        await new Promise((r) => setTimeout(r, 200));
        expect(got).toEqual(['3:pgrst:reload schema']);
        await clients[0].query('drop table public.mux_probe');
      } finally {
        await Promise.all(clients.map((c) => c.end().catch(() => {})));
      }
      await expect(withClient(db.urlFor('nobody', 'x'), (c) => c.query('select 1'))).rejects.toThrow(/role "nobody" does not exist/);
    }, 60_000);
  }

  it.skipIf(!available)('data persists across a restart, and a start after kill -9 recovers', async () => {
    await withClient(db.url, (c) => c.query(`drop table if exists public.persist_probe; create table public.persist_probe (v text); insert into public.persist_probe values ('kept')`));
    await db.stop();
    const { startDatabase } = await import('../../local/db/index.ts');
    db = await startDatabase({ mode: kind, log: quiet });
    expect(await withClient(db.url, async (c) => (await c.query('select v from public.persist_probe')).rows)).toEqual([{ v: 'kept' }]);
    // Crash: kill the server process itself (not our handle), then start again on the same folder and port.
    const { STATE_DIR } = await import('../../local/config.ts');
    const pid = kind === 'postgres'
      ? Number(fs.readFileSync(path.join(STATE_DIR, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0])
      : Number(fs.readFileSync(path.join(STATE_DIR, 'pglite.lock'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitUntil(async () => { try { process.kill(pid, 0); return false; } catch { return true; } });
    await db.stop().catch(() => {});
    db = await startDatabase({ mode: kind, log: quiet });
    expect(await withClient(db.url, async (c) => (await c.query('select v from public.persist_probe')).rows)).toEqual([{ v: 'kept' }]);
    await withClient(db.url, (c) => c.query('drop table public.persist_probe'));
  }, 120_000);
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

async function waitForRows(url: string, sql: string, params: unknown[], count: number, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const rows = await withClient(url, async (c) => (await c.query(sql, params)).rows);
    if (rows.length >= count || Date.now() > end) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}
