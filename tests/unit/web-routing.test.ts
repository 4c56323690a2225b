/**
 * Pure parts of the web shell: path matching, safe redirects after sign-in, the route guard, and which
 * navigations the service worker may answer with the cached app shell.
 */
import { describe, expect, it } from 'vitest';
import { matchPath, parseQuery, safeNext, withNext } from '../../web/src/lib/router.ts';
import { decide, type GuardInput } from '../../web/src/app/guard.ts';
import { NAVIGATION_DENYLIST, servesAppShell } from '../../web/src/sw/navigation.ts';

describe('matchPath', () => {
  it('matches static and parameterised paths', () => {
    expect(matchPath('/', '/')).toEqual({});
    expect(matchPath('/members', '/members/')).toEqual({});
    expect(matchPath('/invite/:token', '/invite/abc%2Fdef')).toEqual({ token: 'abc/def' });
    expect(matchPath('/invite/:token', '/invite')).toBeNull();
    expect(matchPath('/invite/:token', '/invite/a/b')).toBeNull();
    expect(matchPath('/members', '/member')).toBeNull();
  });
  it('rejects malformed escapes instead of throwing', () => {
    expect(matchPath('/invite/:token', '/invite/%E0%A4%A')).toBeNull();
  });
  it('parses queries with or without "?"', () => {
    expect(parseQuery('?next=%2Finvite%2Fx').get('next')).toBe('/invite/x');
    expect(parseQuery('a=1').get('a')).toBe('1');
  });
});

describe('safeNext / withNext', () => {
  it('keeps in-app paths', () => {
    expect(safeNext('/invite/abc?x=1')).toBe('/invite/abc?x=1');
    expect(safeNext('/members')).toBe('/members');
  });
  it('refuses anything that could leave the app', () => {
    for (const bad of ['https://evil.example', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', 'members', '/x\n/y', '', null, undefined]) {
      expect(safeNext(bad as string | null | undefined)).toBe('/');
    }
    expect(safeNext('//evil', '/home')).toBe('/home');
  });
  it('builds sign-in links that come back', () => {
    expect(withNext('/sign-in', '/invite/t1')).toBe('/sign-in?next=%2Finvite%2Ft1');
    expect(withNext('/sign-in', '/')).toBe('/sign-in');
    expect(withNext('/sign-in', 'https://evil.example')).toBe('/sign-in');
    expect(withNext('/sign-in', null)).toBe('/sign-in');
  });
});

describe('route guard', () => {
  const base: GuardInput = { access: 'shop', auth: 'signed_in', tenancy: 'ready', tenantCount: 1, activeTenantId: 't1', here: '/members' };

  it('lets anyone open public screens', () => {
    expect(decide({ ...base, access: 'public', auth: 'signed_out' })).toEqual({ kind: 'render' });
    expect(decide({ ...base, access: 'public', auth: 'loading' })).toEqual({ kind: 'render' });
  });
  it('waits for the session, then sends signed-out people to sign in and back', () => {
    expect(decide({ ...base, auth: 'loading' }).kind).toBe('loading');
    expect(decide({ ...base, auth: 'signed_out' })).toEqual({ kind: 'redirect', to: '/sign-in?next=%2Fmembers' });
    expect(decide({ ...base, auth: 'signed_out', here: '/' })).toEqual({ kind: 'redirect', to: '/sign-in' });
  });
  it('lets a signed-in person without a shop create one, and sends them there from shop screens', () => {
    expect(decide({ ...base, access: 'auth', tenantCount: 0, activeTenantId: null })).toEqual({ kind: 'render' });
    expect(decide({ ...base, tenantCount: 0, activeTenantId: null })).toEqual({ kind: 'redirect', to: '/create-shop' });
  });
  it('shows loading while shops load, and an error only when there is nothing to show', () => {
    expect(decide({ ...base, tenancy: 'idle', tenantCount: 0, activeTenantId: null }).kind).toBe('loading');
    expect(decide({ ...base, tenancy: 'loading', tenantCount: 0, activeTenantId: null }).kind).toBe('loading');
    expect(decide({ ...base, tenancy: 'loading' })).toEqual({ kind: 'render' }); // a refresh keeps the screen
    expect(decide({ ...base, tenancy: 'error', tenantCount: 0, activeTenantId: null })).toEqual({ kind: 'tenancy_error' });
    expect(decide({ ...base, tenancy: 'error' })).toEqual({ kind: 'render' });
  });
});

describe('service worker navigation denylist', () => {
  it('serves the app shell for app routes', () => {
    for (const p of ['/', '/capture', '/members', '/invite/abc', '/sign-in', '/restaurants', '/authors']) {
      expect(servesAppShell(p)).toBe(true);
    }
  });
  it('never routes Supabase API paths to the shell', () => {
    for (const p of ['/rest/v1/tenants', '/auth/v1/verify', '/storage/v1/object/sign/x', '/functions/v1/send-sms']) {
      expect(servesAppShell(p)).toBe(false);
    }
    expect(NAVIGATION_DENYLIST).toHaveLength(4);
  });
});
