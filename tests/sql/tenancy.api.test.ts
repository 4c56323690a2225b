/**
 * Tenancy through supabase-js against the running stack (gateway → auth / PostgREST → Postgres), as the PWA
 * uses it: sign-up creates a shop, invitations, roles, user_metadata escalation, removal, the cross-tenant
 * matrix over /rest/v1 for every tenant table the catalog lists, and the HTTP status of each refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, db } from '../helpers/db.ts';
import { createApiWorld, createPersona, must, SHOP_DEFAULTS, type ApiWorld, type Persona } from '../helpers/personas.ts';
import { buildRow, tenantTables } from './fixtures.ts';

let w: ApiWorld;
const tables = await tenantTables();

beforeAll(async () => {
  w = await createApiWorld();
});
afterAll(async () => {
  await closeDb();
});

async function join(owner: Persona, tenant: string, member: Persona, role: 'owner' | 'admin' | 'technician') {
  const inv = must(await owner.client.rpc('invite_member', { tenant_id: tenant, email: member.email, role }), 'invite') as {
    token: string;
  };
  must(await member.client.rpc('accept_invitation', { token: inv.token }), 'accept');
}

describe('sign-up', () => {
  it('create_tenant through supabase-js rpc: a trialing shop with the caller as owner', async () => {
    const user = await createPersona('signup');
    const { data: id, error } = await user.client.rpc('create_tenant', {
      name: 'Signup Detailing', industry: 'detailing', time_zone: 'America/Los_Angeles', phone: '+14155550123',
    });
    expect(error).toBeNull();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const { data: mine } = await user.client.rpc('my_tenants');
    expect(mine).toEqual([expect.objectContaining({ id, name: 'Signup Detailing', role: 'owner', status: 'trialing', plan: 'trial' })]);
    const { data: shop } = await user.client.from('tenants').select('*').eq('id', id as string).single();
    expect(shop).toMatchObject({ time_zone: 'America/Los_Angeles', phone: '+14155550123' });
  });

  it('bad input: 400 with a machine-readable message prefix', async () => {
    const user = await createPersona('bad-signup');
    const res = await user.client.rpc('create_tenant', { name: 'X', industry: 'auto_repair', time_zone: 'Not/AZone' });
    expect(res.status).toBe(400);
    expect(res.error?.code).toBe('22023');
    expect(res.error?.message).toMatch(/^invalid_time_zone: /);
  });

  it('anonymous cannot create a shop (401)', async () => {
    const res = await w.anon.rpc('create_tenant', { name: 'Anon', ...SHOP_DEFAULTS });
    expect(res.status).toBe(401);
    expect(res.error?.code).toBe('42501');
  });
});

describe('cross-tenant matrix over /rest/v1 (every tenant table from the catalog)', () => {
  it.each(tables)('%s: members of A read none of B\'s rows, anon reads nothing, nobody inserts for B', async (table) => {
    for (const p of [w.ownerA, w.adminA, w.techA, w.platformAdmin]) {
      const { data, error } = await p.client.from(table).select('*').eq('tenant_id', w.tenantB);
      if (error) expect(error.code).toBe('42501');
      else expect(data).toEqual([]);
      const all = await p.client.from(table).select('tenant_id');
      if (!all.error) expect((all.data ?? []).filter((r: { tenant_id: string }) => r.tenant_id !== w.tenantA)).toEqual([]);
    }
    const anon = await w.anon.from(table).select('*');
    if (anon.error) expect([anon.error.code, anon.status]).toEqual(['42501', 401]);
    else expect(anon.data).toEqual([]);

    const row = await buildRow(table, w.tenantB);
    for (const client of [w.ownerA.client, w.anon]) {
      const res = await client.from(table).insert(row.values);
      expect(res.error?.code, `${table}: ${res.error?.message}`).toBe('42501');
    }
  });
});

describe('invitations over HTTP', () => {
  it('reused and expired invitations are refused with 400 and a clear code', async () => {
    const invitee = await createPersona('invitee');
    const inv = must(await w.ownerA.client.rpc('invite_member', { tenant_id: w.tenantA, email: invitee.email, role: 'technician' }),
      'invite') as { invitation_id: string; token: string };
    expect(must(await invitee.client.rpc('accept_invitation', { token: inv.token }), 'accept')).toBe(w.tenantA);
    const again = await invitee.client.rpc('accept_invitation', { token: inv.token });
    expect(again.status).toBe(400);
    expect(again.error).toMatchObject({ code: 'P0001' });
    expect(again.error?.message).toMatch(/^invitation_used: /);

    const late = await createPersona('late');
    const inv2 = must(await w.ownerA.client.rpc('invite_member', { tenant_id: w.tenantA, email: late.email, role: 'technician' }),
      'invite') as { invitation_id: string; token: string };
    await db().query(`update public.invitations set expires_at = now() - interval '1 minute' where id = $1`, [inv2.invitation_id]);
    const expired = await late.client.rpc('accept_invitation', { token: inv2.token });
    expect(expired.status).toBe(400);
    expect(expired.error?.message).toMatch(/^invitation_expired: /);
    expect((await late.client.rpc('my_tenants')).data).toEqual([]);
  });

  it('a technician cannot invite (403); an admin cannot invite an owner (403)', async () => {
    const tech = await w.techA.client.rpc('invite_member', { tenant_id: w.tenantA, email: 'x@example.com', role: 'technician' });
    expect(tech.status).toBe(403);
    const admin = await w.adminA.client.rpc('invite_member', { tenant_id: w.tenantA, email: 'x@example.com', role: 'owner' });
    expect(admin.status).toBe(403);
  });
});

describe('access follows memberships, not tokens or metadata', () => {
  it('rewriting user_metadata to name shop B and role owner gains nothing, even in a refreshed token', async () => {
    const tech = await createPersona('meta');
    await join(w.ownerA, w.tenantA, tech, 'technician');
    const updated = await tech.client.auth.updateUser({ data: { tenant_id: w.tenantB, role: 'owner', is_admin: true } });
    expect(updated.error).toBeNull();
    const refreshed = await tech.client.auth.refreshSession();
    expect(refreshed.error).toBeNull();
    const claims = JSON.parse(Buffer.from(refreshed.data.session!.access_token.split('.')[1], 'base64url').toString());
    expect(claims.user_metadata).toMatchObject({ tenant_id: w.tenantB, role: 'owner' });

    const shops = must(await tech.client.from('tenants').select('id'), 'select');
    expect(shops).toEqual([{ id: w.tenantA }]);
    expect((await tech.client.from('memberships').select('*').eq('tenant_id', w.tenantB)).data).toEqual([]);
    const upd = await tech.client.from('tenants').update({ name: 'Pwned' }).in('id', [w.tenantA, w.tenantB]).select();
    expect(upd.data ?? []).toEqual([]);
    expect((await tech.client.rpc('invite_member', { tenant_id: w.tenantB, email: 'y@example.com', role: 'owner' })).status).toBe(403);
    expect((await tech.client.rpc('admin_list_tenants')).status).toBe(403);
  });

  it('a removed member loses access on the next request, with the same access token', async () => {
    const tech = await createPersona('removed');
    await join(w.ownerA, w.tenantA, tech, 'technician');
    expect(must(await tech.client.from('tenants').select('id'), 'before')).toEqual([{ id: w.tenantA }]);
    must(await w.ownerA.client.rpc('remove_member', { tenant_id: w.tenantA, user_id: tech.id }), 'remove');
    expect(must(await tech.client.from('tenants').select('id'), 'after')).toEqual([]);
    expect(must(await tech.client.rpc('my_tenants'), 'my_tenants')).toEqual([]);
  });
});

describe('roles over HTTP', () => {
  it('a technician cannot change shop settings or members', async () => {
    const upd = await w.techA.client.from('tenants').update({ name: 'Tech Was Here' }).eq('id', w.tenantA).select();
    expect(upd.data ?? []).toEqual([]);
    const { data: shop } = await w.ownerA.client.from('tenants').select('name').eq('id', w.tenantA).single();
    expect(shop?.name).not.toBe('Tech Was Here');
    expect((await w.techA.client.rpc('set_member_role', { tenant_id: w.tenantA, user_id: w.techA.id, role: 'owner' })).status).toBe(403);
    expect((await w.techA.client.rpc('remove_member', { tenant_id: w.tenantA, user_id: w.adminA.id })).status).toBe(403);
  });

  it('an admin edits settings; plan and status stay server-only', async () => {
    const ok = await w.adminA.client.from('tenants').update({ google_review_url: 'https://g.page/r/a/review' }).eq('id', w.tenantA).select('google_review_url');
    expect(ok.data).toEqual([{ google_review_url: 'https://g.page/r/a/review' }]);
    const plan = await w.adminA.client.from('tenants').update({ plan: 'pro' }).eq('id', w.tenantA);
    expect(plan.error?.code).toBe('42501');
  });

  it('the last owner cannot be removed or demoted (400 last_owner)', async () => {
    const leave = await w.ownerA.client.rpc('remove_member', { tenant_id: w.tenantA, user_id: w.ownerA.id });
    expect(leave.status).toBe(400);
    expect(leave.error?.message).toMatch(/^last_owner: /);
    const demote = await w.ownerA.client.rpc('set_member_role', { tenant_id: w.tenantA, user_id: w.ownerA.id, role: 'admin' });
    expect(demote.error?.message).toMatch(/^last_owner: /);
  });
});

describe('platform admins', () => {
  it('list all shops through admin_list_tenants; members get 403; platform_admins is closed to clients', async () => {
    const list = must(await w.platformAdmin.client.rpc('admin_list_tenants'), 'admin list') as { id: string }[];
    expect(list.map((t) => t.id)).toEqual(expect.arrayContaining([w.tenantA, w.tenantB]));
    expect((await w.ownerA.client.rpc('admin_list_tenants')).status).toBe(403);
    expect((await w.platformAdmin.client.from('tenants').select('id')).data).toEqual([]);
    const pa = await w.ownerA.client.from('platform_admins').select('*');
    expect(pa.error?.code).toBe('42501');
  });
});
