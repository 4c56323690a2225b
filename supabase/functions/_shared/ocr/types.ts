/** Shared shapes of the OCR engines and the repair-order parser. Pure types: Deno and Node alike. */

export interface BBox { x0: number; y0: number; x1: number; y1: number }

export interface OcrWord { text: string; confidence: number; bbox: BBox }

/** One recognised text line. `confidence` is 0..100 (Tesseract's scale). */
export interface OcrLine { text: string; confidence: number; bbox: BBox; words?: OcrWord[] }

export const FIELDS = ['name', 'phone', 'vehicle', 'vin', 'ro_number'] as const;
export type FieldName = typeof FIELDS[number];

/** What the review screen shows: each field or null, and a 0..1 confidence per field (0 when null). */
export interface ParsedRepairOrder {
  name: string | null;
  /** E.164, e.g. +16028660791 */
  phone: string | null;
  /** "2019 Toyota Camry", or a device such as "iPhone 14 Pro" */
  vehicle: string | null;
  /** 17 characters, check digit validated where it applies */
  vin: string | null;
  ro_number: string | null;
  confidence: Record<FieldName, number>;
}

/** One AI call for the usage ledger (`ai_requests`). Never contains the image or the key. */
export interface AiUsageEvent {
  provider: 'openai';
  model: string;
  /** 'ok' or the error code that ended the call */
  outcome: 'ok' | string;
  ms: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  request_id: string | null;
}

export interface RecognizeOptions {
  /** EXIF orientation (1..8) the upload carried before metadata was stripped. */
  orientation?: number | null;
  /** Per-call usage hook (e.g. bound to the tenant); called once per AI request, success or failure. */
  onUsage?: (e: AiUsageEvent) => void | Promise<void>;
  /** Aborts the engine call (e.g. the function's wall-clock budget). */
  signal?: AbortSignal;
}

export interface OcrResult {
  /** The raw transcription, lines separated by \n. */
  text: string;
  lines?: OcrLine[];
  /** Mean recognition confidence 0..1. */
  confidence: number;
  /** Wall time of recognize(), in milliseconds. */
  ms: number;
  /** Engines that extract fields themselves (vision models) return them here; the parser validates them. */
  fields?: ParsedRepairOrder;
  /** What the engine did, for logs and the benchmark (e.g. rotation tried). */
  notes?: string[];
}

export interface OcrEngine {
  readonly name: string;
  recognize(image: Uint8Array, opts?: RecognizeOptions): Promise<OcrResult>;
  /** Frees workers; the engine can not be used afterwards. */
  close?(): Promise<void>;
}

/** An engine failure with a machine-readable code; `retryable` tells the caller whether to keep the row for a retry. */
export class OcrError extends Error {
  constructor(readonly code: string, message: string, readonly retryable: boolean, readonly status = 502) {
    super(message);
    this.name = 'OcrError';
  }
}
