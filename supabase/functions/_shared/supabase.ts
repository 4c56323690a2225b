/**
 * supabase-js clients for server code. No session is stored or refreshed (a function handles one
 * request and forgets it); the caller's identity comes from its Authorization header.
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';

export interface ClientOptions {
  /** A fetch to use instead of the global one (tests). */
  fetch?: typeof fetch;
}

const serverAuth = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } as const;

/**
 * A client with the service role: bypasses RLS. Only for work the function itself authorises
 * (after checking the caller's membership), never to act "as the user".
 */
export function serviceClient(
  env: { SUPABASE_URL: string; SUPABASE_SERVICE_ROLE_KEY: string },
  opts: ClientOptions = {},
): SupabaseClient {
  return createClient(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY, {
    auth: serverAuth,
    global: opts.fetch ? { fetch: opts.fetch } : undefined,
  });
}

/** A client with only the anon key: public data, and `auth.getUser(jwt)` to confirm a caller's token. */
export function anonClient(env: { SUPABASE_URL: string; SUPABASE_ANON_KEY: string }, opts: ClientOptions = {}): SupabaseClient {
  return createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
    auth: serverAuth,
    global: opts.fetch ? { fetch: opts.fetch } : undefined,
  });
}

/**
 * A client acting as the caller: every query runs under the caller's JWT, so RLS applies as it
 * would in the browser. `authorizationHeader` is the request's `Authorization` value as received.
 */
export function userClient(
  env: { SUPABASE_URL: string; SUPABASE_ANON_KEY: string },
  authorizationHeader: string,
  opts: ClientOptions = {},
): SupabaseClient {
  return createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
    auth: serverAuth,
    global: { headers: { Authorization: authorizationHeader }, ...(opts.fetch ? { fetch: opts.fetch } : {}) },
  });
}
