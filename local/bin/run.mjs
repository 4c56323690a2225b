#!/usr/bin/env node
/**
 * Entry point behind the npm scripts. Plain Node with no dependencies, because it runs before
 * anything is installed: on a fresh clone it installs what is needed, then hands over.
 *
 *   start     the whole product locally: stack + demo data + the PWA dev server
 *   stack     the backend only (Postgres, PostgREST, auth/storage stand-ins, functions, emulators)
 *   test      every test; starts the stack for the run when none is running
 *   status    the running stack's settings as KEY=value lines (like `supabase status -o env`)
 *   migrate   apply pending migrations to the running stack and reload PostgREST's schema cache
 *   db-types  regenerate supabase/functions/_shared/database.types.ts
 */
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [, , command = 'help', ...rest] = process.argv;

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`ServicePro needs Node.js 20.19 or newer (this is ${process.versions.node}).`);
  process.exit(1);
}

/**
 * Installs dependencies when node_modules is missing or older than package.json / package-lock.json.
 * `npm install` (not `npm ci`): npm 11 leaves other platforms' optional packages out of the lock file here,
 * which `npm ci` refuses as "out of sync"; `npm install` keeps every locked version and fills the gap.
 */
function ensureDependencies() {
  const stamp = path.join(root, 'node_modules', '.servicepro-deps');
  const digest = createHash('sha256')
    .update(fs.readFileSync(path.join(root, 'package.json')))
    .update(fs.readFileSync(path.join(root, 'package-lock.json')))
    .digest('hex');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === digest) return;
  console.log('[setup] installing dependencies (npm install) ...');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('[setup] npm install failed; see the output above.');
    process.exit(r.status ?? 1);
  }
  const after = createHash('sha256')
    .update(fs.readFileSync(path.join(root, 'package.json')))
    .update(fs.readFileSync(path.join(root, 'package-lock.json')))
    .digest('hex');
  fs.writeFileSync(stamp, after);
}

function tsx(script, args, opts = {}) {
  const bin = path.join(root, 'node_modules', '.bin', 'tsx');
  const child = spawn(bin, [script, ...args], { cwd: root, stdio: 'inherit', ...opts });
  // The child owns the terminal's Ctrl-C; we only pass on what we are sent and mirror its exit.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const commands = {
  start: () => tsx('local/stack.ts', ['--web', '--seed', ...rest]),
  stack: () => tsx('local/stack.ts', rest),
  test: () => tsx('local/test.ts', rest),
  status: () => tsx('local/status.ts', rest),
  migrate: () => tsx('local/migrate-cli.ts', rest),
  'db-types': () => tsx('local/db-types-cli.ts', rest),
};

if (!commands[command]) {
  console.log('usage: node local/bin/run.mjs <start|stack|test|status|migrate|db-types>');
  process.exit(command === 'help' ? 0 : 1);
}
ensureDependencies();
commands[command]();
