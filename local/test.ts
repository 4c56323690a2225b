/**
 * `npm test`: every test. Uses DATABASE_URL when given, else a local PostgreSQL server it can start,
 * else embedded PGlite — and says which. Starts the stack for the run unless one is running,
 * runs the vitest projects (unit + stack + e2e), and stops what it started. The e2e project (the built PWA in
 * headless Chromium) is skipped, saying why, only when Debian's Chromium is not installed.
 * Extra arguments go to vitest (e.g. `npm test -- tests/contract`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './config.ts';
import { chooseDatabase } from './db/index.ts';
import { acquireStack, readStackEnv, stackHealthy } from './lib/stack-control.ts';

const passthrough = process.argv.slice(2);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

if (!(await stackHealthy(readStackEnv()))) {
  const choice = chooseDatabase();
  console.log(`[tests] database: ${choice.mode} — ${choice.reason}`);
}
// The same path tests/e2e/helpers/browser.ts launches; CI apt-installs it (.ci/run), so CI always runs e2e.
const chromium = process.env.SP_CHROMIUM_PATH ?? '/usr/bin/chromium';
console.log(fs.existsSync(chromium)
  ? `[tests] e2e: the built PWA in headless ${chromium}`
  : `[tests] e2e: SKIPPED — ${chromium} not found; install Debian's Chromium (apt-get install chromium fonts-dejavu-core) to run the browser tests`);
const lease = await acquireStack();
let code = 1;
const stop = async () => { await lease.release(); };
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { void stop().then(() => process.exit(130)); });
try {
  code = await run(path.join(ROOT, 'node_modules', '.bin', 'vitest'), ['run', ...passthrough], { ...process.env, ...lease.env });
} finally {
  await stop();
}
process.exit(code);
