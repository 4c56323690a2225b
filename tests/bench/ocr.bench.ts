/**
 * OCR benchmark: per-field accuracy and time per photo for the Tesseract engine on
 * - `shared`  the 8 photographed ROs in ../shared/samples/repair-orders (SP_RO_SAMPLES overrides the path),
 * - `dev`     72 generated forms the parser was tuned on,
 * - `holdout` 40 generated forms (other seed, two extra layouts) the parser was never tuned on.
 *
 *   npx tsx tests/bench/ocr.bench.ts                 # all sets, writes the "OCR" section of docs/benchmarks.md
 *   npx tsx tests/bench/ocr.bench.ts --sets holdout  # some sets, prints only
 *   npx tsx tests/bench/ocr.bench.ts --no-write --engine-opts '{"preprocess":false}'
 *
 * Times are wall time of engine.recognize() per photo (decode, preprocessing, orientation search, OCR)
 * with one warm worker, one photo at a time — the way the edge function runs it. Worker start-up is
 * reported separately.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTesseractEngine, extractRepairOrder, type TesseractEngineOptions } from '../../supabase/functions/_shared/ocr/index.ts';
import { loadSet, pct, SCORED, tally, type Sample } from '../fixtures/repair-orders/tools/eval.ts';

const here = dirname(fileURLToPath(import.meta.url));
const DOC = join(here, '..', '..', 'docs', 'benchmarks.md');

const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const sets = (arg('--sets') ?? 'shared,dev,holdout').split(',') as ('shared' | 'dev' | 'holdout')[];
const engineOpts = JSON.parse(arg('--engine-opts') ?? '{}') as TesseractEngineOptions;
const write = !process.argv.includes('--no-write') && !arg('--sets') && !arg('--engine-opts');
const verbose = process.argv.includes('--verbose');

const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

const t0 = Date.now();
const engine = createTesseractEngine(engineOpts);
// warm-up: start the worker and load the model (not counted per photo)
const warm = Date.now();
await engine.recognize(new Uint8Array(readFileSync(loadSet(sets[0])[0].file))).catch(() => null);
const startupMs = Date.now() - warm;

interface Row { set: string; n: number; acc: Record<string, string>; p50: number; p95: number; max: number; misses: string[] }
const rows: Row[] = [];
for (const set of sets) {
  let samples: Sample[];
  try { samples = loadSet(set); } catch (e) { console.warn(`[bench] skip ${set}: ${(e as Error).message}`); continue; }
  const results = [];
  const times: number[] = [];
  for (const s of samples) {
    const r = await extractRepairOrder(new Uint8Array(readFileSync(s.file)), engine);
    times.push(r.ocr.ms);
    results.push({ sample: s, parsed: r.parsed });
    if (verbose) console.log(s.id, r.ocr.ms, 'ms', r.ocr.notes?.join('; '));
  }
  const t = tally(results);
  const acc: Record<string, string> = {};
  for (const f of SCORED) acc[f] = t.n[f] ? `${pct(t.ok[f], t.n[f]).toFixed(1)}% (${t.ok[f]}/${t.n[f]})` : 'n/a';
  rows.push({
    set, n: samples.length, acc, p50: q(times, 0.5), p95: q(times, 0.95), max: Math.max(...times),
    misses: t.misses.map((m) => `${m.id} ${m.field}: want ${JSON.stringify(m.want)}, got ${JSON.stringify(m.got)}`),
  });
  console.log(`[bench] ${set}: ${samples.length} photos  ${SCORED.map((f) => `${f} ${acc[f]}`).join(' | ')}  p50 ${q(times, 0.5)} ms  p95 ${q(times, 0.95)} ms`);
  for (const m of rows[rows.length - 1].misses) console.log(`   miss ${m}`);
}
await engine.close();

// What the preprocessing buys: the same generated photos with parts of it switched off.
const variants: { label: string; opts: TesseractEngineOptions }[] = [
  { label: 'no preprocessing (encoded photo straight to Tesseract, its own orientation tries)', opts: { preprocess: false } },
  { label: 'preprocessing, but no orientation search / JS deskew', opts: { tryRotations: false, deskew: false } },
  { label: 'preprocessing + erasing table rules', opts: { removeRules: true } },
];
const compare: string[] = [];
if (write || process.argv.includes('--compare')) {
  for (const v of variants) {
    const e = createTesseractEngine({ ...engineOpts, ...v.opts });
    await e.recognize(new Uint8Array(readFileSync(loadSet('dev')[0].file))).catch(() => null);
    const results = [];
    const times: number[] = [];
    for (const set of ['dev', 'holdout'] as const) for (const s of loadSet(set)) {
      const r = await extractRepairOrder(new Uint8Array(readFileSync(s.file)), e).catch(() => null);
      if (r) times.push(r.ocr.ms);
      results.push({ sample: s, parsed: r?.parsed ?? { name: null, phone: null, vehicle: null, vin: null, ro_number: null, confidence: { name: 0, phone: 0, vehicle: 0, vin: 0, ro_number: 0 } } });
    }
    await e.close();
    const t = tally(results);
    const f = (k: 'name' | 'phone' | 'vehicle') => `${pct(t.ok[k], t.n[k]).toFixed(1)}%`;
    compare.push(`| ${v.label} | ${f('name')} | ${f('phone')} | ${f('vehicle')} | ${(q(times, 0.5) / 1000).toFixed(2)} s | ${(q(times, 0.95) / 1000).toFixed(2)} s |`);
    console.log(`[bench] variant ${v.label}: ${compare[compare.length - 1]}`);
  }
}
const both = rows.filter((r) => r.set !== 'shared');

const table = [
  '| set | photos | name | phone | vehicle | VIN | RO number | p50 | p95 | max |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.set} | ${r.n} | ${r.acc.name} | ${r.acc.phone} | ${r.acc.vehicle} | ${r.acc.vin} | ${r.acc.ro_number} | ${(r.p50 / 1000).toFixed(2)} s | ${(r.p95 / 1000).toFixed(2)} s | ${(r.max / 1000).toFixed(2)} s |`),
].join('\n');
console.log('\n' + table);

if (write) {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  const section = `## OCR

Repair-order photos → \`extractRepairOrder\` with the Tesseract engine (tesseract.js 7.0.0, \`@tesseract.js-data/eng\`
4.0.0_best_int, LSTM only), as \`ro-ocr\` runs it: one warm worker, one photo at a time. Per photo: JPEG decode to gray,
scale to a 2000 px long edge when outside 1600–2600 px, illumination flattening, text-line direction and skew
estimate, deskew ≥ 1°, OCR (Tesseract's own fine deskew on), other quarter turns only when the first reading is poor.
Produced by \`npx tsx tests/bench/ocr.bench.ts\` on ${machine}; ${new Date().toISOString().slice(0, 10)}; worker start plus the
first photo ${startupMs} ms (once per function instance, not in the per-photo times); whole run ${((Date.now() - t0) / 1000).toFixed(0)} s.

Sets: **shared** — the team's 8 photographed ROs; **dev** — 72 generated forms (seed 1; auto RO, device ticket,
detailing WO, lawn/cleaning job sheet, boxed form) the parser was tuned on; **holdout** — 40 generated forms (seed 2,
adding a table-row layout and an invoice/Sold-To layout never seen while tuning). Generated by
\`tests/fixtures/repair-orders/tools/generate-ros.ts\`: 13 fonts, label words, 8 phone formats, names from many cultures,
shop phone / fax and staff names as distractors; degradations blur, 5–10° tilt, perspective, 90°/180°/270° turns,
low contrast, noise, shadows, JPEG q45–80, 1200–2000 px.

Scoring: phone, VIN and RO exact (E.164 for phones); name and vehicle case-insensitive with whitespace collapsed.
Targets (issue 6, forms never seen): phone 100 %, name ≥ 97 %, vehicle ≥ 95 %, p50 < 1.5 s.

${table}

**Gap to the targets (honest):** the shared samples meet every target. On the generated holdout the phone is
below 100 % and the name below 97 %. The misses (listed below) are photos where Tesseract loses or garbles the
customer's line — in the two "mild" holdout misses inspected (holdout-013 boxed, holdout-034 table row) the name is
absent from Tesseract's text altogether (a dropped box cell / table column); the others are blur, quarter turns and
tilted small print. Closing that gap needs a better reader (the OpenAI engine when \`OPENAI_API_KEY\` is set, or a
stronger model), which is why every field carries a confidence and the review screen highlights low ones.

Ablation on dev + holdout (${both.reduce((n, r) => n + r.n, 0)} photos):

| variant | name | phone | vehicle | p50 | p95 |
|---|---|---|---|---|---|
| default (as above) | ${(() => { const ok = (k: string) => both.reduce((n, r) => n + Number(r.acc[k].match(/\((\d+)\//)?.[1] ?? 0), 0); const n = both.reduce((a, r) => a + r.n, 0); return ['name', 'phone', 'vehicle'].map((k) => `${((100 * ok(k)) / n).toFixed(1)}%`).join(' | '); })()} | – | – |
${compare.join('\n')}

Misses (${rows.reduce((n, r) => n + r.misses.length, 0)}):
${rows.flatMap((r) => r.misses.map((m) => `- ${r.set}: ${m}`)).join('\n') || '- none'}
`;
  let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n\nSpeed and accuracy measurements; each section is written by its benchmark script in `tests/bench/`.\n';
  const re = /## OCR\n[\s\S]*?(?=\n## |$)/;
  doc = re.test(doc) ? doc.replace(re, section.trimEnd() + '\n') : doc.trimEnd() + '\n\n' + section;
  writeFileSync(DOC, doc);
  console.log(`[bench] wrote the OCR section of ${DOC}`);
}
