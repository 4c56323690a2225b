/**
 * The local Supabase stack without Docker: what `supabase start` gives, assembled from
 *   - Postgres (a local PostgreSQL server, embedded PGlite, or DATABASE_URL)      upstream
 *   - our platform bootstrap (roles, auth/storage schemas, net/vault/cron)       ours
 *   - supabase/migrations applied by the real Supabase CLI                       upstream
 *   - the real PostgREST binary                                                  upstream
 *   - Auth and Storage stand-ins, the functions router, the gateway              ours
 *   - edge functions on real Deno                                                upstream
 *   - Twilio / Stripe / email emulators (only when no real keys are configured)  ours
 *
 * Flags: --web (also serve the PWA), --seed (apply supabase/seed.sql once), --db=<auto|postgres|pglite|external>.
 * Ctrl-C (SIGINT/SIGTERM) stops every child; a start after a crash ends what the crashed run left.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import {
  ANON_KEY, DB_PASSWORD, JWT_SECRET, PORTS, PUBLISHABLE_KEY, ROOT, RUN_DIR, SECRET_KEY, SERVICE_ROLE_KEY, STACK_ENV_FILE,
  STATE_DIR, STRIPE, TWILIO, apiUrl, emailOutboxUrl, stripeApiUrl, twilioApiUrl, webUrl,
} from './config.ts';
import { logger } from './lib/log.ts';
import { isAlive, portOpen, reapStale, startChild, waitFor } from './lib/proc.ts';
import type { DatabaseHandle, RunningService } from './lib/types.ts';
import { readDotenv } from './lib/dotenv.ts';
import { startDatabase } from './db/index.ts';
import { bootstrap } from './db/bootstrap.ts';
import { migrate, seed } from './db/migrate.ts';
import { startScheduler } from './db/scheduler.ts';
import { startPostgrest } from './postgrest/index.ts';
import { createAuthService } from './auth/index.ts';
import { createStorageService } from './storage/index.ts';
import { startFunctions } from './functions/index.ts';
import { startGateway } from './gateway/index.ts';
import { startTwilioEmulator } from './emulators/twilio/index.ts';
import { startStripeEmulator } from './emulators/stripe/index.ts';
import { startEmailOutbox } from './emulators/email/index.ts';

const log = logger('stack');
const args = new Set(process.argv.slice(2));
const flag = (name: string) => args.has(`--${name}`);
const dbModeArg = [...args].find((a) => a.startsWith('--db='))?.slice(5) as
  | 'auto' | 'postgres' | 'pglite' | 'external' | undefined
  ?? (process.env.SP_DB as 'auto' | 'postgres' | 'pglite' | 'external' | undefined);

const STACK_PID = path.join(RUN_DIR, 'stack.pid');
const stoppers: Array<{ name: string; stop: () => Promise<void> }> = [];
let stopping = false;

async function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  fs.rmSync(STACK_ENV_FILE, { force: true });
  // Everything in front of the database stops at once, each given a few seconds (a server waiting on a client's
  // keep-alive connection, or a pool on a checked-out client, must not hold the rest up); then PostgREST, the pools
  // and the database, in that order. Whoever stops us (npm test's lease) SIGKILLs after 20 s, and anything not
  // stopped by then (the database server, PostgREST: their own process groups) would outlive the run.
  const capped = (s: { name: string; stop: () => Promise<void> }, ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      s.stop().catch((e) => log.warn(`stopping ${s.name}: ${(e as Error).message}`)),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => { log.warn(`stopping ${s.name}: still busy after ${ms / 1000} s; going on`); resolve(); }, ms);
      }),
    ]).finally(() => clearTimeout(timer));
  };
  const last = ['postgrest', 'pool', 'auth-pool', 'database'];
  const order = stoppers.slice().reverse();
  await Promise.all(order.filter((s) => !last.includes(s.name)).map((s) => capped(s, 4000)));
  for (const name of last) {
    for (const s of order.filter((x) => x.name === name)) await capped(s, name === 'database' ? 10_000 : 3000);
  }
  fs.rmSync(STACK_PID, { force: true });
  process.exit(code);
}

/**
 * The key telephony seals Twilio auth tokens with (TELEPHONY_KEYS / TELEPHONY_ACTIVE_KEY_ID, see
 * docs/runbooks/secrets.md): supabase/functions/.env wins; otherwise one random 32-byte key "dev", generated on the
 * first start and kept in the state dir (mode 0600) so credentials stored by an earlier run stay readable. Never logged.
 */
function telephonyKeyEnv(dotenv: Record<string, string>): Record<string, string> {
  if (dotenv.TELEPHONY_KEYS && dotenv.TELEPHONY_ACTIVE_KEY_ID) return {};
  const file = path.join(STATE_DIR, 'telephony-keys.json');
  let keys: Record<string, string>;
  if (fs.existsSync(file)) {
    // Never replace an existing file: credentials sealed under its key would become unreadable.
    let parsed: unknown;
    try { parsed = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { parsed = null; }
    if (!parsed || typeof parsed !== 'object' || typeof (parsed as Record<string, unknown>).dev !== 'string') {
      throw new Error(`${file} is not {"dev": "<base64 of 32 bytes>"}: fix or delete it (deleting makes stored Twilio credentials unreadable)`);
    }
    keys = parsed as Record<string, string>;
  } else {
    keys = { dev: crypto.randomBytes(32).toString('base64') };
    fs.mkdirSync(STATE_DIR, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  }
  return { TELEPHONY_KEYS: JSON.stringify(keys), TELEPHONY_ACTIVE_KEY_ID: 'dev' };
}

function track<T extends { stop(): Promise<void> }>(name: string, s: T): T {
  stoppers.push({ name, stop: () => s.stop() });
  return s;
}

/** Provider settings: real keys from supabase/functions/.env win, and then no emulator is started. */
function providerConfig(dotenv: Record<string, string>) {
  const realTwilio = !!dotenv.TWILIO_ACCOUNT_SID && dotenv.TWILIO_ACCOUNT_SID !== TWILIO.accountSid;
  const realStripe = !!dotenv.STRIPE_SECRET_KEY && dotenv.STRIPE_SECRET_KEY !== STRIPE.secretKey;
  const realEmail = !!dotenv.EMAIL_API_KEY;
  return { realTwilio, realStripe, realEmail };
}

async function main() {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  if (fs.existsSync(STACK_PID)) {
    const pid = Number(fs.readFileSync(STACK_PID, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(`a stack is already running (pid ${pid}); see \`npm run status\`, or stop it with Ctrl-C`);
    }
  }
  const reaped = reapStale();
  if (reaped.length) log.warn(`ended processes left by a previous run: ${reaped.join(', ')}`);
  fs.writeFileSync(STACK_PID, String(process.pid));
  fs.rmSync(STACK_ENV_FILE, { force: true });
  for (const [name, port] of Object.entries(PORTS)) {
    if (name === 'functionsBase' || (name === 'web' && !flag('web'))) continue;
    if (name === 'db' && process.env.DATABASE_URL) continue;
    if (await portOpen(port)) throw new Error(`port ${port} (${name}) is already in use by another program`);
  }

  const t0 = Date.now();
  const db: DatabaseHandle = track('database', await startDatabase({ mode: dbModeArg, log: logger('db') }));
  log.info(`database: ${db.kind} at ${redact(db.url)}`);
  await bootstrap(db, logger('bootstrap'));
  await migrate(db, logger('migrate'));
  if (flag('seed')) await seed(db, logger('seed'));

  const poolSize = Math.max(1, Math.min(5, db.maxConnections));
  const pool = new pg.Pool({ connectionString: db.url, max: poolSize });
  track('pool', { stop: () => pool.end() });

  const postgrest = track('postgrest', await startPostgrest({
    db, port: PORTS.postgrest, adminPort: PORTS.postgrestAdmin, jwtSecret: JWT_SECRET, log: logger('postgrest'),
  }));

  const dotenv = readDotenv(path.join(ROOT, 'supabase', 'functions', '.env'));
  const real = providerConfig(dotenv);
  const providerEnv: Record<string, string> = {};
  const statusExtra: Record<string, string> = {};
  const webhookBase = `${apiUrl()}/functions/v1`;
  if (!real.realTwilio) {
    track('twilio', await startTwilioEmulator({
      port: PORTS.twilio, accountSid: TWILIO.accountSid, authToken: TWILIO.authToken, log: logger('twilio'),
      // Inbound texts and calls to the platform's shared number reach our webhooks, as the real number is set up.
      sharedNumber: TWILIO.sharedNumber,
      sharedNumberSmsUrl: `${webhookBase}/twilio-inbound`,
      sharedNumberVoiceUrl: `${webhookBase}/twilio-voice`,
    }));
    Object.assign(providerEnv, {
      TWILIO_API_URL: twilioApiUrl(), TWILIO_ACCOUNT_SID: TWILIO.accountSid, TWILIO_AUTH_TOKEN: TWILIO.authToken,
      TWILIO_SHARED_NUMBER: TWILIO.sharedNumber,
    });
  }
  providerEnv.TWILIO_WEBHOOK_BASE_URL = dotenv.TWILIO_WEBHOOK_BASE_URL ?? webhookBase;
  if (!real.realStripe) {
    track('stripe', await startStripeEmulator({
      port: PORTS.stripe, secretKey: STRIPE.secretKey, webhookSecret: STRIPE.webhookSecret,
      webhookUrl: `${webhookBase}/stripe-webhook`, publicUrl: stripeApiUrl(), log: logger('stripe'),
    }));
    Object.assign(providerEnv, {
      STRIPE_API_URL: stripeApiUrl(), STRIPE_SECRET_KEY: STRIPE.secretKey, STRIPE_WEBHOOK_SECRET: STRIPE.webhookSecret,
    });
  }
  if (!real.realEmail) {
    track('email', await startEmailOutbox({ port: PORTS.email, log: logger('email') }));
    Object.assign(providerEnv, { EMAIL_API_URL: emailOutboxUrl(), EMAIL_API_KEY: 'emulator' });
    statusExtra.EMAIL_OUTBOX_URL = emailOutboxUrl();
  }

  // Auth logs in as supabase_auth_admin, as GoTrue does on hosted: an app trigger on auth.users that is not
  // SECURITY DEFINER then fails here exactly as it would in production.
  const authPool = new pg.Pool({ connectionString: db.urlFor('supabase_auth_admin', DB_PASSWORD), max: poolSize });
  track('auth-pool', { stop: () => authPool.end() });
  const auth = createAuthService({ pool: authPool, jwtSecret: JWT_SECRET, issuer: `${apiUrl()}/auth/v1`, log: logger('auth') });
  track('auth', { stop: () => auth.close() });
  const storage = createStorageService({
    pool, dataDir: path.join(STATE_DIR, 'storage'), jwtSecret: JWT_SECRET, log: logger('storage'),
  });
  track('storage', { stop: () => storage.close() });

  const functions = track('functions', await startFunctions({
    root: ROOT,
    env: {
      SUPABASE_URL: apiUrl(),
      SUPABASE_ANON_KEY: ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
      SUPABASE_DB_URL: db.url,
      SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: PUBLISHABLE_KEY }),
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
      APP_URL: webUrl(),
      ...providerEnv,
      ...telephonyKeyEnv(dotenv),
    },
    basePort: PORTS.functionsBase,
    jwtSecret: JWT_SECRET,
    log: logger('functions'),
  }));

  track('gateway', await startGateway({
    port: PORTS.api, postgrestUrl: postgrest.url!, auth: auth.handler, storage: storage.handler,
    functions: functions.handler,
    keys: { anon: ANON_KEY, serviceRole: SERVICE_ROLE_KEY, publishable: PUBLISHABLE_KEY, secret: SECRET_KEY },
    log: logger('gateway'),
  }));

  // What hosted projects keep in Vault for scheduled function calls (pg_cron → pg_net → /functions/v1/...):
  // the project URL and a key. Migrations read them by name and never carry literals.
  await putVaultSecrets(pool, { project_url: apiUrl(), cron_function_key: SERVICE_ROLE_KEY });
  track('scheduler', await startScheduler(db, { log: logger('scheduler') }));

  if (flag('web')) {
    const vite = startChild('web', path.join(ROOT, 'node_modules', '.bin', 'vite'),
      ['--config', 'web/vite.config.ts', '--host', '127.0.0.1', '--port', String(PORTS.web), '--strictPort'], {
        cwd: ROOT,
        env: { ...process.env, VITE_SUPABASE_URL: apiUrl(), VITE_SUPABASE_ANON_KEY: ANON_KEY },
      });
    track('web', vite);
    await waitFor('web dev server', () => portOpen(PORTS.web), 60_000, vite);
  }

  const status: Record<string, string> = {
    API_URL: apiUrl(),
    ANON_KEY,
    SERVICE_ROLE_KEY,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    DB_URL: db.url,
    JWT_SECRET,
    WEB_URL: webUrl(),
    TWILIO_API_URL: providerEnv.TWILIO_API_URL ?? 'https://api.twilio.com',
    TWILIO_ACCOUNT_SID: providerEnv.TWILIO_ACCOUNT_SID ?? '(real account from supabase/functions/.env)',
    TWILIO_AUTH_TOKEN: providerEnv.TWILIO_AUTH_TOKEN ?? '(hidden)',
    TWILIO_WEBHOOK_BASE_URL: providerEnv.TWILIO_WEBHOOK_BASE_URL,
    TWILIO_SHARED_NUMBER: providerEnv.TWILIO_SHARED_NUMBER ?? dotenv.TWILIO_SHARED_NUMBER ?? '',
    STRIPE_API_URL: providerEnv.STRIPE_API_URL ?? 'https://api.stripe.com',
    STRIPE_SECRET_KEY: providerEnv.STRIPE_SECRET_KEY ?? '(hidden)',
    STRIPE_WEBHOOK_SECRET: providerEnv.STRIPE_WEBHOOK_SECRET ?? '(hidden)',
    EMAIL_OUTBOX_URL: statusExtra.EMAIL_OUTBOX_URL ?? '(real email provider)',
    SP_DB_KIND: db.kind,
    FUNCTIONS: functions.names.join(','),
  };
  fs.writeFileSync(STACK_ENV_FILE, Object.entries(status).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');

  log.info(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s — database: ${db.kind}`);
  log.info(`API      ${apiUrl()}   (REST /rest/v1, Auth /auth/v1, Storage /storage/v1, Functions /functions/v1)`);
  log.info(`DB       ${redact(db.url)}`);
  if (flag('web')) log.info(`Web app  ${webUrl()}`);
  log.info(`Twilio   ${status.TWILIO_API_URL}   Stripe ${status.STRIPE_API_URL}   Email ${status.EMAIL_OUTBOX_URL}`);
  if (flag('seed')) {
    log.info('Demo logins: owner@demo.servicepro.local / demo-owner-pass, tech@demo.servicepro.local / demo-tech-pass,');
    log.info('             root@demo.servicepro.local / demo-root-pass (platform admin)');
  }
  log.info('`npm run status` prints every setting; Ctrl-C stops everything.');
}

async function putVaultSecrets(pool: pg.Pool, secrets: Record<string, string>) {
  for (const [name, value] of Object.entries(secrets)) {
    const { rows } = await pool.query('select id from vault.secrets where name = $1', [name]);
    if (rows.length) await pool.query('select vault.update_secret($1, $2)', [rows[0].id, value]);
    else await pool.query('select vault.create_secret($1, $2)', [value, name]);
  }
}

function redact(url: string) {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => { log.info(`${sig}: stopping`); void stopAll(0); });
}
process.on('uncaughtException', (e) => { log.error(e.stack ?? String(e)); void stopAll(1); });
main().catch((e) => {
  log.error(`start failed: ${(e as Error).message}`);
  void stopAll(1);
});
