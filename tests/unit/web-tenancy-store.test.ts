/**
 * The tenancy stores with a fake api and an in-memory localStorage: choosing the active shop, remembering it per
 * user, switching, creating a shop, accepting an invitation, members and invite links, and stale answers.
 */
import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../web/src/lib/storage.ts';
import { AppError } from '../../web/src/lib/errors.ts';
import {
  ACTIVE_TENANT_KEY,
  createMembersStore,
  createTenancyStore,
  pickActiveTenant,
  selectActiveTenant,
} from '../../web/src/features/tenancy/store.ts';
import type { TenancyApi } from '../../web/src/features/tenancy/api.ts';
import type { Member, NewShop, PendingInvitation, TenantSummary } from '../../web/src/features/tenancy/model.ts';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';
const U1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const U2 = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

const shop = (id: string, name: string, extra: Partial<TenantSummary> = {}): TenantSummary => ({
  id,
  name,
  slug: name.toLowerCase().replace(/\s+/g, '-'),
  role: 'owner',
  status: 'trialing',
  plan: null,
  ...extra,
});

/** A fake server: shops per user, a call log, and hooks to delay or fail answers. */
function fakeApi(initial: Record<string, TenantSummary[]>) {
  const byUser = new Map(Object.entries(initial));
  let user = Object.keys(initial)[0]!;
  const calls: string[] = [];
  const api: TenancyApi & { as(u: string): void; calls: string[]; failNext: AppError | null; gate: Promise<void> | null } = {
    calls,
    failNext: null,
    gate: null,
    as(u) {
      user = u;
    },
    async myTenants() {
      const forUser = user;
      calls.push(`my_tenants:${forUser}`);
      if (api.gate) await api.gate;
      if (api.failNext) {
        const e = api.failNext;
        api.failNext = null;
        throw e;
      }
      return [...(byUser.get(forUser) ?? [])];
    },
    async createTenant(s: NewShop) {
      calls.push(`create_tenant:${s.name}`);
      const id = C;
      byUser.set(user, [...(byUser.get(user) ?? []), shop(id, s.name)]);
      return id;
    },
    async acceptInvitation(token: string) {
      calls.push(`accept_invitation:${token}`);
      if (token === 'expired') throw new AppError('invitation_expired', 'This invitation has expired. Ask the shop for a new one.');
      byUser.set(user, [...(byUser.get(user) ?? []), shop(B, 'Joined Shop', { role: 'technician' })]);
      return B;
    },
    async listMembers(tenantId: string) {
      calls.push(`memberships:${tenantId}`);
      return [];
    },
    async inviteMember() {
      throw new Error('not used here');
    },
    async listInvitations() {
      return [];
    },
    async revokeInvitation() {},
    async setMemberRole() {},
    async removeMember() {},
  };
  return api;
}

describe('pickActiveTenant', () => {
  const list = [shop(A, 'Alpha', { status: 'canceled' }), shop(B, 'Beta')];
  it('prefers the first preferred id that is still listed', () => {
    expect(pickActiveTenant(list, [null, A])).toBe(A);
    expect(pickActiveTenant(list, [C, B])).toBe(B);
  });
  it('else takes the first shop that is not canceled, else the first, else none', () => {
    expect(pickActiveTenant(list, [C])).toBe(B);
    expect(pickActiveTenant([shop(A, 'Alpha', { status: 'canceled' })], [])).toBe(A);
    expect(pickActiveTenant([], [A])).toBeNull();
  });
});

describe('tenancy store', () => {
  it('loads the shops, picks one, and remembers it for this user', async () => {
    const api = fakeApi({ [U1]: [shop(A, 'Alpha'), shop(B, 'Beta')] });
    const storage = memoryStorage();
    const store = createTenancyStore({ api, storage });
    await store.getState().load(U1);
    const s = store.getState();
    expect(s.status).toBe('ready');
    expect(s.tenants.map((t) => t.name)).toEqual(['Alpha', 'Beta']);
    expect(s.activeTenantId).toBe(A);
    expect(selectActiveTenant(s)?.name).toBe('Alpha');
    expect(JSON.parse(storage.dump()[ACTIVE_TENANT_KEY]!)).toEqual({ userId: U1, tenantId: A });
  });

  it('switches shops, persists the choice, and restores it on the next start', async () => {
    const api = fakeApi({ [U1]: [shop(A, 'Alpha'), shop(B, 'Beta')] });
    const storage = memoryStorage();
    const first = createTenancyStore({ api, storage });
    await first.getState().load(U1);
    first.getState().switchTenant(B);
    expect(first.getState().activeTenantId).toBe(B);

    const afterReload = createTenancyStore({ api, storage });
    await afterReload.getState().load(U1);
    expect(afterReload.getState().activeTenantId).toBe(B);
  });

  it('refuses to switch to a shop the user is not a member of', async () => {
    const store = createTenancyStore({ api: fakeApi({ [U1]: [shop(A, 'Alpha')] }), storage: memoryStorage() });
    await store.getState().load(U1);
    expect(() => store.getState().switchTenant(B)).toThrow(/not a member/);
    expect(store.getState().activeTenantId).toBe(A);
  });

  it('ignores a remembered choice that belongs to another user or to a shop the user left', async () => {
    const storage = memoryStorage({ [ACTIVE_TENANT_KEY]: JSON.stringify({ userId: U2, tenantId: B }) });
    const store = createTenancyStore({ api: fakeApi({ [U1]: [shop(A, 'Alpha'), shop(B, 'Beta')] }), storage });
    await store.getState().load(U1);
    expect(store.getState().activeTenantId).toBe(A);

    const storage2 = memoryStorage({ [ACTIVE_TENANT_KEY]: JSON.stringify({ userId: U1, tenantId: C }) });
    const store2 = createTenancyStore({ api: fakeApi({ [U1]: [shop(A, 'Alpha'), shop(B, 'Beta')] }), storage: storage2 });
    await store2.getState().load(U1);
    expect(store2.getState().activeTenantId).toBe(A);
  });

  it('survives unreadable storage', async () => {
    const storage = memoryStorage({ [ACTIVE_TENANT_KEY]: '{not json' });
    const store = createTenancyStore({ api: fakeApi({ [U1]: [shop(A, 'Alpha')] }), storage });
    await store.getState().load(U1);
    expect(store.getState().activeTenantId).toBe(A);
    const noStorage = createTenancyStore({ api: fakeApi({ [U1]: [shop(A, 'Alpha')] }), storage: null });
    await noStorage.getState().load(U1);
    expect(noStorage.getState().activeTenantId).toBe(A);
  });

  it('never shows the previous user’s shops, and drops a stale answer after a user switch', async () => {
    const api = fakeApi({ [U1]: [shop(A, 'Alpha')], [U2]: [shop(B, 'Beta')] });
    const store = createTenancyStore({ api, storage: memoryStorage() });
    await store.getState().load(U1);

    let release!: () => void;
    api.gate = new Promise((r) => (release = r));
    const slowU1 = store.getState().refresh(); // asked as U1, answered late
    api.as(U2);
    const u2 = store.getState().load(U2);
    expect(store.getState().tenants).toEqual([]); // cleared at once for the new user
    release();
    await Promise.all([slowU1, u2]);
    expect(store.getState().userId).toBe(U2);
    expect(store.getState().tenants.map((t) => t.id)).toEqual([B]);
    expect(store.getState().activeTenantId).toBe(B);
  });

  it('keeps the shops it has and reports the error when a reload fails', async () => {
    const api = fakeApi({ [U1]: [shop(A, 'Alpha')] });
    const store = createTenancyStore({ api, storage: memoryStorage() });
    await store.getState().load(U1);
    api.failNext = new AppError('network_error', "Can't reach ServicePro.");
    await store.getState().refresh();
    expect(store.getState().status).toBe('error');
    expect(store.getState().error?.code).toBe('network_error');
    expect(store.getState().activeTenantId).toBe(A);
  });

  it('creates a shop and switches to it', async () => {
    const api = fakeApi({ [U1]: [] });
    const storage = memoryStorage();
    const store = createTenancyStore({ api, storage });
    await store.getState().load(U1);
    expect(store.getState().activeTenantId).toBeNull();
    const id = await store.getState().createShop({ name: 'Gamma Garage', industry: 'auto_repair', timeZone: 'America/Chicago', phone: null });
    expect(id).toBe(C);
    expect(store.getState().activeTenantId).toBe(C);
    expect(api.calls).toEqual([`my_tenants:${U1}`, 'create_tenant:Gamma Garage', `my_tenants:${U1}`]);
    expect(JSON.parse(storage.dump()[ACTIVE_TENANT_KEY]!).tenantId).toBe(C);
  });

  it('accepts an invitation and switches to the joined shop; refuses an expired one without changing anything', async () => {
    const api = fakeApi({ [U1]: [shop(A, 'Alpha')] });
    const store = createTenancyStore({ api, storage: memoryStorage() });
    await store.getState().load(U1);
    await expect(store.getState().acceptInvitation('expired')).rejects.toMatchObject({ code: 'invitation_expired' });
    expect(store.getState().activeTenantId).toBe(A);
    const joined = await store.getState().acceptInvitation('tok123');
    expect(joined).toMatchObject({ id: B, name: 'Joined Shop', role: 'technician' });
    expect(store.getState().activeTenantId).toBe(B);
  });

  it('forgets everything on reset (sign-out)', async () => {
    const storage = memoryStorage();
    const store = createTenancyStore({ api: fakeApi({ [U1]: [shop(A, 'Alpha')] }), storage });
    await store.getState().load(U1);
    store.getState().reset();
    expect(store.getState()).toMatchObject({ userId: null, tenants: [], activeTenantId: null, status: 'idle' });
    expect(storage.dump()[ACTIVE_TENANT_KEY]).toBeUndefined();
  });
});

describe('members store', () => {
  const member = (userId: string, role: Member['role'], createdAt: string): Member => ({ tenantId: A, userId, role, createdAt });
  const unused = async (): Promise<never> => {
    throw new Error('unused');
  };
  const baseApi = {
    listMembers: async (): Promise<Member[]> => [],
    inviteMember: unused,
    listInvitations: async (): Promise<PendingInvitation[]> => [],
    revokeInvitation: unused,
    setMemberRole: unused,
    removeMember: unused,
  };

  it('loads members for the given shop, owners first, and passes the tenant id explicitly', async () => {
    const seen: string[] = [];
    const store = createMembersStore({
      api: {
        ...baseApi,
        async listMembers(tenantId) {
          seen.push(tenantId);
          return [member(U2, 'technician', '2025-01-02T00:00:00Z'), member(U1, 'owner', '2025-01-03T00:00:00Z')];
        },
      },
      origin: () => 'https://app.example',
    });
    await store.getState().load(A);
    expect(seen).toEqual([A]);
    expect(store.getState().members.map((m) => m.role)).toEqual(['owner', 'technician']);
  });

  it('creates an invite link from the token and keeps it for this shop only', async () => {
    const calls: unknown[] = [];
    const store = createMembersStore({
      api: {
        ...baseApi,
        async inviteMember(tenantId, email, role) {
          calls.push({ tenantId, email, role });
          return { invitationId: 'inv-1', token: 'tok/with+chars', expiresAt: '2025-03-08T10:00:00Z' };
        },
      },
      origin: () => 'https://app.example/',
      now: () => new Date('2025-03-01T10:00:00Z'),
    });
    await store.getState().load(A);
    const sent = await store.getState().invite(A, '  Tech@Example.COM ', 'technician');
    expect(calls).toEqual([{ tenantId: A, email: 'tech@example.com', role: 'technician' }]);
    expect(sent).toEqual({
      invitationId: 'inv-1',
      email: 'tech@example.com',
      role: 'technician',
      link: 'https://app.example/invite/tok%2Fwith%2Bchars',
      sentAt: '2025-03-01T10:00:00.000Z',
      expiresAt: '2025-03-08T10:00:00Z',
    });
    expect(store.getState().invitations).toHaveLength(1);
    await store.getState().load(B); // another shop: its screen starts empty
    expect(store.getState().invitations).toEqual([]);
  });

  it('reports a load failure as a readable error', async () => {
    const store = createMembersStore({
      api: {
        ...baseApi,
        async listMembers() {
          throw { code: '42501', message: 'permission denied for table memberships', details: null, hint: null };
        },
      },
      origin: () => '',
    });
    await store.getState().load(A);
    expect(store.getState().status).toBe('error');
    expect(store.getState().error?.message).toBe("You don't have permission to do that in this shop.");
  });

  it('loads pending invitations for managers, replaces one on re-invite, and withdraws it', async () => {
    const log: string[] = [];
    const store = createMembersStore({
      api: {
        ...baseApi,
        async listInvitations(tenantId) {
          log.push(`invitations:${tenantId}`);
          return [{ id: 'inv-old', email: 'a@x.co', role: 'technician', createdAt: '2025-01-01T00:00:00Z', expiresAt: '2025-01-08T00:00:00Z' }];
        },
        async inviteMember() {
          return { invitationId: 'inv-new', token: 't', expiresAt: '2025-01-09T00:00:00Z' };
        },
        async revokeInvitation(tenantId, id) {
          log.push(`revoke:${tenantId}:${id}`);
        },
      },
      origin: () => 'https://app.example',
    });
    await store.getState().load(A); // a technician: no invitations asked for
    expect(log).toEqual([]);
    expect(store.getState().pending).toBeNull();
    await store.getState().load(A, { withInvitations: true });
    expect(store.getState().pending?.map((p) => p.id)).toEqual(['inv-old']);
    await store.getState().invite(A, 'A@x.co', 'admin');
    expect(store.getState().pending?.map((p) => [p.id, p.role])).toEqual([['inv-new', 'admin']]);
    await store.getState().revoke(A, 'inv-new');
    expect(store.getState().pending).toEqual([]);
    expect(store.getState().invitations).toEqual([]);
    expect(log).toEqual([`invitations:${A}`, `revoke:${A}:inv-new`]);
  });

  it('changes a role and removes a member only after the server agrees', async () => {
    let refuse = true;
    const store = createMembersStore({
      api: {
        ...baseApi,
        async listMembers() {
          return [member(U1, 'owner', '2025-01-01T00:00:00Z'), member(U2, 'technician', '2025-01-02T00:00:00Z')];
        },
        async setMemberRole() {
          if (refuse) throw new AppError('last_owner', 'A shop needs at least one owner.');
        },
        async removeMember() {},
      },
      origin: () => '',
    });
    await store.getState().load(A);
    await expect(store.getState().setRole(A, U1, 'admin')).rejects.toMatchObject({ code: 'last_owner' });
    expect(store.getState().members.find((m) => m.userId === U1)?.role).toBe('owner');
    refuse = false;
    await store.getState().setRole(A, U2, 'owner');
    expect(store.getState().members.map((m) => m.role)).toEqual(['owner', 'owner']);
    await store.getState().remove(A, U2);
    expect(store.getState().members.map((m) => m.userId)).toEqual([U1]);
  });
});
