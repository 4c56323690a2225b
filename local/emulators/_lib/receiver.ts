/**
 * A tiny webhook receiver for tests: records every request (raw body kept byte-exact for signature checks)
 * and answers with what the test asks for. Binds to loopback; port 0 picks a free port.
 */
import type { Logger } from '../../lib/types.ts';
import { json, serveHttp, type EmuRequest, type EmuResponse } from './http.ts';

export interface Received {
  method: string;
  /** Path and query as requested. */
  pathAndQuery: string;
  /** The full URL the sender used (http://127.0.0.1:<port><pathAndQuery>). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves once `n` requests (optionally matching `filter`) arrived; rejects after `timeoutMs`. */
  waitFor(n: number, filter?: (r: Received) => boolean, timeoutMs?: number): Promise<Received[]>;
  stop(): Promise<void>;
}

const silent: Logger = { info() {}, warn() {}, error() {} };

export async function startReceiver(opts: {
  port?: number;
  respond?: (req: EmuRequest) => EmuResponse | Promise<EmuResponse>;
} = {}): Promise<Receiver> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  let base = '';
  const server = await serveHttp({
    name: 'receiver',
    port: opts.port ?? 0,
    log: silent,
    handler: async (req) => {
      const pathAndQuery = req.path + req.url.search;
      received.push({ method: req.method, pathAndQuery, url: base + pathAndQuery, headers: { ...req.headers }, raw: req.text, at: Date.now() });
      for (const w of waiters) w();
      return opts.respond ? opts.respond(req) : json(200, { received: true });
    },
  });
  base = server.url;
  return {
    url: server.url,
    received,
    waitFor(n, filter = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hits = received.filter(filter);
          if (hits.length >= n) { waiters.delete(check); clearTimeout(t); resolve(hits); return true; }
          return false;
        };
        const t = setTimeout(() => { waiters.delete(check); reject(new Error(`receiver: ${received.filter(filter).length}/${n} requests after ${timeoutMs} ms`)); }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    stop: () => server.stop(),
  };
}
