import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { discoverFunctions, loadFunctionsDotenv, parseDotenv } from '../../local/functions/config.ts';
import { denoArgs } from '../../local/functions/index.ts';
import { verifyFunctionRequest } from '../../local/functions/verify.ts';
import { ANON_KEY, JWT_SECRET, PUBLISHABLE_KEY } from '../../local/config.ts';

const dirs: string[] = [];
function project(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fnroot-'));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('discoverFunctions (supabase/config.toml + folders)', () => {
  it('finds folders with index.ts, skips _shared/dot/underscore folders and disabled ones, resolves import maps', () => {
    const root = project({
      'supabase/config.toml': [
        '[functions.public-fn]', 'verify_jwt = false',
        '[functions.off]', 'enabled = false',
        '[functions.mapped]', 'import_map = "./import_map.json"',
      ].join('\n'),
      'supabase/import_map.json': '{"imports":{}}',
      'supabase/functions/_shared/index.ts': '',
      'supabase/functions/.hidden/index.ts': '',
      'supabase/functions/_private/index.ts': '',
      'supabase/functions/no-entry/README.md': '',
      'supabase/functions/public-fn/index.ts': '',
      'supabase/functions/public-fn/deno.json': '{}',
      'supabase/functions/jsonc-fn/index.ts': '',
      'supabase/functions/jsonc-fn/deno.jsonc': '{}',
      'supabase/functions/mapped/index.ts': '',
      'supabase/functions/mapped/deno.json': '{}',
      'supabase/functions/off/index.ts': '',
    });
    const fns = discoverFunctions(root);
    expect(fns.map((f) => f.name)).toEqual(['jsonc-fn', 'mapped', 'public-fn']);
    const by = Object.fromEntries(fns.map((f) => [f.name, f]));
    expect(by['public-fn']!.verifyJwt).toBe(false);
    expect(by['jsonc-fn']!.verifyJwt).toBe(true);
    expect(by['public-fn']!.importMap).toBe(path.join(root, 'supabase/functions/public-fn/deno.json'));
    expect(by['jsonc-fn']!.importMap).toBe(path.join(root, 'supabase/functions/jsonc-fn/deno.jsonc'));
    // config.toml's import_map wins, relative to supabase/
    expect(by['mapped']!.importMap).toBe(path.join(root, 'supabase/import_map.json'));
    expect(by['mapped']!.entrypoint).toBe(path.join(root, 'supabase/functions/mapped/index.ts'));
  });

  it('honours a custom entrypoint and reports bad config clearly', () => {
    const root = project({
      'supabase/config.toml': '[functions.custom]\nentrypoint = "./functions/custom/main.ts"\n',
      'supabase/functions/custom/main.ts': '',
    });
    expect(discoverFunctions(root)[0]).toMatchObject({ name: 'custom', entrypoint: path.join(root, 'supabase/functions/custom/main.ts'), importMap: undefined });

    const bad = project({ 'supabase/config.toml': '[functions.x]\nverify_jwt = "no"\n', 'supabase/functions/x/index.ts': '' });
    expect(() => discoverFunctions(bad)).toThrow(/\[functions.x\] verify_jwt must be true or false/);
    const broken = project({ 'supabase/config.toml': '[functions.x\n' });
    expect(() => discoverFunctions(broken)).toThrow(/not valid TOML/);
    const missingMap = project({ 'supabase/config.toml': '[functions.x]\nimport_map = "nope.json"\n', 'supabase/functions/x/index.ts': '' });
    expect(() => discoverFunctions(missingMap)).toThrow(/import_map nope.json does not exist/);
  });

  it('runs each function with its own deno.json, no lockfile, and the EdgeRuntime preload', () => {
    const args = denoArgs({ name: 'f', entrypoint: '/r/supabase/functions/f/index.ts', importMap: '/r/supabase/functions/f/deno.json', verifyJwt: true });
    expect(args[0]).toBe('run');
    expect(args).toContain('--config=/r/supabase/functions/f/deno.json');
    expect(args).toContain('--no-lock');
    expect(args.some((a) => a.startsWith('--preload=') && a.endsWith('worker-preload.ts'))).toBe(true);
    expect(args.at(-1)).toBe('/r/supabase/functions/f/index.ts');
    expect(denoArgs({ name: 'g', entrypoint: '/e.ts', verifyJwt: true })).toContain('--no-config');
  });
});

describe('parseDotenv / supabase/functions/.env', () => {
  it('parses dotenv syntax', () => {
    const env = parseDotenv([
      '# comment',
      'PLAIN=value',
      'export EXPORTED=yes',
      'SPACED = padded  ',
      'INLINE=abc # trailing comment',
      'HASH=abc#not-a-comment',
      "SINGLE='lit\\n $x'",
      'DOUBLE="line1\\nline2 \\"q\\""',
      'MULTI="a',
      'b"',
      'EMPTY=',
      '',
    ].join('\r\n'));
    expect(env).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      SPACED: 'padded',
      INLINE: 'abc',
      HASH: 'abc#not-a-comment',
      SINGLE: 'lit\\n $x',
      DOUBLE: 'line1\nline2 "q"',
      MULTI: 'a\nb',
      EMPTY: '',
    });
  });

  it('rejects malformed lines with the line number', () => {
    expect(() => parseDotenv('A=1\nnot a pair\n')).toThrow(/line 2/);
    expect(() => parseDotenv('A="open\n')).toThrow(/unterminated/);
  });

  it('skips SUPABASE_ names as the CLI does', () => {
    const root = project({ 'supabase/functions/.env': 'STRIPE_SECRET_KEY=sk_test_x\nSUPABASE_URL=http://evil\n' });
    expect(loadFunctionsDotenv(root)).toEqual({ vars: { STRIPE_SECRET_KEY: 'sk_test_x' }, skipped: ['SUPABASE_URL'] });
    expect(loadFunctionsDotenv(project({}))).toEqual({ vars: {}, skipped: [] });
  });
});

describe('verify_jwt', () => {
  const secret = new TextEncoder().encode(JWT_SECRET);
  const req = (headers: Record<string, string>, method = 'POST') => new Request('http://x/whoami', { method, headers });
  const sign = (claims: Record<string, unknown>, key = secret, exp: string | number = '1h') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime(exp).sign(key);

  it('passes any validly signed, unexpired HS256 token (the anon key included) and skips OPTIONS', async () => {
    expect(await verifyFunctionRequest(req({ authorization: `Bearer ${ANON_KEY}` }), secret)).toBeNull();
    expect(await verifyFunctionRequest(req({ authorization: `Bearer ${await sign({ sub: 'u', role: 'authenticated' })}` }), secret)).toBeNull();
    expect(await verifyFunctionRequest(req({}, 'OPTIONS'), secret)).toBeNull();
  });

  it('401 "Missing authorization header" without credentials', async () => {
    const res = (await verifyFunctionRequest(req({}), secret))!;
    expect(res.status).toBe(401);
    expect(res.headers.get('sb-error-code')).toBe('UNAUTHORIZED_NO_AUTH_HEADER');
    expect(await res.json()).toEqual({ code: 'UNAUTHORIZED_NO_AUTH_HEADER', message: 'Missing authorization header', msg: 'Missing authorization header' });
  });

  it('401 "Invalid JWT" for a wrong signature or an expired token', async () => {
    const forged = await sign({ role: 'service_role' }, new TextEncoder().encode('another-secret-another-secret-1234'));
    const expired = await sign({ sub: 'u', role: 'authenticated' }, secret, Math.floor(Date.now() / 1000) - 60);
    for (const token of [forged, expired]) {
      const res = (await verifyFunctionRequest(req({ authorization: `Bearer ${token}` }), secret))!;
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED_LEGACY_JWT', msg: 'Invalid JWT' });
    }
  });

  it('401 "Invalid JWT format" for garbage and for a bare new-format key', async () => {
    for (const authorization of ['Bearer garbage', `Bearer ${PUBLISHABLE_KEY}`, 'Bearer a.b.c']) {
      const res = (await verifyFunctionRequest(req({ authorization }), secret))!;
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED_INVALID_JWT_FORMAT', msg: 'Invalid JWT format' });
    }
  });

  it('accepts the sb-api-key compatibility header when the bearer is an sb_ key', async () => {
    expect(await verifyFunctionRequest(req({ authorization: `Bearer ${PUBLISHABLE_KEY}`, 'sb-api-key': ANON_KEY }), secret)).toBeNull();
  });
});
