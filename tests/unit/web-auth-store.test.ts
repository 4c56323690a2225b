/**
 * The auth store with a fake api: session restore, events, sign-in/up normalisation, confirmation-required
 * sign-up, sign-out, and a failed restore that still lands on "signed out".
 */
import { describe, expect, it } from 'vitest';
import { createAuthStore } from '../../web/src/features/auth/store.ts';
import type { AuthApi, AuthUser } from '../../web/src/features/auth/api.ts';
import { AppError } from '../../web/src/lib/errors.ts';

function fakeAuth(opts: { stored?: AuthUser | null; restoreFails?: boolean; confirm?: boolean } = {}) {
  const listeners = new Set<(u: AuthUser | null, e: string) => void>();
  const calls: string[] = [];
  const api: AuthApi & { emit(u: AuthUser | null, e: string): void; calls: string[]; listeners: number } = {
    calls,
    get listeners() {
      return listeners.size;
    },
    emit(u, e) {
      for (const l of listeners) l(u, e);
    },
    async currentUser() {
      if (opts.restoreFails) throw new AppError('network_error', "Can't reach ServicePro.");
      return opts.stored ?? null;
    },
    onChange(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async signIn(email, password) {
      calls.push(`signIn:${email}`);
      if (password !== 'right-password') throw new AppError('invalid_credentials', "That email and password don't match.");
      return { id: 'u1', email };
    },
    async signUp(email) {
      calls.push(`signUp:${email}`);
      return { user: { id: 'u2', email }, signedIn: !opts.confirm };
    },
    async signOut() {
      calls.push('signOut');
    },
  };
  return api;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('auth store', () => {
  it('restores a stored session', async () => {
    const store = createAuthStore(fakeAuth({ stored: { id: 'u1', email: 'a@b.co' } }));
    expect(store.getState().status).toBe('loading');
    store.getState().init();
    await tick();
    expect(store.getState()).toMatchObject({ status: 'signed_in', user: { id: 'u1' } });
  });

  it('ends up signed out when there is no session, or when restoring fails', async () => {
    const empty = createAuthStore(fakeAuth());
    empty.getState().init();
    await tick();
    expect(empty.getState().status).toBe('signed_out');

    const failing = createAuthStore(fakeAuth({ restoreFails: true }));
    failing.getState().init();
    await tick();
    expect(failing.getState().status).toBe('signed_out');
    expect(failing.getState().restoreError?.code).toBe('network_error');
  });

  it('follows auth events (e.g. sign-out in another tab) and subscribes only once', async () => {
    const api = fakeAuth({ stored: { id: 'u1', email: 'a@b.co' } });
    const store = createAuthStore(api);
    const stop = store.getState().init();
    expect(store.getState().init()).toBe(stop);
    expect(api.listeners).toBe(1);
    await tick();
    api.emit(null, 'SIGNED_OUT');
    expect(store.getState()).toMatchObject({ status: 'signed_out', user: null });
    stop();
    expect(api.listeners).toBe(0);
  });

  it('signs in with a normalised email and surfaces a wrong password as an AppError', async () => {
    const api = fakeAuth();
    const store = createAuthStore(api);
    store.getState().init();
    await tick();
    await expect(store.getState().signIn(' Joe@Garage.COM ', 'wrong')).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(store.getState().status).toBe('signed_out');
    await store.getState().signIn(' Joe@Garage.COM ', 'right-password');
    expect(api.calls).toEqual(['signIn:joe@garage.com', 'signIn:joe@garage.com']);
    expect(store.getState()).toMatchObject({ status: 'signed_in', user: { email: 'joe@garage.com' } });
  });

  it('signs up; when confirmation is required it stays signed out', async () => {
    const store = createAuthStore(fakeAuth({ confirm: true }));
    store.getState().init();
    await tick();
    const r = await store.getState().signUp('new@shop.co', 'long-enough-password');
    expect(r.signedIn).toBe(false);
    expect(store.getState().status).toBe('signed_out');

    const auto = createAuthStore(fakeAuth());
    auto.getState().init();
    await tick();
    await auto.getState().signUp('new@shop.co', 'long-enough-password');
    expect(auto.getState()).toMatchObject({ status: 'signed_in', user: { id: 'u2' } });
  });

  it('signs out', async () => {
    const api = fakeAuth({ stored: { id: 'u1', email: 'a@b.co' } });
    const store = createAuthStore(api);
    store.getState().init();
    await tick();
    await store.getState().signOut();
    expect(store.getState().status).toBe('signed_out');
    expect(api.calls).toContain('signOut');
  });
});
