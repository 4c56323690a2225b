/**
 * Node http ⇄ web Request/Response, streaming both ways, shared by the gateway and the functions router.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import { Readable } from 'node:stream';

/** Connection-level headers a proxy must not forward (RFC 9110 §7.6.1). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** `rawHeaders` as [name, value] pairs, hop-by-hop headers dropped, duplicates kept in order. */
export function headerPairs(rawHeaders: string[], drop: Set<string> = HOP_BY_HOP): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (drop.has(name.toLowerCase())) continue;
    out.push([name, rawHeaders[i + 1]!]);
  }
  return out;
}

const NO_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export function hasRequestBody(method: string, headers: IncomingHttpHeaders): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

/** Reads the whole body, refusing more than `limit` bytes (by Content-Length up front, then by count). */
export async function readBounded(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new BodyTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new BodyTooLargeError(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Builds a web `Request` for a handler from a Node request: the URL given (already prefix-stripped),
 * the headers given, and the body either streamed (default) or read up to `maxBodyBytes`.
 */
export async function toWebRequest(
  req: IncomingMessage,
  url: string,
  headers: Headers,
  opts: { maxBodyBytes?: number; signal?: AbortSignal } = {},
): Promise<Request> {
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: opts.signal };
  if (hasRequestBody(method, req.headers)) {
    if (opts.maxBodyBytes !== undefined) {
      init.body = new Uint8Array(await readBounded(req, opts.maxBodyBytes));
      headers.delete('transfer-encoding');
    } else {
      init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
  }
  return new Request(url, init);
}

/** Writes a web `Response` to a Node response, streaming its body with backpressure. */
export async function sendWebResponse(
  res: ServerResponse,
  response: Response,
  method: string,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  const pairs: string[] = [];
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie' || HOP_BY_HOP.has(name)) return;
    pairs.push(name, value);
  });
  for (const c of response.headers.getSetCookie()) pairs.push('set-cookie', c);
  for (const [k, v] of Object.entries(extraHeaders)) {
    for (let i = pairs.length - 2; i >= 0; i -= 2) {
      if (pairs[i]!.toLowerCase() === k.toLowerCase()) pairs.splice(i, 2);
    }
    pairs.push(k, v);
  }
  res.writeHead(response.status, response.statusText || undefined, pairs);
  if (!response.body || method === 'HEAD' || NO_BODY_STATUS.has(response.status)) {
    await response.body?.cancel().catch(() => {});
    res.end();
    return;
  }
  const body = Readable.fromWeb(response.body as unknown as import('node:stream/web').ReadableStream);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    res.on('close', () => {
      if (!res.writableFinished) body.destroy();
      done();
    });
    body.on('error', () => res.destroy());
    body.pipe(res);
  });
}

/**
 * Sends a web `Request` to an HTTP server on loopback with node:http (no automatic decompression, no
 * header normalisation) and returns its answer as a web `Response` whose body streams.
 */
export function forwardToPort(
  request: Request,
  target: { host: string; port: number; path: string },
  opts: { agent?: http.Agent; idleTimeoutMs?: number } = {},
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const pairs: string[] = [];
    request.headers.forEach((value, name) => {
      if (HOP_BY_HOP.has(name) || name === 'set-cookie') return;
      pairs.push(name, value);
    });
    // Keep the caller's Host (what a function sees in req.url); HTTP/1.1 needs one either way.
    if (!request.headers.has('host')) pairs.push('host', new URL(request.url).host || `${target.host}:${target.port}`);
    const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
    const upstream = http.request({
      host: target.host,
      port: target.port,
      method: request.method,
      path: target.path,
      headers: pairs,
      agent: opts.agent,
      setHost: false,
    });
    const abort = () => upstream.destroy(new Error('request aborted by the client'));
    request.signal.addEventListener('abort', abort, { once: true });
    if (opts.idleTimeoutMs) {
      upstream.setTimeout(opts.idleTimeoutMs, () => upstream.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
    }
    upstream.on('error', (e) => {
      request.signal.removeEventListener('abort', abort);
      reject(e);
    });
    upstream.on('response', (res) => {
      const headers = new Headers();
      for (const [k, v] of headerPairs(res.rawHeaders)) headers.append(k, v);
      const status = res.statusCode ?? 502;
      const nullBody = request.method === 'HEAD' || NO_BODY_STATUS.has(status);
      if (nullBody) res.resume();
      res.on('close', () => request.signal.removeEventListener('abort', abort));
      resolve(
        new Response(nullBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), {
          status,
          statusText: res.statusMessage,
          headers,
        }),
      );
    });
    if (hasBody) {
      const body = Readable.fromWeb(request.body as unknown as import('node:stream/web').ReadableStream);
      body.on('error', (e) => upstream.destroy(e));
      body.pipe(upstream);
    } else {
      upstream.end();
    }
  });
}
