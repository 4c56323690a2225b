/**
 * What the Supabase CLI's Kong does to every API request, as pure functions (unit-tested without a
 * server): route by prefix with `strip_path`, turn the `apikey` header into an `Authorization`
 * header, and answer/decorate CORS.
 *
 * Sources: supabase/cli `internal/start/templates/kong.yml` + `start.go` (request-transformer
 * expression), CLI 3 `packages/stack/src/ApiProxy.ts` (`transformAuthorization`), and the checklist in
 * shared/reference/supabase-contracts.md §2.1.
 */

export type ServiceName = 'rest' | 'auth' | 'storage' | 'functions';

export interface ApiKeys {
  /** Legacy anon JWT (`role: anon`). */
  anon: string;
  /** Legacy service_role JWT. */
  serviceRole: string;
  /** `sb_publishable_…` */
  publishable: string;
  /** `sb_secret_…` */
  secret: string;
}

export const ROUTES: ReadonlyArray<{ prefix: string; service: ServiceName }> = [
  { prefix: '/rest/v1', service: 'rest' },
  { prefix: '/auth/v1', service: 'auth' },
  { prefix: '/storage/v1', service: 'storage' },
  { prefix: '/functions/v1', service: 'functions' },
];

export type Route =
  | { kind: 'service'; service: ServiceName; /** path + query after the prefix, always starting with "/" */ path: string }
  | { kind: 'health' }
  | { kind: 'not_found' };

/**
 * Matches a raw request target (`/rest/v1/todos?select=*`) the way Kong's prefix routes with
 * `strip_path: true` do. The query string is kept byte for byte (PostgREST's grammar lives there).
 */
export function route(rawUrl: string): Route {
  const q = rawUrl.indexOf('?');
  const pathname = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q);
  if (pathname === '/health' || pathname === '/_internal/health') return { kind: 'health' };
  for (const r of ROUTES) {
    if (pathname === r.prefix || pathname.startsWith(`${r.prefix}/`)) {
      const rest = pathname.slice(r.prefix.length) || '/';
      return { kind: 'service', service: r.service, path: rest + query };
    }
  }
  return { kind: 'not_found' };
}

/**
 * The `Authorization` header the upstream receives. Kong's rule:
 * - a caller's own `Authorization` is kept, unless it is `Bearer sb_…` (a new-format key sent as a bearer);
 * - else `apikey` = secret key → the service_role JWT; = publishable key → the anon JWT;
 * - else any other `apikey` → `Bearer <apikey>` (legacy JWT keys are already JWTs);
 * - else no header.
 */
export function mapAuthorization(
  headers: { authorization?: string | null; apikey?: string | null },
  keys: ApiKeys,
): string | undefined {
  const auth = headers.authorization ?? undefined;
  const apikey = headers.apikey ?? undefined;
  if (auth !== undefined && !auth.startsWith('Bearer sb_')) return auth;
  if (apikey === keys.secret) return `Bearer ${keys.serviceRole}`;
  if (apikey === keys.publishable) return `Bearer ${keys.anon}`;
  if (apikey !== undefined && apikey !== '') return `Bearer ${apikey}`;
  return auth;
}

/** Request headers browsers may send to the API (supabase-js, storage-js, functions-js). */
export const CORS_ALLOW_HEADERS = [
  'authorization',
  'apikey',
  'content-type',
  'x-client-info',
  'prefer',
  'range',
  'range-unit',
  'accept-profile',
  'content-profile',
  'x-upsert',
  'x-supabase-api-version',
  'x-region',
  'cache-control',
  'x-metadata',
] as const;

/** Response headers browsers may read (counts, API version, upsert feedback). */
export const CORS_EXPOSE_HEADERS = [
  'Content-Range',
  'X-Supabase-Api-Version',
  'Content-Location',
  'Preference-Applied',
] as const;

export const CORS_ALLOW_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS';

/** A browser preflight: OPTIONS carrying `Access-Control-Request-Method` (Kong's cors plugin test). */
export function isPreflight(method: string, headers: { get(name: string): string | null }): boolean {
  return method === 'OPTIONS' && headers.get('access-control-request-method') !== null;
}

/**
 * Headers of the gateway's own answer to a preflight. Like Kong's cors plugin with no `headers`
 * configured, requested headers are allowed (mirrored) in addition to the known list, so a custom
 * header does not break a browser call.
 */
export function preflightHeaders(requestHeaders: { get(name: string): string | null }): Record<string, string> {
  const requested = (requestHeaders.get('access-control-request-headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => /^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h));
  const allow = [...new Set<string>([...CORS_ALLOW_HEADERS, ...requested])];
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': CORS_ALLOW_METHODS,
    'Access-Control-Allow-Headers': allow.join(', '),
    'Access-Control-Max-Age': '3600',
    'Content-Length': '0',
  };
}

/** Headers added to every (non-preflight) response of the rest/auth/storage routes. */
export function corsResponseHeaders(): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS.join(', '),
  };
}

/**
 * Whether the gateway handles CORS for a service. The hosted platform leaves CORS of edge functions
 * to the functions themselves (Supabase docs: "CORS support for invoking from the browser"), so
 * `/functions/v1` requests, preflights included, reach the function unchanged: a function that
 * forgets its CORS headers fails locally exactly as it would in production.
 */
export function gatewayHandlesCors(service: ServiceName): boolean {
  return service !== 'functions';
}
