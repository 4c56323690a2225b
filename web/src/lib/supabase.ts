/**
 * The one Supabase client of the web app, created on first use from VITE_SUPABASE_URL / VITE_SUPABASE_ANON_KEY.
 * Only features/<x>/api.ts modules call supabase(); components and stores never do.
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { readConfig } from './env.ts';

/** Where supabase-js keeps the session in localStorage. */
export const AUTH_STORAGE_KEY = 'servicepro-auth';

let client: SupabaseClient | null = null;

export function supabase(): SupabaseClient {
  if (!client) {
    const { supabaseUrl, supabaseAnonKey } = readConfig();
    client = createClient(supabaseUrl, supabaseAnonKey, {
      auth: {
        persistSession: true,
        autoRefreshToken: true,
        // Email+password only: nothing to pick up from the URL, and /invite/<token> must not be mistaken for it.
        detectSessionInUrl: false,
        storageKey: AUTH_STORAGE_KEY,
      },
    });
  }
  return client;
}
