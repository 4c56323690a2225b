/**
 * One call for `ro-ocr`: photo → engine → validated repair-order fields.
 * Tesseract output goes through the layout-aware parser; a vision model's own fields are validated the
 * same way (E.164 phone, VIN check digit, tidy name/vehicle/RO) and gaps are filled from its transcription.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { cleanName, cleanRo, cleanVehicle, parseRepairOrderText } from './parser.ts';
import { repairVin } from './vin.ts';
import type { FieldName, OcrEngine, OcrResult, ParsedRepairOrder, RecognizeOptions } from './types.ts';

export interface ExtractResult {
  parsed: ParsedRepairOrder;
  /** The engine's raw output (text for `repair_orders.raw_text`, timings, notes). */
  ocr: OcrResult;
  engine: string;
}

const round = (x: number) => Math.round(Math.max(0, Math.min(1, x)) * 100) / 100;

/** A vision model's fields, validated; anything it left empty is taken from the parser on its transcription. */
export function validateModelFields(fields: ParsedRepairOrder, fromText: ParsedRepairOrder): ParsedRepairOrder {
  const out: ParsedRepairOrder = { name: null, phone: null, vehicle: null, vin: null, ro_number: null, confidence: { name: 0, phone: 0, vehicle: 0, vin: 0, ro_number: 0 } };
  const c = fields.confidence;
  if (fields.name) { const n = cleanName(fields.name); if (n) { out.name = n.name; out.confidence.name = c.name * (n.quality < 1 ? 0.8 : 1); } }
  if (fields.phone) {
    const p = parsePhoneNumberFromString(fields.phone, 'US');
    if (p?.isValid()) { out.phone = p.number; out.confidence.phone = c.phone; }
    else if (p?.isPossible()) { out.phone = p.number; out.confidence.phone = c.phone * 0.5; }
  }
  if (fields.vehicle) { const v = cleanVehicle(fields.vehicle); out.vehicle = v?.vehicle ?? fields.vehicle; out.confidence.vehicle = c.vehicle * (v ? (v.quality < 1 ? 0.9 : 1) : 0.6); }
  if (fields.vin) {
    const r = repairVin(fields.vin);
    if (r) { out.vin = r.vin; out.confidence.vin = c.vin * (r.how === 'valid' ? 1 : r.how === 'invalid' ? 0.4 : 0.8); }
  }
  if (fields.ro_number) { out.ro_number = cleanRo(fields.ro_number) ?? fields.ro_number.replace(/^#\s*/, ''); out.confidence.ro_number = c.ro_number; }
  for (const k of ['name', 'phone', 'vehicle', 'vin', 'ro_number'] as FieldName[]) {
    if (out[k] === null && fromText[k] !== null) {
      (out as unknown as Record<string, unknown>)[k] = fromText[k];
      out.confidence[k] = fromText.confidence[k] * 0.8;
    }
    out.confidence[k] = round(out[k] === null ? 0 : out.confidence[k]);
  }
  return out;
}

/**
 * OCR the photo with `engine` and return the parsed fields. Throws the engine's `OcrError` (with `code`,
 * `status`, `retryable`) so the caller can keep the photo and the row for a retry.
 */
export async function extractRepairOrder(image: Uint8Array, engine: OcrEngine, opts: RecognizeOptions = {}): Promise<ExtractResult> {
  const ocr = await engine.recognize(image, opts);
  const fromText = parseRepairOrderText(ocr.text, ocr.lines);
  const parsed = ocr.fields ? validateModelFields(ocr.fields, fromText) : fromText;
  return { parsed, ocr, engine: engine.name };
}
