/** Whether the signed-in user is a platform admin (asked once per session; the RPCs check again). */
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { adminApi } from './api.ts';

interface AdminState {
  isAdmin: boolean | null;
  check(): Promise<boolean>;
  reset(): void;
}

export const adminStore = createStore<AdminState>((set, get) => ({
  isAdmin: null,
  async check() {
    if (get().isAdmin !== null) return get().isAdmin!;
    const ok = await adminApi.amIPlatformAdmin().catch(() => false);
    set({ isAdmin: ok });
    return ok;
  },
  reset() { set({ isAdmin: null }); },
}));

export const useAdmin = <T,>(sel: (s: AdminState) => T) => useStore(adminStore, sel);
