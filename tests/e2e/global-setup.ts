/**
 * Global setup of the `e2e` vitest project:
 * 1. skips the whole suite, with the reason printed, when Debian's Chromium is not installed (CI installs it);
 * 2. acquires the local stack like the `stack` project does (reuses a healthy one or starts one for the run);
 * 3. builds the PWA once against that stack (a production build: the service worker is real, dev mode has none)
 *    into the state directory, so the build never races a web/dist someone else is using;
 * 4. serves it with `vite preview` on the stack's web port (PORTS.web), or on a free port when that one is taken
 *    (e.g. by `npm start`'s dev server), and hands the URL to the tests as E2E_WEB_URL.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HOST, PORTS, ROOT, STATE_DIR } from '../../local/config.ts';
import { acquireStack, type StackLease } from '../../local/lib/stack-control.ts';
import { startChild, type Child } from '../../local/lib/proc.ts';
import { chromiumMissing } from './helpers/browser.ts';

let lease: StackLease | undefined;
let preview: Child | undefined;

const say = (m: string) => console.log(`[e2e] ${m}`);

export const DIST_DIR = path.join(STATE_DIR, 'e2e', 'web-dist');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

/** Builds the PWA for this stack; throws with vite's output when the build fails. */
export function buildWeb(env: Record<string, string>, outDir: string): void {
  const started = Date.now();
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'web/vite.config.ts', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: ROOT,
    encoding: 'utf8',
    // NODE_ENV=production explicitly: vitest sets it to "test", which would make a development build (React's dev
    // runtime, import.meta.env.PROD false and so no service worker registration).
    env: { ...process.env, NODE_ENV: 'production', VITE_SUPABASE_URL: env.API_URL, VITE_SUPABASE_ANON_KEY: env.ANON_KEY },
  });
  if (r.status !== 0) throw new Error(`vite build failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  if (!fs.existsSync(path.join(outDir, 'sw.js'))) throw new Error(`vite build produced no sw.js in ${outDir}`);
  say(`built the PWA in ${((Date.now() - started) / 1000).toFixed(1)} s → ${path.relative(ROOT, outDir)}`);
}

/** `vite preview` of a build on 127.0.0.1:<port>; resolves once it answers. */
export async function servePreview(outDir: string, port: number, name = 'e2e-web'): Promise<{ url: string; child: Child }> {
  const child = startChild(name, path.join(ROOT, 'node_modules', '.bin', 'vite'), ['preview', '--config', 'web/vite.config.ts', '--outDir', outDir, '--host', HOST, '--port', String(port), '--strictPort'], { cwd: ROOT, env: { ...process.env } });
  const url = `http://${HOST}:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      const tail = fs.existsSync(child.logFile) ? fs.readFileSync(child.logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
      throw new Error(`vite preview exited (${child.proc.exitCode ?? child.proc.signalCode}):\n${tail}`);
    }
    try {
      const r = await fetch(`${url}/manifest.webmanifest`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return { url, child };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  await child.stop('SIGTERM', 5000);
  throw new Error(`vite preview did not answer on ${url} within 30 s; see ${child.logFile}`);
}

/** The stack's web port when free, else any free port (said out loud). */
export async function choosePort(): Promise<number> {
  if (await portFree(PORTS.web)) return PORTS.web;
  const port = await freePort();
  say(`port ${PORTS.web} (PORTS.web) is taken (a dev server?): serving the build on ${port} instead`);
  return port;
}

export async function setup() {
  const missing = chromiumMissing();
  if (missing) {
    say(`SKIPPED: ${missing}`);
    process.env.E2E_SKIP_REASON = missing;
    return;
  }
  lease = await acquireStack({ log: say });
  Object.assign(process.env, lease.env);
  buildWeb(lease.env, DIST_DIR);
  const served = await servePreview(DIST_DIR, await choosePort());
  preview = served.child;
  process.env.E2E_WEB_URL = served.url;
  say(`serving the built PWA at ${served.url}`);
}

export async function teardown() {
  await preview?.stop('SIGTERM', 5000);
  await lease?.release();
}
