/**
 * The API gateway on 127.0.0.1 (Supabase's local API port 54321): what Kong does for `supabase start`.
 *
 *   /rest/v1/*      → PostgREST, proxied verbatim with node:http (method, raw path + query, every
 *                     header incl. Prefer/Accept/Range/Accept-Profile, streamed body; response status,
 *                     headers incl. Content-Range, and body as PostgREST sent them)
 *   /auth/v1/*      → the auth handler (web Request, JSON body bounded)
 *   /storage/v1/*   → the storage handler (web Request, body streamed)
 *   /functions/v1/* → the functions router (web Request, body streamed; CORS left to the functions)
 *   /health, /_internal/health → 200 JSON
 *
 * On all four prefixes: prefix stripped; `apikey` → `Authorization` mapped as Kong maps it; the
 * caller's address in X-Forwarded-For / X-Real-IP. CORS on rest/auth/storage as Supabase answers it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLargeError, headerPairs, HOP_BY_HOP, sendWebResponse, toWebRequest } from './http.ts';
import {
  corsResponseHeaders,
  gatewayHandlesCors,
  isPreflight,
  mapAuthorization,
  preflightHeaders,
  route,
  type ApiKeys,
  type ServiceName,
} from './kong.ts';
import type { FetchHandler, Logger, RunningService } from '../lib/types.ts';

export interface GatewayOptions {
  port: number;
  /** PostgREST's base URL, e.g. http://127.0.0.1:54330 */
  postgrestUrl: string;
  auth: FetchHandler;
  storage: FetchHandler;
  functions: FetchHandler;
  keys: ApiKeys;
  log: Logger;
  /** Largest request body accepted for /auth/v1 (JSON only). Default 1 MiB. */
  authBodyLimitBytes?: number;
}

export interface RunningGateway extends RunningService {
  url: string;
}

const HOST = '127.0.0.1';
const DEFAULT_AUTH_BODY_LIMIT = 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function clientIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '127.0.0.1';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * Upstream request headers: the caller's (hop-by-hop and Host dropped), Authorization replaced by
 * Kong's mapping, plus the X-Forwarded-* set Kong adds.
 */
export function upstreamHeaders(req: IncomingMessage, keys: ApiKeys, gatewayPort: number): Array<[string, string]> {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const authorization = mapAuthorization(
    { authorization: first(req.headers.authorization), apikey: first(req.headers.apikey) },
    keys,
  );
  const drop = new Set([...HOP_BY_HOP, 'host', 'authorization', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port']);
  const pairs = headerPairs(req.rawHeaders, drop);
  if (authorization !== undefined) pairs.push(['Authorization', authorization]);
  const ip = clientIp(req);
  const prior = first(req.headers['x-forwarded-for']);
  pairs.push(['X-Forwarded-For', prior ? `${prior}, ${ip}` : ip]);
  pairs.push(['X-Real-IP', ip]);
  pairs.push(['X-Forwarded-Proto', 'http']);
  pairs.push(['X-Forwarded-Host', first(req.headers.host) ?? `${HOST}:${gatewayPort}`]);
  pairs.push(['X-Forwarded-Port', String(gatewayPort)]);
  return pairs;
}

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const { log, keys } = opts;
  const pgrst = new URL(opts.postgrestUrl);
  const pgrstHost = pgrst.hostname;
  const pgrstPort = Number(pgrst.port || 80);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const handlers: Record<Exclude<ServiceName, 'rest'>, FetchHandler> = {
    auth: opts.auth,
    storage: opts.storage,
    functions: opts.functions,
  };
  const authLimit = opts.authBodyLimitBytes ?? DEFAULT_AUTH_BODY_LIMIT;

  function proxyRest(req: IncomingMessage, res: ServerResponse, path: string) {
    const pairs = upstreamHeaders(req, keys, opts.port);
    pairs.push(['Host', `${pgrstHost}:${pgrstPort}`]);
    const upstream = http.request({
      host: pgrstHost,
      port: pgrstPort,
      method: req.method,
      path,
      headers: pairs.flat(),
      agent,
      setHost: false,
    });
    upstream.on('response', (up) => {
      const out = headerPairs(up.rawHeaders).filter(([k]) => {
        const l = k.toLowerCase();
        return l !== 'access-control-allow-origin' && l !== 'access-control-expose-headers';
      });
      for (const [k, v] of Object.entries(corsResponseHeaders())) out.push([k, v]);
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out.flat());
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.on('error', (e) => {
      if (res.headersSent || req.destroyed) {
        res.destroy();
        return;
      }
      log.warn(`PostgREST unreachable (${(e as NodeJS.ErrnoException).code ?? e.message})`);
      sendJson(res, 502, { message: 'An invalid response was received from the upstream server' }, corsResponseHeaders());
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  async function callHandler(req: IncomingMessage, res: ServerResponse, service: Exclude<ServiceName, 'rest'>, path: string) {
    const headers = new Headers();
    for (const [k, v] of upstreamHeaders(req, keys, opts.port)) headers.append(k, v);
    const host = req.headers.host ?? `${HOST}:${opts.port}`;
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    let request: Request;
    try {
      request = await toWebRequest(req, `http://${host}${path}`, headers, {
        maxBodyBytes: service === 'auth' ? authLimit : undefined,
        signal: controller.signal,
      });
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        sendJson(res, 413, { code: 'request_too_large', message: `Request body is larger than ${e.limit} bytes`, msg: 'Request Entity Too Large' }, corsResponseHeaders());
        return;
      }
      throw e;
    }
    const response = await handlers[service](request);
    await sendWebResponse(res, response, req.method ?? 'GET', gatewayHandlesCors(service) ? corsResponseHeaders() : {});
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const r = route(req.url ?? '/');
    if (r.kind === 'health') {
      sendJson(res, 200, { status: 'ok' }, corsResponseHeaders());
      return;
    }
    if (r.kind === 'not_found') {
      req.resume();
      sendJson(res, 404, { message: 'no Route matched with those values' });
      return;
    }
    const method = req.method ?? 'GET';
    if (gatewayHandlesCors(r.service) && isPreflight(method, { get: (n) => (req.headers[n] as string | undefined) ?? null })) {
      req.resume();
      res.writeHead(200, preflightHeaders({ get: (n) => (req.headers[n] as string | undefined) ?? null }));
      res.end();
      return;
    }
    if (r.service === 'rest') proxyRest(req, res, r.path);
    else await callHandler(req, res, r.service, r.path);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      log.error(`${req.method} ${(req.url ?? '').split('?')[0]}: ${(e as Error).stack ?? e}`);
      sendJson(res, 500, { message: 'An unexpected error occurred' }, corsResponseHeaders());
    });
  });
  // Long uploads and streamed function responses must not be cut by Node's 5-minute request timeout.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`gateway: ${HOST}:${opts.port} is already in use`) : e);
    server.once('error', onError);
    server.listen(opts.port, HOST, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${HOST}:${port}`;
  log.info(`API gateway on ${url}`);

  return {
    name: 'gateway',
    url,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
