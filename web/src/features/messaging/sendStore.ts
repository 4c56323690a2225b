/**
 * Sending with the device outbox behind it. `send()` tries now when online; offline, or on a failure that may pass,
 * the text is kept on the device with its idempotency key and goes out later (drain on start, `online`,
 * `visibilitychange`, sign-in, a backoff timer, and Retry). Refusals that retrying will not change are thrown to
 * the caller as before (opted out, quota with its upgrade prompt…), so nothing is queued that can never go.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { toAppError } from '../../lib/errors.ts';
import { browserKeyedStore, isRetryable, ownedKeyedStore } from '../../lib/outbox.ts';
import { onOutboxOwnerChange } from '../../lib/outboxOwner.ts';
import { countEntries, publishOutboxCounts } from '../../lib/outboxStatus.ts';
import { messagingApi, sendMessage, type SentMessage } from './api.ts';
import { sendErrorMessage } from './errors.ts';
import { createSendOutbox, toSendArgs, type NewSend, type SendDrainResult, type SendEntry, type SendOutbox, type SendStorage, type SendTransport } from './outbox.ts';
import { threadStore } from './store.ts';

export type SendOutcome =
  | { kind: 'sent'; message: SentMessage }
  /** Kept on the device; `message` says why and what happens next. */
  | { kind: 'queued'; reason: 'offline' | 'retry'; message: string };

export interface SendStoreState {
  entries: SendEntry[];
  lastDrain: SendDrainResult | null;
  send(send: NewSend): Promise<SendOutcome>;
  drain(opts?: { force?: boolean }): Promise<void>;
  discard(key: string): Promise<void>;
  refresh(): Promise<void>;
}

export interface SendStoreDeps {
  storage: SendStorage;
  transport: SendTransport;
  online: () => boolean;
  /** A queued text went out later (e.g. refresh the open thread). */
  onSentLater?: (entry: SendEntry, message: SentMessage) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

export const QUEUED_OFFLINE = "You're offline. The text is saved on this device and goes out when you're back online.";
export const queuedRetry = (why: string) => `${why} The text is saved on this device and will be sent again automatically.`;

export function createSendStore(deps: SendStoreDeps): { store: StoreApi<SendStoreState>; outbox: SendOutbox } {
  let store: StoreApi<SendStoreState>;
  let timer: unknown = null;
  const setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = deps.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  const outbox = createSendOutbox(deps.storage, deps.transport, {
    onChange: (entries) => store.setState({ entries }),
    onSent: (entry, message) => deps.onSentLater?.(entry, message),
  });

  /** The next automatic try of a backed-off entry. */
  const schedule = (entries: SendEntry[]) => {
    if (timer !== null) { clearTimer(timer); timer = null; }
    const next = entries.filter((e) => !e.permanent && e.notBefore).map((e) => e.notBefore!).sort((a, b) => a - b)[0];
    if (next !== undefined) timer = setTimer(() => { timer = null; void store.getState().drain(); }, Math.max(0, next - Date.now()) + 50);
  };

  store = createStore<SendStoreState>()((set, get) => ({
    entries: [],
    lastDrain: null,
    async send(send) {
      if (!deps.online()) {
        await outbox.add(send);
        return { kind: 'queued', reason: 'offline', message: QUEUED_OFFLINE };
      }
      try {
        return { kind: 'sent', message: await deps.transport.send(toSendArgs(send)) };
      } catch (e) {
        if (!isRetryable(e)) throw e;
        await outbox.add(send, e);
        const err = toAppError(e);
        const entries = await outbox.list();
        // The first automatic retry waits a little (the server or the network was in trouble a moment ago).
        const queued = entries.find((x) => x.key === send.key);
        if (queued && !queued.notBefore) {
          await deps.storage.put({ ...queued, notBefore: Date.now() + 5000 });
        }
        schedule(await outbox.list());
        set({ entries: await outbox.list() });
        return { kind: 'queued', reason: 'retry', message: queuedRetry(sendErrorMessage(err)) };
      }
    },
    async drain(opts) {
      const r = await outbox.drain(opts);
      const entries = await outbox.list();
      set({ lastDrain: r, entries });
      schedule(entries);
    },
    async discard(key) {
      await outbox.discard(key);
      schedule(get().entries);
    },
    async refresh() {
      set({ entries: await outbox.list() });
    },
  }));
  store.subscribe((s) => publishOutboxCounts('sends', countEntries(s.entries)));
  return { store, outbox };
}

const online = () => (typeof navigator === 'undefined' ? true : navigator.onLine);

export const { store: sendStore } = createSendStore({
  storage: ownedKeyedStore(browserKeyedStore<SendEntry>('servicepro-sends', 'outbox', 'key')),
  transport: { send: sendMessage },
  online,
  onSentLater: () => { void threadStore.getState().refresh(); },
});

export function useSends<T>(selector: (s: SendStoreState) => T): T {
  return useStore(sendStore, selector);
}

let started = false;
/** Drain now and on `online`, `visibilitychange` (to visible) and sign-in. Idempotent. */
export function startSendSync(): void {
  if (started || typeof window === 'undefined') return;
  started = true;
  const drain = () => { void sendStore.getState().drain().catch(() => {}); };
  window.addEventListener('online', drain);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') drain(); });
  try {
    messagingApi.onSignedIn(drain);
  } catch {
    // Not configured (the app shell says why): nothing can be sent.
  }
  // Another person signed in on this device: show (and send) their texts, never the previous person's.
  onOutboxOwnerChange(() => { void sendStore.getState().refresh().then(drain, () => {}); });
  void sendStore.getState().refresh().then(drain, () => {});
}

// Whoever uses sending first (a screen, or the session at start) also starts the drain.
if (typeof window !== 'undefined' && typeof document !== 'undefined') startSendSync();
