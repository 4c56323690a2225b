import { describe, expect, it } from 'vitest';
import { bearerToken, decodeJwtPayload, requireUser, type AuthDeps } from '../../supabase/functions/_shared/auth.ts';
import { ConfigError, readEnv } from '../../supabase/functions/_shared/env.ts';
import { HttpError, errorResponse, json, readJson, withErrors } from '../../supabase/functions/_shared/http.ts';
import { createLogger, redact, type Level } from '../../supabase/functions/_shared/log.ts';

function memoryLog() {
  const lines: Array<{ level: Level; entry: Record<string, unknown>; raw: string }> = [];
  const log = createLogger('test', { sink: (level, raw) => lines.push({ level, raw, entry: JSON.parse(raw) }) });
  return { log, lines };
}

const jwt = (payload: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2lnbmF0dXJl`;

describe('readJson', () => {
  const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
    new Request('http://x/fn', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  it('parses a JSON body', async () => {
    expect(await readJson(post('{"tenant_id":"t1","n":2}'))).toEqual({ tenant_id: 't1', n: 2 });
  });

  it('rejects malformed JSON with 400 invalid_json', async () => {
    await expect(readJson(post('{"a":'))).rejects.toMatchObject({ status: 400, code: 'invalid_json' });
  });

  it('rejects an empty body with 400 invalid_json', async () => {
    await expect(readJson(post(null))).rejects.toMatchObject({ status: 400, code: 'invalid_json' });
    await expect(readJson(post('   '))).rejects.toMatchObject({ status: 400, code: 'invalid_json' });
  });

  it('rejects a body over the limit by Content-Length with 413 payload_too_large', async () => {
    await expect(readJson(post('{"a":"0123456789"}', { 'content-length': '18' }), 10)).rejects.toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
  });

  it('rejects a streamed body over the limit (no Content-Length) with 413', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode('"xxxxxxxxxx"'));
        c.close();
      },
    });
    const req = new Request('http://x/fn', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    await expect(readJson(req, 30)).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
  });
});

describe('errorResponse / withErrors', () => {
  it('maps an HttpError to its status and {code, message}', async () => {
    const { log, lines } = memoryLog();
    const res = errorResponse(new HttpError(404, 'not_found', 'No such job.'), log);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ code: 'not_found', message: 'No such job.' });
    expect(lines).toHaveLength(0); // client errors are not server errors
  });

  it('keeps details when given', async () => {
    const { log } = memoryLog();
    const res = errorResponse(new HttpError(400, 'invalid_input', 'Check the fields.', { fields: ['phone'] }), log);
    expect(await res.json()).toEqual({ code: 'invalid_input', message: 'Check the fields.', details: { fields: ['phone'] } });
  });

  it('turns anything else into a 500 internal_error, logged without secrets and without leaking the message', async () => {
    const { log, lines } = memoryLog();
    const secret = 'sk_test_abcdefghijklmnop';
    const res = errorResponse(new Error(`Stripe failed with key ${secret}`), log);
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body.code).toBe('internal_error');
    expect(JSON.stringify(body)).not.toContain('Stripe');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('error');
    expect(lines[0]!.raw).toContain('Stripe failed');
    expect(lines[0]!.raw).not.toContain(secret);
  });

  it('withErrors catches throws, answers preflights and adds CORS when asked', async () => {
    const { log } = memoryLog();
    const h = withErrors(async (req) => {
      if (req.method === 'DELETE') throw new HttpError(409, 'conflict', 'Already done.');
      return json(200, { ok: true });
    }, log, { cors: true });
    const pre = await h(new Request('http://x/fn', { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } }));
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
    const ok = await h(new Request('http://x/fn'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    const err = await h(new Request('http://x/fn', { method: 'DELETE' }));
    expect(err.status).toBe(409);
    expect(err.headers.get('access-control-allow-origin')).toBe('*');
    expect(await err.json()).toEqual({ code: 'conflict', message: 'Already done.' });
  });
});

describe('readEnv', () => {
  const spec = { A: true, B: { optional: true }, C: { default: 'c-default' }, D: true } as const;

  it('returns typed values with defaults and optionals', () => {
    const env = readEnv((k) => ({ A: 'a', D: 'd' })[k], spec);
    expect(env).toEqual({ A: 'a', B: undefined, C: 'c-default', D: 'd' });
  });

  it('lists every missing name (blank counts as missing) and never a value', () => {
    let err: unknown;
    try {
      readEnv((k) => ({ A: '  ', B: 'super-secret-value' })[k], spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).missing).toEqual(['A', 'D']);
    expect((err as Error).message).toContain('A, D');
    expect((err as Error).message).not.toContain('super-secret-value');
  });
});

describe('log redaction', () => {
  it('redacts secret-named fields and secret-looking values', () => {
    const { log, lines } = memoryLog();
    const token = jwt({ sub: 'u1', role: 'authenticated' });
    log.info(`called with Bearer ${token}`, {
      authorization: `Bearer ${token}`,
      apiKey: 'sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz',
      nested: { stripe: 'key sk_live_1234567890abcdef', ok: 'visible', db: 'postgresql://postgres:hunter2@db:5432/postgres' },
      tenant_id: 't-1',
    });
    const raw = lines[0]!.raw;
    expect(raw).not.toContain(token);
    expect(raw).not.toContain('sb_secret_');
    expect(raw).not.toContain('sk_live_');
    expect(raw).not.toContain('hunter2');
    expect(lines[0]!.entry).toMatchObject({ level: 'info', fn: 'test', tenant_id: 't-1', nested: { ok: 'visible' } });
  });

  it('survives cycles and errors', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redact({ a, e: new TypeError('boom') })).toEqual({
      a: { name: 'a', self: '[circular]' },
      e: { name: 'TypeError', message: 'boom' },
    });
  });
});

describe('requireUser', () => {
  const user = { id: 'u-1', email: 'ann@example.com', phone: null, role: 'authenticated', appMetadata: {} };
  const deps = (result: typeof user | null): AuthDeps & { calls: string[] } => {
    const calls: string[] = [];
    return { calls, getUser: async (t) => (calls.push(t), result) };
  };
  const req = (authorization?: string) =>
    new Request('http://x/fn', { headers: authorization ? { authorization } : {} });

  it('returns the user confirmed by Auth, with the token and claims', async () => {
    const token = jwt({ sub: 'u-1', role: 'authenticated', email: 'ann@example.com' });
    const d = deps(user);
    const u = await requireUser(req(`Bearer ${token}`), d);
    expect(u).toMatchObject({ id: 'u-1', email: 'ann@example.com', role: 'authenticated', token });
    expect(u.claims.sub).toBe('u-1');
    expect(d.calls).toEqual([token]);
  });

  it('401 without a bearer token', async () => {
    await expect(requireUser(req(), deps(user))).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    await expect(requireUser(req('Basic abc'), deps(user))).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('401 for a garbled token and for API keys (anon / service role), without asking Auth', async () => {
    const d = deps(user);
    await expect(requireUser(req('Bearer not-a-jwt'), d)).rejects.toMatchObject({ status: 401 });
    await expect(requireUser(req(`Bearer ${jwt({ role: 'anon', iss: 'supabase-demo' })}`), d)).rejects.toMatchObject({ status: 401 });
    await expect(requireUser(req(`Bearer ${jwt({ role: 'service_role' })}`), d)).rejects.toMatchObject({ status: 401 });
    expect(d.calls).toEqual([]);
  });

  it('401 when Auth does not know the session', async () => {
    await expect(requireUser(req(`Bearer ${jwt({ sub: 'u-1', role: 'authenticated' })}`), deps(null))).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
  });

  it('parses bearer tokens and JWT payloads defensively', () => {
    expect(bearerToken(req('bearer abc'))).toBe('abc');
    expect(bearerToken(req('Bearer a b'))).toBeNull();
    expect(decodeJwtPayload('a.b')).toBeNull();
    expect(decodeJwtPayload('a.!!!.c')).toBeNull();
    expect(decodeJwtPayload(jwt({ x: 1 }))).toEqual({ x: 1 });
  });
});
