/** Contracts between the local stack's parts. Each part is started by local/stack.ts. */

/** A web-standard handler: the gateway turns Node requests into `Request`s for auth, storage and functions. */
export type FetchHandler = (req: Request) => Promise<Response>;

export type DbKind = 'postgres' | 'pglite' | 'external';

export interface DatabaseHandle {
  kind: DbKind;
  /** Superuser connection string (the `postgres` role), as `SUPABASE_DB_URL` / `DB_URL`. */
  url: string;
  /** Connection string for a given login role on the same server (PostgREST logs in as `authenticator`). */
  urlFor(role: string, password: string): string;
  /** How many connections clients should open at most (PGlite multiplexes over one backend). */
  maxConnections: number;
  stop(): Promise<void>;
}

export interface RunningService {
  name: string;
  url?: string;
  stop(): Promise<void>;
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}
