/**
 * Edge functions through the gateway (/functions/v1) on real Deno, invoked with supabase-js:
 * the platform's verify_jwt answers, a verify_jwt = false function without credentials, 404 for an
 * unknown name, and a signed-in user seen by the function through Supabase Auth.
 */
import { FunctionsClient } from '@supabase/functions-js';
import { createClient, FunctionsHttpError } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { env } from '../helpers/env.ts';
import { createPersona } from '../helpers/personas.ts';

const options = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

/** The status and body of a failed invoke (supabase-js wraps the Response in FunctionsHttpError). */
async function failure(error: unknown): Promise<{ status: number; body: unknown; headers: Headers }> {
  expect(error).toBeInstanceOf(FunctionsHttpError);
  const res = (error as FunctionsHttpError).context as Response;
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch { /* plain text */ }
  return { status: res.status, body, headers: res.headers };
}

/** A functions client that sends no apikey and no Authorization at all. */
const bare = () => new FunctionsClient(`${env.apiUrl}/functions/v1`);

describe('edge functions through the gateway', () => {
  it('whoami with a signed-in user: 200 with the caller confirmed by Auth', async () => {
    const ann = await createPersona('whoami');
    const { data, error } = await ann.client.functions.invoke('whoami', { body: { hello: 'world' } });
    expect(error).toBeNull();
    expect(data).toEqual({ id: ann.id, email: ann.email, role: 'authenticated' });
  });

  it('no credentials at all: 401 "Missing authorization header" from the platform', async () => {
    const { error } = await bare().invoke('whoami', { method: 'GET' });
    const f = await failure(error);
    expect(f.status).toBe(401);
    expect(f.body).toMatchObject({ code: 'UNAUTHORIZED_NO_AUTH_HEADER', msg: 'Missing authorization header' });
    expect(f.headers.get('sb-error-code')).toBe('UNAUTHORIZED_NO_AUTH_HEADER');
  });

  it('a garbled or forged token: 401 "Invalid JWT" from the platform', async () => {
    const client = createClient(env.apiUrl, env.anonKey, options);
    const garbled = await client.functions.invoke('whoami', { headers: { Authorization: 'Bearer not.a-jwt' } });
    expect(await failure(garbled.error)).toMatchObject({ status: 401, body: { msg: 'Invalid JWT format' } });

    const forged = await new SignJWT({ sub: crypto.randomUUID(), role: 'authenticated', aud: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-project-secret-not-the-project-secret'));
    const f = await failure((await client.functions.invoke('whoami', { headers: { Authorization: `Bearer ${forged}` } })).error);
    expect(f).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED_LEGACY_JWT', msg: 'Invalid JWT' } });
  });

  it('the anon key passes verify_jwt but whoami itself refuses it: 401 unauthorized', async () => {
    const { error } = await createClient(env.apiUrl, env.anonKey, options).functions.invoke('whoami');
    const f = await failure(error);
    expect(f.status).toBe(401);
    expect(f.body).toMatchObject({ code: 'unauthorized' });
  });

  it('health (verify_jwt = false) answers without any credentials', async () => {
    const { data, error } = await bare().invoke('health', { method: 'GET' });
    expect(error).toBeNull();
    expect(data).toMatchObject({ status: 'ok', deno: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(Number.isNaN(Date.parse((data as { time: string }).time))).toBe(false);
  });

  it('a function answers its own CORS preflight (the gateway does not do it for functions)', async () => {
    const res = await fetch(`${env.apiUrl}/functions/v1/health`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://127.0.0.1:5173', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization, x-client-info, apikey' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toContain('x-client-info');
  });

  it('an unknown function: 404 "Function not found"', async () => {
    const { error } = await createClient(env.apiUrl, env.anonKey, options).functions.invoke(`no-such-fn-${Date.now()}`);
    const f = await failure(error);
    expect(f.status).toBe(404);
    expect(f.body).toBe('Function not found');
  });
});
