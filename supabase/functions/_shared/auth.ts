/**
 * Who is calling. `requireUser` accepts only a signed-in user's access token and confirms it with
 * Supabase Auth (`auth.getUser(jwt)`), which also catches signed-out sessions and deleted users — a
 * signature check alone would not. The anon key, the service role key and garbage all get
 * 401 `unauthorized`.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { HttpError } from './http.ts';

export interface VerifiedUser {
  id: string;
  email: string | null;
  phone: string | null;
  role: string;
  appMetadata: Record<string, unknown>;
}

export interface AuthDeps {
  /**
   * Confirms `jwt` with Supabase Auth. Returns the user, null when Auth rejects the token, and
   * throws when Auth cannot be reached.
   */
  getUser(jwt: string): Promise<VerifiedUser | null>;
}

export interface RequestUser extends VerifiedUser {
  /** The access token as received (to build a `userClient`). */
  token: string;
  /** The token's claims (decoded after Auth confirmed the token). */
  claims: Record<string, unknown>;
}

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(req: Request): string | null {
  const h = req.headers.get('authorization');
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1]! : null;
}

/** The payload of a JWT, without verifying it (null when it is not a JWT). */
export function decodeJwtPayload(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64.padEnd(Math.ceil(b64.length / 4) * 4, '=');
    const bin = atob(padded);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const payload = JSON.parse(new TextDecoder().decode(bytes));
    return payload && typeof payload === 'object' && !Array.isArray(payload) ? payload : null;
  } catch {
    return null;
  }
}

const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);

export async function requireUser(req: Request, deps: AuthDeps): Promise<RequestUser> {
  const token = bearerToken(req);
  if (!token) throw unauthorized('Sign in first: the request has no bearer token.');
  const claims = decodeJwtPayload(token);
  if (!claims) throw unauthorized('The access token is malformed.');
  if (claims.role !== 'authenticated' || typeof claims.sub !== 'string' || claims.sub === '') {
    throw unauthorized("This endpoint needs a signed-in user's access token, not an API key.");
  }
  const user = await deps.getUser(token);
  if (!user) throw unauthorized('The session is invalid or has expired. Sign in again.');
  return { ...user, role: typeof claims.role === 'string' ? claims.role : user.role, token, claims };
}

/** `AuthDeps` backed by a supabase-js client (any key: getUser(jwt) asks Auth about that token). */
export function authDepsFromClient(client: SupabaseClient): AuthDeps {
  return {
    async getUser(jwt) {
      const { data, error } = await client.auth.getUser(jwt);
      if (error) {
        const status = (error as { status?: number }).status;
        // Auth answered "no": an invalid, expired or revoked token.
        if (status !== undefined && status >= 400 && status < 500) return null;
        throw new HttpError(503, 'auth_unavailable', 'Sign-in could not be checked right now. Please try again.');
      }
      const u = data.user;
      if (!u) return null;
      return {
        id: u.id,
        email: u.email ?? null,
        phone: u.phone || null,
        role: u.role ?? 'authenticated',
        appMetadata: (u.app_metadata ?? {}) as Record<string, unknown>,
      };
    },
  };
}
