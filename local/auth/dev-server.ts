/**
 * Serves the auth stand-in alone, for working on it without the whole stack:
 *
 *   AUTH_DEV_DB_URL=postgres://supabase_auth_admin:postgres@127.0.0.1:55520/postgres \
 *   AUTH_DEV_PORT=55521 npx tsx local/auth/dev-server.ts
 *
 * then `createClient('http://127.0.0.1:55521', ANON_KEY)` works for `supabase.auth.*`. It does the two things the
 * real gateway does in front of auth — strips `/auth/v1` and maps `apikey` to `Authorization` as Kong does — and
 * nothing else (no CORS, no other services). The database must already carry local/db/bootstrap/*.sql.
 */
import http from 'node:http';
import pg from 'pg';
import { ANON_KEY, HOST, JWT_SECRET, PUBLISHABLE_KEY, SECRET_KEY, SERVICE_ROLE_KEY } from '../config.ts';
import { logger } from '../lib/log.ts';
import { createAuthService } from './index.ts';

const PREFIX = '/auth/v1';

/** Kong's key handling (Supabase CLI start.go / kong.yml) for one request's headers. */
export function kongAuthorization(authorization: string | undefined, apikey: string | undefined): string | undefined {
  if (authorization && !/^Bearer sb_/.test(authorization)) return authorization;
  if (!apikey) return authorization;
  if (apikey === SECRET_KEY || apikey === SERVICE_ROLE_KEY) return `Bearer ${SERVICE_ROLE_KEY}`;
  if (apikey === PUBLISHABLE_KEY || apikey === ANON_KEY) return `Bearer ${ANON_KEY}`;
  return `Bearer ${apikey}`;
}

async function main() {
  const dbUrl = process.env.AUTH_DEV_DB_URL;
  if (!dbUrl) throw new Error('AUTH_DEV_DB_URL is required (a database carrying local/db/bootstrap/*.sql)');
  const port = Number(process.env.AUTH_DEV_PORT ?? 55521);
  const log = logger('auth');
  // PGlite behind pglite-socket needs 1: it runs one backend and interleaves concurrent connections' protocol messages.
  const pool = new pg.Pool({ connectionString: dbUrl, max: Number(process.env.AUTH_DEV_POOL_MAX ?? 10) });
  const apiUrl = `http://${HOST}:${port}`;
  const service = createAuthService({
    pool,
    jwtSecret: process.env.AUTH_DEV_JWT_SECRET ?? JWT_SECRET,
    issuer: `${apiUrl}${PREFIX}`,
    autoconfirm: process.env.AUTH_DEV_AUTOCONFIRM !== 'false',
    log,
  });

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', apiUrl);
      if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: 'no Route matched with those values' }));
        return;
      }
      url.pathname = url.pathname.slice(PREFIX.length) || '/';
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined) continue;
        headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      const authorization = kongAuthorization(headers.get('authorization') ?? undefined, headers.get('apikey') ?? undefined);
      if (authorization) headers.set('authorization', authorization);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const response = await service.handler(
        new Request(url, { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined }),
      );
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => { out[k] = v; });
      res.writeHead(response.status, out).end(Buffer.from(await response.arrayBuffer()));
    } catch (e) {
      log.error(`dev server: ${(e as Error).stack ?? e}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 'unexpected_failure', message: 'dev server error' }));
    }
  });
  server.listen(port, HOST, () => log.info(`auth dev server on ${apiUrl}${PREFIX} (pid ${process.pid})`));

  const stop = async () => {
    server.close();
    await service.close();
    await pool.end();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
