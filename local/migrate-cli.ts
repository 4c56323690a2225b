/** `npm run migrate`-style helper: apply pending migrations to the running stack and reload PostgREST. */
import fs from 'node:fs';
import path from 'node:path';
import { RUN_DIR } from './config.ts';
import { logger } from './lib/log.ts';
import { readStackEnv, stackHealthy } from './lib/stack-control.ts';
import { startDatabase } from './db/index.ts';
import { migrate } from './db/migrate.ts';

const env = readStackEnv();
if (!(await stackHealthy(env))) {
  console.error('The local stack is not running; `npm run stack` applies migrations when it starts.');
  process.exit(1);
}
process.env.DATABASE_URL = env!.DB_URL;
await migrate(await startDatabase({ mode: 'external', log: logger('migrate') }), logger('migrate'));
const pidFile = path.join(RUN_DIR, 'postgrest.pid');
if (fs.existsSync(pidFile)) process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGUSR1');
console.log('migrations applied; PostgREST schema cache reloaded');
