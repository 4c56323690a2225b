/**
 * Capture state: the outbox entries (saved on the phone, uploading, being read, waiting), upload progress, and the
 * captures that became repair orders. The outbox drains when the app starts, when the connection comes back
 * (`online`), when the app returns to the foreground (`visibilitychange`) and after each new photo.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { errorMessage } from '../../lib/errors.ts';
import { ownedKeyedStore } from '../../lib/outbox.ts';
import { onOutboxOwnerChange } from '../../lib/outboxOwner.ts';
import { countEntries, publishOutboxCounts } from '../../lib/outboxStatus.ts';
import { captureApi } from './api.ts';
import { createOutbox, idbStorage, memoryStorage, type CaptureTransport, type DrainResult, type Outbox, type OutboxEntry, type OutboxStorage } from './outbox.ts';
import { preparePhoto } from './photo.ts';
import type { RepairOrder } from './model.ts';

export interface CaptureState {
  entries: OutboxEntry[];
  /** Upload progress 0..1 by client id. */
  progress: Record<string, number>;
  /** Client id → the repair order it became (this session; sent from this window or another one of the app). */
  completed: Record<string, RepairOrder>;
  preparing: boolean;
  /** A problem preparing or saving the photo on the phone (nothing was stored). */
  error: string | null;
  lastDrain: DrainResult | null;
  /** Saves the photo in the outbox and starts sending it; returns its client id. */
  capture(tenantId: string, file: Blob): Promise<string | null>;
  drain(opts?: { includePermanent?: boolean }): Promise<void>;
  discard(clientId: string): Promise<void>;
  refresh(): Promise<void>;
}

export interface CaptureStoreDeps {
  storage: OutboxStorage;
  transport: CaptureTransport;
  prepare: (file: Blob) => Promise<Blob>;
  newId: () => string;
  /** The repair order a capture became, by its client id (null: none, e.g. the photo was discarded). */
  findByClientId?: (tenantId: string, clientId: string) => Promise<RepairOrder | null>;
}

export function createCaptureStore(deps: CaptureStoreDeps): { store: StoreApi<CaptureState>; outbox: Outbox } {
  let store: StoreApi<CaptureState>;
  const outbox = createOutbox(deps.storage, deps.transport, {
    onChange: (entries) => store.setState({ entries }),
    onProgress: (id, f) => store.setState((s) => ({ progress: { ...s.progress, [id]: f } })),
    onDone: (id, ro) => store.setState((s) => ({ completed: { ...s.completed, [id]: ro } })),
  });
  store = createStore<CaptureState>()((set, get) => ({
    entries: [],
    progress: {},
    completed: {},
    preparing: false,
    error: null,
    lastDrain: null,
    async capture(tenantId, file) {
      set({ preparing: true, error: null });
      let clientId: string;
      try {
        const blob = await deps.prepare(file);
        clientId = deps.newId();
        await outbox.add({ clientId, tenantId, blob });
      } catch (e) {
        set({ preparing: false, error: errorMessage(e) });
        return null;
      }
      set({ preparing: false });
      void get().drain();
      return clientId;
    },
    async drain(opts) {
      const before = get().entries;
      const r = await outbox.drain(opts);
      const entries = await outbox.list();
      set({ lastDrain: r, entries });
      // Another window of the app (one outbox per device, drained by one window at a time) may have sent an entry
      // this one was showing: learn what it became, so the capture just taken here still opens its review.
      const gone = before.filter((e) => !entries.some((x) => x.clientId === e.clientId) && !get().completed[e.clientId]);
      if (!deps.findByClientId || !gone.length) return;
      await Promise.all(gone.map(async (e) => {
        const ro = await deps.findByClientId!(e.tenantId, e.clientId).catch(() => null);
        if (ro) set((s) => ({ completed: { ...s.completed, [e.clientId]: ro } }));
      }));
    },
    async discard(clientId) {
      await outbox.discard(clientId);
    },
    async refresh() {
      set({ entries: await outbox.list() });
    },
  }));
  return { store, outbox };
}

/** On the device, and only the signed-in user's photos (a shared phone never uploads someone else's). */
function browserOutboxStorage(): OutboxStorage {
  return ownedKeyedStore(typeof indexedDB !== 'undefined' ? idbStorage() : memoryStorage());
}

const transport: CaptureTransport = {
  upload: (entry, onProgress) => captureApi.uploadPhoto(entry.tenantId, entry.clientId, entry.blob, onProgress),
  ocr: (tenantId, path, clientId) => captureApi.readRepairOrder(tenantId, path, clientId),
};

export const { store: captureStore } = createCaptureStore({
  storage: browserOutboxStorage(),
  transport,
  prepare: (file) => preparePhoto(file),
  newId: () => crypto.randomUUID(),
  findByClientId: (tenantId, clientId) => captureApi.repairOrderByClientId(tenantId, clientId),
});

// The shell shows what waits on this phone on every screen.
captureStore.subscribe((s) => publishOutboxCounts('captures', countEntries(s.entries)));

export function useCapture<T>(selector: (s: CaptureState) => T): T {
  return useStore(captureStore, selector);
}

let started = false;
/** Drain now and whenever the phone is back online or the app comes back to the foreground. Idempotent. */
export function startCaptureSync(): void {
  if (started || typeof window === 'undefined') return;
  started = true;
  const drain = () => { void captureStore.getState().drain().catch(() => {}); };
  window.addEventListener('online', drain);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') drain(); });
  // Photos taken before the session was restored (or while signed out) go as soon as someone is signed in.
  captureApi.onSignedIn(drain);
  // Another person signed in on this device: show (and upload) their photos, never the previous person's.
  onOutboxOwnerChange(() => { void captureStore.getState().refresh().then(drain, () => {}); });
  void captureStore.getState().refresh().then(drain, () => {});
}

// The outbox drains from app start, whatever screen opens first (routes import this module eagerly).
if (typeof window !== 'undefined' && typeof document !== 'undefined') {
  try {
    startCaptureSync();
  } catch {
    // Not configured (the app shell says why); nothing to sync.
  }
}
