/**
 * GET /functions/v1/health — an uptime check: no credentials needed (verify_jwt = false in
 * supabase/config.toml), no database call, so it answers even when the data layer is down.
 */
import { allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';

export interface HealthDeps {
  /** The runtime's version (Deno.version.deno). */
  runtimeVersion: string;
  now: () => Date;
  log: Log;
}

export function createHandler(deps: HealthDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['GET', 'HEAD']);
    return json(
      200,
      { status: 'ok', time: deps.now().toISOString(), deno: deps.runtimeVersion },
      { 'Cache-Control': 'no-store' },
    );
  }, deps.log, { cors: true });
}

export function depsFromEnv(_env: { get(name: string): string | undefined }): HealthDeps {
  const deno = (globalThis as { Deno?: { version?: { deno?: string } } }).Deno;
  return { runtimeVersion: deno?.version?.deno ?? 'unknown', now: () => new Date(), log: createLogger('health') };
}
