/**
 * The local stack's fixed settings: one place for ports, keys and folders.
 *
 * Values mirror what `supabase start` gives (API on 54321, DB on 54322, the CLI's demo JWT secret and
 * anon/service_role keys) so that anything written against a local Supabase works here unchanged.
 * Nothing under web/ or supabase/ imports this file: they receive these values as environment variables.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Git-ignored state: database files, storage bytes, pid files, logs, the generated env file. */
export const STATE_DIR = process.env.SP_STATE_DIR ?? path.join(ROOT, '.local');
export const RUN_DIR = path.join(STATE_DIR, 'run');
export const LOG_DIR = path.join(STATE_DIR, 'logs');
export const STACK_ENV_FILE = path.join(STATE_DIR, 'stack.env');

export const HOST = '127.0.0.1';

/**
 * Ports. The API gateway and DB use Supabase's local defaults; the rest sit beside them.
 * `SP_PORT_BASE=<n>` moves the whole stack to n, n+1, … so several stacks can run side by side
 * (parallel development, the PGlite CI run); single `SP_*_PORT` variables still override one port.
 */
const base = process.env.SP_PORT_BASE ? Number(process.env.SP_PORT_BASE) : undefined;
const port = (name: string, dflt: number, offset: number) =>
  Number(process.env[name] ?? (base !== undefined ? base + offset : dflt));
export const PORTS = {
  api: port('SP_API_PORT', 54321, 0),
  db: port('SP_DB_PORT', 54322, 1),
  web: port('SP_WEB_PORT', 5173, 2),
  postgrest: port('SP_POSTGREST_PORT', 54330, 3),
  postgrestAdmin: port('SP_POSTGREST_ADMIN_PORT', 54331, 4),
  twilio: port('SP_TWILIO_PORT', 54340, 5),
  stripe: port('SP_STRIPE_PORT', 54341, 6),
  email: port('SP_EMAIL_PORT', 54342, 7),
  openai: port('SP_OPENAI_PORT', 54343, 8),
  /** Edge functions each get one port from this range, in the order of their folder names. */
  functionsBase: port('SP_FUNCTIONS_BASE_PORT', 54400, 20),
} as const;

/** The Supabase CLI's local JWT secret and demo keys (public values, local use only). */
export const JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
export const ANON_KEY =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0';
export const SERVICE_ROLE_KEY =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU';
/** New-format keys, mapped by the gateway exactly as Kong maps them. */
export const PUBLISHABLE_KEY = 'sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH';
export const SECRET_KEY = 'sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz';

/** Password of the `authenticator` login role (PostgREST's) and of `postgres` on a server we start. */
export const DB_PASSWORD = 'postgres';

/** Emulator credentials: shaped like the real ones, valid only against the emulators. */
export const TWILIO = {
  accountSid: 'AC00000000000000000000000000000000',
  authToken: 'emulator_auth_token_000000000000',
  /** The platform's shared sending number (a shop without its own number sends from it). */
  sharedNumber: '+15005550006',
};
export const STRIPE = {
  secretKey: 'sk_test_emulator_00000000000000000000000000',
  webhookSecret: 'whsec_emulator_0000000000000000000000000000',
};

export const apiUrl = () => `http://${HOST}:${PORTS.api}`;
export const webUrl = () => `http://${HOST}:${PORTS.web}`;
export const twilioApiUrl = () => `http://${HOST}:${PORTS.twilio}`;
export const stripeApiUrl = () => `http://${HOST}:${PORTS.stripe}`;
export const emailOutboxUrl = () => `http://${HOST}:${PORTS.email}`;
export const openaiApiUrl = () => `http://${HOST}:${PORTS.openai}/v1`;
