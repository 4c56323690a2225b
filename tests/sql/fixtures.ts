/**
 * Rows for any tenant table, built from the catalog, so the cross-tenant matrix (tenancy.matrix.test.ts) covers
 * every table with a tenant_id column without anyone writing fixtures for it.
 *
 * For a table and a tenant, buildRow() produces a minimal valid row:
 * - tenant_id = the tenant; columns with a default, nullable columns and generated columns are left out;
 * - a NOT NULL foreign key gets a parent: tenants → the tenant, auth.users → a fresh user, another public table →
 *   a parent row built the same way for the same tenant (inserted as the superuser), composite keys included;
 * - any other NOT NULL column without a default gets a value of its type (enum → first label, text → a value
 *   shaped by the column name: *email*, *phone*, *url*, *hash*, …).
 * When a table's check constraints need something the generic values cannot give, add an entry to
 * FIXTURE_OVERRIDES (table → column → value) rather than special-casing the matrix.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createAuthUser, db } from '../helpers/db.ts';

export interface FixtureContext {
  table: string;
  tenantId: string;
}
export type FixtureValue = (ctx: FixtureContext) => unknown | Promise<unknown>;

/** Per-table column values the generic builder cannot guess. Keys are table names in `public`. */
export const FIXTURE_OVERRIDES: Record<string, Record<string, FixtureValue>> = {
  // The generic *hash* rule would already produce this; kept as the worked example of an override.
  invitations: { token_hash: () => randomBytes(32).toString('hex') },
  usage_events: { source_type: () => 'fixture', source_id: () => randomUUID() },
  messages: { direction: () => 'outbound', status: () => 'pending' },
  review_requests: { code: () => randomBytes(6).toString('hex') },
  usage_alerts: { metric: () => 'sms_segments', threshold: () => 80 },
  // capture: the photo lives in the shop's own folder of the repair-orders bucket (check constraint)
  repair_orders: { photo_path: (ctx) => `${ctx.tenantId}/${randomUUID()}.jpg` },
  // telephony: Twilio SID shapes (check constraints); the sealed token is base64 (never a real token)
  tenant_phone_numbers: {
    e164: () => `+1303555${String(randomInt(0, 10_000)).padStart(4, '0')}`,
    twilio_number_sid: () => `PN${randomBytes(16).toString('hex')}`,
    subaccount_sid: () => `AC${randomBytes(16).toString('hex')}`,
  },
  tenant_twilio_credentials: {
    account_sid: () => `AC${randomBytes(16).toString('hex')}`,
    auth_token_ciphertext: () => randomBytes(48).toString('base64'),
    nonce: () => randomBytes(12).toString('base64'),
    kind: () => 'byo',
    key_id: () => 'fixture',
  },
  voicemails: { call_sid: () => `CA${randomBytes(16).toString('hex')}`, from_phone: () => '+13035550142' },
  // metered overage ledger (server-only): a period (end after start), a meter event, the subscription item
  billing_overage_periods: {
    period_start: () => new Date(Date.UTC(2020, 0, 1) + randomInt(0, 2_000_000_000) * 1000).toISOString(),
    period_end: () => '2100-01-01T00:00:00Z',
  },
  billing_overage_reports: {
    identifier: () => `fixture:${randomUUID()}`,
    cumulative_segments: () => 1,
    segments: () => 1,
    stripe_customer_id: () => `cus_${randomBytes(7).toString('hex')}`,
  },
  billing_overage_items: {
    subscription_id: () => `sub_${randomBytes(12).toString('hex')}`,
    item_id: () => `si_${randomBytes(7).toString('hex')}`,
  },
};

/**
 * Tables holding exactly one row per shop that a trigger creates with the shop (keyed by tenant_id): the fixture
 * is that row, not a new one.
 */
export const ONE_ROW_PER_TENANT = new Set(['tenant_quota']);

interface Column {
  name: string;
  type: string; // format_type(), usable in a cast
  category: string; // pg_type.typcategory of the (domain's base) type
  baseType: string;
  notNull: boolean;
  hasDefault: boolean;
  generated: boolean;
  enumLabels: string[] | null;
}

interface ForeignKey {
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
}

export interface TableInfo {
  name: string;
  columns: Column[];
  foreignKeys: ForeignKey[];
  primaryKey: string[];
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const cache = new Map<string, TableInfo>();

/** Every base table in `public` with a tenant_id column (partitioned tables included, partitions excluded). */
export async function tenantTables(): Promise<string[]> {
  const { rows } = await db().query<{ name: string }>(`
    select c.relname as name
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
      and c.relname !~ '^zz_' -- scratch tables other test files create and drop during the run
    order by c.relname`);
  return rows.map((r) => r.name);
}

export async function describeTable(table: string, schema = 'public'): Promise<TableInfo> {
  const key = `${schema}.${table}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const rel = `${ident(schema)}.${ident(table)}`;
  const columns = (await db().query(`
    select a.attname as name,
           format_type(a.atttypid, a.atttypmod) as type,
           coalesce(bt.typcategory, t.typcategory) as category,
           format_type(coalesce(nullif(t.typbasetype, 0), a.atttypid), null) as "baseType",
           a.attnotnull or coalesce(t.typnotnull, false) as "notNull",
           a.atthasdef or a.attidentity <> '' or (t.typdefault is not null) as "hasDefault",
           a.attgenerated <> '' as generated,
           (select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_enum e
             where e.enumtypid = coalesce(nullif(t.typbasetype, 0), a.atttypid)) as "enumLabels"
    from pg_attribute a
    join pg_type t on t.oid = a.atttypid
    left join pg_type bt on bt.oid = nullif(t.typbasetype, 0)
    where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
    order by a.attnum`, [rel])).rows as Column[];
  const foreignKeys = (await db().query(`
    select array(select a.attname::text from unnest(c.conkey) with ordinality k(n, i)
                 join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i) as columns,
           rn.nspname as "refSchema", rc.relname as "refTable",
           array(select a.attname::text from unnest(c.confkey) with ordinality k(n, i)
                 join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i) as "refColumns"
    from pg_constraint c
    join pg_class rc on rc.oid = c.confrelid
    join pg_namespace rn on rn.oid = rc.relnamespace
    where c.conrelid = $1::regclass and c.contype = 'f'`, [rel])).rows as ForeignKey[];
  const primaryKey = (await db().query<{ name: string }>(`
    select a.attname as name
    from pg_index i
    join unnest(i.indkey) with ordinality k(n, ord) on true
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n
    where i.indrelid = $1::regclass and i.indisprimary
    order by k.ord`, [rel])).rows.map((r) => r.name);
  const info = { name: table, columns, foreignKeys, primaryKey };
  cache.set(key, info);
  return info;
}

function genericValue(col: Column): unknown {
  const hex = randomBytes(4).toString('hex');
  if (col.enumLabels?.length) return col.enumLabels[0];
  switch (col.category) {
    case 'S': {
      const n = col.name.toLowerCase();
      if (n.includes('email')) return `matrix-${hex}@example.com`;
      if (n.includes('phone') || n.endsWith('_number') || n.includes('e164')) return `+1500555${randomInt(1000, 9999)}`;
      if (n.includes('url')) return `https://example.com/matrix/${hex}`;
      if (n.includes('hash')) return randomBytes(32).toString('hex');
      if (n.includes('time_zone') || n === 'tz') return 'America/New_York';
      if (n === 'country') return 'US';
      return `matrix-${hex}`;
    }
    case 'N': return randomInt(1, 100_000);
    case 'B': return false;
    case 'D': return new Date().toISOString();
    case 'T': return '1 hour';
    case 'I': return '127.0.0.1';
    case 'A': return '{}';
    case 'U':
      if (col.baseType === 'uuid') return randomUUID();
      if (col.baseType === 'json' || col.baseType === 'jsonb') return '{}';
      if (col.baseType === 'bytea') return '\\x00';
      break;
  }
  throw new Error(`no generic value for ${col.name} (${col.type}); add it to FIXTURE_OVERRIDES`);
}

export interface BuiltRow {
  table: string;
  values: Record<string, unknown>;
  types: Record<string, string>;
}

/**
 * A minimal valid row of `table` for `tenantId`. Parents it needs are inserted (as the superuser); the row
 * itself is not, so callers can try to insert it under any identity.
 */
export async function buildRow(table: string, tenantId: string, depth = 0): Promise<BuiltRow> {
  if (depth > 4) throw new Error(`foreign keys nest too deep from ${table}; add FIXTURE_OVERRIDES`);
  const info = await describeTable(table);
  const overrides = FIXTURE_OVERRIDES[table] ?? {};
  const values: Record<string, unknown> = {};
  const types: Record<string, string> = {};
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  const needed = (c: Column) => c.notNull && !c.hasDefault && !c.generated;

  for (const col of info.columns) types[col.name] = col.type;
  if (byName.has('tenant_id')) values.tenant_id = tenantId;

  for (const fk of info.foreignKeys) {
    const open = fk.columns.filter((name) => !(name in values) && !(name in overrides));
    if (!open.some((name) => needed(byName.get(name)!))) continue;
    let parent: Record<string, unknown>;
    if (fk.refSchema === 'public' && fk.refTable === 'tenants') {
      parent = { id: tenantId };
    } else if (fk.refSchema === 'auth' && fk.refTable === 'users') {
      parent = { id: (await createAuthUser()).id };
    } else if (fk.refSchema === 'public') {
      parent = await insertRow(fk.refTable, tenantId, depth + 1);
    } else {
      throw new Error(`${table}: cannot build a parent in ${fk.refSchema}.${fk.refTable}; add FIXTURE_OVERRIDES`);
    }
    fk.columns.forEach((name, i) => {
      if (!(name in values)) values[name] = parent[fk.refColumns[i]];
    });
  }

  for (const col of info.columns) {
    const override = overrides[col.name];
    if (override) values[col.name] = await override({ table, tenantId });
    else if (!(col.name in values) && needed(col)) values[col.name] = genericValue(col);
  }
  return { table, values, types };
}

/**
 * The parameterised INSERT for a built row (optionally with some values replaced). Without `returning`, as
 * PostgREST sends it with `Prefer: return=minimal`: RETURNING would also apply the SELECT policies to the new row,
 * which can refuse an insert the INSERT policy wrongly allows and so hide the hole.
 */
export function insertStatement(row: BuiltRow, patch: Record<string, unknown> = {}, returning = false) {
  const values = { ...row.values, ...patch };
  const names = Object.keys(values);
  const text = `insert into public.${ident(row.table)} (${names.map(ident).join(', ')}) values (${names
    .map((n, i) => `$${i + 1}::${row.types[n]}`)
    .join(', ')})${returning ? ' returning *' : ''}`;
  return { text, params: names.map((n) => values[n]) };
}

/** Build and insert a row as the superuser; returns the stored row. */
export async function insertRow(table: string, tenantId: string, depth = 0): Promise<Record<string, unknown>> {
  if (ONE_ROW_PER_TENANT.has(table)) {
    const { rows } = await db().query(`select * from public.${ident(table)} where tenant_id = $1`, [tenantId]);
    if (rows.length !== 1) throw new Error(`${table}: expected the one row of tenant ${tenantId}, found ${rows.length}`);
    return rows[0];
  }
  const row = await buildRow(table, tenantId, depth);
  const { text, params } = insertStatement(row, {}, true);
  const client = await db().connect();
  try {
    await client.query('begin');
    // As a server-side writer would: defaults such as `auth.uid()` see service-role claims (sub = null) instead of
    // whatever a previous transaction on this pooled connection left in request.jwt.claims.
    await client.query(`select set_config('request.jwt.claims', '{"role":"service_role"}', true)`);
    const { rows } = await client.query(text, params);
    await client.query('commit');
    return rows[0];
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw new Error(`fixture insert into ${table} failed (${(err as Error).message}); add FIXTURE_OVERRIDES`);
  } finally {
    client.release();
  }
}

/** `where` clause and params selecting one stored row by its primary key, starting at $offset+1. */
export async function wherePrimaryKey(table: string, row: Record<string, unknown>, offset = 0) {
  const info = await describeTable(table);
  if (!info.primaryKey.length) throw new Error(`${table} has no primary key`);
  const types = new Map(info.columns.map((c) => [c.name, c.type]));
  const text = info.primaryKey.map((n, i) => `${ident(n)} = $${offset + i + 1}::${types.get(n)}`).join(' and ');
  return { text, params: info.primaryKey.map((n) => row[n]) };
}

/** The stored row as JSON (superuser), or null when it no longer exists. */
export async function snapshot(table: string, row: Record<string, unknown>): Promise<unknown> {
  const where = await wherePrimaryKey(table, row);
  const { rows } = await db().query(`select to_jsonb(t) as j from public.${ident(table)} t where ${where.text}`, where.params);
  return rows[0]?.j ?? null;
}

export { ident };
