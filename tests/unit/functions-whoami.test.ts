import { describe, expect, it } from 'vitest';
import { createHandler, depsFromEnv } from '../../supabase/functions/whoami/handler.ts';
import { ConfigError } from '../../supabase/functions/_shared/env.ts';
import { createLogger } from '../../supabase/functions/_shared/log.ts';
import type { AuthDeps, VerifiedUser } from '../../supabase/functions/_shared/auth.ts';

const jwt = (payload: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;

const ann: VerifiedUser = { id: '7d1f0c1e-0000-4000-8000-000000000001', email: 'ann@example.com', phone: null, role: 'authenticated', appMetadata: { provider: 'email' } };
const logs: string[] = [];
const log = createLogger('whoami', { sink: (_l, line) => logs.push(line) });

function handlerWith(known: Record<string, VerifiedUser>, opts: { authDown?: boolean } = {}) {
  const auth: AuthDeps = {
    async getUser(token) {
      if (opts.authDown) throw new Error('connect ECONNREFUSED');
      return known[token] ?? null;
    },
  };
  return createHandler({ auth, log });
}

describe('whoami function', () => {
  const token = jwt({ sub: ann.id, role: 'authenticated', email: ann.email });

  it('returns the caller confirmed by Auth', async () => {
    const res = await handlerWith({ [token]: ann })(new Request('http://x/whoami', { headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: ann.id, email: 'ann@example.com', role: 'authenticated' });
  });

  it('also answers POST (functions.invoke default)', async () => {
    const res = await handlerWith({ [token]: ann })(
      new Request('http://x/whoami', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' }),
    );
    expect(res.status).toBe(200);
  });

  it('401 unauthorized for the anon key, no token, or a session Auth rejects', async () => {
    const h = handlerWith({ [token]: ann });
    const anon = jwt({ iss: 'supabase-demo', role: 'anon', exp: 1983812996 });
    const cases: Array<Record<string, string>> = [{ authorization: `Bearer ${anon}` }, {}, { authorization: `Bearer ${jwt({ sub: "x", role: "authenticated" })}` }];
    for (const headers of cases) {
      const res = await h(new Request('http://x/whoami', { headers }));
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('405 for other methods', async () => {
    const res = await handlerWith({})(new Request('http://x/whoami', { method: 'DELETE' }));
    expect(res.status).toBe(405);
  });

  it('500 internal_error (logged, token not logged) when Auth cannot be reached', async () => {
    logs.length = 0;
    const res = await handlerWith({}, { authDown: true })(new Request('http://x/whoami', { headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: 'internal_error' });
    expect(logs.join('\n')).toContain('ECONNREFUSED');
    expect(logs.join('\n')).not.toContain(token);
  });

  it('fails to boot with the missing variable names when the platform env is absent', () => {
    expect(() => depsFromEnv({ get: () => undefined })).toThrow(ConfigError);
    expect(() => depsFromEnv({ get: () => undefined })).toThrow(/SUPABASE_URL, SUPABASE_ANON_KEY/);
  });
});
