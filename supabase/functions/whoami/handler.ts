/**
 * GET|POST /functions/v1/whoami — the signed-in caller as Supabase Auth knows them:
 * `{ id, email, role }`. The platform has already checked the JWT's signature (verify_jwt = true);
 * this function additionally refuses API keys and revoked sessions (401 `unauthorized`).
 */
import { authDepsFromClient, requireUser, type AuthDeps } from '../_shared/auth.ts';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { anonClient } from '../_shared/supabase.ts';

export interface WhoamiDeps {
  auth: AuthDeps;
  log: Log;
}

export function createHandler(deps: WhoamiDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['GET', 'POST']);
    const user = await requireUser(req, deps.auth);
    return json(200, { id: user.id, email: user.email, role: user.role }, { 'Cache-Control': 'no-store' });
  }, deps.log, { cors: true });
}

export function depsFromEnv(env: { get(name: string): string | undefined }): WhoamiDeps {
  const e = readEnv(getterOf(env), { SUPABASE_URL: PLATFORM_ENV.SUPABASE_URL, SUPABASE_ANON_KEY: PLATFORM_ENV.SUPABASE_ANON_KEY });
  return { auth: authDepsFromClient(anonClient(e)), log: createLogger('whoami') };
}
