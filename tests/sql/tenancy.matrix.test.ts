/**
 * The cross-tenant matrix, generated from the catalog: every table in `public` with a tenant_id column is found
 * at collection time, so a table added by any later migration is covered without anyone remembering to.
 *
 * For each table, with one row in shop A and one in shop B (inserted by the superuser, built by fixtures.ts):
 * - members of A (owner, admin, technician) and a platform admin who belongs to no shop: select of B's rows
 *   returns none; update and delete of B's rows affect none (or are refused with 42501) and B's row is unchanged;
 *   insert of a row with B's tenant_id fails with 42501;
 * - A's owner cannot move A's row to B (42501), and does see A's row when the table grants select (so the
 *   "returns none" assertions above are not vacuous);
 * - anonymous: nothing to read (42501 or no rows) and no writes.
 * SQL runs through asUser (tests/helpers/db.ts), i.e. exactly as PostgREST runs a request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAnon, asUser, closeDb, db, sqlError } from '../helpers/db.ts';
import { createSqlWorld, type SqlWorld } from '../helpers/personas.ts';
import {
  buildRow, describeTable, ident, insertRow, insertStatement, snapshot, tenantTables, wherePrimaryKey,
} from './fixtures.ts';

const tables = await tenantTables();
let world: SqlWorld;

beforeAll(async () => {
  world = await createSqlWorld();
});
afterAll(async () => {
  await closeDb();
});

type Who = 'ownerA' | 'adminA' | 'techA' | 'platformAdmin';
const members: [string, Who][] = [
  ['owner of A', 'ownerA'],
  ['admin of A', 'adminA'],
  ['technician of A', 'techA'],
  ['platform admin (member of no shop)', 'platformAdmin'],
];

/** Does `authenticated`/`anon` hold this table privilege (any column for update)? */
async function granted(role: string, table: string, privilege: 'select' | 'insert' | 'update' | 'delete') {
  const { rows } = await db().query(
    privilege === 'update'
      ? `select has_any_column_privilege($1, $2::regclass, 'update') as ok`
      : `select has_table_privilege($1, $2::regclass, $3) as ok`,
    privilege === 'update' ? [role, `public.${ident(table)}`] : [role, `public.${ident(table)}`, privilege],
  );
  return rows[0].ok as boolean;
}

/** A column `role` may update (not part of the primary key, not tenant_id), to write `set c = c`. */
async function updatableColumn(role: string, table: string): Promise<string | null> {
  const info = await describeTable(table);
  for (const col of info.columns) {
    if (col.generated || col.name === 'tenant_id' || info.primaryKey.includes(col.name)) continue;
    const { rows } = await db().query(`select has_column_privilege($1, $2::regclass, $3, 'update') as ok`, [
      role, `public.${ident(table)}`, col.name,
    ]);
    if (rows[0].ok) return col.name;
  }
  return null;
}

/**
 * Run a write that must change nothing: either refused with 42501 or affecting zero rows. No RETURNING: it would
 * add the SELECT policies to the check and could mask a hole in the UPDATE/DELETE policies.
 */
async function expectNoEffect(userId: string | null, sql: string, params: unknown[]) {
  try {
    const result = await asUser(userId, (c) => c.query(sql, params), { rollback: true });
    expect(result.rowCount, sql).toBe(0);
  } catch (err) {
    expect((err as { code?: string }).code, `${sql}: ${(err as Error).message}`).toBe('42501');
  }
}

it('finds the tenant tables in the catalog (the matrix is not empty)', () => {
  expect(tables).toEqual(expect.arrayContaining(['memberships', 'invitations']));
});

describe.each(tables)('public.%s', (table) => {
  const rel = `public.${ident(table)}`;
  let rowA: Record<string, unknown>;
  let rowB: Record<string, unknown>;
  let beforeB: unknown;

  beforeAll(async () => {
    rowA = await insertRow(table, world.tenantA);
    rowB = await insertRow(table, world.tenantB);
    beforeB = await snapshot(table, rowB);
  });

  it.each(members)('%s sees none of B\'s rows', async (_label, who) => {
    const user = world[who].id;
    try {
      const n = await asUser(user, async (c) => {
        const all = await c.query(`select count(*)::int as n from ${rel} where tenant_id = $1`, [world.tenantB]);
        const one = await (async () => {
          const where = await wherePrimaryKey(table, rowB);
          return c.query(`select count(*)::int as n from ${rel} where ${where.text}`, where.params);
        })();
        return all.rows[0].n + one.rows[0].n;
      }, { rollback: true });
      expect(n).toBe(0);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('42501');
    }
    // Whatever the caller can see belongs to the caller's shops.
    if (await granted('authenticated', table, 'select')) {
      const foreign = await asUser(user, (c) => c.query(
        `select count(*)::int as n from ${rel} t
          where not exists (select 1 from public.memberships m where m.tenant_id = t.tenant_id and m.user_id = $1)`,
        [user],
      ), { rollback: true });
      expect(foreign.rows[0].n).toBe(0);
    }
  });

  it.each(members)('%s cannot update B\'s rows', async (_label, who) => {
    const user = world[who].id;
    const col = (await updatableColumn('authenticated', table)) ?? 'tenant_id';
    const where = await wherePrimaryKey(table, rowB);
    await expectNoEffect(user, `update ${rel} set ${ident(col)} = ${ident(col)} where ${where.text}`, where.params);
    await expectNoEffect(user, `update ${rel} set ${ident(col)} = ${ident(col)} where tenant_id = $1`, [
      world.tenantB,
    ]);
    expect(await snapshot(table, rowB)).toEqual(beforeB);
  });

  it.each(members)('%s cannot delete B\'s rows', async (_label, who) => {
    const user = world[who].id;
    const where = await wherePrimaryKey(table, rowB);
    await expectNoEffect(user, `delete from ${rel} where ${where.text}`, where.params);
    await expectNoEffect(user, `delete from ${rel} where tenant_id = $1`, [world.tenantB]);
    expect(await snapshot(table, rowB)).toEqual(beforeB);
  });

  it.each(members)('%s cannot insert a row with B\'s tenant_id (42501)', async (_label, who) => {
    const row = await buildRow(table, world.tenantB);
    const { text, params } = insertStatement(row);
    const err = await sqlError(asUser(world[who].id, (c) => c.query(text, params), { rollback: true }));
    expect(err.code, err.message).toBe('42501');
  });

  it('the owner of A sees A\'s row when the table grants select (the matrix is not vacuous)', async () => {
    if (!(await granted('authenticated', table, 'select'))) return;
    const where = await wherePrimaryKey(table, rowA);
    const { rows } = await asUser(world.ownerA.id, (c) =>
      c.query(`select count(*)::int as n from ${rel} where ${where.text}`, where.params), { rollback: true });
    expect(rows[0].n).toBe(1);
  });

  it('the owner of A cannot move A\'s row to B (42501)', async () => {
    const before = await snapshot(table, rowA);
    const where = await wherePrimaryKey(table, rowA, 1);
    const err = await sqlError(asUser(world.ownerA.id, (c) =>
      c.query(`update ${rel} set tenant_id = $1 where ${where.text}`, [world.tenantB, ...where.params]),
    { rollback: true }));
    expect(err.code, err.message).toBe('42501');
    expect(await snapshot(table, rowA)).toEqual(before);
  });

  it('not even the superuser-side trigger lets a row change shops', async () => {
    // The immutability trigger holds for every writer, not only for policies (service role, SQL, RPCs).
    const where = await wherePrimaryKey(table, rowA, 1);
    const err = await sqlError(db().query(`update ${rel} set tenant_id = $1 where ${where.text}`, [
      world.tenantB, ...where.params,
    ]));
    expect(err.code).toBe('42501');
    expect(err.message).toMatch(/^tenant_id_immutable:/);
  });

  it('anonymous reads nothing and writes nothing', async () => {
    try {
      const { rows } = await asAnon((c) => c.query(`select count(*)::int as n from ${rel}`), { rollback: true });
      expect(rows[0].n).toBe(0);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('42501');
    }
    const row = await buildRow(table, world.tenantB);
    const { text, params } = insertStatement(row);
    const err = await sqlError(asAnon((c) => c.query(text, params), { rollback: true }));
    expect(err.code, err.message).toBe('42501');
    const where = await wherePrimaryKey(table, rowB);
    await expectNoEffect(null, `delete from ${rel} where ${where.text}`, where.params);
    await expectNoEffect(null, `update ${rel} set tenant_id = tenant_id where ${where.text}`, where.params);
    expect(await snapshot(table, rowB)).toEqual(beforeB);
  });
});
