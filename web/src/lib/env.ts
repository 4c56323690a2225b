/// <reference types="vite/client" />
/**
 * The two settings the web app needs, read from Vite's build-time env (VITE_SUPABASE_URL, VITE_SUPABASE_ANON_KEY).
 * A missing or malformed value is a deployment mistake: readConfig() says exactly which one, and the app shell
 * shows that instead of failing on the first request.
 */
export interface WebConfig {
  supabaseUrl: string;
  supabaseAnonKey: string;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`The app is not configured: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type EnvLike = Record<string, string | boolean | undefined>;

/** Validates the env; pure so it can be tested with any record. */
export function parseConfig(env: EnvLike): WebConfig {
  const problems: string[] = [];
  const url = typeof env.VITE_SUPABASE_URL === 'string' ? env.VITE_SUPABASE_URL.trim() : '';
  const key = typeof env.VITE_SUPABASE_ANON_KEY === 'string' ? env.VITE_SUPABASE_ANON_KEY.trim() : '';
  if (!url) {
    problems.push('VITE_SUPABASE_URL is not set');
  } else {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      problems.push(`VITE_SUPABASE_URL must be an http(s) URL (got "${url}")`);
    }
  }
  if (!key) problems.push('VITE_SUPABASE_ANON_KEY is not set');
  if (problems.length) throw new ConfigError(problems);
  return { supabaseUrl: url.replace(/\/+$/, ''), supabaseAnonKey: key };
}

export function readConfig(): WebConfig {
  return parseConfig(import.meta.env as unknown as EnvLike);
}

/** The configuration problems, or null when the app can start. */
export function configProblems(): string[] | null {
  try {
    readConfig();
    return null;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}
