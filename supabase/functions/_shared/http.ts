/**
 * HTTP conventions of our edge functions: one `HttpError` type, mapped once to the JSON error body
 * `{ "code": "<snake_case>", "message": "<for people>" }`; anything unexpected becomes a logged
 * 500 `internal_error` whose details stay in the logs. Works in Deno and Node (vitest).
 */
import type { Log } from './log.ts';

export type Handler = (req: Request) => Promise<Response>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Headers a browser-called function answers with (supabase-js sends authorization, apikey, x-client-info). */
export const corsHeaders: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers':
    'authorization, x-client-info, apikey, content-type, x-supabase-api-version, x-region, prefer',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'Access-Control-Max-Age': '3600',
};

export function json(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set('Content-Type', 'application/json; charset=utf-8');
  return new Response(status === 204 || status === 304 ? null : JSON.stringify(body), { status, headers: h });
}

/** The answer to a CORS preflight, or null when `req` is not one. */
export function preflight(req: Request): Response | null {
  if (req.method !== 'OPTIONS') return null;
  return new Response(null, { status: 204, headers: corsHeaders });
}

/** `res` with the CORS headers added (for functions the browser calls). */
export function withCors(res: Response): Response {
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(corsHeaders)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

export function errorResponse(e: unknown, log: Log, headers: HeadersInit = {}): Response {
  if (e instanceof HttpError) {
    if (e.status >= 500) log.error(e.message, { code: e.code, status: e.status });
    const body: Record<string, unknown> = { code: e.code, message: e.message };
    if (e.details !== undefined) body.details = e.details;
    const h = new Headers(headers);
    if (e.status === 405 && Array.isArray(e.details)) h.set('Allow', (e.details as string[]).join(', '));
    return json(e.status, body, h);
  }
  log.error('unhandled error', { error: e });
  return json(500, { code: 'internal_error', message: 'Something went wrong on our side. Please try again.' }, headers);
}

/**
 * Wraps a handler so every thrown error becomes the JSON error response, and (with `cors: true`)
 * preflights are answered and every response carries the CORS headers.
 */
export function withErrors(handler: Handler, log: Log, opts: { cors?: boolean } = {}): Handler {
  return async (req) => {
    if (opts.cors) {
      const pre = preflight(req);
      if (pre) return pre;
    }
    let res: Response;
    try {
      res = await handler(req);
    } catch (e) {
      res = errorResponse(e, log);
    }
    return opts.cors ? withCors(res) : res;
  };
}

/** Throws 405 `method_not_allowed` unless `req.method` is one of `allowed`. */
export function allowMethods(req: Request, allowed: string[]): void {
  if (!allowed.includes(req.method)) {
    throw new HttpError(405, 'method_not_allowed', `Use ${allowed.join(' or ')} for this endpoint.`, allowed);
  }
}

export const DEFAULT_JSON_LIMIT = 1024 * 1024;

/**
 * Reads a JSON body of at most `limitBytes`: 413 `payload_too_large` beyond it (checked on
 * Content-Length first, then while streaming), 400 `invalid_json` when empty or malformed.
 */
export async function readJson<T = unknown>(req: Request, limitBytes = DEFAULT_JSON_LIMIT): Promise<T> {
  const tooLarge = () => new HttpError(413, 'payload_too_large', `The request body must be at most ${limitBytes} bytes.`);
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limitBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  const text = new TextDecoder().decode(bytes).trim();
  if (text === '') throw new HttpError(400, 'invalid_json', 'The request body is empty; send a JSON object.');
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
}
