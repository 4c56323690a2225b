/**
 * Two windows of the app on one device (an installed PWA window beside a browser tab) share one IndexedDB outbox
 * and both drain it on the same `online` event. The e2e flow (tests/e2e/outbox.test.ts) caught each of them
 * uploading the same photo; the outboxes now drain under a device-wide Web Lock. Here: the lock itself, and both
 * outboxes drained by two "windows" at once sending each entry once.
 */
import { describe, expect, it } from 'vitest';
import { deviceLock, memoryKeyedStore, type DeviceLocks } from '../../web/src/lib/outbox.ts';
import { CAPTURE_OUTBOX_LOCK, createOutbox, memoryStorage, type CaptureTransport } from '../../web/src/features/capture/outbox.ts';
import { SEND_OUTBOX_LOCK, createSendOutbox, type SendEntry, type SendTransport } from '../../web/src/features/messaging/outbox.ts';
import { createCaptureStore } from '../../web/src/features/capture/store.ts';
import type { RepairOrder } from '../../web/src/features/capture/model.ts';

/** navigator.locks as the browser gives it to every window of one origin: exclusive per name, granted in order. */
function fakeLocks(): DeviceLocks & { requested: string[] } {
  const tails = new Map<string, Promise<unknown>>();
  const requested: string[] = [];
  return {
    requested,
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      requested.push(name);
      const run = (tails.get(name) ?? Promise.resolve()).then(() => callback());
      tails.set(name, run.catch(() => undefined));
      return run;
    },
  };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const blob = () => new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xd9])], { type: 'image/jpeg' });

function captureServer() {
  const uploads: string[] = [];
  const ocrCalls: string[] = [];
  const repairOrders = new Map<string, RepairOrder>();
  const transport: CaptureTransport = {
    async upload(entry, onProgress) {
      uploads.push(entry.clientId);
      await tick(); // the upload takes a while: long enough for the other window's drain to start
      onProgress(1);
      return `${entry.tenantId}/${entry.clientId}.jpg`;
    },
    async ocr(_tenant, path, clientId): Promise<RepairOrder> {
      ocrCalls.push(clientId);
      await tick();
      if (!repairOrders.has(clientId)) {
        repairOrders.set(clientId, { id: `ro-${clientId}`, client_id: clientId, status: 'needs_review', photo_path: path, ro_number: null, customer_id: null, error_code: null, parsed: { name: null, phone: null, vehicle: null, vin: null, ro_number: null, confidence: {} } });
      }
      return repairOrders.get(clientId)!;
    },
  };
  const findByClientId = async (_tenant: string, clientId: string) => repairOrders.get(clientId) ?? null;
  return { transport, uploads, ocrCalls, repairOrders, findByClientId };
}

describe('deviceLock', () => {
  it('runs tasks of one name one after another, other names alongside, and returns what the task returns', async () => {
    const locks = fakeLocks();
    const a = deviceLock('outbox', locks);
    const b = deviceLock('outbox', locks);
    const other = deviceLock('other', locks);
    const log: string[] = [];
    const task = (id: string) => async () => { log.push(`${id}+`); await tick(); log.push(`${id}-`); return id; };
    expect(await Promise.all([a(task('a')), b(task('b')), other(task('o'))])).toEqual(['a', 'b', 'o']);
    expect(log.indexOf('a-')).toBeLessThan(log.indexOf('b+'));
    expect(log.indexOf('o+')).toBeLessThan(log.indexOf('a-'));
  });

  it('just runs the task where the browser has no Web Locks', async () => {
    expect(await deviceLock('outbox', undefined)(async () => 42)).toBe(42);
  });
});

describe('two windows draining one device outbox', () => {
  it('capture: the photo is uploaded and read once, whichever window drains first', async () => {
    const storage = memoryStorage(); // one IndexedDB for both windows
    const locks = fakeLocks();
    const server = captureServer();
    const done: string[] = [];
    const windowA = createOutbox(storage, server.transport, { onDone: (id) => done.push(`A:${id}`) }, deviceLock(CAPTURE_OUTBOX_LOCK, locks));
    const windowB = createOutbox(storage, server.transport, { onDone: (id) => done.push(`B:${id}`) }, deviceLock(CAPTURE_OUTBOX_LOCK, locks));
    await windowA.add({ clientId: 'p1', tenantId: 't', blob: blob() });

    const [a, b] = await Promise.all([windowA.drain({ online: () => true }), windowB.drain({ online: () => true })]);
    expect(server.uploads).toEqual(['p1']);
    expect(server.ocrCalls).toEqual(['p1']);
    expect(a.done + b.done).toBe(1);
    expect(done).toEqual(['A:p1']);
    expect(await storage.all()).toEqual([]);
    expect(locks.requested).toEqual([CAPTURE_OUTBOX_LOCK, CAPTURE_OUTBOX_LOCK]);
  });

  it('capture, without the lock: both windows upload it (what the lock prevents)', async () => {
    const storage = memoryStorage();
    const server = captureServer();
    const none = <T,>(task: () => Promise<T>) => task();
    const windowA = createOutbox(storage, server.transport, {}, none);
    const windowB = createOutbox(storage, server.transport, {}, none);
    await windowA.add({ clientId: 'p1', tenantId: 't', blob: blob() });
    await Promise.all([windowA.drain({ online: () => true }), windowB.drain({ online: () => true })]);
    expect(server.uploads).toEqual(['p1', 'p1']);
  });

  it('sends: each waiting text goes to send-sms once', async () => {
    const storage = memoryKeyedStore<SendEntry>('key');
    const locks = fakeLocks();
    const calls: string[] = [];
    const transport: SendTransport = {
      async send(args) {
        calls.push(args.idempotencyKey);
        await tick();
        return { id: `m-${args.idempotencyKey}`, status: 'queued', segments: 1, send_at: null };
      },
    };
    const windowA = createSendOutbox(storage, transport, {}, deviceLock(SEND_OUTBOX_LOCK, locks));
    const windowB = createSendOutbox(storage, transport, {}, deviceLock(SEND_OUTBOX_LOCK, locks));
    for (const key of ['k1', 'k2']) await windowA.add({ key, tenantId: 't', customerId: 'c', template: 'pickup_ready', label: 'Ready for pickup' });

    const [a, b] = await Promise.all([windowA.drain({ online: () => true }), windowB.drain({ online: () => true })]);
    expect(calls).toEqual(['k1', 'k2']);
    expect(a.sent + b.sent).toBe(2);
    expect(await storage.all()).toEqual([]);
  });
});

describe('the capture store when another window sent its photo', () => {
  it('still learns the repair order the capture became (so the capture just taken opens its review)', async () => {
    const storage = memoryStorage();
    const server = captureServer();
    const deps = { storage, transport: server.transport, prepare: async (b: Blob) => b, findByClientId: server.findByClientId };
    const a = createCaptureStore({ ...deps, newId: () => 'p1' });
    const b = createCaptureStore({ ...deps, newId: () => 'other' });
    // Window A saved the photo (offline); window B got the lock first when the connection came back.
    await a.outbox.add({ clientId: 'p1', tenantId: 't', blob: blob() });
    await a.store.getState().refresh();
    await b.store.getState().drain();
    expect(b.store.getState().completed.p1?.id).toBe('ro-p1');

    await a.store.getState().drain();
    expect(a.store.getState().entries).toEqual([]);
    expect(a.store.getState().completed.p1?.id).toBe('ro-p1');
    expect(server.uploads).toEqual(['p1']);
  });

  it('learns nothing for a photo discarded in the other window', async () => {
    const storage = memoryStorage();
    const server = captureServer();
    const deps = { storage, transport: server.transport, prepare: async (b: Blob) => b, findByClientId: server.findByClientId };
    const a = createCaptureStore({ ...deps, newId: () => 'p2' });
    const b = createCaptureStore({ ...deps, newId: () => 'other' });
    await a.outbox.add({ clientId: 'p2', tenantId: 't', blob: blob() });
    await a.store.getState().refresh();
    await b.store.getState().refresh();
    await b.store.getState().discard('p2');
    await a.store.getState().drain();
    expect(a.store.getState().entries).toEqual([]);
    expect(a.store.getState().completed).toEqual({});
    expect(server.uploads).toEqual([]);
  });
});
