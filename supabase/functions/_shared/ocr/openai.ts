/**
 * OCR engine on OpenAI vision (Chat Completions with `response_format: json_schema`, strict), for
 * handwritten or badly photographed ROs. Plain `fetch` against `OPENAI_BASE_URL` (default
 * https://api.openai.com/v1), so it runs in Deno and Node alike and tests point it at a local fake.
 *
 * The model returns the full transcription plus the five fields with a 0..1 confidence each; the
 * fields then go through the same validation as Tesseract's (E.164 phone, VIN check digit) in
 * `extractRepairOrder`. Every request — success or failure — is reported to the usage hooks
 * (`onUsage` in the options and per call) for the `ai_requests` ledger. The key is never logged.
 */
import { OcrError, type AiUsageEvent, type OcrEngine, type OcrResult, type ParsedRepairOrder, type RecognizeOptions } from './types.ts';
import { sniffImage, IMAGE_MIME } from '../image/sniff.ts';

export interface OpenAiEngineOptions {
  apiKey: string;
  /** Default `https://api.openai.com/v1` (what OPENAI_BASE_URL holds when set). */
  baseUrl?: string;
  /** Default `gpt-4o-mini`. */
  model?: string;
  /** Default 45 s per request. */
  timeoutMs?: number;
  /** Retries on 429/5xx/network errors (default 2), with backoff and jitter. */
  maxRetries?: number;
  /** `detail` of the image input: 'high' reads small print; 'low' is cheaper. Default 'high'. */
  detail?: 'low' | 'high' | 'auto';
  /** Usage hook for every AI request (the `ai_requests` ledger). */
  onUsage?: (e: AiUsageEvent) => void | Promise<void>;
  fetch?: typeof fetch;
  organization?: string;
}

/** The JSON schema the model must answer with (strict structured output). */
export const REPAIR_ORDER_SCHEMA = {
  name: 'repair_order',
  strict: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['transcription', 'name', 'phone', 'vehicle', 'vin', 'ro_number', 'confidence'],
    properties: {
      transcription: { type: 'string', description: 'All legible text on the form, line by line, separated by \\n.' },
      name: { type: ['string', 'null'], description: "The customer's (vehicle owner's / client's) full name. Never the shop's, the advisor's, writer's or technician's." },
      phone: { type: ['string', 'null'], description: "The customer's phone number exactly as written. Never the shop's own number (header, Shop/Store/Office/Fax)." },
      vehicle: { type: ['string', 'null'], description: 'Year make model (e.g. "2019 Toyota Camry") or the device (e.g. "iPhone 14 Pro").' },
      vin: { type: ['string', 'null'], description: 'The 17-character VIN if present.' },
      ro_number: { type: ['string', 'null'], description: 'The repair order / work order / ticket number, without "#".' },
      confidence: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'phone', 'vehicle', 'vin', 'ro_number'],
        properties: {
          name: { type: 'number' }, phone: { type: 'number' }, vehicle: { type: 'number' }, vin: { type: 'number' }, ro_number: { type: 'number' },
        },
      },
    },
  },
} as const;

const SYSTEM_PROMPT = [
  'You read photographed repair orders, work orders and job tickets from small service shops (auto repair, device repair, detailing, lawn and cleaning).',
  'Extract the CUSTOMER\'s fields. The shop\'s own name, address and phone (usually in the header, or labelled Shop/Store/Office/Fax) are not the customer\'s.',
  'Names next to Advisor, Service Advisor, Writer, Tech, Technician, Mechanic, Detailer or Crew are staff, not the customer.',
  'Customer labels vary: Customer, Name, Cust, Owner, Client, Bill To, Sold To. Phone labels vary: Phone, Cell, Mobile, Tel, Contact #, Ph, Home, Work.',
  'Copy values exactly as written (handwriting included); use null when a field is absent or illegible.',
  'For each field give your confidence from 0 to 1 that the value is right. Also transcribe all legible text.',
].join(' ');

function b64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

interface ChatResponse {
  id?: string;
  choices?: { message?: { content?: string | null; refusal?: string | null }; finish_reason?: string }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  error?: { message?: string; type?: string; code?: string };
}

const clamp01 = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? Math.max(0, Math.min(1, x)) : 0);
const strOrNull = (x: unknown) => (typeof x === 'string' && x.trim() ? x.trim() : null);

export function createOpenAiEngine(opts: OpenAiEngineOptions): OcrEngine {
  if (!opts.apiKey) throw new OcrError('ai_not_configured', 'OPENAI_API_KEY is not set.', false, 500);
  const baseUrl = (opts.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const model = opts.model ?? 'gpt-4o-mini';
  const timeoutMs = opts.timeoutMs ?? 45_000;
  const maxRetries = opts.maxRetries ?? 2;
  const doFetch = opts.fetch ?? fetch;

  const report = async (e: AiUsageEvent, perCall?: RecognizeOptions['onUsage']) => {
    for (const hook of [opts.onUsage, perCall]) {
      if (!hook) continue;
      try { await hook(e); } catch { /* the ledger must never break OCR */ }
    }
  };

  return {
    name: `openai:${model}`,
    async recognize(image: Uint8Array, o: RecognizeOptions = {}): Promise<OcrResult> {
      const t0 = Date.now();
      const kind = sniffImage(image);
      if (!kind || kind.type === 'heic') {
        throw new OcrError('unsupported_for_ocr', 'OpenAI vision reads JPEG, PNG and WebP photos only.', false, 415);
      }
      const body = {
        model,
        temperature: 0,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          {
            role: 'user',
            content: [
              { type: 'text', text: `Read this repair order photo${o.orientation && o.orientation !== 1 ? ` (EXIF orientation ${o.orientation}: the page may be rotated)` : ''}.` },
              { type: 'image_url', image_url: { url: `data:${IMAGE_MIME[kind.type]};base64,${b64(image)}`, detail: opts.detail ?? 'high' } },
            ],
          },
        ],
        response_format: { type: 'json_schema', json_schema: REPAIR_ORDER_SCHEMA },
      };
      const headers: Record<string, string> = { Authorization: `Bearer ${opts.apiKey}`, 'Content-Type': 'application/json' };
      if (opts.organization) headers['OpenAI-Organization'] = opts.organization;

      let lastError: OcrError | null = null;
      for (let attempt = 0; attempt <= maxRetries; attempt++) {
        if (attempt > 0) await sleep(Math.min(8000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random()), o.signal);
        if (o.signal?.aborted) throw new OcrError('ocr_aborted', 'The OCR request was cancelled.', true, 503);
        const started = Date.now();
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(), timeoutMs);
        const onAbort = () => ctl.abort();
        o.signal?.addEventListener('abort', onAbort, { once: true });
        let res: Response;
        try {
          res = await doFetch(`${baseUrl}/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal: ctl.signal });
        } catch (e) {
          const timedOut = ctl.signal.aborted && !o.signal?.aborted;
          lastError = new OcrError(timedOut ? 'ai_timeout' : 'ai_unreachable', timedOut ? `OpenAI did not answer within ${timeoutMs} ms.` : `OpenAI could not be reached: ${String((e as Error)?.message ?? e)}`, true, timedOut ? 504 : 502);
          await report({ provider: 'openai', model, outcome: lastError.code, ms: Date.now() - started, prompt_tokens: null, completion_tokens: null, total_tokens: null, request_id: null }, o.onUsage);
          continue;
        } finally {
          clearTimeout(timer);
          o.signal?.removeEventListener('abort', onAbort);
        }
        const requestId = res.headers.get('x-request-id');
        let json: ChatResponse | null = null;
        try { json = (await res.json()) as ChatResponse; } catch { json = null; }
        const usage = json?.usage;
        const usageEvent = (outcome: string): AiUsageEvent => ({
          provider: 'openai', model, outcome, ms: Date.now() - started, request_id: requestId ?? json?.id ?? null,
          prompt_tokens: usage?.prompt_tokens ?? null, completion_tokens: usage?.completion_tokens ?? null, total_tokens: usage?.total_tokens ?? null,
        });
        if (!res.ok) {
          const retryable = res.status === 429 || res.status >= 500;
          const code = res.status === 401 ? 'ai_auth_failed' : res.status === 429 ? 'ai_rate_limited' : res.status >= 500 ? 'ai_unavailable' : 'ai_bad_request';
          lastError = new OcrError(code, `OpenAI answered ${res.status}: ${json?.error?.message ?? 'no details'}`, retryable, res.status === 429 ? 503 : 502);
          await report(usageEvent(code), o.onUsage);
          if (!retryable) throw lastError;
          continue;
        }
        const choice = json?.choices?.[0];
        if (choice?.message?.refusal) {
          await report(usageEvent('ai_refused'), o.onUsage);
          throw new OcrError('ai_refused', `The model declined: ${choice.message.refusal}`, false, 422);
        }
        let data: Record<string, unknown>;
        try {
          data = JSON.parse(choice?.message?.content ?? '') as Record<string, unknown>;
          if (typeof data !== 'object' || data === null) throw new Error('not an object');
        } catch {
          await report(usageEvent('ai_bad_output'), o.onUsage);
          lastError = new OcrError('ai_bad_output', `The model's answer was not the expected JSON (finish_reason ${choice?.finish_reason ?? 'none'}).`, true, 502);
          continue;
        }
        await report(usageEvent('ok'), o.onUsage);
        const c = (data.confidence ?? {}) as Record<string, unknown>;
        const fields: ParsedRepairOrder = {
          name: strOrNull(data.name), phone: strOrNull(data.phone), vehicle: strOrNull(data.vehicle),
          vin: strOrNull(data.vin), ro_number: strOrNull(data.ro_number),
          confidence: { name: clamp01(c.name), phone: clamp01(c.phone), vehicle: clamp01(c.vehicle), vin: clamp01(c.vin), ro_number: clamp01(c.ro_number) },
        };
        const text = typeof data.transcription === 'string' ? data.transcription : '';
        const vals = Object.values(fields.confidence);
        return { text, confidence: vals.reduce((a, b) => a + b, 0) / vals.length, ms: Date.now() - t0, fields, notes: [`model ${model}`, `attempts ${attempt + 1}`] };
      }
      throw lastError ?? new OcrError('ai_unavailable', 'OpenAI could not read the photo.', true, 502);
    },
  };
}
