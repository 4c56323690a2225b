/**
 * ro-ocr's handler with an in-memory store and fake engines: the order of the steps, what is kept on every
 * failure, usage counting, EXIF removal with the orientation handed to the engine, and the request checks.
 */
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../supabase/functions/ro-ocr/handler.ts';
import { parseOcrRequest, uuidFromText } from '../../supabase/functions/_shared/capture/request.ts';
import { httpErrorFromPostgrest, type CaptureStore, type RepairOrderRow } from '../../supabase/functions/_shared/capture/store.ts';
import { stripExif } from '../../supabase/functions/_shared/image/index.ts';
import { OcrError, type OcrEngine, type RecognizeOptions } from '../../supabase/functions/_shared/ocr/index.ts';
import type { Log } from '../../supabase/functions/_shared/log.ts';

const TENANT = '0b6f1a3e-5c7d-4e8f-9a0b-1c2d3e4f5a6b';
const USER = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
const silent: Log = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

function b64url(o: unknown) {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}
const TOKEN = `${b64url({ alg: 'HS256' })}.${b64url({ sub: USER, role: 'authenticated' })}.sig`;

/** A tiny but real JPEG header: SOI, APP1 Exif (Orientation = 6), SOF0 640×480, EOI. */
function jpegWithExif(orientation = 6): Uint8Array {
  const tiff = [0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  const app1 = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
  const sof = [0xff, 0xc0, 0, 11, 8, 0x01, 0xe0, 0x02, 0x80, 1, 1, 0x11, 0];
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe1, (app1.length + 2) >> 8, (app1.length + 2) & 0xff, ...app1, ...sof, 0xff, 0xd9]);
}

class MemoryStore implements CaptureStore {
  objects = new Map<string, Uint8Array>();
  rows = new Map<string, RepairOrderRow>();
  member = true;
  calls: string[] = [];
  failures: { code: string; aiRequests: number }[] = [];
  completed: { aiRequests: number; engine: string }[] = [];

  async isMember() { this.calls.push('isMember'); return this.member; }
  async download(path: string) { this.calls.push('download'); return this.objects.get(path) ?? null; }
  async replace(path: string, bytes: Uint8Array) { this.calls.push('replace'); this.objects.set(path, bytes); }
  async begin(tenantId: string, clientId: string, path: string) {
    this.calls.push('begin');
    let row = [...this.rows.values()].find((r) => r.client_id === clientId);
    if (!row) {
      row = { id: `ro-${this.rows.size + 1}`, tenant_id: tenantId, client_id: clientId, photo_path: path, status: 'processing', parsed: null, engine: null, error_code: null, ro_number: null, customer_id: null, attempts: 0 };
      this.rows.set(row.id, row);
    } else if (row.status !== 'needs_review' && row.status !== 'reviewed') {
      row.status = 'processing';
    }
    return { ...row };
  }
  async complete(id: string, input: { parsed: RepairOrderRow['parsed'] & object; engine: string; aiRequests: number }) {
    this.calls.push('complete');
    const row = this.rows.get(id)!;
    Object.assign(row, { status: 'needs_review', parsed: input.parsed, engine: input.engine, error_code: null, attempts: row.attempts + 1 });
    this.completed.push({ aiRequests: input.aiRequests, engine: input.engine });
    return { ...row };
  }
  async fail(id: string, input: { code: string; aiRequests: number }) {
    this.calls.push('fail');
    const row = this.rows.get(id)!;
    Object.assign(row, { status: 'failed', error_code: input.code, attempts: row.attempts + 1 });
    this.failures.push({ code: input.code, aiRequests: input.aiRequests });
    return { ...row };
  }
}

const TEXT = 'RO # 74895\nCustomer: Victor Silva\nPhone: (312) 454-2945\nVehicle: 2014 BMW 328i\n';

function engineOf(fn: (image: Uint8Array, opts?: RecognizeOptions) => Promise<{ text: string }>): OcrEngine & { seen: { image: Uint8Array; opts?: RecognizeOptions }[] } {
  const seen: { image: Uint8Array; opts?: RecognizeOptions }[] = [];
  return {
    name: 'fake', seen,
    async recognize(image, opts) {
      seen.push({ image, opts });
      const r = await fn(image, opts);
      return { text: r.text, confidence: 0.9, ms: 1 };
    },
  };
}

function setup(engine: OcrEngine, store = new MemoryStore(), timeoutMs?: number) {
  const handler = createHandler({
    auth: { async getUser() { return { id: USER, email: 't@example.test', phone: null, role: 'authenticated', appMetadata: {} }; } },
    log: silent, engine, storeFor: () => store, ocrTimeoutMs: timeoutMs, newId: () => 'attempt-1',
  });
  const call = async (body: unknown, token: string | null = TOKEN) => {
    const res = await handler(new Request('http://fn/ro-ocr', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    }));
    return { status: res.status, body: await res.json() as Record<string, any> };
  };
  return { store, call };
}

const PATH = `${TENANT}/11111111-2222-4333-8444-555555555555.jpg`;
const CLIENT = '11111111-2222-4333-8444-555555555555';

describe('ro-ocr handler', () => {
  it('reads a photo: strips EXIF, writes the clean photo back, hands the orientation to the engine, stores the result', async () => {
    const engine = engineOf(async () => ({ text: TEXT }));
    const { store, call } = setup(engine);
    store.objects.set(PATH, jpegWithExif(6));
    const r = await call({ tenant_id: TENANT, path: PATH, client_id: CLIENT });
    expect(r.status).toBe(200);
    expect(r.body.repair_order).toMatchObject({ id: 'ro-1', status: 'needs_review', photo_path: PATH, client_id: CLIENT });
    expect(r.body.repair_order.parsed).toMatchObject({ name: 'Victor Silva', phone: '+13124542945', ro_number: '74895' });
    expect(Object.keys(r.body.repair_order.parsed.confidence).sort()).toEqual(['name', 'phone', 'ro_number', 'vehicle', 'vin']);
    expect(store.calls).toEqual(['isMember', 'download', 'begin', 'replace', 'complete']);
    expect(stripExif(store.objects.get(PATH)!).removed).toEqual([]);
    expect(engine.seen[0]!.opts?.orientation).toBe(6);
    expect(stripExif(engine.seen[0]!.image).removed).toEqual([]);
  });

  it('a file over 10 MB → 413 file_too_large; the row is failed, the photo kept, OCR never runs', async () => {
    const engine = engineOf(async () => ({ text: TEXT }));
    const { store, call } = setup(engine);
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set([0xff, 0xd8, 0xff, 0xe0]);
    store.objects.set(PATH, big);
    const r = await call({ tenant_id: TENANT, path: PATH, client_id: CLIENT });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: 'file_too_large', details: { repair_order_id: 'ro-1', retryable: false } });
    expect(store.rows.get('ro-1')).toMatchObject({ status: 'failed', error_code: 'file_too_large' });
    expect(store.objects.has(PATH)).toBe(true);
    expect(engine.seen).toHaveLength(0);
  });

  it('an engine failure keeps the row (failed, its code) and counts the AI calls made; a retry succeeds on the same row', async () => {
    let fail = true;
    const engine = engineOf(async (_img, opts) => {
      await opts?.onUsage?.({ provider: 'openai', model: 'm', outcome: fail ? 'rate_limited' : 'ok', ms: 1, prompt_tokens: null, completion_tokens: null, total_tokens: null, request_id: null });
      if (fail) throw new OcrError('ocr_rate_limited', 'The reading service is busy.', true, 503);
      return { text: TEXT };
    });
    const { store, call } = setup(engine);
    store.objects.set(PATH, jpegWithExif(1));
    const r1 = await call({ tenant_id: TENANT, path: PATH, client_id: CLIENT });
    expect(r1.status).toBe(503);
    expect(r1.body).toMatchObject({ code: 'ocr_rate_limited', details: { repair_order_id: 'ro-1', retryable: true } });
    expect(store.failures).toEqual([{ code: 'ocr_rate_limited', aiRequests: 1 }]);
    fail = false;
    const r2 = await call({ tenant_id: TENANT, path: PATH, client_id: CLIENT });
    expect(r2.status).toBe(200);
    expect(r2.body.repair_order.id).toBe('ro-1');
    expect(store.completed).toEqual([{ aiRequests: 1, engine: 'fake' }]);
    expect(store.rows.size).toBe(1);
  });

  it('a replay of a finished capture is answered from its row without OCR', async () => {
    const engine = engineOf(async () => ({ text: TEXT }));
    const { store, call } = setup(engine);
    store.objects.set(PATH, jpegWithExif(1));
    await call({ tenant_id: TENANT, path: PATH, client_id: CLIENT });
    const again = await call({ tenant_id: TENANT, path: PATH, client_id: CLIENT });
    expect(again.status).toBe(200);
    expect(again.body.replayed).toBe(true);
    expect(again.body.repair_order.parsed.name).toBe('Victor Silva');
    expect(engine.seen).toHaveLength(1);
  });

  it('an engine that hangs past the budget → 504 ocr_timeout, row failed', async () => {
    const engine = engineOf((_img, opts) => new Promise((_, reject) => {
      opts?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
    }));
    const { store, call } = setup(engine, new MemoryStore(), 50);
    store.objects.set(PATH, jpegWithExif(1));
    const r = await call({ tenant_id: TENANT, path: PATH, client_id: CLIENT });
    expect(r.status).toBe(504);
    expect(r.body.code).toBe('ocr_timeout');
    expect(store.rows.get('ro-1')!.status).toBe('failed');
  });

  it('refuses before touching anything: no token 401, not a member 403, outside the folder 403, missing photo 404 (no row)', async () => {
    const engine = engineOf(async () => ({ text: TEXT }));
    const { store, call } = setup(engine);
    expect((await call({ tenant_id: TENANT, path: PATH }, null)).status).toBe(401);
    expect((await call({ tenant_id: TENANT, path: `${USER}/x.jpg` })).body.code).toBe('path_outside_tenant');
    expect((await call({ tenant_id: TENANT, path: PATH })).body.code).toBe('photo_not_found');
    store.member = false;
    expect((await call({ tenant_id: TENANT, path: PATH })).body).toMatchObject({ code: 'not_a_member' });
    expect(store.rows.size).toBe(0);
    expect(store.calls.filter((c) => c === 'begin')).toEqual([]);
  });
});

describe('ro-ocr request', () => {
  it('accepts <tenant>/<file> only', async () => {
    await expect(parseOcrRequest({ tenant_id: TENANT, path: PATH })).resolves.toMatchObject({ tenantId: TENANT, path: PATH, clientIdGiven: false });
    const bad = async (body: unknown) => parseOcrRequest(body).then(() => null, (e) => [e.status, e.code]);
    expect(await bad(null)).toEqual([400, 'invalid_request']);
    expect(await bad({ tenant_id: 'x', path: PATH })).toEqual([400, 'invalid_tenant_id']);
    expect(await bad({ tenant_id: TENANT, path: '' })).toEqual([400, 'invalid_path']);
    expect(await bad({ tenant_id: TENANT, path: `/${PATH}` })).toEqual([403, 'path_outside_tenant']);
    expect(await bad({ tenant_id: TENANT, path: `${TENANT}/../${USER}/a.jpg` })).toEqual([400, 'invalid_path']);
    expect(await bad({ tenant_id: TENANT, path: `${TENANT}/sub/a.jpg` })).toEqual([400, 'invalid_path']);
    expect(await bad({ tenant_id: TENANT, path: `${TENANT}/..` })).toEqual([400, 'invalid_path']);
    expect(await bad({ tenant_id: TENANT, path: PATH, client_id: 42 })).toEqual([400, 'invalid_client_id']);
  });

  it('derives a stable uuid from the path when no client_id is sent', async () => {
    const a = await parseOcrRequest({ tenant_id: TENANT, path: PATH });
    const b = await parseOcrRequest({ tenant_id: TENANT, path: PATH });
    expect(a.clientId).toBe(b.clientId);
    expect(a.clientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await uuidFromText('other')).not.toBe(a.clientId);
  });

  it('maps database errors to statuses by SQLSTATE and keeps the message code', () => {
    expect(httpErrorFromPostgrest({ code: '42501', message: 'not_a_member: you are not a member' })).toMatchObject({ status: 403, code: 'not_a_member' });
    expect(httpErrorFromPostgrest({ code: '23505', message: 'client_id_conflict: taken' })).toMatchObject({ status: 409, code: 'client_id_conflict' });
    expect(httpErrorFromPostgrest({ code: 'P0001', message: 'repair_order_not_found: no' })).toMatchObject({ status: 404 });
    expect(httpErrorFromPostgrest({ code: 'XX000', message: 'boom' })).toMatchObject({ status: 502, code: 'database_error' });
  });
});
