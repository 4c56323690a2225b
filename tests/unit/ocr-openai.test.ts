/**
 * The OpenAI vision engine against a local fake of the Chat Completions API: the fake checks the
 * request the way the real API would (auth, model, an image_url data URL of the uploaded bytes,
 * strict json_schema response_format) and answers like OpenAI does, including errors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createOcrEngineFromEnv, createOpenAiEngine, extractRepairOrder, OcrError, REPAIR_ORDER_SCHEMA, type AiUsageEvent,
} from '../../supabase/functions/_shared/ocr/index.ts';
import { encodedImage, heicWithExif } from '../fixtures/repair-orders/tools/craft-images.ts';

const KEY = 'sk-test-fake-key-never-logged';

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: any }
type Reply = { status: number; body: unknown; headers?: Record<string, string> };

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let replies: Reply[] = [];

function completion(content: unknown, usage = { prompt_tokens: 1234, completion_tokens: 56, total_tokens: 1290 }) {
  return {
    id: 'chatcmpl-fake1', object: 'chat.completion', created: 1_760_000_000, model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: typeof content === 'string' ? content : JSON.stringify(content), refusal: null }, finish_reason: 'stop' }],
    usage,
  };
}

const GOOD = {
  transcription: 'ACME AUTO REPAIR\n123 Main St - Shop: (888) 796-0950\nREPAIR ORDER #76510\nAdvisor: Andre\nCustomer: Emma Rossi\nPhone: (602) 866-0791\nVehicle: 2019 Toyota Camry\nVIN: 4T1B11HK5KU123456',
  name: 'Emma Rossi', phone: '(602) 866-0791', vehicle: '2019 Toyota Camry', vin: '1HGCM82633A004352', ro_number: '#76510',
  confidence: { name: 0.96, phone: 0.93, vehicle: 0.9, vin: 0.8, ro_number: 0.97 },
};

/** What the real endpoint insists on; a violation answers 400 like OpenAI's invalid_request_error. */
function validate(req: Seen): string | null {
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return `unexpected ${req.method} ${req.url}`;
  if (req.headers.authorization !== `Bearer ${KEY}`) return 'bad auth';
  if (!String(req.headers['content-type']).startsWith('application/json')) return 'not json';
  const b = req.body;
  if (typeof b?.model !== 'string') return 'model missing';
  if (!Array.isArray(b.messages) || b.messages.length < 2) return 'messages missing';
  const user = b.messages.find((m: any) => m.role === 'user');
  const img = user?.content?.find?.((p: any) => p.type === 'image_url');
  if (!img || !/^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/=]+$/.test(img.image_url?.url)) return 'image_url data URL missing';
  const rf = b.response_format;
  if (rf?.type !== 'json_schema' || rf.json_schema?.strict !== true || rf.json_schema?.schema?.type !== 'object') return 'response_format json_schema missing';
  const req2 = rf.json_schema.schema.required;
  for (const f of ['name', 'phone', 'vehicle', 'vin', 'ro_number', 'confidence']) if (!req2.includes(f)) return `schema lacks ${f}`;
  if (rf.json_schema.schema.additionalProperties !== false) return 'strict schemas need additionalProperties: false';
  return null;
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      let body: unknown = null;
      try { body = JSON.parse(raw); } catch { /* keep null */ }
      const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      const problem = validate(s);
      const reply: Reply = problem
        ? { status: problem === 'bad auth' ? 401 : 400, body: { error: { message: problem, type: 'invalid_request_error', code: null } } }
        : replies.shift() ?? { status: 200, body: completion(GOOD) };
      res.writeHead(reply.status, { 'content-type': 'application/json', 'x-request-id': `req_${seen.length}`, ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => { seen = []; replies = []; });

describe('OpenAI vision engine (fake API)', () => {
  it('sends the model, the photo as a data URL and a strict JSON schema; fields come back validated', async () => {
    const usage: AiUsageEvent[] = [];
    const engine = createOpenAiEngine({ apiKey: KEY, baseUrl, onUsage: (e) => { usage.push(e); } });
    const photo = encodedImage('jpeg', 200, 260);
    const r = await extractRepairOrder(photo, engine);

    expect(seen).toHaveLength(1);
    const body = seen[0].body;
    expect(body.model).toBe('gpt-4o-mini');
    const url: string = body.messages.find((m: any) => m.role === 'user').content.find((p: any) => p.type === 'image_url').image_url.url;
    expect(Buffer.from(url.split(',')[1], 'base64').equals(Buffer.from(photo))).toBe(true);
    expect(body.response_format.json_schema).toEqual(REPAIR_ORDER_SCHEMA);
    expect(body.messages[0].content).toMatch(/Advisor/); // the prompt names the distractors

    expect(r.engine).toBe('openai:gpt-4o-mini');
    expect(r.parsed).toMatchObject({ name: 'Emma Rossi', phone: '+16028660791', vehicle: '2019 Toyota Camry', vin: '1HGCM82633A004352', ro_number: '76510' });
    expect(r.parsed.confidence).toEqual({ name: 0.96, phone: 0.93, vehicle: 0.9, vin: 0.8, ro_number: 0.97 });
    expect(r.ocr.text).toContain('REPAIR ORDER #76510');

    expect(usage).toEqual([expect.objectContaining({
      provider: 'openai', model: 'gpt-4o-mini', outcome: 'ok', prompt_tokens: 1234, completion_tokens: 56, total_tokens: 1290, request_id: 'req_1',
    })]);
  });

  it('uses the configured model and base URL from the environment; the per-call usage hook sees the call too', async () => {
    const envUsage: AiUsageEvent[] = [];
    const callUsage: AiUsageEvent[] = [];
    const engine = createOcrEngineFromEnv({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: baseUrl, OPENAI_OCR_MODEL: 'gpt-4.1-mini' }, { onUsage: (e) => { envUsage.push(e); } });
    await engine.recognize(encodedImage('png'), { onUsage: (e) => { callUsage.push(e); } });
    expect(seen[0].body.model).toBe('gpt-4.1-mini');
    expect(seen[0].body.messages[1].content[1].image_url.url).toMatch(/^data:image\/png;base64,/);
    expect(envUsage).toHaveLength(1);
    expect(callUsage).toHaveLength(1);
  });

  it('without OPENAI_API_KEY the environment gets Tesseract', async () => {
    const e = createOcrEngineFromEnv({});
    expect(e.name).toBe('tesseract');
    await e.close?.();
  });

  it('retries 429 and 5xx with backoff; every attempt is counted in the usage ledger', async () => {
    replies = [
      { status: 429, body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } } },
      { status: 503, body: { error: { message: 'overloaded', type: 'server_error', code: null } } },
    ];
    const usage: AiUsageEvent[] = [];
    const engine = createOpenAiEngine({ apiKey: KEY, baseUrl, onUsage: (e) => { usage.push(e); } });
    const r = await engine.recognize(encodedImage('jpeg'));
    expect(seen).toHaveLength(3);
    expect(usage.map((u) => u.outcome)).toEqual(['ai_rate_limited', 'ai_unavailable', 'ok']);
    expect(r.fields?.name).toBe('Emma Rossi');
  });

  it('401 fails at once with ai_auth_failed, not retryable, and never echoes the key', async () => {
    const usage: AiUsageEvent[] = [];
    const engine = createOpenAiEngine({ apiKey: 'sk-wrong-key-123', baseUrl, onUsage: (e) => { usage.push(e); } });
    const err = await engine.recognize(encodedImage('jpeg')).catch((e) => e);
    expect(err).toBeInstanceOf(OcrError);
    expect(err).toMatchObject({ code: 'ai_auth_failed', retryable: false });
    expect(String(err.message)).not.toContain('sk-wrong-key-123');
    expect(seen).toHaveLength(1);
    expect(usage.map((u) => u.outcome)).toEqual(['ai_auth_failed']);
  });

  it('an answer that is not the schema JSON is retried, then reported as ai_bad_output (retryable)', async () => {
    replies = [{ status: 200, body: completion('Sure! Here is the data: name Emma') }, { status: 200, body: completion('{"truncated": ') }, { status: 200, body: completion('nope') }];
    const engine = createOpenAiEngine({ apiKey: KEY, baseUrl, maxRetries: 2 });
    const err = await engine.recognize(encodedImage('jpeg')).catch((e) => e);
    expect(err).toMatchObject({ code: 'ai_bad_output', retryable: true });
    expect(seen).toHaveLength(3);
  });

  it('a refusal is a clear, final error', async () => {
    replies = [{ status: 200, body: { ...completion(null), choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' }, finish_reason: 'stop' }] } }];
    const engine = createOpenAiEngine({ apiKey: KEY, baseUrl });
    await expect(engine.recognize(encodedImage('jpeg'))).rejects.toMatchObject({ code: 'ai_refused', retryable: false });
  });

  it("validates the model's fields: a shop-like or malformed phone is dropped for the one in its own transcription; bad VIN check digit lowers confidence", async () => {
    replies = [{ status: 200, body: completion({
      ...GOOD,
      phone: '866-07', // not a phone number
      vin: '1HGCM82633A004353', // check digit wrong
      name: 'ROSSI, EMMA',
      transcription: 'Shop: (888) 796-0950\nREPAIR ORDER #76510\nCustomer: Emma Rossi\nCell: 602.866.0791',
    }) }];
    const engine = createOpenAiEngine({ apiKey: KEY, baseUrl });
    const r = await extractRepairOrder(encodedImage('jpeg'), engine);
    expect(r.parsed.phone).toBe('+16028660791'); // from the transcription's Cell line, not the shop's
    expect(r.parsed.confidence.phone).toBeLessThan(0.93);
    expect(r.parsed.name).toBe('Emma Rossi');
    expect(r.parsed.vin).toBe('1HGCM82633A004353');
    expect(r.parsed.confidence.vin).toBeLessThanOrEqual(0.32);
  });

  it('refuses HEIC without calling the API (vision models take JPEG/PNG/WebP)', async () => {
    const engine = createOpenAiEngine({ apiKey: KEY, baseUrl });
    await expect(engine.recognize(heicWithExif().bytes)).rejects.toMatchObject({ code: 'unsupported_for_ocr', status: 415 });
    expect(seen).toHaveLength(0);
  });

  it('a timeout is a retryable ai_timeout', async () => {
    const engine = createOpenAiEngine({
      apiKey: KEY, baseUrl, timeoutMs: 50, maxRetries: 0,
      fetch: (_u, init) => new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
    });
    await expect(engine.recognize(encodedImage('jpeg'))).rejects.toMatchObject({ code: 'ai_timeout', retryable: true });
  });

  it('needs a key', () => {
    expect(() => createOpenAiEngine({ apiKey: '' })).toThrow(/OPENAI_API_KEY/);
  });
});
