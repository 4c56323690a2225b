/**
 * The send outbox: a text that cannot go now — the phone is offline, or the send failed for a reason that may pass
 * (network, 5xx, 429, a lapsed session) — is kept on the device (IndexedDB) with its idempotency key and sent again
 * by `drain()`: on start, on `online`, on `visibilitychange`, after signing in, and from the Retry button. send-sms
 * dedupes by (shop, idempotency_key), so replaying an entry any number of times texts the customer ONCE, and a
 * retry after a lost answer gets the first message back. A refusal that retrying will not change (opted out, quota,
 * invalid number…) marks the entry failed, with the reason, until someone retries or discards it.
 *
 * The drain takes its storage and transport as arguments (unit-tested with in-memory fakes).
 */
import { describeError, deviceLock, isRetryable, singleFlightDrain, type KeyedStore, type Lock } from '../../lib/outbox.ts';
import type { MessageTemplate, SendArgs, SentMessage } from './api.ts';

export type SendState = 'queued' | 'sending' | 'failed';

export interface SendEntry {
  /** The idempotency key: one per intended message, the same for every replay. */
  key: string;
  tenantId: string;
  /** Who queued it: only that user's session lists or sends it (set by the owned storage). */
  userId?: string;
  customerId?: string;
  to?: string;
  template: MessageTemplate;
  body?: string;
  mediaPaths?: string[];
  repairOrderId?: string;
  /** For people: "Ready for pickup to Victor Silva". */
  label: string;
  createdAt: number;
  state: SendState;
  attempts: number;
  /** Not before this time (ms) on an automatic drain: backoff after a retryable failure while online. */
  notBefore?: number;
  lastError?: { code: string; message: string };
  /** A refusal that will not pass by retrying: waits for someone to retry or discard it. */
  permanent?: boolean;
}

export type SendStorage = KeyedStore<SendEntry>;

export interface SendTransport {
  send(args: SendArgs): Promise<SentMessage>;
}

export interface SendOutboxEvents {
  onChange?(entries: SendEntry[]): void;
  /** A queued text went out (the entry is gone from the outbox). */
  onSent?(entry: SendEntry, message: SentMessage): void;
}

export interface SendDrainResult {
  sent: number;
  waiting: number;
  failed: number;
  /** True when the network stopped the drain (the rest waits for `online`). */
  offline: boolean;
}

/** Backoff after the n-th retryable failure while online: 5 s, 10 s, 20 s … at most 5 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(5 * 60_000, 5000 * 2 ** Math.max(0, attempts - 1));
}

export function toSendArgs(e: NewSend): SendArgs {
  return {
    tenantId: e.tenantId, customerId: e.customerId, to: e.to, template: e.template, body: e.body,
    mediaPaths: e.mediaPaths, repairOrderId: e.repairOrderId, idempotencyKey: e.key,
  };
}

export type NewSend = Omit<SendEntry, 'createdAt' | 'state' | 'attempts' | 'notBefore' | 'lastError' | 'permanent'>;

export interface SendOutbox {
  /** Keeps a send on the device (same key again: the existing entry is kept, never a second message). */
  add(send: NewSend, lastError?: unknown): Promise<void>;
  /** Sends every entry that may go now; concurrent calls share one run. `force`: also failed and backed-off ones. */
  drain(opts?: { force?: boolean; online?: () => boolean; now?: () => number }): Promise<SendDrainResult>;
  list(): Promise<SendEntry[]>;
  discard(key: string): Promise<void>;
}

/** The device-wide lock of the send outbox: one drain at a time across every window of the app. */
export const SEND_OUTBOX_LOCK = 'servicepro-send-outbox';

export function createSendOutbox(storage: SendStorage, transport: SendTransport, events: SendOutboxEvents = {}, lock: Lock = deviceLock(SEND_OUTBOX_LOCK)): SendOutbox {
  const changed = async () => events.onChange?.(await storage.all());

  async function runOnce(force: boolean, online: () => boolean, now: () => number): Promise<SendDrainResult> {
    const r: SendDrainResult = { sent: 0, waiting: 0, failed: 0, offline: false };
    const entries = (await storage.all()).sort((a, b) => a.createdAt - b.createdAt);
    for (const entry of entries) {
      if (entry.permanent && !force) { r.failed++; continue; }
      if (!force && entry.notBefore && entry.notBefore > now()) { r.waiting++; continue; }
      if (r.offline || !online()) { r.offline = true; r.waiting++; continue; }
      const sending: SendEntry = { ...entry, state: 'sending', permanent: false };
      await storage.put(sending);
      await changed();
      try {
        const message = await transport.send(toSendArgs(sending));
        await storage.delete(entry.key);
        r.sent++;
        events.onSent?.(entry, message);
      } catch (e) {
        const retry = isRetryable(e);
        const attempts = entry.attempts + 1;
        const offline = (e as { code?: string } | null)?.code === 'network_error' || !online();
        await storage.put({
          ...sending, state: retry ? 'queued' : 'failed', attempts, lastError: describeError(e), permanent: !retry,
          notBefore: retry && !offline ? now() + backoffMs(attempts) : undefined,
        });
        if (retry) { r.waiting++; if (offline) r.offline = true; } else r.failed++;
      }
      await changed();
    }
    return r;
  }

  const drainOnce = singleFlightDrain<{ force: boolean; online: () => boolean; now: () => number }, SendDrainResult>(
    (o, first) => runOnce(first && o.force, o.online, o.now),
    (r, next) => ({ sent: r.sent + next.sent, waiting: next.waiting, failed: next.failed, offline: next.offline }),
    lock,
  );

  return {
    async add(send, lastError) {
      const existing = (await storage.all()).find((e) => e.key === send.key);
      if (existing) return;
      await storage.put({
        ...send, createdAt: Date.now(), state: 'queued', attempts: lastError ? 1 : 0,
        ...(lastError ? { lastError: describeError(lastError) } : {}),
      });
      await changed();
    },
    drain: ({ force = false, online = () => (typeof navigator === 'undefined' ? true : navigator.onLine), now = Date.now } = {}) =>
      drainOnce({ force, online, now }),
    list: () => storage.all(),
    async discard(key) {
      await storage.delete(key);
      await changed();
    },
  };
}
