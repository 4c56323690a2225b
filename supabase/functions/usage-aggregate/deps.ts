/** Wiring from the environment (index.ts calls it once at boot). */
import { authDepsFromClient } from '../_shared/auth.ts';
import { EMAIL_ENV, emailSender } from '../_shared/email.ts';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { createLogger } from '../_shared/log.ts';
import { anonClient, serviceClient, userClient } from '../_shared/supabase.ts';
import { createHandler, type UsageAggregateDeps } from './handler.ts';

export { createHandler };

export function depsFromEnv(env: { get(name: string): string | undefined }): UsageAggregateDeps {
  const e = readEnv(getterOf(env), {
    ...PLATFORM_ENV,
    ...EMAIL_ENV,
    APP_URL: { default: 'https://app.servicepro.app', description: 'The PWA origin, for links in emails' },
  });
  return {
    serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY,
    auth: authDepsFromClient(anonClient(e)),
    userRpc: (authorization) => userClient(e, authorization),
    serviceRpc: serviceClient(e),
    email: emailSender(e),
    appUrl: e.APP_URL,
    log: createLogger('usage-aggregate'),
  };
}
