/**
 * The open thread: loaded, then refreshed by polling every few seconds while the page is visible (no realtime
 * service locally; polling also works behind any proxy). Sending adds an optimistic row that the next poll replaces.
 */
import { createStore, useStore } from 'zustand';
import type { AppError } from '../../lib/errors.ts';
import { toAppError } from '../../lib/errors.ts';
import { messagingApi, type ThreadMessage } from './api.ts';

export const POLL_MS = 4000;

export interface ThreadState {
  key: string | null;
  messages: ThreadMessage[];
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: AppError | null;
  load(tenantId: string, customerId: string): Promise<void>;
  refresh(): Promise<void>;
  reset(): void;
}

let current: { tenantId: string; customerId: string } | null = null;

export const threadStore = createStore<ThreadState>()((set, get) => ({
  key: null,
  messages: [],
  status: 'idle',
  error: null,
  async load(tenantId, customerId) {
    const key = `${tenantId}/${customerId}`;
    current = { tenantId, customerId };
    if (get().key !== key) set({ key, messages: [], status: 'loading', error: null });
    await get().refresh();
  },
  async refresh() {
    const c = current;
    if (!c) return;
    const key = `${c.tenantId}/${c.customerId}`;
    try {
      const messages = await messagingApi.thread(c.tenantId, c.customerId);
      if (get().key !== key) return;
      set({ messages, status: 'ready', error: null });
      const unread = messages.filter((m) => m.direction === 'inbound' && !m.read_at).map((m) => m.id);
      if (unread.length && typeof document !== 'undefined' && document.visibilityState === 'visible') {
        await messagingApi.markRead(c.tenantId, unread).catch(() => {});
      }
    } catch (e) {
      if (get().key === key) set({ status: get().messages.length ? 'ready' : 'error', error: toAppError(e) });
    }
  },
  reset() {
    current = null;
    set({ key: null, messages: [], status: 'idle', error: null });
  },
}));

export const useThread = <T,>(sel: (s: ThreadState) => T) => useStore(threadStore, sel);
