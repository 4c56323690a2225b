import { describe, expect, it } from 'vitest';
import {
  CORS_EXPOSE_HEADERS,
  corsResponseHeaders,
  gatewayHandlesCors,
  isPreflight,
  mapAuthorization,
  preflightHeaders,
  route,
} from '../../local/gateway/kong.ts';
import { ANON_KEY, PUBLISHABLE_KEY, SECRET_KEY, SERVICE_ROLE_KEY } from '../../local/config.ts';

const keys = { anon: ANON_KEY, serviceRole: SERVICE_ROLE_KEY, publishable: PUBLISHABLE_KEY, secret: SECRET_KEY };
const h = (o: Record<string, string>) => ({ get: (n: string) => o[n] ?? null });

describe('route (prefix + strip_path)', () => {
  it('strips each prefix and keeps the query string byte for byte', () => {
    expect(route('/rest/v1/jobs?select=id,customer:customers(name)&status=in.(%22a,b%22,c)')).toEqual({
      kind: 'service',
      service: 'rest',
      path: '/jobs?select=id,customer:customers(name)&status=in.(%22a,b%22,c)',
    });
    expect(route('/auth/v1/token?grant_type=password')).toEqual({ kind: 'service', service: 'auth', path: '/token?grant_type=password' });
    expect(route('/storage/v1/object/photos/a%20b.jpg')).toEqual({ kind: 'service', service: 'storage', path: '/object/photos/a%20b.jpg' });
    expect(route('/functions/v1/whoami/x?y=1')).toEqual({ kind: 'service', service: 'functions', path: '/whoami/x?y=1' });
  });

  it('maps a bare prefix to "/"', () => {
    expect(route('/rest/v1')).toEqual({ kind: 'service', service: 'rest', path: '/' });
    expect(route('/rest/v1/?x=1')).toEqual({ kind: 'service', service: 'rest', path: '/?x=1' });
  });

  it('does not match look-alike prefixes, and knows the health paths', () => {
    expect(route('/rest/v10/x')).toEqual({ kind: 'not_found' });
    expect(route('/restx/v1/x')).toEqual({ kind: 'not_found' });
    expect(route('/')).toEqual({ kind: 'not_found' });
    expect(route('/health')).toEqual({ kind: 'health' });
    expect(route('/_internal/health?x')).toEqual({ kind: 'health' });
  });
});

describe('mapAuthorization (Kong request-transformer)', () => {
  const userJwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.sig';

  it("keeps a caller's own Authorization", () => {
    expect(mapAuthorization({ authorization: `Bearer ${userJwt}`, apikey: PUBLISHABLE_KEY }, keys)).toBe(`Bearer ${userJwt}`);
    expect(mapAuthorization({ authorization: `Bearer ${userJwt}`, apikey: SECRET_KEY }, keys)).toBe(`Bearer ${userJwt}`);
    expect(mapAuthorization({ authorization: 'Basic abc' }, keys)).toBe('Basic abc');
  });

  it('replaces a new-format key sent as bearer with the JWT its apikey stands for', () => {
    expect(mapAuthorization({ authorization: `Bearer ${PUBLISHABLE_KEY}`, apikey: PUBLISHABLE_KEY }, keys)).toBe(`Bearer ${ANON_KEY}`);
    expect(mapAuthorization({ authorization: `Bearer ${SECRET_KEY}`, apikey: SECRET_KEY }, keys)).toBe(`Bearer ${SERVICE_ROLE_KEY}`);
  });

  it('maps the secret key to service_role, the publishable key to anon, any other apikey to Bearer <apikey>', () => {
    expect(mapAuthorization({ apikey: SECRET_KEY }, keys)).toBe(`Bearer ${SERVICE_ROLE_KEY}`);
    expect(mapAuthorization({ apikey: PUBLISHABLE_KEY }, keys)).toBe(`Bearer ${ANON_KEY}`);
    expect(mapAuthorization({ apikey: ANON_KEY }, keys)).toBe(`Bearer ${ANON_KEY}`);
    expect(mapAuthorization({ apikey: 'sb_publishable_unknown' }, keys)).toBe('Bearer sb_publishable_unknown');
  });

  it('adds nothing when there is neither header', () => {
    expect(mapAuthorization({}, keys)).toBeUndefined();
    expect(mapAuthorization({ apikey: '' }, keys)).toBeUndefined();
  });
});

describe('CORS', () => {
  it('recognises a browser preflight only with Access-Control-Request-Method', () => {
    expect(isPreflight('OPTIONS', h({ 'access-control-request-method': 'POST' }))).toBe(true);
    expect(isPreflight('OPTIONS', h({}))).toBe(false);
    expect(isPreflight('GET', h({ 'access-control-request-method': 'POST' }))).toBe(false);
  });

  it('allows the supabase-js headers plus whatever the browser asks for', () => {
    const out = preflightHeaders(h({ 'access-control-request-headers': 'X-Tenant-Id, apikey, bad header' }));
    expect(out['Access-Control-Allow-Origin']).toBe('*');
    const allowed = out['Access-Control-Allow-Headers']!.split(', ');
    for (const name of ['authorization', 'apikey', 'content-type', 'x-client-info', 'prefer', 'range', 'accept-profile', 'content-profile', 'x-upsert', 'x-supabase-api-version']) {
      expect(allowed).toContain(name);
    }
    expect(allowed).toContain('x-tenant-id');
    expect(allowed).not.toContain('bad header');
    expect(out['Access-Control-Allow-Methods']).toContain('PATCH');
  });

  it('exposes Content-Range and friends on responses', () => {
    const out = corsResponseHeaders();
    expect(out['Access-Control-Allow-Origin']).toBe('*');
    expect(out['Access-Control-Expose-Headers']).toBe(CORS_EXPOSE_HEADERS.join(', '));
    expect(out['Access-Control-Expose-Headers']).toContain('Content-Range');
  });

  it('leaves CORS of functions to the functions (as the hosted platform does)', () => {
    expect(gatewayHandlesCors('functions')).toBe(false);
    expect(gatewayHandlesCors('rest')).toBe(true);
    expect(gatewayHandlesCors('auth')).toBe(true);
    expect(gatewayHandlesCors('storage')).toBe(true);
  });
});
