/** The Tesseract engine's contract: local model, one reused worker, orientation handling, clear errors. */
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createTesseractEngine, extractRepairOrder, OcrError } from '../../supabase/functions/_shared/ocr/index.ts';
import { heicWithExif } from '../fixtures/repair-orders/tools/craft-images.ts';
import { loadSet } from '../fixtures/repair-orders/tools/eval.ts';

const engine = createTesseractEngine();
afterAll(() => engine.close());
const sample = loadSet('shared').find((s) => s.id === 'ro-003')!;

/** The sample turned 90° counter-clockwise: what a phone stores when EXIF orientation 6 says "turn me 90° CW". */
async function sideways(file: string): Promise<Uint8Array> {
  const img = await loadImage(file);
  const c = createCanvas(img.height, img.width);
  const ctx = c.getContext('2d');
  ctx.translate(0, img.width);
  ctx.rotate(-Math.PI / 2);
  ctx.drawImage(img, 0, 0);
  return new Uint8Array(c.encodeSync('jpeg', 90));
}

describe('Tesseract engine', () => {
  it('reads a photo with the model from node_modules and reuses its worker', async () => {
    const a = await extractRepairOrder(new Uint8Array(readFileSync(sample.file)), engine);
    expect(a.parsed).toMatchObject({ name: sample.truth.name, phone: sample.truth.phone, ro_number: sample.truth.ro_number });
    expect(a.ocr.text).toMatch(/REPAIR ORDER/);
    expect(a.ocr.lines!.length).toBeGreaterThan(5);
    expect(a.ocr.lines![0].words![0].bbox).toHaveProperty('x0');
    // the second call does not pay the worker start again
    const b = await engine.recognize(new Uint8Array(readFileSync(sample.file)));
    expect(b.ms).toBeLessThan(a.ocr.ms + 1500);
  }, 60_000);

  it('honours the EXIF orientation the upload carried (6 = turn 90° clockwise)', async () => {
    const bytes = await sideways(sample.file);
    const e = createTesseractEngine({ tryRotations: false });
    try {
      const r = await extractRepairOrder(bytes, e, { orientation: 6 });
      expect(r.parsed.phone).toBe(sample.truth.phone);
      expect(r.ocr.notes).toContain('exif orientation 6');
    } finally { await e.close(); }
  }, 60_000);

  it('finds the orientation itself when the photo is sideways and carries no EXIF', async () => {
    const r = await extractRepairOrder(await sideways(sample.file), engine);
    expect(r.parsed.name).toBe(sample.truth.name);
    expect(r.parsed.phone).toBe(sample.truth.phone);
  }, 60_000);

  it('bad input gives a clear OcrError, and the engine keeps working afterwards', async () => {
    await expect(engine.recognize(new Uint8Array(0))).rejects.toMatchObject({ code: 'invalid_image', status: 400 });
    await expect(engine.recognize(heicWithExif().bytes)).rejects.toMatchObject({ code: 'unsupported_for_ocr', status: 415, retryable: false });
    const broken = new Uint8Array(readFileSync(sample.file)).slice(0, 600); // a JPEG cut short
    const err = await engine.recognize(broken).catch((e) => e);
    expect(err).toBeInstanceOf(OcrError);
    expect(err.code).toBe('ocr_failed');
    const ok = await engine.recognize(new Uint8Array(readFileSync(sample.file)));
    expect(ok.text).toMatch(/REPAIR ORDER/);
  }, 60_000);
});
