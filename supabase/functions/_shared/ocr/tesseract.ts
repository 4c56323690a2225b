/**
 * The default OCR engine: tesseract.js (WebAssembly) with the English LSTM model from the npm package
 * `@tesseract.js-data/eng`, read from the local package directory — nothing is fetched at run time
 * (the core wasm is `require`d from `tesseract.js-core`, the worker script is the package's own file,
 * the traineddata comes from `langPath` on disk, and caching to disk is off).
 *
 * One worker is created lazily and reused for every call (init costs ~0.4 s; a page ~0.3–1 s).
 * Page orientation: EXIF orientation when the caller still knows it, Tesseract's own skew estimate
 * (`rotateAuto`) for tilted photos, and when the first pass reads poorly, the page is tried at 90°, 270°
 * and 180° and the best-reading orientation kept (the `osd` model is not shipped, so this replaces it).
 *
 * Runs in Node (worker_threads) and in Deno 2 (npm: specifiers with node compat; needs --allow-read and
 * --allow-env, no network permission).
 */
import Tesseract from 'tesseract.js';
// @ts-ignore: the data package ships no types; it is CommonJS `{ code, gzip, langPath }`
import engData from '@tesseract.js-data/eng';
import { deskewGray, encodePgm, prepareGray, removeRules, rotateGray, textOrientation, type GrayImage, type PreprocessOptions } from '../image/preprocess.ts';
import { OcrError, type OcrEngine, type OcrLine, type OcrResult, type OcrWord, type RecognizeOptions } from './types.ts';

export interface TesseractEngineOptions {
  /**
   * Directory holding `eng.traineddata.gz`. Default: the `4.0.0_best_int` model of `@tesseract.js-data/eng`
   * (LSTM-only, 2.9 MB, what tesseract.js itself uses for LSTM). `model: 'standard'` picks `4.0.0`.
   */
  langPath?: string;
  model?: 'best_int' | 'standard';
  /** Below this mean word confidence (0..100), other page orientations are tried. Default 70. */
  retryBelowConfidence?: number;
  /** Try 90°/270°/180° when the first pass reads poorly. Default true. */
  tryRotations?: boolean;
  /** Estimate and undo small skews (Tesseract's text-line angle). Default true. */
  deskew?: boolean;
  /** Grayscale, scale to ~2000 px and flatten lighting before OCR (JPEG only). Default true; false = raw bytes. */
  preprocess?: boolean | PreprocessOptions;
  /** Tesseract page segmentation mode (default '3', fully automatic). */
  psm?: '3' | '4' | '6' | '11' | '12';
  /** Erase table rules and boxes before OCR (JPEG path). Default false: measured to lose boxed text. */
  removeRules?: boolean;
  /** Give up on one page after this long (the worker is then restarted). Default 30 s. */
  timeoutMs?: number;
}

/** Clockwise quarter turns that put the page upright for EXIF orientations (mirrored ones use their rotation). */
const EXIF_QUARTER_TURNS: Record<number, number> = { 3: 2, 4: 2, 5: 1, 6: 1, 7: 3, 8: 3 };

interface Pass { lines: OcrLine[]; text: string; confidence: number; score: number; radians: number }

function defaultLangPath(model: 'best_int' | 'standard'): string {
  const base: string = (engData as { langPath: string }).langPath; // …/@tesseract.js-data/eng/4.0.0
  return model === 'standard' ? base : base.replace(/4\.0\.0$/, '4.0.0_best_int');
}

/** Words → lines with confidences and boxes, from tesseract.js's block tree. */
function linesOf(page: Tesseract.Page): OcrLine[] {
  const out: OcrLine[] = [];
  for (const b of page.blocks ?? []) {
    for (const p of b.paragraphs) {
      for (const l of p.lines) {
        const words: OcrWord[] = l.words.map((w) => ({ text: w.text, confidence: w.confidence, bbox: { ...w.bbox } }));
        const text = l.text.replace(/\s+$/, '');
        if (!text.trim()) continue;
        out.push({ text, confidence: l.confidence, bbox: { ...l.bbox }, words });
      }
    }
  }
  return out;
}

/** How well a pass reads: confident words that look like words. Garbage from a sideways page scores low. */
function readingScore(lines: OcrLine[]): { score: number; confidence: number } {
  let n = 0, sum = 0, good = 0;
  for (const l of lines) for (const w of l.words ?? []) {
    const t = w.text.replace(/[^\p{L}\d]/gu, '');
    if (!t) continue;
    n++;
    sum += w.confidence;
    if (t.length >= 3 && w.confidence >= 80) good += t.length;
  }
  return { score: good, confidence: n ? sum / n : 0 };
}

export function createTesseractEngine(opts: TesseractEngineOptions = {}): OcrEngine & { close(): Promise<void> } {
  const langPath = opts.langPath ?? defaultLangPath(opts.model ?? 'best_int');
  const retryBelow = opts.retryBelowConfidence ?? 70;
  const tryRotations = opts.tryRotations ?? true;
  const deskew = opts.deskew ?? true;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const eraseRules = opts.removeRules ?? false;
  const prep: PreprocessOptions | null = opts.preprocess === false ? null : typeof opts.preprocess === 'object' ? opts.preprocess : {};
  let worker: Promise<Tesseract.Worker> | null = null;
  let queue: Promise<unknown> = Promise.resolve();

  const getWorker = () => {
    worker ??= (async () => {
      const w = await Tesseract.createWorker('eng', Tesseract.OEM.LSTM_ONLY, {
        langPath,
        gzip: true,
        cacheMethod: 'none', // read from langPath every start; never write eng.traineddata into the cwd
        logger: () => {},
        errorHandler: () => {},
      });
      await w.setParameters({
        tessedit_pageseg_mode: (opts.psm ?? '3') as Tesseract.PSM,
        preserve_interword_spaces: '1',
        user_defined_dpi: '300',
      });
      return w;
    })().catch((e) => {
      worker = null;
      throw new OcrError('ocr_engine_unavailable', `Tesseract could not start: ${String((e as Error)?.message ?? e)}`, true, 503);
    });
    return worker;
  };

  const pass = async (w: Tesseract.Worker, image: Uint8Array, radians: number, auto: boolean): Promise<Pass> => {
    const r = await w.recognize(image as unknown as Buffer, { rotateRadians: radians, rotateAuto: auto }, { text: true, blocks: true });
    const lines = linesOf(r.data);
    const { score, confidence } = readingScore(lines);
    return { lines, text: r.data.text, confidence, score, radians: (r.data.rotateRadians ?? radians) };
  };

  /** Is this reading good enough to stop trying other orientations? */
  const good = (p: Pass) => p.confidence >= retryBelow && p.score >= 60;

  const run = async (original: Uint8Array, o: RecognizeOptions): Promise<OcrResult> => {
    const t0 = Date.now();
    const w = await getWorker();
    const notes: string[] = [];
    const exifTurn = o.orientation ? EXIF_QUARTER_TURNS[o.orientation] ?? 0 : 0;
    if (exifTurn) notes.push(`exif orientation ${o.orientation}`);
    let gray: GrayImage | null = null;
    if (prep) {
      try {
        const p = prepareGray(original, prep);
        if (p) { gray = p.gray; notes.push(`${p.steps.join(', ')} → ${p.gray.width}×${p.gray.height}`); }
      } catch (e) {
        notes.push(`preprocess skipped: ${String((e as Error)?.message ?? e)}`);
      }
    }

    let bestPass: Pass;
    if (gray) {
      // Quarter turns to try, most likely first: from EXIF when known, else from the direction of the text lines.
      let order: number[];
      if (exifTurn) order = [exifTurn];
      else if (!tryRotations) order = [0];
      else {
        const orient = textOrientation(gray);
        order = orient.ratio >= 1 ? [0, 2] : [1, 3, 0];
        notes.push(`text lines ${orient.sideways ? 'vertical' : 'horizontal'} (${orient.ratio.toFixed(2)})`);
      }
      let b: Pass | null = null;
      for (const q of order) {
        if (o.signal?.aborted) break;
        let page = rotateGray(gray, q);
        let skew = 0;
        if (deskew) {
          // Large tilts (5–10°) defeat Tesseract's own line finding: straighten them here first.
          const t = textOrientation(page);
          if (!t.sideways && Math.abs(t.angle) >= 1) { skew = t.angle; page = deskewGray(page, skew); }
        }
        if (eraseRules) page = removeRules(page);
        const p = await pass(w, encodePgm(page), 0, deskew);
        p.radians += (q * Math.PI) / 2 - (skew * Math.PI) / 180;
        if (order.length > 1) notes.push(`${q * 90}°: conf ${p.confidence.toFixed(0)} score ${p.score}`);
        if (!b || p.score > b.score) b = p;
        if (good(p)) break;
      }
      bestPass = b!;
    } else {
      // Encoded bytes straight to Tesseract (PNG/WebP, or preprocessing off): it turns them itself.
      const exifRad = exifTurn ? (exifTurn * Math.PI) / 2 : 0;
      bestPass = await pass(w, original, exifRad, deskew && !exifRad);
      if (tryRotations && !exifRad && !good(bestPass)) {
        for (const turn of [Math.PI / 2, -Math.PI / 2, Math.PI]) {
          if (o.signal?.aborted) break;
          const p = await pass(w, original, turn, false);
          notes.push(`${Math.round((turn * 180) / Math.PI)}°: conf ${p.confidence.toFixed(0)} score ${p.score}`);
          if (p.score > bestPass.score) bestPass = p;
          if (good(bestPass)) break;
        }
      }
    }
    notes.push(`rotation ${((bestPass.radians * 180) / Math.PI).toFixed(1)}°`);
    return {
      text: bestPass.lines.map((l) => l.text).join('\n'),
      lines: bestPass.lines,
      confidence: Math.round(bestPass.confidence) / 100,
      ms: Date.now() - t0,
      notes,
    };
  };

  const engine = {
    name: 'tesseract',
    recognize(image: Uint8Array, o: RecognizeOptions = {}): Promise<OcrResult> {
      if (!(image instanceof Uint8Array) || image.length === 0) {
        return Promise.reject(new OcrError('invalid_image', 'No image bytes were given to OCR.', false, 400));
      }
      if (image.length >= 12 && String.fromCharCode(...image.subarray(4, 8)) === 'ftyp') {
        return Promise.reject(new OcrError('unsupported_for_ocr',
          'HEIC photos cannot be read by the on-server OCR; upload a JPEG (the app converts photos before upload).', false, 415));
      }
      const job = queue.then(() => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            // a stuck worker is replaced rather than reused
            const dead = worker;
            worker = null;
            void dead?.then((x) => x.terminate()).catch(() => {});
            reject(new OcrError('ocr_timeout', `OCR took longer than ${timeoutMs} ms.`, true, 504));
          }, timeoutMs);
        });
        return Promise.race([run(image, o), timeout]).finally(() => clearTimeout(timer));
      }).catch((e) => {
        if (e instanceof OcrError) throw e;
        throw new OcrError('ocr_failed', `Tesseract could not read the image: ${String((e as Error)?.message ?? e)}`, true, 502);
      });
      queue = job.catch(() => {});
      return job;
    },
    async close(): Promise<void> {
      const w = worker;
      worker = null;
      if (w) await (await w.catch(() => null))?.terminate();
    },
  };
  return engine;
}
