/**
 * Tenancy rules in SQL, each statement run as PostgREST would run it (asUser). Needs only DB_URL.
 * The same rules through supabase-js and the HTTP API: tenancy.api.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAnon, asUser, closeDb, createAuthUser, db, sqlError, uniqueEmail } from '../helpers/db.ts';
import { createSqlWorld, sqlRpc, SHOP_DEFAULTS, type SqlUser, type SqlWorld } from '../helpers/personas.ts';

let w: SqlWorld;

beforeAll(async () => {
  w = await createSqlWorld();
});
afterAll(async () => {
  await closeDb();
});

const rows = (userId: string | null, sql: string, params: unknown[] = []) =>
  asUser(userId, async (c) => (await c.query(sql, params)).rows);
const fails = (userId: string | null, sql: string, params: unknown[] = []) =>
  sqlError(asUser(userId, (c) => c.query(sql, params)));

/** A fresh user who joins `tenant` with `role` through invite_member/accept_invitation. */
async function newMember(tenant: string, role: 'owner' | 'admin' | 'technician', inviter = w.ownerA): Promise<SqlUser> {
  const user = await createAuthUser({ email: uniqueEmail(role) });
  const inv = await sqlRpc<{ token: string }>(inviter.id, 'select public.invite_member($1, $2, $3)', [tenant, user.email, role]);
  await sqlRpc(user.id, 'select public.accept_invitation($1)', [inv.token]);
  return user;
}

async function invite(email: string, role = 'technician', tenant = w.tenantA, by = w.ownerA) {
  return sqlRpc<{ invitation_id: string; token: string; expires_at: string }>(
    by.id, 'select public.invite_member($1, $2, $3)', [tenant, email, role]);
}

describe('create_tenant (sign-up)', () => {
  it('creates a trialing shop for 14 days with the caller as its only owner', async () => {
    const user = await createAuthUser();
    const id = await sqlRpc<string>(user.id, 'select public.create_tenant($1, $2, $3, $4)', [
      '  Joe\'s Café & Détailing ', 'detailing', 'Europe/Berlin', '+4930123456',
    ]);
    const [t] = (await db().query('select * from public.tenants where id = $1', [id])).rows;
    expect(t).toMatchObject({ name: 'Joe\'s Café & Détailing', industry: 'detailing', time_zone: 'Europe/Berlin',
      phone: '+4930123456', country: 'US', plan: 'trial', status: 'trialing' });
    expect(t.slug).toMatch(/^joe-s-cafe-detailing(-[0-9a-f]+|-\d)?$/);
    const days = (new Date(t.trial_ends_at).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(13.9);
    expect(days).toBeLessThanOrEqual(14);
    const members = (await db().query('select user_id, role from public.memberships where tenant_id = $1', [id])).rows;
    expect(members).toEqual([{ user_id: user.id, role: 'owner' }]);
    expect(await rows(user.id, 'select id, role, status, plan from public.my_tenants()')).toEqual([
      { id, role: 'owner', status: 'trialing', plan: 'trial' },
    ]);
  });

  it('derives a unique slug when the name is taken', async () => {
    const name = `Same Name ${Date.now()}`;
    const [a, b] = await Promise.all([createAuthUser(), createAuthUser()]);
    const ta = await sqlRpc<string>(a.id, 'select public.create_tenant($1, $2, $3)', [name, 'auto_repair', 'UTC']);
    const tb = await sqlRpc<string>(b.id, 'select public.create_tenant($1, $2, $3)', [name, 'auto_repair', 'UTC']);
    const slugs = (await db().query('select slug from public.tenants where id in ($1, $2) order by created_at', [ta, tb]))
      .rows.map((r) => r.slug);
    expect(new Set(slugs).size).toBe(2);
    expect(slugs[0]).toBe(`same-name-${name.split(' ')[2]}`);
  });

  it('refuses bad input with a clear code and creates nothing', async () => {
    const user = await createAuthUser();
    const call = (args: unknown[]) => fails(user.id, 'select public.create_tenant($1, $2, $3, $4)', args);
    const tz = await call(['Shop', 'auto_repair', 'Mars/Olympus_Mons', null]);
    expect(tz.code).toBe('22023');
    expect(tz.message).toMatch(/^invalid_time_zone: /);
    expect((await call(['   ', 'auto_repair', 'UTC', null])).message).toMatch(/^invalid_name: /);
    expect((await call(['Shop', '', 'UTC', null])).message).toMatch(/^invalid_industry: /);
    expect((await call(['Shop', 'auto_repair', 'UTC', '555-1234'])).message).toMatch(/^invalid_phone: /);
    expect((await db().query('select count(*)::int n from public.memberships where user_id = $1', [user.id])).rows[0].n).toBe(0);
  });

  it('is not callable anonymously, and tenants cannot be inserted directly', async () => {
    expect((await sqlError(asAnon((c) => c.query('select public.create_tenant($1, $2, $3)', ['x', 'y', 'UTC'])))).code)
      .toBe('42501');
    const err = await fails(w.ownerA.id, `insert into public.tenants (name, slug, industry, time_zone) values ('x', 'x-${Date.now()}', 'y', 'UTC')`);
    expect(err.code).toBe('42501');
  });
});

describe('user_metadata and forged claims decide nothing', () => {
  it('a technician who names shop B and role owner in user_metadata gains nothing', async () => {
    const tech = await newMember(w.tenantA, 'technician');
    const forged = { tenant_id: w.tenantB, tenant_ids: [w.tenantB], role: 'owner', is_admin: true, platform_admin: true };
    await db().query('update auth.users set raw_user_meta_data = $2 where id = $1', [tech.id, JSON.stringify(forged)]);
    const as = { claims: { user_metadata: forged, app_metadata: { provider: 'email', ...forged } } };

    const visible = await asUser(tech.id, async (c) => (await c.query('select id from public.tenants')).rows, as);
    expect(visible).toEqual([{ id: w.tenantA }]);
    const inviteB = await sqlError(asUser(tech.id, (c) =>
      c.query('select public.invite_member($1, $2, $3)', [w.tenantB, uniqueEmail('x'), 'owner']), as));
    expect(inviteB.code).toBe('42501');
    const updated = await asUser(tech.id, (c) =>
      c.query(`update public.tenants set name = 'pwned' where id = any ($1)`, [[w.tenantA, w.tenantB]]), as);
    expect(updated.rowCount).toBe(0);
    const admin = await sqlError(asUser(tech.id, (c) => c.query('select * from public.admin_list_tenants()'), as));
    expect(admin.code).toBe('42501');
  });
});

describe('membership is checked on every request', () => {
  it('a removed member loses access on the very next request', async () => {
    const tech = await newMember(w.tenantA, 'technician');
    expect(await rows(tech.id, 'select id from public.tenants')).toEqual([{ id: w.tenantA }]);
    await sqlRpc(w.ownerA.id, 'select public.remove_member($1, $2)', [w.tenantA, tech.id]);
    expect(await rows(tech.id, 'select id from public.tenants')).toEqual([]);
    expect(await rows(tech.id, 'select * from public.memberships')).toEqual([]);
    expect(await rows(tech.id, 'select * from public.my_tenants()')).toEqual([]);
  });

  it('members may leave on their own', async () => {
    const tech = await newMember(w.tenantA, 'technician');
    await sqlRpc(tech.id, 'select public.remove_member($1, $2)', [w.tenantA, tech.id]);
    expect(await rows(tech.id, 'select id from public.tenants')).toEqual([]);
  });
});

describe('invitations', () => {
  it('stores only the token hash and returns the token once', async () => {
    const email = uniqueEmail('hash');
    const inv = await invite(email);
    expect(inv.token).toMatch(/^[0-9a-f]{64}$/);
    const [stored] = (await db().query('select * from public.invitations where id = $1', [inv.invitation_id])).rows;
    expect(JSON.stringify(stored)).not.toContain(inv.token);
    const [{ h }] = (await db().query(`select encode(sha256(convert_to($1, 'UTF8')), 'hex') h`, [inv.token])).rows;
    expect(stored.token_hash).toBe(h);
    expect(stored).toMatchObject({ email, role: 'technician', invited_by: w.ownerA.id, accepted_at: null });
  });

  it('is single use: the second accept is refused with invitation_used', async () => {
    const user = await createAuthUser({ email: uniqueEmail('once') });
    const inv = await invite(user.email.toUpperCase()); // addresses compare case-insensitively
    expect(await sqlRpc(user.id, 'select public.accept_invitation($1)', [inv.token])).toBe(w.tenantA);
    const err = await fails(user.id, 'select public.accept_invitation($1)', [inv.token]);
    expect(err.code).toBe('P0001');
    expect(err.message).toMatch(/^invitation_used: /);
  });

  it('expires: an expired invitation is refused with invitation_expired and nobody joins', async () => {
    const user = await createAuthUser({ email: uniqueEmail('late') });
    const inv = await invite(user.email);
    await db().query(`update public.invitations set expires_at = now() - interval '1 second' where id = $1`, [inv.invitation_id]);
    const err = await fails(user.id, 'select public.accept_invitation($1)', [inv.token]);
    expect(err.code).toBe('P0001');
    expect(err.message).toMatch(/^invitation_expired: /);
    expect(await rows(user.id, 'select * from public.my_tenants()')).toEqual([]);
  });

  it('refuses revoked, unknown and someone else\'s invitations', async () => {
    const user = await createAuthUser({ email: uniqueEmail('revoked') });
    const revoked = await invite(user.email);
    const updated = await asUser(w.adminA.id, (c) =>
      c.query('update public.invitations set revoked_at = now() where id = $1', [revoked.invitation_id]));
    expect(updated.rowCount).toBe(1);
    expect((await fails(user.id, 'select public.accept_invitation($1)', [revoked.token])).message).toMatch(/^invitation_revoked: /);
    expect((await fails(user.id, 'select public.accept_invitation($1)', ['0'.repeat(64)])).message).toMatch(/^invitation_not_found: /);
    expect((await fails(user.id, 'select public.accept_invitation($1)', ['not a token'])).message).toMatch(/^invitation_not_found: /);

    const forOther = await invite(uniqueEmail('someone-else'));
    const mismatch = await fails(user.id, 'select public.accept_invitation($1)', [forOther.token]);
    expect(mismatch.code).toBe('42501');
    expect(mismatch.message).toMatch(/^invitation_email_mismatch: /);
  });

  it('the email comes from auth.users, not from the JWT or user_metadata', async () => {
    const user = await createAuthUser({ email: uniqueEmail('claims') });
    const inv = await invite(uniqueEmail('victim'));
    const victim = (await db().query('select email from public.invitations where id = $1', [inv.invitation_id])).rows[0].email;
    await db().query('update auth.users set raw_user_meta_data = $2 where id = $1', [user.id, JSON.stringify({ email: victim })]);
    const err = await sqlError(asUser(user.id, (c) => c.query('select public.accept_invitation($1)', [inv.token]),
      { claims: { email: victim, user_metadata: { email: victim } } }));
    expect(err.message).toMatch(/^invitation_email_mismatch: /);
  });

  it('a new invitation for the same address supersedes the pending one', async () => {
    const email = uniqueEmail('again');
    const first = await invite(email);
    await invite(email, 'admin');
    const [row] = (await db().query('select revoked_at from public.invitations where id = $1', [first.invitation_id])).rows;
    expect(row.revoked_at).not.toBeNull();
  });

  it('admins invite technicians and admins but not owners; technicians invite nobody', async () => {
    await invite(uniqueEmail('by-admin'), 'technician', w.tenantA, w.adminA);
    const owner = await fails(w.adminA.id, 'select public.invite_member($1, $2, $3)', [w.tenantA, uniqueEmail('o'), 'owner']);
    expect(owner.code).toBe('42501');
    const tech = await fails(w.techA.id, 'select public.invite_member($1, $2, $3)', [w.tenantA, uniqueEmail('t'), 'technician']);
    expect(tech.code).toBe('42501');
    expect((await fails(w.ownerA.id, 'select public.invite_member($1, $2, $3)', [w.tenantA, 'nope', 'technician'])).message)
      .toMatch(/^invalid_email: /);
    expect((await fails(w.ownerA.id, 'select public.invite_member($1, $2, $3)', [w.tenantA, w.techA.email, 'admin'])).message)
      .toMatch(/^already_member: /);
  });

  it('technicians do not see invitations; admins cannot revive a revoked one', async () => {
    const inv = await invite(uniqueEmail('hidden'));
    expect(await rows(w.techA.id, 'select id from public.invitations where id = $1', [inv.invitation_id])).toEqual([]);
    await asUser(w.ownerA.id, (c) => c.query('update public.invitations set revoked_at = now() where id = $1', [inv.invitation_id]));
    const revive = await fails(w.adminA.id, 'update public.invitations set revoked_at = null where id = $1', [inv.invitation_id]);
    expect(revive.code).toBe('42501');
  });
});

describe('roles', () => {
  it('a technician cannot change members or shop settings', async () => {
    const before = (await db().query('select * from public.tenants where id = $1', [w.tenantA])).rows[0];
    const upd = await asUser(w.techA.id, (c) =>
      c.query(`update public.tenants set name = 'Tech Shop', google_review_url = 'https://evil.example' where id = $1`, [w.tenantA]));
    expect(upd.rowCount).toBe(0);
    expect((await fails(w.techA.id, 'select public.set_member_role($1, $2, $3)', [w.tenantA, w.techA.id, 'owner'])).code).toBe('42501');
    expect((await fails(w.techA.id, 'select public.remove_member($1, $2)', [w.tenantA, w.adminA.id])).code).toBe('42501');
    expect((await fails(w.techA.id, 'update public.memberships set role = $3 where tenant_id = $1 and user_id = $2',
      [w.tenantA, w.techA.id, 'owner'])).code).toBe('42501');
    expect((await fails(w.techA.id, 'delete from public.memberships where tenant_id = $1', [w.tenantA])).code).toBe('42501');
    expect((await db().query('select * from public.tenants where id = $1', [w.tenantA])).rows[0]).toEqual(before);
    expect((await db().query('select role from public.memberships where tenant_id = $1 and user_id = $2',
      [w.tenantA, w.techA.id])).rows[0].role).toBe('technician');
  });

  it('admins edit the shop settings but never plan, status or trial', async () => {
    const upd = await asUser(w.adminA.id, (c) =>
      c.query(`update public.tenants set google_review_url = 'https://g.page/r/shop-a/review', time_zone = 'America/Chicago' where id = $1`, [w.tenantA]));
    expect(upd.rowCount).toBe(1);
    for (const set of [`plan = 'pro'`, `status = 'active'`, `trial_ends_at = now() + interval '1 year'`, `slug = 'taken'`]) {
      expect((await fails(w.adminA.id, `update public.tenants set ${set} where id = $1`, [w.tenantA])).code).toBe('42501');
    }
    const tz = await fails(w.adminA.id, `update public.tenants set time_zone = 'Nowhere/Land' where id = $1`, [w.tenantA]);
    expect(tz.message).toMatch(/^invalid_time_zone: /);
  });

  it('admins remove technicians but not owners; only owners change roles', async () => {
    const tech = await newMember(w.tenantA, 'technician');
    expect((await fails(w.adminA.id, 'select public.set_member_role($1, $2, $3)', [w.tenantA, tech.id, 'admin'])).code).toBe('42501');
    expect((await fails(w.adminA.id, 'select public.remove_member($1, $2)', [w.tenantA, w.ownerA.id])).message)
      .toMatch(/^forbidden: only owners can remove owners/);
    await sqlRpc(w.ownerA.id, 'select public.set_member_role($1, $2, $3)', [w.tenantA, tech.id, 'admin']);
    expect((await db().query('select role from public.memberships where tenant_id = $1 and user_id = $2', [w.tenantA, tech.id]))
      .rows[0].role).toBe('admin');
    expect((await fails(w.adminA.id, 'select public.set_member_role($1, $2, $3)', [w.tenantA, tech.id, 'technician'])).message)
      .toMatch(/^forbidden: only owners can change roles/);
    await sqlRpc(w.ownerA.id, 'select public.remove_member($1, $2)', [w.tenantA, tech.id]);
    expect((await fails(w.ownerA.id, 'select public.remove_member($1, $2)', [w.tenantA, tech.id])).message).toMatch(/^member_not_found: /);
  });

  it('an owner of A has no say in B', async () => {
    expect((await fails(w.ownerA.id, 'select public.set_member_role($1, $2, $3)', [w.tenantB, w.ownerB.id, 'technician'])).code).toBe('42501');
    expect((await fails(w.ownerA.id, 'select public.remove_member($1, $2)', [w.tenantB, w.ownerB.id])).code).toBe('42501');
  });
});

describe('the last owner', () => {
  it('cannot be removed or demoted; with a second owner, one can step down', async () => {
    const owner = await createAuthUser();
    const tenant = await sqlRpc<string>(owner.id, 'select public.create_tenant($1, $2, $3)', [`Solo ${Date.now()}`, 'auto_repair', 'UTC']);
    const leave = await fails(owner.id, 'select public.remove_member($1, $2)', [tenant, owner.id]);
    expect(leave.code).toBe('P0001');
    expect(leave.message).toMatch(/^last_owner: /);
    expect((await fails(owner.id, 'select public.set_member_role($1, $2, $3)', [tenant, owner.id, 'admin'])).message)
      .toMatch(/^last_owner: /);

    const second = await newMember(tenant, 'owner', owner);
    await sqlRpc(owner.id, 'select public.set_member_role($1, $2, $3)', [tenant, owner.id, 'admin']);
    expect((await fails(second.id, 'select public.remove_member($1, $2)', [tenant, second.id])).message).toMatch(/^last_owner: /);
  });

  it('two owners demoting each other at once leave exactly one owner', async () => {
    const a = await createAuthUser();
    const tenant = await sqlRpc<string>(a.id, 'select public.create_tenant($1, $2, $3)', [`Race ${Date.now()}`, 'auto_repair', 'UTC']);
    const b = await newMember(tenant, 'owner', a);
    const results = await Promise.allSettled([
      sqlRpc(a.id, 'select public.set_member_role($1, $2, $3)', [tenant, b.id, 'technician']),
      sqlRpc(b.id, 'select public.set_member_role($1, $2, $3)', [tenant, a.id, 'technician']),
    ]);
    const owners = (await db().query(`select count(*)::int n from public.memberships where tenant_id = $1 and role = 'owner'`, [tenant])).rows[0].n;
    expect(owners).toBe(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
  });
});

describe('platform admins', () => {
  it('list every shop through admin_list_tenants; nobody else can', async () => {
    const list = await rows(w.platformAdmin.id, 'select * from public.admin_list_tenants()');
    const ids = list.map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining([w.tenantA, w.tenantB]));
    expect(list.find((t) => t.id === w.tenantA)).toMatchObject({ owner_email: w.ownerA.email });
    const err = await fails(w.ownerA.id, 'select * from public.admin_list_tenants()');
    expect(err.code).toBe('42501');
    expect(err.message).toMatch(/^forbidden: /);
  });

  it('read no tenant data through the tenant policies', async () => {
    expect(await rows(w.platformAdmin.id, 'select id from public.tenants')).toEqual([]);
  });

  it('platform_admins is server-only: members cannot read or write it', async () => {
    expect((await fails(w.ownerA.id, 'select * from public.platform_admins')).code).toBe('42501');
    expect((await fails(w.ownerA.id, 'insert into public.platform_admins (user_id) values ($1)', [w.ownerA.id])).code).toBe('42501');
  });

  it('the private helpers are not callable directly', async () => {
    expect((await fails(w.ownerA.id, 'select private.current_tenant_ids()')).code).toBe('42501');
    expect((await fails(w.ownerA.id, 'select private.is_platform_admin()')).code).toBe('42501');
  });
});

describe('the shop switcher', () => {
  it('my_tenants lists every shop of the caller with the role in each', async () => {
    const user = await createAuthUser({ email: uniqueEmail('two-shops') });
    const own = await sqlRpc<string>(user.id, 'select public.create_tenant($1, $2, $3)', [`Mine ${Date.now()}`, SHOP_DEFAULTS.industry, SHOP_DEFAULTS.time_zone]);
    const inv = await invite(user.email, 'technician', w.tenantB, w.ownerB);
    await sqlRpc(user.id, 'select public.accept_invitation($1)', [inv.token]);
    const mine = await rows(user.id, 'select id, role from public.my_tenants()');
    expect(mine).toHaveLength(2);
    expect(mine).toEqual(expect.arrayContaining([{ id: own, role: 'owner' }, { id: w.tenantB, role: 'technician' }]));
  });
});
