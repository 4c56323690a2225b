/**
 * Usage state: the page's summary, and a short-lived cache of check_limits per shop (LIMITS_TTL_MS) that other
 * features read before offering an action and invalidate after it (`limitsStore.getState().invalidate(id)`).
 * Vanilla zustand stores built from injected deps, so tests run them with a fake api and clock.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { AppError, toAppError } from '../../lib/errors.ts';
import { usageApi, type UsageApi } from './api.ts';
import { isFresh, LIMITS_TTL_MS, type Limits, type UsageSummary } from './model.ts';

export interface LimitsState {
  byTenant: Record<string, { limits: Limits; fetchedAt: number }>;
  /** Cached limits when fresh, else one request (concurrent callers share it). */
  get(tenantId: string, opts?: { force?: boolean }): Promise<Limits>;
  /** Forget a shop's cached limits (after a send, an upload, a plan change). */
  invalidate(tenantId?: string): void;
  /** invalidate + get: what a screen calls after an action. */
  refresh(tenantId: string): Promise<Limits>;
}

export function createLimitsStore(deps: { api: Pick<UsageApi, 'checkLimits'>; now?: () => number; ttl?: number }): StoreApi<LimitsState> {
  const now = deps.now ?? Date.now;
  const ttl = deps.ttl ?? LIMITS_TTL_MS;
  const inflight = new Map<string, Promise<Limits>>();
  return createStore<LimitsState>((set, get) => ({
    byTenant: {},
    async get(tenantId, opts = {}) {
      const hit = get().byTenant[tenantId];
      if (!opts.force && hit && isFresh(hit.fetchedAt, now(), ttl)) return hit.limits;
      const running = inflight.get(tenantId);
      if (running) return running;
      const p = deps.api.checkLimits(tenantId).then((limits) => {
        set((s) => ({ byTenant: { ...s.byTenant, [tenantId]: { limits, fetchedAt: now() } } }));
        return limits;
      }).finally(() => inflight.delete(tenantId));
      inflight.set(tenantId, p);
      return p;
    },
    invalidate(tenantId) {
      set((s) => {
        if (!tenantId) return { byTenant: {} };
        const { [tenantId]: _drop, ...rest } = s.byTenant;
        return { byTenant: rest };
      });
    },
    refresh(tenantId) {
      get().invalidate(tenantId);
      return get().get(tenantId, { force: true });
    },
  }));
}

export interface SummaryState {
  tenantId: string | null;
  summary: UsageSummary | null;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: AppError | null;
  load(tenantId: string): Promise<void>;
}

export function createSummaryStore(deps: { api: Pick<UsageApi, 'summary'> }): StoreApi<SummaryState> {
  let seq = 0;
  return createStore<SummaryState>((set) => ({
    tenantId: null,
    summary: null,
    status: 'idle',
    error: null,
    async load(tenantId) {
      const mine = ++seq;
      set((s) => ({ tenantId, status: 'loading', error: null, summary: s.tenantId === tenantId ? s.summary : null }));
      try {
        const summary = await deps.api.summary(tenantId);
        if (mine === seq) set({ summary, status: 'ready' });
      } catch (e) {
        if (mine === seq) set({ status: 'error', error: toAppError(e) });
      }
    },
  }));
}

export const limitsStore = createLimitsStore({ api: usageApi });
export const summaryStore = createSummaryStore({ api: usageApi });
export const useLimits = <T,>(sel: (s: LimitsState) => T) => useStore(limitsStore, sel);
export const useSummary = <T,>(sel: (s: SummaryState) => T) => useStore(summaryStore, sel);
