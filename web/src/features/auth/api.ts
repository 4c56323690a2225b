/**
 * Auth calls (Supabase Auth / GoTrue through supabase-js). The only auth module that talks to Supabase.
 * Every function throws AppError (lib/errors.ts) on failure.
 */
import type { AuthChangeEvent, Session } from '@supabase/supabase-js';
import { supabase } from '../../lib/supabase.ts';
import { AppError, toAppError } from '../../lib/errors.ts';

export interface AuthUser {
  id: string;
  email: string | null;
}

export interface SignUpResult {
  user: AuthUser;
  /** False when the project requires email confirmation: there is no session until the link is opened. */
  signedIn: boolean;
}

export interface AuthApi {
  currentUser(): Promise<AuthUser | null>;
  onChange(listener: (user: AuthUser | null, event: string) => void): () => void;
  signIn(email: string, password: string): Promise<AuthUser>;
  signUp(email: string, password: string): Promise<SignUpResult>;
  signOut(): Promise<void>;
}

export function userFromSession(session: Session | null): AuthUser | null {
  return session?.user ? { id: session.user.id, email: session.user.email ?? null } : null;
}

export const authApi: AuthApi = {
  async currentUser() {
    // getSession reads the stored session and refreshes it when expired; an invalid refresh token ends it.
    const { data, error } = await supabase().auth.getSession();
    if (error) throw toAppError(error);
    return userFromSession(data.session);
  },

  onChange(listener) {
    const { data } = supabase().auth.onAuthStateChange((event: AuthChangeEvent, session: Session | null) => {
      // Never await Supabase calls inside this callback (auth-js holds a lock while it runs).
      listener(userFromSession(session), event);
    });
    return () => data.subscription.unsubscribe();
  },

  async signIn(email, password) {
    const { data, error } = await supabase().auth.signInWithPassword({ email, password });
    if (error) throw toAppError(error);
    const user = userFromSession(data.session);
    if (!user) throw new AppError('no_session', 'Signing in did not start a session. Please try again.');
    return user;
  },

  async signUp(email, password) {
    const { data, error } = await supabase().auth.signUp({
      email,
      password,
      options: { emailRedirectTo: typeof window !== 'undefined' ? window.location.origin : undefined },
    });
    if (error) throw toAppError(error);
    if (data.session) return { user: userFromSession(data.session)!, signedIn: true };
    if (data.user) return { user: { id: data.user.id, email: data.user.email ?? email }, signedIn: false };
    throw new AppError('no_user', 'The account could not be created. Please try again.');
  },

  async signOut() {
    // This device only: a technician signing out of the shop tablet must not end the owner's phone session.
    const { error } = await supabase().auth.signOut({ scope: 'local' });
    if (error) throw toAppError(error);
  },
};
