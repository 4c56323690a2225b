/**
 * Capture end to end on the running stack, through supabase-js as the PWA calls it:
 * the private `repair-orders` bucket and its per-shop policies, `ro-ocr` (bad input, idempotent replays,
 * retry on the same row, EXIF removal, a real photo through Tesseract), the review save and the CSV import RPC,
 * and cross-shop attempts on all of it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionsHttpError, type SupabaseClient } from '@supabase/supabase-js';
import { createApiWorld, must, type ApiWorld } from '../helpers/personas.ts';
import { closeDb, db } from '../helpers/db.ts';
import { stripExif } from '../../supabase/functions/_shared/image/index.ts';

import { SHARED_SAMPLES } from '../fixtures/repair-orders/tools/eval.ts';

/** The team's shared photo ro-001 (Victor Silva, +13124542945); ../shared beside the clone, or SP_RO_SAMPLES. */
const SAMPLE = `${SHARED_SAMPLES}/ro-001.jpg`;
const BUCKET = 'repair-orders';

let w: ApiWorld;

beforeAll(async () => {
  w = await createApiWorld();
}, 60_000);

afterAll(async () => {
  await closeDb();
});

/** A JPEG with an EXIF APP1 segment (Orientation = 1, plus a GPS-ish ASCII tag) inserted after SOI. */
function withExif(jpeg: Uint8Array): Uint8Array {
  const tiff = Buffer.from([
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // MM, 42, IFD0 at 8
    0x00, 0x02, // 2 entries
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // Orientation = 1
    0x01, 0x0e, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x47, 0x50, 0x53, 0x00, // ImageDescription "GPS"
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const seg = Buffer.concat([Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload]);
  return new Uint8Array(Buffer.concat([Buffer.from(jpeg.subarray(0, 2)), seg, Buffer.from(jpeg.subarray(2))]));
}

/** A PNG header declaring width × height pixels (a decompression bomb's header: no pixels needed to refuse it). */
function pngHeader(width: number, height: number): Uint8Array {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b[24] = 8; b[25] = 2;
  return new Uint8Array(b);
}

async function upload(client: SupabaseClient, path: string, bytes: Uint8Array, contentType = 'image/jpeg', upsert = false) {
  return client.storage.from(BUCKET).upload(path, bytes, { contentType, upsert });
}

interface OcrAnswer {
  status: number;
  body: { repair_order?: { id: string; client_id: string; status: string; photo_path: string; parsed: Record<string, unknown> & { confidence: Record<string, number> } }; code?: string; message?: string; details?: { repair_order_id?: string }; replayed?: boolean };
}

/** ro-ocr through supabase-js `functions.invoke`, as the PWA calls it; errors read from the response. */
async function ocr(client: SupabaseClient, body: Record<string, unknown>): Promise<OcrAnswer> {
  const { data, error, response } = await client.functions.invoke('ro-ocr', { body });
  if (error) {
    if (error instanceof FunctionsHttpError) {
      const res = error.context as Response;
      return { status: res.status, body: await res.json() };
    }
    throw error;
  }
  return { status: response?.status ?? 200, body: data };
}

const sample = () => new Uint8Array(fs.readFileSync(SAMPLE));

describe('repair-orders bucket', () => {
  it('is private with a 10 MB limit and photo types only', async () => {
    const { rows } = await db().query('select public, file_size_limit, allowed_mime_types from storage.buckets where id = $1', [BUCKET]);
    expect(rows[0]).toMatchObject({ public: false, file_size_limit: '10485760' });
    expect(rows[0].allowed_mime_types).toContain('image/jpeg');
  });

  it('lets members of the shop upload, read, list and sign in its folder; nobody else', async () => {
    const path = `${w.tenantA}/${randomUUID()}.jpg`;
    must(await upload(w.techA.client, path, sample()), 'tech uploads into own shop');
    const name = path.split('/')[1]!;

    // members of A
    expect((await w.ownerA.client.storage.from(BUCKET).download(path)).error).toBeNull();
    const listed = must(await w.adminA.client.storage.from(BUCKET).list(w.tenantA, { limit: 1000 }), 'list');
    expect(listed!.map((o) => o.name)).toContain(name);
    expect((await w.techA.client.storage.from(BUCKET).createSignedUrl(path, 60)).error).toBeNull();

    // B's owner: read, list, sign, overwrite, upload into A's folder, delete
    expect((await w.ownerB.client.storage.from(BUCKET).download(path)).data).toBeNull();
    const bList = await w.ownerB.client.storage.from(BUCKET).list(w.tenantA);
    expect(bList.data ?? []).toEqual([]);
    const bSign = await w.ownerB.client.storage.from(BUCKET).createSignedUrl(path, 60);
    expect(bSign.data).toBeNull();
    expect(bSign.error).not.toBeNull();
    expect((await upload(w.ownerB.client, `${w.tenantA}/${randomUUID()}.jpg`, sample())).error).not.toBeNull();
    expect((await upload(w.ownerB.client, path, new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), 'image/jpeg', true)).error).not.toBeNull();
    await w.ownerB.client.storage.from(BUCKET).remove([path]);
    // A's tech into B's folder
    expect((await upload(w.techA.client, `${w.tenantB}/${randomUUID()}.jpg`, sample())).error).not.toBeNull();

    // anonymous: nothing, no public URL that works
    expect((await w.anon.storage.from(BUCKET).download(path)).data).toBeNull();
    expect((await w.anon.storage.from(BUCKET).list(w.tenantA)).data ?? []).toEqual([]);
    const publicUrl = w.anon.storage.from(BUCKET).getPublicUrl(path).data.publicUrl;
    expect((await fetch(publicUrl)).status).toBeGreaterThanOrEqual(400);

    // the object is untouched by all of that
    const still = must(await w.ownerA.client.storage.from(BUCKET).download(path), 'A still reads it');
    expect(still!.size).toBe(sample().length);
  });

  it('treats a first path segment that is not a shop id as "not yours" (no cast error)', async () => {
    const r = await upload(w.techA.client, `not-a-uuid/${randomUUID()}.jpg`, sample());
    expect(r.error).not.toBeNull();
    expect(String((r.error as { statusCode?: string }).statusCode ?? '')).not.toBe('500');
    const l = await w.techA.client.storage.from(BUCKET).list('not-a-uuid');
    expect(l.error).toBeNull();
    expect(l.data).toEqual([]);
  });

  it('refuses files over 10 MB and non-image types at upload', async () => {
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set([0xff, 0xd8, 0xff, 0xe0]);
    const r = await upload(w.techA.client, `${w.tenantA}/${randomUUID()}.jpg`, big);
    expect(r.error).not.toBeNull();
    expect(String((r.error as { statusCode?: string }).statusCode)).toBe('413');
    const pdf = await upload(w.techA.client, `${w.tenantA}/${randomUUID()}.pdf`, new TextEncoder().encode('%PDF-1.4\n'), 'application/pdf');
    expect(pdf.error).not.toBeNull();
  });
});

describe('ro-ocr', () => {
  it('reads a real photo: Victor Silva, +13124542945; stores needs_review, strips EXIF, counts one OCR page', async () => {
    const clientId = randomUUID();
    const path = `${w.tenantA}/${clientId}.jpg`;
    const photo = withExif(sample());
    expect(stripExif(photo).removed.length).toBeGreaterThan(0);
    must(await upload(w.techA.client, path, photo), 'upload');

    const res = await ocr(w.techA.client, { tenant_id: w.tenantA, path, client_id: clientId });
    expect(res.status).toBe(200);
    const ro = res.body.repair_order!;
    expect(ro).toMatchObject({ status: 'needs_review', photo_path: path, client_id: clientId });
    expect(ro.parsed).toMatchObject({ name: 'Victor Silva', phone: '+13124542945', vehicle: '2014 BMW 328i', ro_number: '74895' });
    for (const k of ['name', 'phone', 'vehicle', 'vin', 'ro_number']) {
      expect(ro.parsed.confidence[k]).toBeGreaterThanOrEqual(0);
      expect(ro.parsed.confidence[k]).toBeLessThanOrEqual(1);
    }

    // The stored photo no longer carries EXIF.
    const stored = new Uint8Array(await must(await w.techA.client.storage.from(BUCKET).download(path), 'download')!.arrayBuffer());
    expect(stripExif(stored).removed).toEqual([]);
    expect(stored.length).toBeLessThan(photo.length);

    // The row, as the shop sees it, with its raw text and creator.
    const row = must(await w.ownerA.client.from('repair_orders').select('*').eq('id', ro.id).single(), 'row') as Record<string, unknown>;
    expect(row).toMatchObject({ status: 'needs_review', engine: expect.stringMatching(/tesseract/i), created_by: w.techA.id, ro_number: '74895' });
    expect(String(row.raw_text)).toMatch(/Silva/);
    const usage = await db().query(
      `select metric, quantity from public.usage_events where tenant_id = $1 and source_id = $2`, [w.tenantA, ro.id]);
    expect(usage.rows).toEqual([{ metric: 'ocr_pages', quantity: 1 }]);
  }, 90_000);

  it('an offline capture replayed twice is ONE repair order (same client_id), OCR counted once', async () => {
    const clientId = randomUUID();
    const path = `${w.tenantA}/${clientId}.jpg`;
    must(await upload(w.techA.client, path, sample()), 'upload');
    // the outbox replays: the upload again (upsert), then ro-ocr — twice, one of them concurrently
    must(await upload(w.techA.client, path, sample(), 'image/jpeg', true), 're-upload');
    const [a, b] = await Promise.all([
      ocr(w.techA.client, { tenant_id: w.tenantA, path, client_id: clientId }),
      ocr(w.techA.client, { tenant_id: w.tenantA, path, client_id: clientId }),
    ]);
    const c = await ocr(w.techA.client, { tenant_id: w.tenantA, path, client_id: clientId });
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    const ids = new Set([a, b, c].map((r) => r.body.repair_order!.id));
    expect(ids.size).toBe(1);
    expect(c.body.replayed).toBe(true);
    const { rows } = await db().query('select count(*)::int as n from public.repair_orders where tenant_id = $1 and client_id = $2', [w.tenantA, clientId]);
    expect(rows[0].n).toBe(1);
    const usage = await db().query(`select sum(quantity)::int as n from public.usage_events where metric = 'ocr_pages' and source_id = $1`, [[...ids][0]]);
    expect(usage.rows[0].n).toBe(1);
  }, 120_000);

  it('without client_id, the same path maps to the same repair order', async () => {
    const path = `${w.tenantA}/${randomUUID()}.jpg`;
    must(await upload(w.techA.client, path, sample()), 'upload');
    const a = await ocr(w.techA.client, { tenant_id: w.tenantA, path });
    const b = await ocr(w.techA.client, { tenant_id: w.tenantA, path });
    expect(a.status).toBe(200);
    expect(b.body.repair_order!.id).toBe(a.body.repair_order!.id);
  }, 90_000);

  it('a renamed PDF → 415; the row is failed with its code, the file stays, and a retry with the same client_id succeeds on the same row', async () => {
    const clientId = randomUUID();
    const path = `${w.tenantA}/${clientId}.jpg`;
    const pdf = new TextEncoder().encode('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n');
    must(await upload(w.techA.client, path, pdf, 'image/jpeg'), 'upload renamed pdf');
    const bad = await ocr(w.techA.client, { tenant_id: w.tenantA, path, client_id: clientId });
    expect(bad.status).toBe(415);
    expect(bad.body.code).toBe('unsupported_media_type');
    expect(bad.body.message).toBeTruthy();
    const id = bad.body.details!.repair_order_id!;
    const row = must(await w.techA.client.from('repair_orders').select('status, error_code, client_id').eq('id', id).single(), 'row');
    expect(row).toEqual({ status: 'failed', error_code: 'unsupported_media_type', client_id: clientId });
    expect((await w.techA.client.storage.from(BUCKET).download(path)).error).toBeNull();

    // The technician retakes the photo: same capture id, the real photo, OCR again on the same row.
    must(await upload(w.techA.client, path, sample(), 'image/jpeg', true), 're-upload');
    const ok = await ocr(w.techA.client, { tenant_id: w.tenantA, path, client_id: clientId });
    expect(ok.status).toBe(200);
    expect(ok.body.repair_order).toMatchObject({ id, status: 'needs_review' });
    const after = must(await w.techA.client.from('repair_orders').select('attempts, error_code').eq('id', id).single(), 'row');
    expect(after).toEqual({ attempts: 2, error_code: null });
  }, 90_000);

  it('HTML or SVG renamed to .jpg → 415', async () => {
    for (const text of ['<!doctype html><html><body>hi</body></html>', '<svg xmlns="http://www.w3.org/2000/svg"/>']) {
      const path = `${w.tenantA}/${randomUUID()}.jpg`;
      must(await upload(w.techA.client, path, new TextEncoder().encode(text)), 'upload');
      const r = await ocr(w.techA.client, { tenant_id: w.tenantA, path });
      expect(r.status).toBe(415);
      expect(r.body.code).toBe('unsupported_media_type');
    }
  });

  it('a decompression bomb (header declares 100 MP) → 413 image_too_large, before decoding', async () => {
    const path = `${w.tenantA}/${randomUUID()}.png`;
    must(await upload(w.techA.client, path, pngHeader(10_000, 10_000), 'image/png'), 'upload');
    const r = await ocr(w.techA.client, { tenant_id: w.tenantA, path });
    expect(r.status).toBe(413);
    expect(r.body.code).toBe('image_too_large');
  });

  it('a path outside the shop → 403; another shop\'s member → 403; a missing object → 404; bad bodies → 400', async () => {
    const path = `${w.tenantA}/${randomUUID()}.jpg`;
    must(await upload(w.techA.client, path, sample()), 'upload');

    const outside = await ocr(w.techA.client, { tenant_id: w.tenantA, path: `${w.tenantB}/${randomUUID()}.jpg` });
    expect(outside).toMatchObject({ status: 403, body: { code: 'path_outside_tenant' } });
    const traversal = await ocr(w.techA.client, { tenant_id: w.tenantA, path: `${w.tenantA}/../${w.tenantB}/x.jpg` });
    expect(traversal.status).toBe(400);
    const other = await ocr(w.ownerB.client, { tenant_id: w.tenantA, path });
    expect(other).toMatchObject({ status: 403, body: { code: 'not_a_member' } });
    const own = await ocr(w.ownerB.client, { tenant_id: w.tenantB, path: `${w.tenantB}/${path.split('/')[1]}` });
    expect(own).toMatchObject({ status: 404, body: { code: 'photo_not_found' } });
    const missing = await ocr(w.techA.client, { tenant_id: w.tenantA, path: `${w.tenantA}/${randomUUID()}.jpg` });
    expect(missing).toMatchObject({ status: 404, body: { code: 'photo_not_found' } });
    expect((await ocr(w.techA.client, { tenant_id: 'nope', path })).status).toBe(400);
    expect((await ocr(w.techA.client, { tenant_id: w.tenantA, path, client_id: 'x' })).status).toBe(400);

    // The anon key is not a user.
    const anon = await ocr(w.anon, { tenant_id: w.tenantA, path });
    expect(anon.status).toBe(401);
    // Nothing was created for any of the refused calls.
    const { rows } = await db().query('select count(*)::int as n from public.repair_orders where tenant_id = $1 and photo_path like $2', [w.tenantB, '%']);
    expect(rows[0].n).toBe(0);
  });
});

describe('repair_orders access', () => {
  it('clients read their shop\'s rows only and cannot write them directly or call the server-only RPCs', async () => {
    const rid = randomUUID();
    const row = must(await w.techA.client.rpc('begin_repair_order_ocr', {
      tenant_id: w.tenantA, client_id: rid, photo_path: `${w.tenantA}/${rid}.jpg`,
    }), 'begin') as { id: string; status: string };
    expect(row.status).toBe('processing');
    expect((await w.ownerB.client.from('repair_orders').select('id').eq('id', row.id)).data).toEqual([]);
    const ins = await w.techA.client.from('repair_orders').insert({ tenant_id: w.tenantA, client_id: randomUUID(), photo_path: `${w.tenantA}/x.jpg` });
    expect(ins.error?.code).toBe('42501');
    const upd = await w.ownerA.client.from('repair_orders').update({ status: 'reviewed' }).eq('id', row.id);
    expect(upd.error?.code).toBe('42501');
    const complete = await w.techA.client.rpc('complete_repair_order_ocr', { repair_order_id: row.id, raw_text: 'x', parsed: {}, engine: 'fake' });
    expect(complete.error).not.toBeNull();
    const begin = await w.ownerB.client.rpc('begin_repair_order_ocr', { tenant_id: w.tenantA, client_id: randomUUID(), photo_path: `${w.tenantA}/y.jpg` });
    expect(begin.error?.code).toBe('42501');
    const foreignPath = await w.techA.client.rpc('begin_repair_order_ocr', { tenant_id: w.tenantA, client_id: randomUUID(), photo_path: `${w.tenantB}/y.jpg` });
    expect(foreignPath.error?.message).toMatch(/^path_outside_tenant:/);
    // the same client_id cannot be re-pointed at another photo
    const conflict = await w.techA.client.rpc('begin_repair_order_ocr', { tenant_id: w.tenantA, client_id: rid, photo_path: `${w.tenantA}/other.jpg` });
    expect(conflict.error?.code).toBe('23505');
  });
});

/** A repair order with OCR results, as ro-ocr leaves it (begin as the tech, complete as the server). */
async function readyRepairOrder(parsed: Record<string, unknown> = {}): Promise<string> {
  const cid = randomUUID();
  const row = must(await w.techA.client.rpc('begin_repair_order_ocr', {
    tenant_id: w.tenantA, client_id: cid, photo_path: `${w.tenantA}/${cid}.jpg`,
  }), 'begin') as { id: string };
  must(await w.service.rpc('complete_repair_order_ocr', {
    repair_order_id: row.id, raw_text: 'text', engine: 'test',
    parsed: { name: null, phone: null, vehicle: null, vin: null, ro_number: null, confidence: {}, ...parsed },
  }), 'complete');
  return row.id;
}

describe('save_repair_order_review', () => {
  it('creates the customer, then reuses it by phone and extends its vehicles (deduplicated); links the RO; records consent once', async () => {
    const phone = `+1312555${String(Math.floor(Math.random() * 9000) + 1000)}`;
    const ro1 = await readyRepairOrder();
    const first = must(await w.techA.client.rpc('save_repair_order_review', {
      tenant_id: w.tenantA, repair_order_id: ro1, name: 'Victor  Silva', phone, vehicle: '2014 BMW 328i',
      vin: 'WBA3A5C51EF123456', ro_number: '74895', consent_source: 'signed_ro',
    }), 'save 1') as { customer_id: string; customer_created: boolean; vehicles: unknown[] };
    expect(first.customer_created).toBe(true);
    expect(first.vehicles).toEqual([{ label: '2014 BMW 328i', vin: 'WBA3A5C51EF123456' }]);

    // the same review again: nothing changes
    const again = must(await w.techA.client.rpc('save_repair_order_review', {
      tenant_id: w.tenantA, repair_order_id: ro1, name: 'Victor Silva', phone, vehicle: '2014 bmw 328I',
      vin: 'WBA3A5C51EF123456', ro_number: '74895', consent_source: 'signed_ro',
    }), 'save 1 again') as { customer_id: string; vehicles: unknown[] };
    expect(again.customer_id).toBe(first.customer_id);
    expect(again.vehicles).toHaveLength(1);

    // a second visit with another car: same customer, vehicles extended (newest first), name kept
    const ro2 = await readyRepairOrder();
    const second = must(await w.adminA.client.rpc('save_repair_order_review', {
      tenant_id: w.tenantA, repair_order_id: ro2, name: 'V. Silva', phone, vehicle: '2019 Honda Civic',
    }), 'save 2') as { customer_id: string; customer_created: boolean; vehicles: { label: string }[] };
    expect(second.customer_id).toBe(first.customer_id);
    expect(second.customer_created).toBe(false);
    expect(second.vehicles.map((v) => v.label)).toEqual(['2019 Honda Civic', '2014 BMW 328i']);

    const customer = must(await w.techA.client.from('customers').select('name, phone, vehicles').eq('id', first.customer_id).single(), 'customer');
    expect(customer).toMatchObject({ name: 'Victor Silva', phone });
    const ros = must(await w.techA.client.from('repair_orders').select('id, status, customer_id, ro_number, reviewed_by').in('id', [ro1, ro2]).order('created_at'), 'ros');
    expect(ros).toEqual([
      { id: ro1, status: 'reviewed', customer_id: first.customer_id, ro_number: '74895', reviewed_by: w.techA.id },
      { id: ro2, status: 'reviewed', customer_id: first.customer_id, ro_number: null, reviewed_by: w.adminA.id },
    ]);
    const consent = must(await w.techA.client.from('consent_events').select('action, source, source_detail, recorded_by').eq('phone', phone).eq('tenant_id', w.tenantA), 'consent');
    expect(consent).toEqual([{ action: 'opt_in', source: 'signed_ro', source_detail: 'repair order 74895', recorded_by: w.techA.id }]);
  });

  it('refuses bad input with a code and other shops\' members', async () => {
    const ro = await readyRepairOrder();
    const bad = await w.techA.client.rpc('save_repair_order_review', { tenant_id: w.tenantA, repair_order_id: ro, name: 'A', phone: '312-555-0101' });
    expect(bad.error?.message).toMatch(/^invalid_phone:/);
    const noName = await w.techA.client.rpc('save_repair_order_review', { tenant_id: w.tenantA, repair_order_id: ro, name: ' ', phone: '+13125550101' });
    expect(noName.error?.message).toMatch(/^invalid_name:/);
    const badVin = await w.techA.client.rpc('save_repair_order_review', { tenant_id: w.tenantA, repair_order_id: ro, name: 'A', phone: '+13125550101', vin: 'IOQ' });
    expect(badVin.error?.message).toMatch(/^invalid_vin:/);
    const keyword = await w.techA.client.rpc('save_repair_order_review', { tenant_id: w.tenantA, repair_order_id: ro, name: 'A', phone: '+13125550101', consent_source: 'keyword' });
    expect(keyword.error?.message).toMatch(/^invalid_consent_source:/);
    const foreign = await w.ownerB.client.rpc('save_repair_order_review', { tenant_id: w.tenantA, repair_order_id: ro, name: 'A', phone: '+13125550101' });
    expect(foreign.error?.code).toBe('42501');
    const wrongShop = await w.ownerB.client.rpc('save_repair_order_review', { tenant_id: w.tenantB, repair_order_id: ro, name: 'A', phone: '+13125550101' });
    expect(wrongShop.error?.message).toMatch(/^repair_order_not_found:/);
    const { rows } = await db().query('select status, customer_id from public.repair_orders where id = $1', [ro]);
    expect(rows[0]).toEqual({ status: 'needs_review', customer_id: null });
  });
});

describe('import_customers', () => {
  it('upserts valid rows, rejects bad ones with a reason, records consent with the file name; importing again changes nothing', async () => {
    const n = String(Math.floor(Math.random() * 9000) + 1000);
    const rows = [
      { row: 2, name: 'Ana Lopez', phone: `+1602555${n}`, email: 'Ana@Example.com', vehicle: '2015 Ford F-150', consent: true },
      { row: 3, name: 'Ben Ode', phone: `+1602556${n}`, consent: false },
      { row: 4, name: '', phone: `+1602557${n}` },
      { row: 5, name: 'No Phone', phone: '5551234' },
      { row: 6, name: 'Bad Mail', phone: `+1602558${n}`, email: 'not-an-email' },
      { row: 7, name: 'Ana L.', phone: `+1602555${n}`, vehicle: '2020 Tesla Model 3' },
    ];
    const file = `customers-${n}.csv`;
    const first = must(await w.techA.client.rpc('import_customers', { tenant_id: w.tenantA, rows, file_name: file }), 'import') as { row: number; status: string; reason?: string; consent?: string }[];
    expect(first.map((r) => [r.row, r.status, r.reason ?? r.consent ?? null])).toEqual([
      [2, 'created', 'recorded'], [3, 'created', null], [4, 'rejected', 'invalid_name'], [5, 'rejected', 'invalid_phone'],
      [6, 'rejected', 'invalid_email'], [7, 'updated', null],
    ]);
    const snapshot = async () => (await db().query(
      `select c.phone, c.name, c.email, c.vehicles, c.updated_at,
              (select count(*)::int from public.consent_events e where e.tenant_id = c.tenant_id and e.phone = c.phone) as consents
         from public.customers c where c.tenant_id = $1 and c.phone like $2 order by c.phone`, [w.tenantA, `+160255%${n}`])).rows;
    const before = await snapshot();
    expect(before).toHaveLength(2);
    expect(before[0]).toMatchObject({ name: 'Ana Lopez', email: 'ana@example.com', consents: 1 });
    expect(before[0].vehicles.map((v: { label: string }) => v.label)).toEqual(['2020 Tesla Model 3', '2015 Ford F-150']);

    const second = must(await w.techA.client.rpc('import_customers', { tenant_id: w.tenantA, rows, file_name: file }), 'import again') as { status: string; consent?: string }[];
    expect(second.map((r) => r.status)).toEqual(['unchanged', 'unchanged', 'rejected', 'rejected', 'rejected', 'unchanged']);
    expect(second[0]!.consent).toBe('already_recorded');
    expect(await snapshot()).toEqual(before);
  });

  it('does not re-opt-in a phone that opted out; refuses other shops and oversized batches', async () => {
    const phone = `+1602559${String(Math.floor(Math.random() * 9000) + 1000)}`;
    must(await w.service.from('consent_events').insert({ tenant_id: w.tenantA, phone, action: 'opt_out', source: 'keyword', source_detail: 'STOP' }), 'opt-out');
    const r = must(await w.techA.client.rpc('import_customers', { tenant_id: w.tenantA, rows: [{ name: 'Quiet', phone, consent: true }], file_name: 'old.csv' }), 'import') as { consent?: string }[];
    expect(r[0]!.consent).toBe('skipped_opted_out');
    const foreign = await w.ownerB.client.rpc('import_customers', { tenant_id: w.tenantA, rows: [{ name: 'X', phone: '+16025550000' }], file_name: 'x.csv' });
    expect(foreign.error?.code).toBe('42501');
    const big = await w.techA.client.rpc('import_customers', { tenant_id: w.tenantA, rows: Array.from({ length: 1001 }, () => ({})), file_name: 'x.csv' });
    expect(big.error?.message).toMatch(/^too_many_rows:/);
  });
});

describe('customers and consent across shops', () => {
  it('B sees none of A\'s customers or consent, and cannot record consent for A', async () => {
    const n = String(Math.floor(Math.random() * 9000) + 1000);
    const c = must(await w.techA.client.from('customers').insert({ tenant_id: w.tenantA, name: 'Cross Test', phone: `+1415555${n}`, created_by: w.techA.id }).select('id').single(), 'customer') as { id: string };
    must(await w.techA.client.from('consent_events').insert({ tenant_id: w.tenantA, customer_id: c.id, phone: `+1415555${n}`, action: 'opt_in', source: 'verbal', recorded_by: w.techA.id }), 'consent');
    expect((await w.ownerB.client.from('customers').select('id').eq('id', c.id)).data).toEqual([]);
    expect((await w.ownerB.client.from('consent_events').select('id').eq('customer_id', c.id)).data).toEqual([]);
    const forged = await w.ownerB.client.from('consent_events').insert({ tenant_id: w.tenantA, phone: `+1415555${n}`, action: 'opt_out', source: 'staff', recorded_by: w.ownerB.id });
    expect(forged.error?.code).toBe('42501');
    const upd = await w.ownerB.client.from('customers').update({ name: 'Hijacked' }).eq('id', c.id).select('id');
    expect(upd.data ?? []).toEqual([]);
    const still = must(await w.techA.client.from('customers').select('name').eq('id', c.id).single(), 'still');
    expect(still).toEqual({ name: 'Cross Test' });
  });
});

describe('CSV import end to end (PWA logic → import_customers in batches)', () => {
  it('imports a 10,000-row file with a BOM, semicolons, duplicates and bad rows; the same file again changes nothing', async () => {
    const { parseCsv, guessMapping, normaliseRecords, rpcBatches } = await import('../../web/src/features/customers/csv.ts');
    const prefix = String(200 + Math.floor(Math.random() * 700)); // a fresh exchange per run: +1 415 <prefix> xxxx
    const lines = ['\uFEFFNom;Téléphone;Véhicule;SMS opt-in'];
    for (let i = 0; i < 10_000; i++) {
      if (i % 1000 === 999) { lines.push(`Bad ${i};not a phone;;yes`); continue; }
      const n = String(i % 9500).padStart(4, '0'); // 500 numbers appear twice: merged in the file
      lines.push(`"Client ${i}, Jr";(415) ${prefix}-${n};Car ${i % 5};${i % 3 === 0 ? 'oui' : 'non'}`);
    }
    const parsed = parseCsv(lines.join('\r\n'));
    const mapping = guessMapping(parsed.headers);
    mapping[0] = 'name'; // "Nom" is guessed as a last name; the technician maps it to the full name
    const result = normaliseRecords(parsed, mapping, { defaultCountry: 'US' });
    expect(result.rejected).toHaveLength(10);
    expect(result.customers.length + result.merged.length + result.rejected.length).toBe(10_000);
    const batches = rpcBatches(result.customers);
    const file = `export-${prefix}.csv`;

    const send = async () => {
      const statuses: Record<string, number> = {};
      for (const b of batches) {
        const out = must(await w.adminA.client.rpc('import_customers', { tenant_id: w.tenantA, rows: b, file_name: file }), 'batch') as { status: string }[];
        for (const o of out) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
      }
      return statuses;
    };
    const snapshot = async () => (await db().query(
      `select count(*)::int as customers, max(updated_at) as last_update,
              (select count(*)::int from public.consent_events e where e.tenant_id = $1 and e.source_detail = $3) as consents
         from public.customers c where c.tenant_id = $1 and c.phone like $2`,
      [w.tenantA, `+1415${prefix}%`, `csv import: ${file}`])).rows[0];

    const t0 = Date.now();
    const first = await send();
    const firstMs = Date.now() - t0;
    expect(first.rejected ?? 0).toBe(0);
    expect(first.created).toBe(result.customers.length);
    const after = await snapshot();
    expect(after.customers).toBe(result.customers.length);
    expect(after.consents).toBe(result.customers.filter((c) => c.consent).length);

    const second = await send();
    expect(Object.keys(second)).toEqual(['unchanged']);
    expect(await snapshot()).toEqual(after);
    console.info(`[capture] 10,000-row import: ${batches.length} batches, first pass ${firstMs} ms`);
  }, 240_000);
});

describe('usage from ro-ocr', () => {
  it('records ai_requests per attempt and ocr_pages once per repair order', async () => {
    const cid = randomUUID();
    const row = must(await w.techA.client.rpc('begin_repair_order_ocr', { tenant_id: w.tenantA, client_id: cid, photo_path: `${w.tenantA}/${cid}.jpg` }), 'begin') as { id: string };
    must(await w.service.rpc('fail_repair_order_ocr', { repair_order_id: row.id, error_code: 'ocr_rate_limited', error_message: 'busy', ai_requests: 1, attempt_id: 'a1' }), 'fail');
    must(await w.service.rpc('complete_repair_order_ocr', { repair_order_id: row.id, raw_text: 't', parsed: {}, engine: 'openai:gpt-4o-mini', ai_requests: 2, attempt_id: 'a2' }), 'complete');
    // a replayed completion changes nothing
    must(await w.service.rpc('complete_repair_order_ocr', { repair_order_id: row.id, raw_text: 't', parsed: {}, engine: 'openai:gpt-4o-mini', ai_requests: 2, attempt_id: 'a3' }), 'complete again');
    const { rows } = await db().query(
      `select metric, sum(quantity)::int as n from public.usage_events where tenant_id = $1 and (source_id = $2 or source_id like $3) group by metric order by metric`,
      [w.tenantA, row.id, `${row.id}/%`]);
    expect(rows).toEqual([{ metric: 'ai_requests', n: 3 }, { metric: 'ocr_pages', n: 1 }]);
  });
});
