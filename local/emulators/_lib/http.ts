/**
 * The HTTP plumbing every emulator shares: a loopback server with a small router, request bodies read once,
 * JSON/HTML/redirect responses, and a `stop()` that also ends connections a hanging request still holds.
 *
 * Emulators are for local runs and tests only: they bind to 127.0.0.1 and never to a public interface.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../lib/types.ts';

export interface EmuRequest {
  method: string;
  /** Path without the query string, percent-decoding left to the route. */
  path: string;
  url: URL;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The raw body exactly as received. */
  raw: Buffer;
  text: string;
  /** Aborted when the client goes away or the server stops (lets a deliberately hanging request end). */
  signal: AbortSignal;
}

export interface EmuResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type Params = Record<string, string>;
export type RouteHandler = (req: EmuRequest, params: Params) => EmuResponse | Promise<EmuResponse>;

export function json(status: number, value: unknown, headers: Record<string, string> = {}): EmuResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value, null, 2),
  };
}

export function html(status: number, body: string): EmuResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body };
}

export function redirect(location: string, status = 303): EmuResponse {
  return { status, headers: { location, 'content-type': 'text/plain; charset=utf-8' }, body: `Redirecting to ${location}` };
}

export function noContent(): EmuResponse {
  return { status: 204 };
}

/** Escapes text for HTML bodies and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

interface Route<H> { method: string; pattern: RegExp; keys: string[]; handler: H }

/**
 * Routes by method and path template: `:Name` matches one path segment (lazily, so `:Sid.json` works).
 * A path that matches with another method gets 405.
 */
export class Router<H = RouteHandler> {
  private routes: Route<H>[] = [];

  add(method: string, template: string, handler: H): this {
    const keys: string[] = [];
    const src = template
      .split(/(:[A-Za-z_][A-Za-z0-9_]*)/)
      .map((part) => {
        if (part.startsWith(':')) { keys.push(part.slice(1)); return '([^/]+?)'; }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    this.routes.push({ method: method.toUpperCase(), pattern: new RegExp(`^${src}$`), keys, handler });
    return this;
  }

  match(method: string, path: string): { handler: H; params: Params } | 'method_not_allowed' | null {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(r.method === 'GET' && method === 'HEAD')) continue;
      const params: Params = {};
      r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
      return { handler: r.handler, params };
    }
    return pathMatched ? 'method_not_allowed' : null;
  }
}

export interface HttpService {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const MAX_BODY = 10 * 1024 * 1024;

/** Starts a loopback HTTP server; `handler` errors become a 500 with a JSON body and a log line. */
export async function serveHttp(opts: {
  name: string;
  port: number;
  log: Logger;
  handler: (req: EmuRequest) => Promise<EmuResponse>;
  host?: string;
}): Promise<HttpService> {
  const host = opts.host ?? '127.0.0.1';
  const stopping = new AbortController();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { tooLarge = true; return; }
      chunks.push(c);
    });
    req.on('error', () => { /* client went away */ });
    req.on('end', async () => {
      const clientGone = new AbortController();
      res.on('close', () => { if (!res.writableEnded) clientGone.abort(); });
      const signal = AbortSignal.any([clientGone.signal, stopping.signal]);
      let out: EmuResponse;
      if (tooLarge) {
        out = json(413, { error: 'payload_too_large', message: `Request bodies are limited to ${MAX_BODY} bytes.` });
      } else {
        const raw = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', `http://${req.headers.host ?? `${host}:${opts.port}`}`);
        const emuReq: EmuRequest = {
          method: (req.method ?? 'GET').toUpperCase(),
          path: url.pathname,
          url,
          query: url.searchParams,
          headers: req.headers,
          raw,
          text: raw.toString('utf8'),
          signal,
        };
        try {
          out = await opts.handler(emuReq);
        } catch (err) {
          opts.log.error(`${emuReq.method} ${emuReq.path} failed: ${(err as Error).stack ?? err}`);
          out = json(500, { error: 'emulator_error', message: (err as Error).message });
        }
      }
      if (res.destroyed) return;
      res.writeHead(out.status, out.headers ?? {});
      res.end(req.method === 'HEAD' ? undefined : out.body);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  opts.log.info(`${opts.name} emulator listening on ${url}`);
  return {
    url,
    port,
    async stop() {
      stopping.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Parses a JSON control-request body; `null` when it is not a JSON object. */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/** The one error shape of every `/_emulator/*` control endpoint. */
export function controlError(status: number, code: string, message: string): EmuResponse {
  return json(status, { code, message });
}
