/**
 * Billing page state: plans (read once), the shop's billing row, status and standing. A vanilla zustand store built
 * from injected deps, so tests run it with a fake api. `go(url)` leaves for Stripe (Checkout, portal).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { AppError, toAppError } from '../../lib/errors.ts';
import { tenancyStore } from '../tenancy/store.ts';
import { billingApi, type BillingApi } from './api.ts';
import { overagePriceText, type BillingInfo, type OveragePolicy, type Plan, type Standing, type TenantBillingState } from './model.ts';

export interface BillingState {
  tenantId: string | null;
  plans: Plan[];
  billing: BillingInfo | null;
  tenant: TenantBillingState | null;
  standing: Standing | null;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: AppError | null;
  /** The plan whose button is busy (checkout/change), or 'portal'. */
  busy: string | null;
  actionError: AppError | null;
  notice: string | null;
  load(tenantId: string, opts?: { canManage?: boolean }): Promise<void>;
  subscribe(plan: string): Promise<void>;
  changePlan(plan: string): Promise<void>;
  openPortal(): Promise<void>;
  setOveragePolicy(policy: OveragePolicy): Promise<void>;
}

/** What the rest of the app shows of a shop (the tenancy store's summary: header, home, switcher), and its reload. */
export interface KnownShops {
  summary(tenantId: string): { plan: string | null; status: string } | null;
  refresh(): Promise<void>;
}

export interface BillingDeps {
  api: BillingApi;
  go: (url: string) => void;
  /**
   * When a load finds the shop on another plan or status than the app shows (the Stripe webhook landed after the
   * return from Checkout, a plan change), the shop list is reloaded so every screen follows, not only this page.
   */
  shops?: KnownShops;
}

export function createBillingStore(deps: BillingDeps): StoreApi<BillingState> {
  let seq = 0;
  return createStore<BillingState>((set, get) => {
    const act = async (busy: string, fn: (tenantId: string) => Promise<void>) => {
      const id = get().tenantId;
      if (!id || get().busy) return;
      set({ busy, actionError: null, notice: null });
      try {
        await fn(id);
      } catch (e) {
        set({ actionError: toAppError(e) });
      } finally {
        set({ busy: null });
      }
    };
    return {
      tenantId: null, plans: [], billing: null, tenant: null, standing: null,
      status: 'idle', error: null, busy: null, actionError: null, notice: null,
      async load(tenantId, opts = {}) {
        const mine = ++seq;
        set({ tenantId, status: 'loading', error: null, ...(get().tenantId !== tenantId ? { billing: null, tenant: null, standing: null } : {}) });
        try {
          const [plans, tenant, standing, billing] = await Promise.all([
            get().plans.length ? Promise.resolve(get().plans) : deps.api.plans(),
            deps.api.tenant(tenantId),
            deps.api.standing(tenantId),
            opts.canManage ? deps.api.billing(tenantId) : Promise.resolve(null),
          ]);
          if (mine !== seq) return;
          set({ plans, tenant, standing, billing, status: 'ready' });
          const known = deps.shops?.summary(tenantId);
          if (known && (known.plan !== tenant.plan || known.status !== tenant.status)) void deps.shops!.refresh();
        } catch (e) {
          if (mine !== seq) return;
          set({ status: 'error', error: toAppError(e) });
        }
      },
      subscribe: (plan) => act(plan, async (id) => deps.go(await deps.api.checkout(id, plan))),
      changePlan: (plan) => act(plan, async (id) => {
        const r = await deps.api.changePlan(id, plan);
        const label = get().plans.find((p) => p.id === r.plan)?.label ?? r.plan;
        await get().load(id, { canManage: true });
        set({ notice: `You are on ${label} now. The new limits apply right away; your setup stays as it is.` });
      }),
      openPortal: () => act('portal', async (id) => deps.go(await deps.api.portal(id))),
      setOveragePolicy: (policy) => act('overage', async (id) => {
        const saved = await deps.api.setOveragePolicy(id, policy);
        set({ tenant: await deps.api.tenant(id) });
        const later = saved && saved.synced === false ? ' Your subscription at Stripe is updated within 15 minutes.' : '';
        set({ notice: (policy === 'metered'
          ? `Past your plan's texts, each extra segment is billed at ${overagePriceText(get().plans, get().tenant?.plan)} on your subscription.`
          : 'Past your plan\'s texts, sending stops until you upgrade or the next period starts. Extra segments already sent this period stay on the next invoice.') + later });
      }),
    };
  });
}

export const billingStore = createBillingStore({
  api: billingApi,
  go: (url) => { window.location.assign(url); },
  shops: {
    summary: (tenantId) => tenancyStore.getState().tenants.find((t) => t.id === tenantId) ?? null,
    refresh: () => tenancyStore.getState().refresh(),
  },
});

export function useBilling<T>(selector: (s: BillingState) => T): T {
  return useStore(billingStore, selector);
}
