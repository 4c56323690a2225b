/**
 * Typed environment for edge functions. Functions never read `Deno.env` deep inside their code:
 * `index.ts` passes `Deno.env` to `depsFromEnv`, which calls `readEnv` once at boot. A missing
 * variable is a configuration error that names what is missing (never a value), so the worker fails
 * to boot with a message an operator can act on.
 */

/** Reads one variable (`(k) => Deno.env.get(k)` in Deno, a plain object in tests). */
export type EnvGetter = (name: string) => string | undefined;

/** `{ optional: true }` → string | undefined; `{ default }` → string; `true` / `{}` → required string. */
export type EnvVarSpec = true | { optional?: boolean; default?: string; description?: string };
export type EnvSpec = Record<string, EnvVarSpec>;

export type EnvOf<S extends EnvSpec> = {
  [K in keyof S]: S[K] extends { default: string } ? string : S[K] extends { optional: true } ? string | undefined : string;
};

export class ConfigError extends Error {
  constructor(readonly missing: string[]) {
    super(`Missing required environment variable${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}. ` +
      'Set them with `supabase secrets set` (production) or in supabase/functions/.env (local).');
    this.name = 'ConfigError';
  }
}

export function readEnv<S extends EnvSpec>(get: EnvGetter, spec: S): EnvOf<S> {
  const out: Record<string, string | undefined> = {};
  const missing: string[] = [];
  for (const [name, s] of Object.entries(spec)) {
    const raw = get(name);
    const value = raw === undefined || raw.trim() === '' ? undefined : raw;
    if (value !== undefined) out[name] = value;
    else if (s !== true && s.default !== undefined) out[name] = s.default;
    else if (s !== true && s.optional) out[name] = undefined;
    else missing.push(name);
  }
  if (missing.length) throw new ConfigError(missing);
  return out as EnvOf<S>;
}

/** Adapts `Deno.env` (or anything with `get`) to an `EnvGetter`. */
export function getterOf(env: { get(name: string): string | undefined }): EnvGetter {
  return (name) => env.get(name);
}

/** The variables the platform injects into every function (hosted and `supabase functions serve`). */
export const PLATFORM_ENV = {
  SUPABASE_URL: true,
  SUPABASE_ANON_KEY: true,
  SUPABASE_SERVICE_ROLE_KEY: true,
} as const satisfies EnvSpec;
