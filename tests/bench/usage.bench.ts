/**
 * Usage-metering benchmark on the stack's PostgreSQL 15 (DB_URL, or $SP_STATE_DIR/stack.env):
 * - generates N ledger events (default 10 million) across 1,000 shops and 90 days with generate_series, in SQL;
 * - times a full aggregation (`aggregate_usage` over the 90 days, nothing aggregated yet) against a bare
 *   `GROUP BY tenant, day count(*)` over the same rows, in the same run (target ≤ 2×);
 * - times the rerun after one late event (target < 100 ms) and an idle rerun;
 * - p95 of `usage_summary` and `check_limits` called as a shop member the way PostgREST runs them (target < 50 ms).
 * The benchmark shops (slug `bench-usage-…`) and their events are deleted at the end (--keep keeps them).
 *
 *   npx tsx tests/bench/usage.bench.ts                    # 10M events, writes "Usage metering" in docs/benchmarks.md
 *   npx tsx tests/bench/usage.bench.ts --events 1000000   # prints only
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
const DOC = join(here, '..', '..', 'docs', 'benchmarks.md');
const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const EVENTS = Number(arg('--events') ?? 10_000_000);
const TENANTS = Number(arg('--tenants') ?? 1000);
const DAYS = 90;
const CALLS = Number(arg('--calls') ?? 300);
const write = !process.argv.includes('--no-write') && !arg('--events') && !arg('--tenants');
const keep = process.argv.includes('--keep');

function dbUrl(): string {
  if (process.env.DB_URL) return process.env.DB_URL;
  const file = join(process.env.SP_STATE_DIR ?? join(here, '..', '..', '.local'), 'stack.env');
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('DB_URL='));
  if (!line) throw new Error(`no DB_URL in ${file}`);
  return line.slice('DB_URL='.length);
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const pctl = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };
const fmt = (n: number) => n.toFixed(1);

async function main() {
  const pool = new pg.Pool({ connectionString: dbUrl(), max: 2 });
  const c = await pool.connect();
  const run = randomUUID().slice(0, 8);
  const log = (s: string) => console.log(`[usage.bench] ${s}`);
  const { rows: [{ version }] } = await c.query('select version()');
  log(version);
  await c.query(`set statement_timeout = 0`);

  // ---- shops, one owner member of all of them (for the member RPCs)
  const owner = randomUUID();
  await c.query(`insert into auth.users (id, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
                 values ($1, $2, '{"provider":"email"}', '{}', now(), now())`, [owner, `bench-${run}@test.servicepro.local`]);
  await c.query(`
    insert into public.tenants (name, slug, industry, time_zone, plan, status)
    select 'Bench shop ' || g, 'bench-usage-${run}-' || g, 'auto_repair', 'America/New_York',
           (array['trial','starter','pro','elite'])[1 + g % 4], 'active'
    from generate_series(1, $1) g`, [TENANTS]);
  const { rows: shops } = await c.query<{ id: string }>(`select id from public.tenants where slug like $1 order by slug`, [`bench-usage-${run}-%`]);
  await c.query(`insert into public.memberships (tenant_id, user_id, role) select id, $1, 'owner' from public.tenants where slug like $2`,
    [owner, `bench-usage-${run}-%`]);
  const ids = shops.map((s) => s.id);

  // ---- the ledger: N events, shop = i mod T, spread evenly over the last 90 days (UTC), recorded ~2 s later
  log(`generating ${EVENTS.toLocaleString()} events across ${TENANTS} shops and ${DAYS} days…`);
  let t0 = process.hrtime.bigint();
  const CHUNK = 1_000_000;
  for (let start = 0; start < EVENTS; start += CHUNK) {
    const end = Math.min(EVENTS, start + CHUNK) - 1;
    await c.query(`
      insert into public.usage_events (tenant_id, metric, quantity, source_type, source_id, occurred_at, recorded_at)
      select ($1::uuid[])[1 + (i % $2)],
             (enum_range(null::public.usage_metric))[1 + (i / $2) % 8],
             1 + (i % 3),
             'bench_${run}', i::text,
             ts, ts + interval '2 seconds'
      from generate_series($3::bigint, $4::bigint) i,
           lateral (select date_trunc('day', now()) - interval '${DAYS} days'
                           + (i::float8 / $5) * interval '${DAYS} days' as ts) t`,
      [ids, TENANTS, start, end, EVENTS]);
    log(`  ${(end + 1).toLocaleString()} (${fmt(ms(t0) / 1000)} s)`);
  }
  const genS = ms(t0) / 1000;
  await c.query('analyze public.usage_events');

  const { rows: [{ lo, hi }] } = await c.query(`select (current_date - ${DAYS})::text as lo, current_date::text as hi`);
  // a clean slate for the range: nothing aggregated yet (other shops' rows in the range are re-aggregated too)
  const reset = async () => {
    await c.query(`delete from public.billing_usage_daily where day between $1 and $2`, [lo, hi]);
    await c.query(`delete from public.usage_aggregation_state where day between $1 and $2`, [lo, hi]);
    await c.query('checkpoint');
  };

  // ---- bare GROUP BY vs full aggregation, alternated, best of 2 each (same buffers state for both)
  const bare: number[] = [];
  const full: number[] = [];
  let fullResult: unknown;
  for (let k = 0; k < 2; k++) {
    await reset();
    t0 = process.hrtime.bigint();
    const { rowCount } = await c.query(`
      select e.tenant_id, (e.occurred_at at time zone 'UTC')::date as day, count(*)
      from public.usage_events e
      where e.occurred_at >= ($1::date::timestamp at time zone 'UTC') and e.occurred_at < (($2::date + 1)::timestamp at time zone 'UTC')
      group by 1, 2`, [lo, hi]);
    bare.push(ms(t0));
    log(`bare GROUP BY: ${fmt(bare[k])} ms (${rowCount} groups)`);
    t0 = process.hrtime.bigint();
    const { rows: [{ r }] } = await c.query(`select public.aggregate_usage($1, $2) as r`, [lo, hi]);
    full.push(ms(t0));
    fullResult = r;
    log(`full aggregation: ${fmt(full[k])} ms ${JSON.stringify(r)}`);
  }
  // correctness in the same run: the aggregates equal the ledger
  const { rows: [check] } = await c.query(`
    select (select sum(event_count) from public.billing_usage_daily b join public.tenants t on t.id = b.tenant_id
             where t.slug like $1) as agg,
           (select count(*) from public.usage_events where source_type = $2) as ledger`, [`bench-usage-${run}-%`, `bench_${run}`]);
  log(`aggregated events ${check.agg} = ledger ${check.ledger}`);
  if (String(check.agg) !== String(check.ledger)) throw new Error('aggregates do not match the ledger');

  // ---- idle rerun and rerun after one late event (an event for 40 days ago recorded now)
  const idle: number[] = [];
  const late: number[] = [];
  for (let k = 0; k < 5; k++) {
    t0 = process.hrtime.bigint();
    await c.query(`select public.aggregate_usage($1, $2)`, [lo, hi]);
    idle.push(ms(t0));
    await c.query(`select private.record_usage($1, 'sms_outbound', 2, 'bench_late_${run}', $2, now() - interval '40 days')`,
      [ids[k * 7 % ids.length], String(k)]);
    t0 = process.hrtime.bigint();
    const { rows: [{ r }] } = await c.query(`select public.aggregate_usage($1, $2) as r`, [lo, hi]);
    late.push(ms(t0));
    if (r.rowsChanged !== 1) throw new Error(`late event: expected 1 changed row, got ${JSON.stringify(r)}`);
  }
  log(`idle rerun: median ${fmt(pctl(idle, 0.5))} ms; after one late event: median ${fmt(pctl(late, 0.5))} ms, max ${fmt(Math.max(...late))} ms`);

  // ---- member RPCs as PostgREST runs them
  const claims = JSON.stringify({ role: 'authenticated', sub: owner, aud: 'authenticated' });
  const timeRpc = async (sql: string) => {
    const xs: number[] = [];
    for (let k = 0; k < CALLS; k++) {
      const tenant = ids[(k * 37) % ids.length];
      t0 = process.hrtime.bigint();
      await c.query('begin');
      await c.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [claims]);
      await c.query(sql, [tenant]);
      await c.query('commit');
      xs.push(ms(t0));
    }
    return xs;
  };
  const summary = await timeRpc('select public.usage_summary($1)');
  const limits = await timeRpc('select public.check_limits($1)');
  log(`usage_summary p50 ${fmt(pctl(summary, 0.5))} ms p95 ${fmt(pctl(summary, 0.95))} ms; check_limits p50 ${fmt(pctl(limits, 0.5))} ms p95 ${fmt(pctl(limits, 0.95))} ms`);

  const { rows: [{ size }] } = await c.query(`select pg_size_pretty(pg_total_relation_size('public.usage_events')) as size`);

  if (!keep) {
    log('cleaning up…');
    await c.query(`delete from public.tenants where slug like $1`, [`bench-usage-${run}-%`]);
    await c.query(`delete from auth.users where id = $1`, [owner]);
  }
  c.release();
  await pool.end();

  const best = (xs: number[]) => Math.min(...xs);
  const ratio = best(full) / best(bare);
  const md = `## Usage metering

\`npx tsx tests/bench/usage.bench.ts\` on the stack's ${version.split(' on ')[0]}, ${cpus().length} vCPU
(${cpus()[0]?.model ?? 'unknown'}), default settings of the local stack. ${EVENTS.toLocaleString()} ledger events across
${TENANTS.toLocaleString()} shops and ${DAYS} days, generated with \`generate_series\` in ${fmt(genS)} s (ledger with its
indexes: ${size}). All numbers from one run; times are wall time from a client on the same machine.

| Measure | Result | Target |
|---|---|---|
| Bare \`GROUP BY tenant, day count(*)\` over the ${DAYS} days (best of 2) | ${fmt(best(bare))} ms | — |
| Full \`aggregate_usage\` over the same days, nothing aggregated yet (best of 2) | ${fmt(best(full))} ms | — |
| Ratio full / bare | **${ratio.toFixed(2)}×** | ≤ 2× |
| Rerun with nothing new (median of 5) | ${fmt(pctl(idle, 0.5))} ms | — |
| Rerun after one late event (median of 5; max) | **${fmt(pctl(late, 0.5))} ms**; ${fmt(Math.max(...late))} ms | < 100 ms |
| \`usage_summary\` as a member, p50 / p95 of ${CALLS} | ${fmt(pctl(summary, 0.5))} / **${fmt(pctl(summary, 0.95))} ms** | p95 < 50 ms |
| \`check_limits\` as a member, p50 / p95 of ${CALLS} | ${fmt(pctl(limits, 0.5))} / **${fmt(pctl(limits, 0.95))} ms** | p95 < 50 ms |

The full aggregation computes eight per-metric sums, the event count and the watermark per (shop, day) and upserts
${(fullResult as { rowsChanged?: number })?.rowsChanged?.toLocaleString() ?? '?'} rows; the bare query only counts and returns
its groups. The aggregates were checked against the ledger in the same run (sum of event_count = events).
The late-event rerun finds the changed (shop, day) through the \`recorded_at\` index and recomputes that one row.
RPC times include the transaction, \`set_config\` of the role and claims (as PostgREST does) and the round trip.
`;
  console.log('\n' + md);
  if (write) {
    const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
    const start = doc.indexOf('## Usage metering');
    let next = start >= 0 ? doc.indexOf('\n## ', start + 5) : -1;
    if (next < 0) next = doc.length;
    const updated = start >= 0 ? doc.slice(0, start) + md + doc.slice(next).replace(/^\n?/, '\n') : doc.trimEnd() + '\n\n' + md;
    writeFileSync(DOC, updated);
    log(`wrote the "Usage metering" section of ${DOC}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
