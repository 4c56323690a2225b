/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The Supabase API base URL, e.g. http://127.0.0.1:54321 locally or https://<ref>.supabase.co. */
  readonly VITE_SUPABASE_URL?: string;
  /** The public anon (or publishable) key. Never a service-role key. */
  readonly VITE_SUPABASE_ANON_KEY?: string;
}

