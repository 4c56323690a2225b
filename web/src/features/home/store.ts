/**
 * The owner dashboard's state for the active shop: today's message counts, the latest delivery failures and the
 * SMS quota. Each part loads on its own, so one failing read does not blank the others.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { errorMessage } from '../../lib/errors.ts';
import { dashboardApi, type DashboardApi } from './api.ts';
import { startOfDayIn, type DeliveryFailure, type Quota, type TodayCounts } from './model.ts';

type Part<T> = { data: T | null; error: string | null };
const empty = <T,>(): Part<T> => ({ data: null, error: null });

export interface DashboardState {
  tenantId: string | null;
  loading: boolean;
  today: Part<TodayCounts>;
  failures: Part<DeliveryFailure[]>;
  quota: Part<Quota | null>;
  loadedAt: number | null;
  load(tenantId: string): Promise<void>;
  reset(): void;
}

export const FAILURES_SHOWN = 5;

export function createDashboardStore(api: DashboardApi, now: () => Date = () => new Date()): StoreApi<DashboardState> {
  // A shop's time zone rarely changes: asked once per shop and session, not on every refresh.
  const zones = new Map<string, Promise<string>>();
  const zoneOf = (tenantId: string) => {
    let z = zones.get(tenantId);
    if (!z) {
      z = api.timeZone(tenantId);
      zones.set(tenantId, z);
      z.catch(() => zones.delete(tenantId));
    }
    return z;
  };
  return createStore<DashboardState>()((set, get) => ({
    tenantId: null, loading: false, today: empty(), failures: empty(), quota: empty(), loadedAt: null,
    async load(tenantId) {
      if (get().tenantId !== tenantId) set({ today: empty(), failures: empty(), quota: empty(), loadedAt: null });
      set({ tenantId, loading: true });
      const part = async <T,>(key: 'today' | 'failures' | 'quota', run: () => Promise<T>) => {
        try {
          const data = await run();
          if (get().tenantId === tenantId) set({ [key]: { data, error: null } } as Partial<DashboardState>);
        } catch (e) {
          if (get().tenantId === tenantId) set({ [key]: { data: get()[key].data, error: errorMessage(e) } } as Partial<DashboardState>);
        }
      };
      await Promise.all([
        part('today', async () => api.today(tenantId, startOfDayIn(await zoneOf(tenantId), now()))),
        part('failures', () => api.failures(tenantId, FAILURES_SHOWN)),
        part('quota', () => api.quota(tenantId)),
      ]);
      if (get().tenantId === tenantId) set({ loading: false, loadedAt: now().getTime() });
    },
    reset() { set({ tenantId: null, loading: false, today: empty(), failures: empty(), quota: empty(), loadedAt: null }); },
  }));
}

export const dashboardStore = createDashboardStore(dashboardApi);
export const useDashboard = <T,>(sel: (s: DashboardState) => T) => useStore(dashboardStore, sel);
