/**
 * Schema lint: the conventions of docs/conventions.md and docs/tenancy.md that a machine can check, read from the
 * catalog of the migrated database (in the spirit of Supabase's splinter lints, numbers in brackets). Every test
 * lists all offenders, so one run shows everything to fix.
 *
 * Adding an RPC or opening something to anon on purpose means adding it to an allow-list below, in the same
 * change, with a reason a reviewer can judge.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeDb, db } from '../helpers/db.ts';

/** Functions anon/authenticated may execute, by fully qualified signature (regprocedure), and who. */
const EXECUTABLE: Record<string, Array<'anon' | 'authenticated'>> = {
  // tenancy RPCs (each checks its caller)
  'public.create_tenant(text,text,text,text)': ['authenticated'],
  'public.invite_member(uuid,text,public.member_role)': ['authenticated'],
  'public.accept_invitation(text)': ['authenticated'],
  'public.set_member_role(uuid,uuid,public.member_role)': ['authenticated'],
  'public.remove_member(uuid,uuid)': ['authenticated'],
  'public.my_tenants()': ['authenticated'],
  'public.admin_list_tenants()': ['authenticated'],
  // core domain
  'public.has_feature(uuid,public.plan_feature)': ['authenticated'],
  // billing (each checks its caller)
  'public.tenant_standing(uuid)': ['authenticated'],
  // capture (each checks its caller; complete/fail are server-only: service role)
  'public.begin_repair_order_ocr(uuid,uuid,text)': ['authenticated'],
  'public.save_repair_order_review(uuid,uuid,text,text,text,text,text,public.consent_source)': ['authenticated'],
  'public.import_customers(uuid,jsonb,text)': ['authenticated'],
  // usage metering (each checks its caller)
  'public.aggregate_usage(date,date)': ['authenticated'],
  'public.usage_summary(uuid)': ['authenticated'],
  'public.check_limits(uuid)': ['authenticated'],
  'public.can_use(uuid,text)': ['authenticated'],
  'public.am_i_platform_admin()': ['authenticated'],
  'public.admin_usage_overview(date,date)': ['authenticated'],
  'public.admin_tenant_daily(uuid,date,date)': ['authenticated'],
  'public.set_usage_settings(uuid,boolean)': ['authenticated'],
  // messaging (each checks its caller; the send path, webhooks and the dispatcher are service role only)
  'public.messaging_pause_review_request(uuid,uuid,boolean)': ['authenticated'],
  'public.messaging_cancel_message(uuid,uuid)': ['authenticated'],
  // telephony (security invoker: RLS decides; the webhook RPCs are service role only)
  'public.customer_voicemails(uuid,uuid,text)': ['authenticated'],
  // helpers called from policies (no USAGE on schema private, so not callable directly)
  'private.current_tenant_ids(public.member_role)': ['authenticated'],
};

/** Policies that are not `to authenticated`, opened on purpose: `table.policy` → reason. */
const POLICY_ROLE_EXCEPTIONS: Record<string, string> = {};

/** Tables in public anon holds a privilege on, on purpose: table → reason. */
const ANON_TABLE_EXCEPTIONS: Record<string, string> = {};

const SCHEMAS = ['public', 'private'];

/**
 * Scratch objects a test creates and drops within its own run (tests/contract/rest.test.ts) are named `zz_…`;
 * test files run in parallel, so the lint must not trip over them.
 */
const isScratch = (name: unknown) => typeof name === 'string' && /(^|\.)zz_/.test(name);

afterAll(async () => {
  await closeDb();
});

/** Run catalog queries with an empty search_path so regprocedure/regclass print fully qualified. */
async function catalog<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = await db().connect();
  try {
    await client.query('begin');
    await client.query(`set local search_path = ''`);
    const { rows } = await client.query(sql, params);
    await client.query('rollback');
    return (rows as T[]).filter((r) => !isScratch(r.name ?? r.sig));
  } finally {
    client.release();
  }
}

/** Functions we own in public/private (functions created by extensions are the extension's business). */
const OUR_FUNCTIONS = `
  select p.oid, p.oid::pg_catalog.regprocedure::text as sig, n.nspname as schema, p.prosecdef as definer,
         p.proconfig as config
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname = any ($1)
    and not exists (select 1 from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid and d.deptype = 'e')`;

describe('tables and views', () => {
  it('every table in public has row-level security enabled [0013]', async () => {
    const rows = await catalog<{ name: string }>(`
      select c.oid::pg_catalog.regclass::text as name from pg_catalog.pg_class c
      where c.relnamespace = 'public'::pg_catalog.regnamespace and c.relkind in ('r', 'p') and not c.relrowsecurity`);
    expect(rows.map((r) => r.name)).toEqual([]);
  });

  it('every view in public is security_invoker; no materialized views or foreign tables in public [0010, 0016, 0017]', async () => {
    const rows = await catalog<{ name: string; kind: string }>(`
      select c.oid::pg_catalog.regclass::text as name, c.relkind::text as kind from pg_catalog.pg_class c
      where c.relnamespace = 'public'::pg_catalog.regnamespace
        and (c.relkind in ('m', 'f')
             or (c.relkind = 'v' and not coalesce(
                   (select pg_catalog.lower(o.option_value) in ('true', 'on', '1', 'yes')
                    from pg_catalog.pg_options_to_table(c.reloptions) o where o.option_name = 'security_invoker'),
                   false)))`);
    expect(rows).toEqual([]);
  });

  it('every table in public has a primary key [0004]', async () => {
    const rows = await catalog<{ name: string }>(`
      select c.oid::pg_catalog.regclass::text as name from pg_catalog.pg_class c
      where c.relnamespace = 'public'::pg_catalog.regnamespace and c.relkind in ('r', 'p')
        and not exists (select 1 from pg_catalog.pg_index i where i.indrelid = c.oid and i.indisprimary)`);
    expect(rows.map((r) => r.name)).toEqual([]);
  });

  it('a table with RLS and no policies says "server-only" in its comment', async () => {
    const rows = await catalog<{ name: string }>(`
      select c.oid::pg_catalog.regclass::text as name from pg_catalog.pg_class c
      where c.relnamespace = 'public'::pg_catalog.regnamespace and c.relkind in ('r', 'p') and c.relrowsecurity
        and not exists (select 1 from pg_catalog.pg_policy p where p.polrelid = c.oid)
        and coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '') !~* 'server-only'`);
    expect(rows.map((r) => r.name)).toEqual([]);
  });

  it('anon holds no privilege on any table in public unless allow-listed', async () => {
    const rows = await catalog<{ name: string }>(`
      select c.relname::text as name from pg_catalog.pg_class c
      where c.relnamespace = 'public'::pg_catalog.regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
        and (pg_catalog.has_table_privilege('anon', c.oid, 'select, insert, update, delete, truncate, references, trigger')
             or pg_catalog.has_any_column_privilege('anon', c.oid, 'select, insert, update, references'))`);
    expect(rows.map((r) => r.name).filter((n) => !(n in ANON_TABLE_EXCEPTIONS))).toEqual([]);
  });

  it('every foreign key in public is covered by an index starting with its columns [0001]', async () => {
    const rows = await catalog<{ name: string }>(`
      select c.conrelid::pg_catalog.regclass::text || '.' || c.conname::text as name
      from pg_catalog.pg_constraint c
      where c.contype = 'f' and c.connamespace = 'public'::pg_catalog.regnamespace
        and not exists (
          select 1 from pg_catalog.pg_index i
          where i.indrelid = c.conrelid and i.indpred is null
            and (i.indkey::int2[])[0:pg_catalog.cardinality(c.conkey) - 1] operator(pg_catalog.@>) c.conkey
            and (i.indkey::int2[])[0:pg_catalog.cardinality(c.conkey) - 1] operator(pg_catalog.<@) c.conkey)`);
    expect(rows.map((r) => r.name)).toEqual([]);
  });

  it('no extension is installed in public [0014]', async () => {
    const rows = await catalog<{ name: string }>(`
      select e.extname::text as name from pg_catalog.pg_extension e
      where e.extnamespace = 'public'::pg_catalog.regnamespace and e.extname <> 'plpgsql'`);
    expect(rows.map((r) => r.name)).toEqual([]);
  });
});

describe('tenant_id columns', () => {
  const TENANT_COLUMNS = `
    select c.oid, c.oid::pg_catalog.regclass::text as name, a.attnum, a.attnotnull
    from pg_catalog.pg_class c
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
    where c.relnamespace = 'public'::pg_catalog.regnamespace and c.relkind in ('r', 'p') and not c.relispartition`;

  it('are not null and reference tenants(id)', async () => {
    const rows = await catalog<{ name: string; problem: string }>(`
      with t as (${TENANT_COLUMNS})
      select t.name, 'nullable' as problem from t where not t.attnotnull
      union all
      select t.name, 'no foreign key to public.tenants(id)' from t
      where not exists (
        select 1 from pg_catalog.pg_constraint k
        where k.conrelid = t.oid and k.contype = 'f' and k.confrelid = 'public.tenants'::pg_catalog.regclass
          and k.conkey = array[t.attnum]::int2[])
      order by 1, 2`);
    expect(rows).toEqual([]);
  });

  it('are the leading column of a (non-partial) index', async () => {
    const rows = await catalog<{ name: string }>(`
      with t as (${TENANT_COLUMNS})
      select t.name from t
      where not exists (select 1 from pg_catalog.pg_index i
                        where i.indrelid = t.oid and i.indkey[0] = t.attnum and i.indpred is null and i.indisvalid)`);
    expect(rows.map((r) => r.name)).toEqual([]);
  });

  it('are immutable: a BEFORE UPDATE row trigger runs private.forbid_tenant_change()', async () => {
    const rows = await catalog<{ name: string }>(`
      with t as (${TENANT_COLUMNS})
      select t.name from t
      where not exists (
        select 1 from pg_catalog.pg_trigger g
        where g.tgrelid = t.oid and g.tgenabled <> 'D' and not g.tgisinternal
          and g.tgfoid = 'private.forbid_tenant_change()'::pg_catalog.regprocedure
          and (g.tgtype & 1) = 1      -- FOR EACH ROW
          and (g.tgtype & 2) = 2      -- BEFORE
          and (g.tgtype & 16) = 16)   -- UPDATE`);
    expect(rows.map((r) => r.name)).toEqual([]);
  });
});

describe('functions', () => {
  it('nothing in private is executable by anon, and nobody but the owner has USAGE on schema private', async () => {
    const fns = await catalog<{ sig: string }>(
      `select f.sig from (${OUR_FUNCTIONS}) f where f.schema = 'private' and pg_catalog.has_function_privilege('anon', f.oid, 'execute')`,
      [SCHEMAS],
    );
    expect(fns.map((f) => f.sig)).toEqual([]);
    const usage = await catalog<{ role: string }>(`
      select r.rolname::text as role from pg_catalog.pg_roles r
      where r.rolname in ('anon', 'authenticated', 'authenticator', 'service_role')
        and pg_catalog.has_schema_privilege(r.oid, 'private', 'usage')
      union all
      select 'PUBLIC' from pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
      where n.nspname = 'private' and a.grantee = 0 and a.privilege_type = 'USAGE'`);
    expect(usage.map((u) => u.role)).toEqual([]);
  });

  it('only allow-listed functions are executable by anon/authenticated [0028, 0029]', async () => {
    const rows = await catalog<{ sig: string; anon: boolean; authenticated: boolean }>(
      `select f.sig, pg_catalog.has_function_privilege('anon', f.oid, 'execute') as anon,
              pg_catalog.has_function_privilege('authenticated', f.oid, 'execute') as authenticated
       from (${OUR_FUNCTIONS}) f order by f.sig`,
      [SCHEMAS],
    );
    const offenders: string[] = [];
    for (const r of rows) {
      for (const role of ['anon', 'authenticated'] as const) {
        if (r[role] && !(EXECUTABLE[r.sig] ?? []).includes(role)) offenders.push(`${r.sig} executable by ${role}`);
      }
    }
    expect(offenders).toEqual([]);
    // The allow-list names functions that exist (a renamed RPC must not leave a stale, silently unused entry).
    const known = new Set(rows.map((r) => r.sig));
    expect(Object.keys(EXECUTABLE).filter((sig) => !known.has(sig))).toEqual([]);
  });

  it('every function in public/private pins search_path to \'\' (security definer ones above all) [0011]', async () => {
    const rows = await catalog<{ sig: string; definer: boolean }>(
      `select f.sig, f.definer from (${OUR_FUNCTIONS}) f
       where not ('search_path=""' = any (coalesce(f.config, '{}')))
       order by f.sig`,
      [SCHEMAS],
    );
    expect(rows.map((r) => `${r.sig}${r.definer ? ' (SECURITY DEFINER)' : ''}`)).toEqual([]);
  });
});

describe('policies', () => {
  type PolicyRow = {
    name: string;
    cmd: string;
    roles: string;
    qual: string | null;
    check: string | null;
  };
  const policies = () => catalog<PolicyRow>(`
    select p.tablename::text || '.' || p.policyname::text as name, p.cmd::text as cmd,
           pg_catalog.array_to_string(p.roles, ',') as roles, p.qual, p.with_check as check
    from pg_catalog.pg_policies p where p.schemaname = 'public' order by 1`);

  it('are `to authenticated` unless allow-listed', async () => {
    const rows = await policies();
    expect(rows.filter((p) => p.roles !== 'authenticated' && !(p.name in POLICY_ROLE_EXCEPTIONS))
      .map((p) => `${p.name}: to ${p.roles}`)).toEqual([]);
  });

  it('call auth.*() and private helpers only wrapped as (select …) [0003]', async () => {
    const call = /\b(auth\.(?:uid|jwt|role|email)|private\.[a-z0-9_]+)\(/gi;
    const offenders: string[] = [];
    for (const p of await policies()) {
      for (const expr of [p.qual, p.check]) {
        if (!expr) continue;
        for (const m of expr.matchAll(call)) {
          if (!/SELECT\s+$/i.test(expr.slice(Math.max(0, m.index! - 8), m.index))) offenders.push(`${p.name}: ${m[1]}()`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('never read user_metadata [0015], are never always-true [0024], and UPDATE policies state WITH CHECK', async () => {
    const offenders: string[] = [];
    for (const p of await policies()) {
      const text = `${p.qual ?? ''} ${p.check ?? ''}`;
      if (/user_metadata|raw_user_meta_data/i.test(text)) offenders.push(`${p.name}: reads user_metadata`);
      if (p.qual?.trim() === 'true' || p.check?.trim() === 'true') offenders.push(`${p.name}: always true`);
      if ((p.cmd === 'UPDATE' || p.cmd === 'ALL') && !p.check) offenders.push(`${p.name}: UPDATE without WITH CHECK`);
    }
    expect(offenders).toEqual([]);
  });

  it('nothing in private (the authorization helpers) reads user_metadata', async () => {
    const rows = await catalog<{ sig: string }>(
      `select f.sig from (${OUR_FUNCTIONS}) f join pg_catalog.pg_proc p on p.oid = f.oid
       where p.prosrc ~* 'user_metadata|raw_user_meta_data'`,
      [['private']],
    );
    expect(rows.map((r) => r.sig)).toEqual([]);
  });
});
