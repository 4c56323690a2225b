/** `npm run status`: the running stack's settings as KEY=value lines, like `supabase status -o env`. */
import { readStackEnv, stackHealthy } from './lib/stack-control.ts';

const env = readStackEnv();
if (!(await stackHealthy(env))) {
  console.error('The local stack is not running. Start it with `npm start` (with the web app) or `npm run stack`.');
  process.exit(1);
}
for (const [k, v] of Object.entries(env!)) console.log(`${k}=${v}`);
