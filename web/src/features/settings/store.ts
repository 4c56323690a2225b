/**
 * The shop settings screen's state: loaded settings, the draft as typed, field errors, and saving. A failed save
 * keeps the draft (nothing typed is lost) and says why.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { errorMessage } from '../../lib/errors.ts';
import { settingsApi, type SettingsApi } from './api.ts';
import { draftFrom, validateSettings, type SettingsDraft, type SettingsField, type ShopSettings } from './model.ts';

export interface SettingsState {
  tenantId: string | null;
  status: 'idle' | 'loading' | 'ready' | 'error';
  loaded: { settings: ShopSettings; hasRow: boolean } | null;
  draft: SettingsDraft | null;
  errors: Partial<Record<SettingsField, string>>;
  error: string | null;
  saving: boolean;
  savedAt: number | null;
  load(tenantId: string): Promise<void>;
  edit(field: SettingsField, value: string): void;
  save(): Promise<boolean>;
  reset(): void;
}

export function createSettingsStore(api: SettingsApi): StoreApi<SettingsState> {
  return createStore<SettingsState>()((set, get) => ({
    tenantId: null, status: 'idle', loaded: null, draft: null, errors: {}, error: null, saving: false, savedAt: null,
    async load(tenantId) {
      set({ tenantId, status: 'loading', error: null, errors: {}, savedAt: null, ...(get().tenantId !== tenantId ? { loaded: null, draft: null } : {}) });
      try {
        const loaded = await api.load(tenantId);
        if (get().tenantId !== tenantId) return;
        set({ loaded, draft: draftFrom(loaded.settings), status: 'ready' });
      } catch (e) {
        if (get().tenantId === tenantId) set({ status: 'error', error: errorMessage(e) });
      }
    },
    edit(field, value) {
      const d = get().draft;
      if (!d) return;
      const errors = { ...get().errors };
      delete errors[field];
      set({ draft: { ...d, [field]: value }, errors, savedAt: null });
    },
    async save() {
      const { draft, loaded, tenantId } = get();
      if (!draft || !loaded || !tenantId) return false;
      const { input, errors } = validateSettings(draft);
      if (!input) {
        set({ errors, error: 'Some settings need a fix before they can be saved. Nothing was changed.' });
        return false;
      }
      set({ saving: true, error: null, errors: {} });
      try {
        await api.save(tenantId, input, loaded);
        const settings: ShopSettings = { ...input, overagePolicy: loaded.settings.overagePolicy };
        if (get().tenantId !== tenantId) return true;
        set({ loaded: { settings, hasRow: true }, draft: draftFrom(settings), saving: false, savedAt: Date.now() });
        return true;
      } catch (e) {
        set({ saving: false, error: `${errorMessage(e)} Your changes are still here.` });
        return false;
      }
    },
    reset() {
      set({ tenantId: null, status: 'idle', loaded: null, draft: null, errors: {}, error: null, saving: false, savedAt: null });
    },
  }));
}

export const settingsStore = createSettingsStore(settingsApi);
export const useSettings = <T,>(sel: (s: SettingsState) => T) => useStore(settingsStore, sel);
