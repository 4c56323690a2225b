/**
 * Repair-order OCR: engines behind one interface, the layout-aware parser, and the extract call
 * `ro-ocr` makes. Import map (the function's deno.json): "tesseract.js": "npm:tesseract.js@7.0.0",
 * "@tesseract.js-data/eng": "npm:@tesseract.js-data/eng@1.0.0", "jpeg-js": "npm:jpeg-js@0.4.4",
 * "libphonenumber-js/min": "npm:libphonenumber-js@1.13.16/min".
 */
import { createOpenAiEngine, type OpenAiEngineOptions } from './openai.ts';
import { createTesseractEngine, type TesseractEngineOptions } from './tesseract.ts';
import type { AiUsageEvent, OcrEngine } from './types.ts';

export * from './types.ts';
export { parseRepairOrderText, cleanName, cleanVehicle, cleanRo, findPhones, type ParseOptions } from './parser.ts';
export { isValidVin, repairVin, vinCheckDigit, type VinRepair } from './vin.ts';
export { extractRepairOrder, validateModelFields, type ExtractResult } from './extract.ts';
export { createTesseractEngine, type TesseractEngineOptions } from './tesseract.ts';
export { createOpenAiEngine, REPAIR_ORDER_SCHEMA, type OpenAiEngineOptions } from './openai.ts';

/**
 * The engine the environment asks for: OpenAI vision when OPENAI_API_KEY is set (model OPENAI_OCR_MODEL,
 * default gpt-4o-mini; base OPENAI_BASE_URL), else Tesseract. `onUsage` feeds the `ai_requests` ledger.
 */
export function createOcrEngineFromEnv(
  env: Record<string, string | undefined>,
  extra: { onUsage?: (e: AiUsageEvent) => void | Promise<void>; tesseract?: TesseractEngineOptions; openai?: Partial<OpenAiEngineOptions> } = {},
): OcrEngine {
  if (env.OPENAI_API_KEY) {
    return createOpenAiEngine({
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL || undefined,
      model: env.OPENAI_OCR_MODEL || undefined,
      onUsage: extra.onUsage,
      ...extra.openai,
    });
  }
  return createTesseractEngine(extra.tesseract);
}
