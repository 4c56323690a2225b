/**
 * The capture outbox: every photo is saved on the device FIRST (IndexedDB, keyed by its client-generated id), then
 * uploaded and read. Offline, or when a step fails for a reason that may pass (network, 5xx, 429), the entry waits
 * and `drain()` retries it — on start, on `online`, on `visibilitychange` and after each new capture. The server
 * keys the repair order by the same client id (upload to `<tenant>/<clientId>.jpg` with upsert, then `ro-ocr` with
 * `client_id`), so replaying an entry any number of times yields ONE repair order.
 *
 * The drain logic takes its storage and transport as arguments (unit-tested with in-memory fakes); `idbStorage()` is
 * the browser's IndexedDB storage.
 */
import { describeError as describe, deviceLock, idbKeyedStore, isRetryable, memoryKeyedStore, singleFlightDrain, type Lock } from '../../lib/outbox.ts';
import type { RepairOrder } from './model.ts';

export { isRetryable };

export type OutboxState = 'queued' | 'uploading' | 'reading' | 'failed';

export interface OutboxEntry {
  clientId: string;
  tenantId: string;
  /** Who took it: only that user's session lists or uploads it (set by the owned storage). */
  userId?: string;
  /** The downscaled, EXIF-free JPEG. */
  blob: Blob;
  createdAt: number;
  state: OutboxState;
  attempts: number;
  /** Set once the photo is in storage (a retry then skips the upload). */
  path?: string;
  lastError?: { code: string; message: string };
  /** A failure that will not pass by retrying (e.g. 415): waits for the technician to retake or discard. */
  permanent?: boolean;
}

export interface OutboxStorage {
  all(): Promise<OutboxEntry[]>;
  put(entry: OutboxEntry): Promise<void>;
  delete(clientId: string): Promise<void>;
}

export interface CaptureTransport {
  /** Uploads (upsert) to `<tenant>/<clientId>.jpg`; returns the path. */
  upload(entry: OutboxEntry, onProgress: (fraction: number) => void): Promise<string>;
  ocr(tenantId: string, path: string, clientId: string): Promise<RepairOrder>;
}

export interface OutboxEvents {
  /** The entries changed (state, progress). */
  onChange?(entries: OutboxEntry[]): void;
  onProgress?(clientId: string, fraction: number): void;
  /** A capture became a repair order (the entry is gone from the outbox). */
  onDone?(clientId: string, repairOrder: RepairOrder): void;
}

export interface DrainResult {
  done: number;
  waiting: number;
  failed: number;
  /** True when a network failure stopped the drain (the rest waits for `online`). */
  offline: boolean;
}

export interface Outbox {
  add(entry: Pick<OutboxEntry, 'clientId' | 'tenantId' | 'blob'>): Promise<void>;
  /** Processes every entry that can go now; concurrent calls share one run. */
  drain(opts?: { includePermanent?: boolean; online?: () => boolean }): Promise<DrainResult>;
  list(): Promise<OutboxEntry[]>;
  discard(clientId: string): Promise<void>;
}

/** The device-wide lock of the capture outbox: one drain at a time across every window of the app. */
export const CAPTURE_OUTBOX_LOCK = 'servicepro-capture-outbox';

export function createOutbox(storage: OutboxStorage, transport: CaptureTransport, events: OutboxEvents = {}, lock: Lock = deviceLock(CAPTURE_OUTBOX_LOCK)): Outbox {
  const changed = async () => events.onChange?.(await storage.all());

  async function runOnce(includePermanent: boolean, online: () => boolean): Promise<DrainResult> {
    const result: DrainResult = { done: 0, waiting: 0, failed: 0, offline: false };
    const entries = (await storage.all()).sort((a, b) => a.createdAt - b.createdAt);
    for (const entry of entries) {
      if (entry.permanent && !includePermanent) { result.failed++; continue; }
      if (result.offline || !online()) { result.offline = true; result.waiting++; continue; }
      let current: OutboxEntry = { ...entry, permanent: false, lastError: undefined };
      try {
        if (!current.path) {
          current = { ...current, state: 'uploading' };
          await storage.put(current);
          await changed();
          const path = await transport.upload(current, (f) => events.onProgress?.(current.clientId, f));
          current = { ...current, path };
        }
        current = { ...current, state: 'reading' };
        await storage.put(current);
        await changed();
        const ro = await transport.ocr(current.tenantId, current.path!, current.clientId);
        await storage.delete(current.clientId);
        result.done++;
        events.onDone?.(current.clientId, ro);
      } catch (e) {
        const retry = isRetryable(e);
        const failed: OutboxEntry = { ...current, state: retry ? 'queued' : 'failed', attempts: current.attempts + 1, lastError: describe(e), permanent: !retry };
        await storage.put(failed);
        if (retry) {
          result.waiting++;
          if ((e as { code?: string })?.code === 'network_error' || !online()) result.offline = true;
        } else {
          result.failed++;
        }
      }
      await changed();
    }
    return result;
  }

  const drainOnce = singleFlightDrain<{ includePermanent: boolean; online: () => boolean }, DrainResult>(
    (o, first) => runOnce(first && o.includePermanent, o.online),
    (r, next) => ({ done: r.done + next.done, waiting: next.waiting, failed: next.failed, offline: next.offline }),
    lock,
  );

  return {
    async add({ clientId, tenantId, blob }) {
      await storage.put({ clientId, tenantId, blob, createdAt: Date.now(), state: 'queued', attempts: 0 });
      await changed();
    },
    drain: ({ includePermanent = false, online = () => (typeof navigator === 'undefined' ? true : navigator.onLine) } = {}) =>
      drainOnce({ includePermanent, online }),
    list: () => storage.all(),
    async discard(clientId) {
      await storage.delete(clientId);
      await changed();
    },
  };
}

/** In-memory storage (tests, and browsers where IndexedDB is unavailable, e.g. some private modes). */
export function memoryStorage(): OutboxStorage {
  return memoryKeyedStore<OutboxEntry>('clientId');
}

/** IndexedDB storage (survives reloads, restarts and going offline). */
export function idbStorage(): OutboxStorage {
  return idbKeyedStore<OutboxEntry>('servicepro-capture', 'outbox', 'clientId');
}
