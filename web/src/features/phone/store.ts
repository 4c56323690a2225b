/**
 * Phone state for the settings page: the shop's number, its voicemails and the BYO status. A vanilla zustand store
 * built from injected deps (tests run it with a fake api).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { toAppError } from '../../lib/errors.ts';
import { phoneApi, type PhoneApi } from './api.ts';
import type { PhoneNumber, Voicemail } from './model.ts';

export interface PhoneState {
  tenantId: string | null;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
  number: PhoneNumber | null;
  voicemails: Voicemail[];
  byoAccountSid: string | null;
  load(tenantId: string, opts?: { withCredentials?: boolean }): Promise<void>;
  setNumber(n: PhoneNumber | null): void;
  markRead(id: string): Promise<void>;
}

export function createPhoneStore(api: PhoneApi): StoreApi<PhoneState> {
  return createStore<PhoneState>((set, get) => ({
    tenantId: null, status: 'idle', error: null, number: null, voicemails: [], byoAccountSid: null,
    async load(tenantId, opts = {}) {
      set({ tenantId, status: 'loading', error: null });
      try {
        const [number, voicemails, creds] = await Promise.all([
          api.number(tenantId), api.voicemails(tenantId),
          opts.withCredentials ? api.credentials(tenantId) : Promise.resolve(null),
        ]);
        if (get().tenantId !== tenantId) return;
        set({ status: 'ready', number, voicemails, byoAccountSid: creds?.byo_account_sid ?? null });
      } catch (e) {
        if (get().tenantId === tenantId) set({ status: 'error', error: toAppError(e).message });
      }
    },
    setNumber(n) { set({ number: n }); },
    async markRead(id) {
      await api.markVoicemailRead(id);
      set({ voicemails: get().voicemails.map((v) => (v.id === id ? { ...v, readAt: new Date().toISOString() } : v)) });
    },
  }));
}

export const phoneStore = createPhoneStore(phoneApi);
export const usePhone = <T,>(selector: (s: PhoneState) => T): T => useStore(phoneStore, selector);
