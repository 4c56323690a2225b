/**
 * The background work hosted Supabase does inside Postgres, done here by the stack:
 *
 * (a) the cron stand-in (local/db/bootstrap/40-platform.sql) when the real pg_cron is not loaded: at every
 *     minute boundary the active `cron.job` rows whose schedule matches that minute (GMT, as pg_cron) run, each
 *     as the job's `username` in its own transaction, one run of a job at a time (a due run while the previous
 *     one is still going is queued, as pg_cron does), recorded in `cron.job_run_details`. `@reboot` jobs run once
 *     when the scheduler starts.
 * (b) always, the pg_net worker: requests queued in `net.http_request_queue` (by `net.http_post/http_get/
 *     http_delete`) are taken off the queue (at most once, as pg_net does), sent with fetch honouring
 *     `timeout_milliseconds`, and the outcome is written to `net._http_response`. It wakes on
 *     NOTIFY servicepro_net_queue (a trigger of the stand-in) and polls every 500 ms as well. Responses older than
 *     6 hours are deleted (pg_net's default ttl).
 * No transaction is held while a request is in flight: on PGlite that would stall the whole database, and the
 * request usually calls back into it (an edge function).
 */
import pg from 'pg';
import type { DatabaseHandle, Logger, RunningService } from '../lib/types.ts';

const NET_CHANNEL = 'servicepro_net_queue';
const POLL_MS = 500;
const NET_BATCH = 20;
const RESPONSE_TTL = '6 hours';

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string> | null;
  body: Buffer | null;
  timeout_milliseconds: number;
}

interface CronJob {
  jobid: string;
  jobname: string | null;
  schedule: string;
  command: string;
  database: string;
  username: string;
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

// ---------------------------------------------------------------------------------------------------------
// net
// ---------------------------------------------------------------------------------------------------------

/** Takes up to `limit` requests off the queue (deleted as pg_net's worker does when it picks them up). */
async function claimRequests(db: pg.Pool | pg.Client, limit = NET_BATCH): Promise<QueuedRequest[]> {
  const { rows } = await db.query<QueuedRequest>(`
    delete from net.http_request_queue
    where id in (select id from net.http_request_queue order by id limit $1 for update skip locked)
    returning id, method, url, headers, body, timeout_milliseconds`, [limit]);
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/** Sends one request and writes its net._http_response row. Never throws for HTTP-level failures. */
async function sendRequest(db: pg.Pool | pg.Client, req: QueuedRequest): Promise<void> {
  const timeout = Math.max(1, Number(req.timeout_milliseconds) || 5000);
  let row: [number | null, string | null, string | null, string | null, boolean, string | null];
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers ?? {},
      body: req.body && req.method !== 'GET' ? new Uint8Array(req.body) : undefined,
      signal: AbortSignal.timeout(timeout),
      redirect: 'follow',
    });
    const content = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => { headers[k] = v; });
    row = [res.status, res.headers.get('content-type'), JSON.stringify(headers), content, false, null];
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') {
      row = [null, null, null, null, true, `Timeout of ${timeout} ms reached`];
    } else {
      row = [null, null, null, null, false, err.cause?.message ? `${err.message}: ${err.cause.message}` : err.message];
    }
  }
  await db.query(`insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
                  values ($1, $2, $3, $4::jsonb, $5, $6, $7)`, [req.id, ...row]);
}

/** Whether this database has the net stand-in (not the real pg_net, whose own worker sends). */
async function hasNetStandIn(db: pg.Pool | pg.Client): Promise<boolean> {
  const { rows } = await db.query(`select to_regclass('net.http_request_queue') is not null as q,
    exists (select 1 from pg_extension where extname = 'pg_net') as real`);
  return rows[0].q && !rows[0].real;
}

/**
 * Test helper: sends every queued request until the queue is empty; returns how many were sent.
 * Throws when requests are still queued after `timeoutMs`.
 */
export async function drainNetQueue(dbUrl: string, timeoutMs = 10_000): Promise<number> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  const deadline = Date.now() + timeoutMs;
  let sent = 0;
  try {
    if (!(await hasNetStandIn(client))) throw new Error('drainNetQueue: no net stand-in in this database (pg_net sends by itself)');
    for (;;) {
      const batch = await claimRequests(client);
      if (batch.length === 0) return sent;
      await Promise.all(batch.map((r) => sendRequest(client, r)));
      sent += batch.length;
      if (Date.now() > deadline) {
        const { rows } = await client.query('select count(*)::int as n from net.http_request_queue');
        if (rows[0].n > 0) throw new Error(`drainNetQueue: ${rows[0].n} request(s) still queued after ${timeoutMs} ms`);
        return sent;
      }
    }
  } finally {
    await client.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------------------
// cron
// ---------------------------------------------------------------------------------------------------------

/** pg_cron's return_message for a successful command. */
function returnMessage(r: pg.QueryResult | pg.QueryResult[]): string {
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  if (!last) return '';
  const n = last.rowCount ?? 0;
  switch (last.command) {
    case 'SELECT': return `${n} row${n === 1 ? '' : 's'}`;
    case 'INSERT': return `INSERT 0 ${n}`;
    case 'UPDATE': case 'DELETE': case 'MERGE': case 'COPY': case 'FETCH': case 'MOVE': return `${last.command} ${n}`;
    default: return last.command ?? '';
  }
}

/** Runs one job now: as its username, in its own transaction, recorded in cron.job_run_details. */
async function runJob(pool: pg.Pool, job: CronJob): Promise<{ status: 'succeeded' | 'failed'; message: string }> {
  const admin = await pool.connect();
  let runid: string;
  try {
    ({ rows: [{ runid }] } = await admin.query(`
      insert into cron.job_run_details (jobid, database, username, command, status, start_time)
      values ($1, $2, $3, $4, 'running', clock_timestamp()) returning runid`,
    [job.jobid, job.database, job.username, job.command]));
  } finally {
    admin.release();
  }
  const worker = await pool.connect();
  let status: 'succeeded' | 'failed' = 'succeeded';
  let message: string;
  let pid: number | null = null;
  let broken = false;
  try {
    const current = (await worker.query('select current_database() as d, pg_backend_pid() as p')).rows[0];
    pid = current.p;
    if (job.database !== current.d) throw new Error(`job is for database "${job.database}", the scheduler runs in "${current.d}"`);
    await worker.query('begin');
    await worker.query(`set local role ${quoteIdent(job.username)}`);
    const result = await worker.query(job.command);
    await worker.query('commit');
    message = returnMessage(result as pg.QueryResult | pg.QueryResult[]);
  } catch (e) {
    status = 'failed';
    message = `ERROR:  ${(e as Error).message}`;
    await worker.query('rollback').catch(() => { broken = true; });
  } finally {
    worker.release(broken);
  }
  await pool.query(`update cron.job_run_details set status = $2, return_message = $3, job_pid = $4, end_time = clock_timestamp()
                    where runid = $1`, [runid, status, message, pid]);
  return { status, message };
}

async function loadJob(db: pg.Pool | pg.Client, jobname: string): Promise<CronJob> {
  const { rows } = await db.query<CronJob>(`select jobid, jobname, schedule, command, database, username
    from cron.job where jobname = $1 order by jobid limit 1`, [jobname]);
  if (!rows.length) throw new Error(`runCronJobNow: no cron job named "${jobname}"`);
  return rows[0];
}

/**
 * Test helper: runs the job named `jobname` now, exactly as the scheduler would (as its username, recorded in
 * cron.job_run_details), whether the clock says it is due or not. Works with the stand-in and with pg_cron.
 */
export async function runCronJobNow(dbUrl: string, jobname: string): Promise<{ status: 'succeeded' | 'failed'; message: string }> {
  const pool = new pg.Pool({ connectionString: dbUrl, max: 2 });
  try {
    return await runJob(pool, await loadJob(pool, jobname));
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------------------
// the service
// ---------------------------------------------------------------------------------------------------------

export async function startScheduler(db: DatabaseHandle, opts: { log: Logger }): Promise<RunningService> {
  const { log } = opts;
  const pool = new pg.Pool({ connectionString: db.url, max: Math.max(2, Math.min(4, db.maxConnections)) });
  pool.on('error', (e) => log.warn(`scheduler: idle connection error: ${e.message}`));

  const { rows: [caps] } = await pool.query(`select
    exists (select 1 from pg_extension where extname = 'pg_cron') as pg_cron,
    to_regclass('cron.job') is not null as cron_tables,
    to_regprocedure('cron._schedule_matches(text, timestamptz)') is not null as cron_stand_in`);
  const netStandIn = await hasNetStandIn(pool);
  const cronStandIn = !caps.pg_cron && caps.cron_tables && caps.cron_stand_in;

  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>) => {
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => {});
    return p;
  };
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => { timers.delete(t); if (!stopped) fn(); }, ms);
    timers.add(t);
  };

  // ---- net dispatcher ----
  let draining = false;
  let again = false;
  let lastPrune = 0;
  const drain = async () => {
    if (draining) { again = true; return; }
    draining = true;
    try {
      do {
        again = false;
        for (;;) {
          if (stopped) return;
          const batch = await claimRequests(pool);
          if (!batch.length) break;
          await Promise.all(batch.map((r) => sendRequest(pool, r).catch((e) => {
            log.error(`net: could not record the response of request ${r.id}: ${(e as Error).message}`);
          })));
        }
      } while (again);
      if (Date.now() - lastPrune > 60_000) {
        lastPrune = Date.now();
        await pool.query(`delete from net._http_response where created < now() - interval '${RESPONSE_TTL}'`);
      }
    } catch (e) {
      if (!stopped) log.warn(`net: ${(e as Error).message}`);
    } finally {
      draining = false;
    }
  };
  let listener: pg.Client | null = null;
  const listen = async () => {
    if (stopped) return;
    const c = new pg.Client({ connectionString: db.url });
    c.on('notification', () => { void track(drain()); });
    c.on('error', (e) => {
      if (stopped) return;
      log.warn(`net: listener connection lost (${e.message}); polling until it is back`);
      listener = null;
      later(2000, () => void listen().catch(() => {}));
    });
    try {
      await c.connect();
      await c.query(`listen ${NET_CHANNEL}`);
      listener = c;
    } catch (e) {
      await c.end().catch(() => {});
      later(2000, () => void listen().catch(() => {}));
    }
  };
  const poll = () => {
    void track(drain());
    later(POLL_MS, poll);
  };
  if (netStandIn) {
    await listen();
    poll();
  }

  // ---- cron stand-in ----
  const running = new Map<string, { queued: boolean }>();
  const startRun = (job: CronJob) => {
    const state = running.get(job.jobid);
    if (state) { state.queued = true; return; }
    running.set(job.jobid, { queued: false });
    const go = async (): Promise<void> => {
      try {
        const r = await runJob(pool, job);
        if (r.status === 'failed') log.warn(`cron: job ${job.jobname ?? job.jobid} failed: ${r.message}`);
      } catch (e) {
        log.error(`cron: job ${job.jobname ?? job.jobid} could not run: ${(e as Error).message}`);
      }
      const s = running.get(job.jobid);
      if (s?.queued && !stopped) {
        s.queued = false;
        return go();
      }
      running.delete(job.jobid);
    };
    void track(go());
  };
  const tick = async (minute: Date) => {
    try {
      const { rows } = await pool.query<CronJob>(`
        select jobid, jobname, schedule, command, database, username from cron.job
        where active and database = current_database() and cron._schedule_matches(schedule, $1)
        order by jobid`, [minute.toISOString()]);
      for (const job of rows) startRun(job);
    } catch (e) {
      if (!stopped) log.warn(`cron: ${(e as Error).message}`);
    }
  };
  const scheduleNextTick = () => {
    const now = Date.now();
    const next = Math.floor(now / 60_000) * 60_000 + 60_000;
    later(next - now + 5, () => {
      void track(tick(new Date(next)));
      scheduleNextTick();
    });
  };
  if (cronStandIn) {
    const { rows } = await pool.query<CronJob>(`select jobid, jobname, schedule, command, database, username from cron.job
      where active and lower(btrim(schedule)) = '@reboot' and database = current_database() order by jobid`);
    for (const job of rows) startRun(job);
    scheduleNextTick();
  }

  log.info(`scheduler: net dispatcher ${netStandIn ? 'on' : 'off (pg_net sends by itself)'}; cron ${
    caps.pg_cron ? 'by pg_cron' : cronStandIn ? 'stand-in, every minute' : 'not installed'}`);

  return {
    name: 'scheduler',
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...inflight]);
      if (listener) await listener.end().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}
