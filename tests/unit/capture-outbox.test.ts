/** The PWA's capture logic in node: downscale math, review validation and highlights, and the offline outbox. */
import { describe, expect, it } from 'vitest';
import {
  capturePath, draftFromParsed, fitWithin, lowConfidenceFields, orientedSize, validateReview, type RepairOrder,
} from '../../web/src/features/capture/model.ts';
import { createOutbox, isRetryable, memoryStorage, type CaptureTransport, type OutboxEntry } from '../../web/src/features/capture/outbox.ts';

describe('downscale math', () => {
  it('fits the long edge within 2000 px, keeps the aspect ratio, never upscales', () => {
    expect(fitWithin(4032, 3024)).toEqual({ width: 2000, height: 1500, scale: 2000 / 4032 });
    expect(fitWithin(3024, 4032)).toMatchObject({ width: 1500, height: 2000 });
    expect(fitWithin(1200, 900)).toEqual({ width: 1200, height: 900, scale: 1 });
    expect(fitWithin(8000, 10)).toMatchObject({ width: 2000, height: 3 });
    expect(fitWithin(100000, 1)).toMatchObject({ width: 2000, height: 1 });
    expect(() => fitWithin(0, 10)).toThrow(RangeError);
    expect(() => fitWithin(Number.NaN, 10)).toThrow(RangeError);
  });
  it('swaps the axes for EXIF orientations 5–8', () => {
    expect(orientedSize(4032, 3024, 6)).toEqual({ width: 3024, height: 4032 });
    expect(orientedSize(4032, 3024, 3)).toEqual({ width: 4032, height: 3024 });
    expect(orientedSize(4032, 3024, null)).toEqual({ width: 4032, height: 3024 });
  });
  it('puts the photo in the shop folder, named by the capture id', () => {
    expect(capturePath('t-1', 'c-1')).toBe('t-1/c-1.jpg');
  });
});

describe('review', () => {
  const parsed = { name: 'Victor Silva', phone: '+13124542945', vehicle: '2014 BMW 328i', vin: null, ro_number: '74895', confidence: { name: 0.95, phone: 0.6, vehicle: 0.9, vin: 0, ro_number: 0.85 } };
  it('highlights low-confidence fields, and a missing name or phone', () => {
    expect(lowConfidenceFields(parsed)).toEqual(['phone']);
    expect(lowConfidenceFields({ ...parsed, name: null })).toEqual(['name', 'phone']);
    expect(lowConfidenceFields(null)).toEqual(['name', 'phone']);
  });
  it('normalises and checks what the technician typed', () => {
    const ok = validateReview({ ...draftFromParsed(parsed), phone: '(312) 454-2945', vin: 'wba3a5c51ef123456', name: ' Victor   Silva ' }, 'US');
    expect(ok.input).toEqual({ name: 'Victor Silva', phone: '+13124542945', vehicle: '2014 BMW 328i', vin: 'WBA3A5C51EF123456', ro_number: '74895' });
    const bad = validateReview({ name: '', phone: '555', vehicle: '', vin: 'IOQ', ro_number: '' }, 'US');
    expect(bad.input).toBeNull();
    expect(Object.keys(bad.errors).sort()).toEqual(['name', 'phone', 'vin']);
    expect(validateReview({ ...draftFromParsed(parsed), phone: '020 7946 0958' }, 'GB').input?.phone).toBe('+442079460958');
  });
});

function ro(clientId: string): RepairOrder {
  return { id: `ro-${clientId}`, client_id: clientId, status: 'needs_review', photo_path: `t/${clientId}.jpg`, ro_number: null, customer_id: null, error_code: null, parsed: { name: 'A', phone: null, vehicle: null, vin: null, ro_number: null, confidence: {} } };
}

const err = (status: number | undefined, code = 'x') => Object.assign(new Error(code), { status, code });

/** A fake server that keys repair orders by client id, as ro-ocr does. */
function fakeServer() {
  const uploads: string[] = [];
  const ocrCalls: string[] = [];
  const repairOrders = new Map<string, RepairOrder>();
  let failUpload: Error | null = null;
  let failOcr: Error | null = null;
  const transport: CaptureTransport = {
    async upload(entry, onProgress) {
      uploads.push(entry.clientId);
      if (failUpload) throw failUpload;
      onProgress(1);
      return `${entry.tenantId}/${entry.clientId}.jpg`;
    },
    async ocr(_t, _p, clientId) {
      ocrCalls.push(clientId);
      if (failOcr) throw failOcr;
      if (!repairOrders.has(clientId)) repairOrders.set(clientId, ro(clientId));
      return repairOrders.get(clientId)!;
    },
  };
  return {
    transport, uploads, ocrCalls, repairOrders,
    set failUpload(e: Error | null) { failUpload = e; },
    set failOcr(e: Error | null) { failOcr = e; },
  };
}

const blob = () => new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xd9])], { type: 'image/jpeg' });

describe('outbox', () => {
  it('keeps captures while offline and sends each once when back online', async () => {
    const server = fakeServer();
    const storage = memoryStorage();
    const done: string[] = [];
    const box = createOutbox(storage, server.transport, { onDone: (id) => done.push(id) });
    let online = false;
    await box.add({ clientId: 'a', tenantId: 't', blob: blob() });
    await box.add({ clientId: 'b', tenantId: 't', blob: blob() });
    const offline = await box.drain({ online: () => online });
    expect(offline).toMatchObject({ done: 0, waiting: 2, offline: true });
    expect(server.uploads).toEqual([]);
    expect((await box.list()).map((e) => e.clientId).sort()).toEqual(['a', 'b']);

    online = true;
    // online + visibilitychange fire together: two drains at once share one run
    const [r1, r2] = await Promise.all([box.drain({ online: () => online }), box.drain({ online: () => online })]);
    expect(r1.done + r2.done).toBeGreaterThanOrEqual(2);
    expect(server.uploads.sort()).toEqual(['a', 'b']);
    expect(server.ocrCalls.sort()).toEqual(['a', 'b']);
    expect(done.sort()).toEqual(['a', 'b']);
    expect(await box.list()).toEqual([]);
  });

  it('a lost answer replays with the same client id: still ONE repair order, and the upload is not repeated', async () => {
    const server = fakeServer();
    const box = createOutbox(memoryStorage(), server.transport);
    await box.add({ clientId: 'c', tenantId: 't', blob: blob() });
    server.failOcr = err(undefined, 'network_error'); // the request reached the server, the answer did not come back
    server.repairOrders.set('c', ro('c'));
    const first = await box.drain({ online: () => true });
    expect(first).toMatchObject({ done: 0, waiting: 1 });
    const [entry] = await box.list();
    expect(entry).toMatchObject({ state: 'queued', path: 't/c.jpg', attempts: 1, lastError: { code: 'network_error' } });
    server.failOcr = null;
    await box.drain({ online: () => true });
    expect(server.uploads).toEqual(['c']);
    expect(server.ocrCalls).toEqual(['c', 'c']);
    expect(server.repairOrders.size).toBe(1);
    expect(await box.list()).toEqual([]);
  });

  it('a permanent failure (415) waits for the technician instead of retrying forever; 5xx and 429 retry', async () => {
    const server = fakeServer();
    const box = createOutbox(memoryStorage(), server.transport);
    await box.add({ clientId: 'd', tenantId: 't', blob: blob() });
    server.failOcr = err(415, 'unsupported_media_type');
    expect(await box.drain({ online: () => true })).toMatchObject({ failed: 1 });
    const [e] = await box.list() as OutboxEntry[];
    expect(e).toMatchObject({ state: 'failed', permanent: true, lastError: { code: 'unsupported_media_type' } });
    await box.drain({ online: () => true });
    expect(server.ocrCalls).toEqual(['d']); // not retried automatically
    server.failOcr = null;
    await box.drain({ online: () => true, includePermanent: true }); // "Try again" pressed
    expect(await box.list()).toEqual([]);
    expect(isRetryable(err(503))).toBe(true);
    expect(isRetryable(err(429))).toBe(true);
    expect(isRetryable(err(413))).toBe(false);
    expect(isRetryable(err(403))).toBe(false);
    await box.add({ clientId: 'e', tenantId: 't', blob: blob() });
    await box.discard('e');
    expect(await box.list()).toEqual([]);
  });
});
