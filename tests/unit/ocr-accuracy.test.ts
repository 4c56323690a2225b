/**
 * End-to-end accuracy of photo → Tesseract → parser, on photos the parser was NOT tuned on:
 * - the team's 8 photographed ROs (../shared/samples/repair-orders): the targets apply in full;
 * - the generated `holdout` set (other seed, two layouts never seen while tuning, heavy degradations):
 *   phone and name are below the targets on the degraded photos (see docs/benchmarks.md "OCR"),
 *   so this set guards the numbers actually reached and names the gap instead of pretending.
 * The dev set (tuned on) and timings live in tests/bench/ocr.bench.ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createTesseractEngine, extractRepairOrder, type ParsedRepairOrder } from '../../supabase/functions/_shared/ocr/index.ts';
import { loadSet, pct, tally, type Sample } from '../fixtures/repair-orders/tools/eval.ts';

const engine = createTesseractEngine();
afterAll(() => engine.close());

async function run(samples: Sample[]) {
  const rows: { sample: Sample; parsed: ParsedRepairOrder }[] = [];
  for (const s of samples) rows.push({ sample: s, parsed: (await extractRepairOrder(new Uint8Array(readFileSync(s.file)), engine)).parsed });
  return { rows, t: tally(rows) };
}
const rate = (t: ReturnType<typeof tally>, f: 'name' | 'phone' | 'vehicle' | 'vin' | 'ro_number') => pct(t.ok[f], t.n[f]);

describe('OCR accuracy on photos the parser was not tuned on', () => {
  it('shared samples: phone 100 %, name ≥ 97 %, vehicle ≥ 95 %, RO 100 %', async () => {
    const { t } = await run(loadSet('shared'));
    const report = t.misses.map((m) => `${m.id} ${m.field}: want ${JSON.stringify(m.want)} got ${JSON.stringify(m.got)}`).join('\n');
    expect(t.n.phone, 'all 8 shared photos scored').toBe(8);
    expect(rate(t, 'phone'), report).toBe(100);
    expect(rate(t, 'name'), report).toBeGreaterThanOrEqual(97);
    expect(rate(t, 'vehicle'), report).toBeGreaterThanOrEqual(95);
    expect(rate(t, 'ro_number'), report).toBe(100);
  }, 120_000);

  it('generated holdout (degraded photos): guards the reached accuracy; targets not met on degraded photos (name 97 %, phone 100 %)', async () => {
    const samples = loadSet('holdout');
    const { rows, t } = await run(samples);
    const report = t.misses.map((m) => `${m.id} ${m.field}: want ${JSON.stringify(m.want)} got ${JSON.stringify(m.got)}`).join('\n');
    // Floors = what the engine reaches today (docs/benchmarks.md), so a regression fails the build.
    expect(rate(t, 'phone'), report).toBeGreaterThanOrEqual(97.5);
    expect(rate(t, 'name'), report).toBeGreaterThanOrEqual(90);
    expect(rate(t, 'vehicle'), report).toBeGreaterThanOrEqual(95);
    expect(rate(t, 'vin'), report).toBeGreaterThanOrEqual(90);
    expect(rate(t, 'ro_number'), report).toBeGreaterThanOrEqual(92.5);
    // Never a distractor: no shop phone, no staff name, whatever else went wrong.
    for (const { sample, parsed } of rows) {
      const d = (JSON.parse(readFileSync(sample.file.replace(/[^/]+$/, 'truth.json'), 'utf8')) as Record<string, { distractors: { shop_phone: string; staff: string[] } }>)[sample.file.split('/').pop()!].distractors;
      expect(parsed.phone, `${sample.id} took the shop's phone`).not.toBe(d.shop_phone);
      // staff names may legitimately equal a customer's first name only when single-word; compare full strings
      expect(d.staff.map((x) => x.toLowerCase()), `${sample.id} took a staff name`).not.toContain(parsed.name?.toLowerCase() ?? '∅');
    }
    // A wrong answer should look doubtful: misses carry less confidence than hits on average.
    const conf = (hit: boolean) => {
      const xs = rows.flatMap(({ sample, parsed }) => (['name', 'phone', 'vehicle'] as const)
        .filter((f) => parsed[f] !== null && (t.misses.some((m) => m.id === sample.id && m.field === f) !== hit))
        .map((f) => parsed.confidence[f]));
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
    };
    if (!Number.isNaN(conf(false))) expect(conf(false)).toBeLessThan(conf(true));
  }, 300_000);
});
