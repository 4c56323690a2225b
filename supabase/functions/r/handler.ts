/**
 * GET /functions/v1/r/<code> (verify_jwt = false) — the review short link. Records the click and redirects
 * (302) to the shop's Google review page; the same page for every customer (no sentiment gating). An unknown
 * code gets a small 404 page.
 */
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { allowMethods, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { rpcFromClient, type Rpc } from '../_shared/messaging/deliver.ts';

export interface ShortLinkDeps {
  rpc: Rpc;
  log: Log;
}

export function createHandler(deps: ShortLinkDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['GET', 'HEAD']);
    const m = /\/r\/([A-Za-z0-9]{8,16})\/?$/.exec(new URL(req.url).pathname);
    const url = m ? await deps.rpc('messaging_review_click', { code: m[1] }) as string | null : null;
    if (!url) {
      return new Response('<!doctype html><title>Link not found</title><p>This link is not valid.</p>', {
        status: 404, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
      });
    }
    deps.log.info('review link clicked', { code: m![1] });
    return new Response(null, { status: 302, headers: { Location: url, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } });
  }, deps.log);
}

export function depsFromEnv(env: { get(name: string): string | undefined }): ShortLinkDeps {
  const e = readEnv(getterOf(env), {
    SUPABASE_URL: PLATFORM_ENV.SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY: PLATFORM_ENV.SUPABASE_SERVICE_ROLE_KEY,
  });
  return { rpc: rpcFromClient(serviceClient(e)), log: createLogger('r') };
}
