/**
 * Find a running stack, or start one in the background and wait for it. Used by the test command
 * and vitest's global setup, so `npm test` and a bare `npx vitest run` behave the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LOG_DIR, ROOT, STACK_ENV_FILE } from '../config.ts';
import { startChild, type Child } from './proc.ts';
import { readDotenv } from './dotenv.ts';

export function readStackEnv(): Record<string, string> | null {
  if (!fs.existsSync(STACK_ENV_FILE)) return null;
  return readDotenv(STACK_ENV_FILE);
}

export async function stackHealthy(env: Record<string, string> | null): Promise<boolean> {
  if (!env?.API_URL) return false;
  try {
    const r = await fetch(`${env.API_URL}/health`, { signal: AbortSignal.timeout(2000) });
    return r.ok;
  } catch {
    return false;
  }
}

export interface StackLease {
  env: Record<string, string>;
  /** true when this lease started the stack (and so must stop it). */
  owned: boolean;
  release(): Promise<void>;
}

export async function acquireStack(opts: { timeoutMs?: number; log?: (m: string) => void } = {}): Promise<StackLease> {
  const say = opts.log ?? ((m: string) => console.log(`[tests] ${m}`));
  const existing = readStackEnv();
  if (await stackHealthy(existing)) {
    say(`using the running stack at ${existing!.API_URL} (database: ${existing!.SP_DB_KIND})`);
    return { env: existing!, owned: false, release: async () => {} };
  }
  say('starting the local stack for this test run ...');
  const child: Child = startChild('stack-test', path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['local/stack.ts'], {
    cwd: ROOT,
    env: { ...process.env },
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      const tail = fs.existsSync(child.logFile) ? fs.readFileSync(child.logFile, 'utf8').split('\n').slice(-40).join('\n') : '';
      throw new Error(`the stack exited (${child.proc.exitCode ?? child.proc.signalCode}) while starting:\n${tail}`);
    }
    const env = readStackEnv();
    if (await stackHealthy(env)) {
      say(`stack ready (database: ${env!.SP_DB_KIND}); its log: ${path.relative(ROOT, path.join(LOG_DIR, 'stack-test.log'))}`);
      return { env: env!, owned: true, release: () => child.stop('SIGTERM', 20_000) };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await child.stop('SIGTERM', 10_000);
  throw new Error(`the stack did not become ready in time; see ${child.logFile}`);
}
