/**
 * Tenancy state: the signed-in user's shops, the shop they act for (remembered per user in localStorage), and the
 * members screen. Vanilla zustand stores built from injected deps so tests run them with a fake api and a Map.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { tenancyApi, type TenancyApi } from './api.ts';
import { AppError, toAppError } from '../../lib/errors.ts';
import { browserStorage, readJson, remove, writeJson, type KeyValueStorage } from '../../lib/storage.ts';
import { inviteLink, sortMembers, type Member, type NewShop, type PendingInvitation, type Role, type TenantSummary } from './model.ts';

export const ACTIVE_TENANT_KEY = 'servicepro.activeTenant';
/** The user's shops as last loaded: the home paints from it at once (and offline) while the list is refreshed. */
export const TENANTS_CACHE_KEY = 'servicepro.tenants';

interface CachedTenants {
  userId: string;
  tenants: TenantSummary[];
}

interface PersistedChoice {
  userId: string;
  tenantId: string;
}

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface TenancyState {
  userId: string | null;
  tenants: TenantSummary[];
  activeTenantId: string | null;
  status: LoadStatus;
  error: AppError | null;
  /** Loads the shops of `userId` and picks the active one (remembered choice, else the first usable shop). */
  load(userId: string): Promise<void>;
  /** Reloads the current user's shops, keeping the active shop when it is still listed. */
  refresh(): Promise<void>;
  /** Acts for another of the user's shops. Throws when the id is not one of them. */
  switchTenant(tenantId: string): void;
  /** Creates a shop with the user as owner and switches to it. Returns the new id. */
  createShop(shop: NewShop): Promise<string>;
  /** Accepts an invitation, reloads the shops and switches to the joined one when known. */
  acceptInvitation(token: string): Promise<TenantSummary | null>;
  /** Forgets everything (sign-out). */
  reset(): void;
}

export interface TenancyDeps {
  api: TenancyApi;
  storage: KeyValueStorage | null;
}

/** The shop to act for: the first preferred id still listed, else the first shop that is not canceled. */
export function pickActiveTenant(tenants: TenantSummary[], preferred: Array<string | null | undefined>): string | null {
  for (const id of preferred) {
    if (id && tenants.some((t) => t.id === id)) return id;
  }
  return (tenants.find((t) => t.status !== 'canceled') ?? tenants[0])?.id ?? null;
}

export function createTenancyStore(deps: TenancyDeps): StoreApi<TenancyState> {
  // Each load gets a number; an answer for an older load (a quick user switch) is dropped.
  let seq = 0;

  const remembered = (userId: string): string | null => {
    const saved = readJson<PersistedChoice>(deps.storage, ACTIVE_TENANT_KEY);
    return saved && saved.userId === userId && typeof saved.tenantId === 'string' ? saved.tenantId : null;
  };

  const remember = (userId: string, tenantId: string | null) => {
    if (tenantId) writeJson(deps.storage, ACTIVE_TENANT_KEY, { userId, tenantId } satisfies PersistedChoice);
    else remove(deps.storage, ACTIVE_TENANT_KEY);
  };

  const cached = (userId: string): TenantSummary[] => {
    const c = readJson<CachedTenants>(deps.storage, TENANTS_CACHE_KEY);
    if (!c || c.userId !== userId || !Array.isArray(c.tenants)) return [];
    return c.tenants.filter((t) => t && typeof t.id === 'string' && typeof t.name === 'string' && typeof t.role === 'string');
  };

  return createStore<TenancyState>()((set, get) => {
    const fetchTenants = async (userId: string): Promise<void> => {
      const mine = ++seq;
      set({ status: 'loading', error: null });
      try {
        const tenants = await deps.api.myTenants();
        if (mine !== seq || get().userId !== userId) return;
        const active = pickActiveTenant(tenants, [get().activeTenantId, remembered(userId)]);
        set({ tenants, activeTenantId: active, status: 'ready', error: null });
        if (active) remember(userId, active);
        writeJson(deps.storage, TENANTS_CACHE_KEY, { userId, tenants } satisfies CachedTenants);
      } catch (e) {
        if (mine !== seq || get().userId !== userId) return;
        set({ status: 'error', error: toAppError(e) });
      }
    };

    return {
      userId: null,
      tenants: [],
      activeTenantId: null,
      status: 'idle',
      error: null,

      async load(userId) {
        if (get().userId !== userId) {
          // Another user: never show the previous user's shops, not even for a moment. This user's shops as last
          // loaded on this device (if any) show at once; the server's answer replaces them (the server checks every
          // action anyway, so a stale role can only show a screen, never do anything).
          const last = cached(userId);
          set({ userId, tenants: last, activeTenantId: last.length ? pickActiveTenant(last, [remembered(userId)]) : null, status: 'idle', error: null });
        }
        await fetchTenants(userId);
      },

      async refresh() {
        const userId = get().userId;
        if (userId) await fetchTenants(userId);
      },

      switchTenant(tenantId) {
        const { tenants, userId } = get();
        if (!tenants.some((t) => t.id === tenantId)) {
          throw new AppError('not_a_member', "You're not a member of that shop.");
        }
        set({ activeTenantId: tenantId });
        if (userId) remember(userId, tenantId);
      },

      async createShop(shop) {
        const id = await deps.api.createTenant(shop);
        await get().refresh();
        if (get().error) throw get().error;
        if (get().tenants.some((t) => t.id === id)) get().switchTenant(id);
        return id;
      },

      async acceptInvitation(token) {
        const joinedId = await deps.api.acceptInvitation(token);
        await get().refresh();
        if (get().error) throw get().error;
        const joined = joinedId ? get().tenants.find((t) => t.id === joinedId) ?? null : null;
        if (joined) get().switchTenant(joined.id);
        return joined;
      },

      reset() {
        seq++;
        remove(deps.storage, ACTIVE_TENANT_KEY);
        remove(deps.storage, TENANTS_CACHE_KEY);
        set({ userId: null, tenants: [], activeTenantId: null, status: 'idle', error: null });
      },
    };
  });
}

/** The active shop's summary, or null. */
export function selectActiveTenant(s: Pick<TenancyState, 'tenants' | 'activeTenantId'>): TenantSummary | null {
  return s.tenants.find((t) => t.id === s.activeTenantId) ?? null;
}

// ---- Members ----------------------------------------------------------------------------------------------------

export interface SentInvitation {
  invitationId: string;
  email: string;
  role: Role;
  link: string;
  sentAt: string;
  expiresAt: string | null;
}

export interface MembersState {
  tenantId: string | null;
  members: Member[];
  status: LoadStatus;
  error: AppError | null;
  /** Invitations created in this session: the link is shown once, right after creating it. */
  invitations: SentInvitation[];
  /** Pending invitations from the server (owners and admins); null when not loaded or not allowed. */
  pending: PendingInvitation[] | null;
  /** Loads members, and pending invitations when `withInvitations` (the caller is an owner or admin). */
  load(tenantId: string, opts?: { withInvitations?: boolean }): Promise<void>;
  invite(tenantId: string, email: string, role: Role): Promise<SentInvitation>;
  revoke(tenantId: string, invitationId: string): Promise<void>;
  setRole(tenantId: string, userId: string, role: Role): Promise<void>;
  remove(tenantId: string, userId: string): Promise<void>;
  reset(): void;
}

export interface MembersDeps {
  api: Pick<TenancyApi, 'listMembers' | 'inviteMember' | 'listInvitations' | 'revokeInvitation' | 'setMemberRole' | 'removeMember'>;
  origin: () => string;
  now?: () => Date;
}

export function createMembersStore(deps: MembersDeps): StoreApi<MembersState> {
  let seq = 0;
  return createStore<MembersState>()((set, get) => ({
    tenantId: null,
    members: [],
    status: 'idle',
    error: null,
    invitations: [],
    pending: null,

    async load(tenantId, opts = {}) {
      if (get().tenantId !== tenantId) set({ tenantId, members: [], invitations: [], pending: null, status: 'idle', error: null });
      const mine = ++seq;
      set({ status: 'loading', error: null });
      try {
        const [members, pending] = await Promise.all([
          deps.api.listMembers(tenantId),
          opts.withInvitations ? deps.api.listInvitations(tenantId) : Promise.resolve(null),
        ]);
        if (mine !== seq || get().tenantId !== tenantId) return;
        set({ members: sortMembers(members), pending, status: 'ready' });
      } catch (e) {
        if (mine !== seq || get().tenantId !== tenantId) return;
        set({ status: 'error', error: toAppError(e) });
      }
    },

    async invite(tenantId, email, role) {
      const clean = email.trim().toLowerCase();
      const inv = await deps.api.inviteMember(tenantId, clean, role);
      const sent: SentInvitation = {
        invitationId: inv.invitationId,
        email: clean,
        role,
        link: inviteLink(deps.origin(), inv.token),
        sentAt: (deps.now?.() ?? new Date()).toISOString(),
        expiresAt: inv.expiresAt,
      };
      if (get().tenantId === tenantId) {
        // A new invitation replaces a pending one for the same address (invite_member revokes the old one).
        const pending = get().pending;
        set({
          invitations: [sent, ...get().invitations.filter((i) => i.email !== clean)],
          pending: pending
            ? [
                { id: inv.invitationId, email: clean, role, createdAt: sent.sentAt, expiresAt: inv.expiresAt ?? '' },
                ...pending.filter((p) => p.email !== clean),
              ]
            : pending,
        });
      }
      return sent;
    },

    async revoke(tenantId, invitationId) {
      await deps.api.revokeInvitation(tenantId, invitationId);
      if (get().tenantId !== tenantId) return;
      const pending = get().pending;
      set({
        pending: pending ? pending.filter((p) => p.id !== invitationId) : pending,
        invitations: get().invitations.filter((i) => i.invitationId !== invitationId),
      });
    },

    async setRole(tenantId, userId, role) {
      await deps.api.setMemberRole(tenantId, userId, role);
      if (get().tenantId !== tenantId) return;
      set({ members: sortMembers(get().members.map((m) => (m.userId === userId ? { ...m, role } : m))) });
    },

    async remove(tenantId, userId) {
      await deps.api.removeMember(tenantId, userId);
      if (get().tenantId !== tenantId) return;
      set({ members: get().members.filter((m) => m.userId !== userId) });
    },

    reset() {
      seq++;
      set({ tenantId: null, members: [], invitations: [], pending: null, status: 'idle', error: null });
    },
  }));
}

// ---- The app's instances ----------------------------------------------------------------------------------------

export const tenancyStore = createTenancyStore({ api: tenancyApi, storage: browserStorage() });
export const membersStore = createMembersStore({
  api: tenancyApi,
  origin: () => (typeof window !== 'undefined' ? window.location.origin : ''),
});

export function useTenancy<T>(selector: (s: TenancyState) => T): T {
  return useStore(tenancyStore, selector);
}

export function useMembers<T>(selector: (s: MembersState) => T): T {
  return useStore(membersStore, selector);
}
