/**
 * Who is signed in. A vanilla zustand store (testable without React) plus a hook for components.
 * Other features react to `user` changes through the app shell (app/session.ts), not by importing this store's
 * internals.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { authApi, type AuthApi, type AuthUser } from './api.ts';
import { toAppError, type AppError } from '../../lib/errors.ts';
import { normalizeEmail } from './validation.ts';

export type AuthStatus = 'loading' | 'signed_out' | 'signed_in';

export interface AuthState {
  status: AuthStatus;
  user: AuthUser | null;
  /** Why restoring the session failed (e.g. offline at start); the user can still sign in again. */
  restoreError: AppError | null;
  /** Restores the stored session and follows auth events. Returns the unsubscribe function. Idempotent. */
  init(): () => void;
  signIn(email: string, password: string): Promise<AuthUser>;
  /** Creates the account. `signedIn` is false when the email must be confirmed first. */
  signUp(email: string, password: string): Promise<{ user: AuthUser; signedIn: boolean }>;
  signOut(): Promise<void>;
}

export function createAuthStore(api: AuthApi): StoreApi<AuthState> {
  let stop: (() => void) | null = null;
  return createStore<AuthState>()((set, get) => {
    const setUser = (user: AuthUser | null) => {
      const prev = get().user;
      if (prev?.id === user?.id && prev?.email === user?.email && get().status !== 'loading') return;
      set({ user, status: user ? 'signed_in' : 'signed_out' });
    };
    return {
      status: 'loading',
      user: null,
      restoreError: null,
      init() {
        if (stop) return stop;
        const unsubscribe = api.onChange((user) => setUser(user));
        api
          .currentUser()
          .then((user) => setUser(user))
          .catch((e: unknown) => {
            set({ restoreError: toAppError(e) });
            setUser(null);
          });
        stop = () => {
          unsubscribe();
          stop = null;
        };
        return stop;
      },
      async signIn(email, password) {
        const user = await api.signIn(normalizeEmail(email), password);
        set({ restoreError: null });
        setUser(user);
        return user;
      },
      async signUp(email, password) {
        const result = await api.signUp(normalizeEmail(email), password);
        if (result.signedIn) setUser(result.user);
        return result;
      },
      async signOut() {
        await api.signOut();
        setUser(null);
      },
    };
  });
}

export const authStore = createAuthStore(authApi);

export function useAuth<T>(selector: (s: AuthState) => T): T {
  return useStore(authStore, selector);
}
