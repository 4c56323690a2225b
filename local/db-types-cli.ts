/**
 * `npm run db:types`: regenerate supabase/functions/_shared/database.types.ts from the migrations.
 * Uses the running stack's database, or else a throwaway database built from scratch for the purpose
 * (in a temporary state folder on its own port, so it never disturbs a stack).
 * `--check` exits 1 when the committed file differs (CI uses it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './config.ts';
import { logger } from './lib/log.ts';
import { readStackEnv, stackHealthy } from './lib/stack-control.ts';
import { startDatabase } from './db/index.ts';
import { bootstrap } from './db/bootstrap.ts';
import { migrate } from './db/migrate.ts';
import { generateTypes } from './db/types.ts';

const target = path.join(ROOT, 'supabase', 'functions', '_shared', 'database.types.ts');
const check = process.argv.includes('--check');
const log = logger('db:types');
const env = readStackEnv();
let text: string;

if (process.env.SP_TYPES_SCRATCH === '1') {
  const db = await startDatabase({ log });
  try {
    await bootstrap(db, log);
    await migrate(db, log);
    text = await generateTypes(db);
  } finally {
    await db.stop();
  }
} else if (await stackHealthy(env)) {
  process.env.DATABASE_URL = env!.DB_URL;
  const db = await startDatabase({ mode: 'external', log });
  text = await generateTypes(db);
} else {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-types-'));
  // mkdtemp makes the folder 0700; when we run as root the cluster belongs to the postgres OS user,
  // which must be able to traverse it.
  fs.chmodSync(state, 0o755);
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, SP_TYPES_SCRATCH: '1', SP_STATE_DIR: state, SP_DB_PORT: process.env.SP_DB_PORT_TYPES ?? '54399' },
  });
  fs.rmSync(state, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}

const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
if (check) {
  if (current !== text) {
    console.error(`${path.relative(ROOT, target)} is out of date: run \`npm run db:types\` and commit the result.`);
    process.exit(1);
  }
  console.log('database types are up to date');
} else {
  fs.writeFileSync(target, text);
  console.log(`wrote ${path.relative(ROOT, target)}`);
}
