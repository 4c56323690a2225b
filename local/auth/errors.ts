/**
 * GoTrue's error model and how it is written on the wire (supabase/auth internal/api/errors.go,
 * internal/api/apierrors): three error kinds, two body shapes chosen by the request's API version.
 *
 * - With `X-Supabase-Api-Version: 2024-01-01` (auth-js always sends it) the body is `{code, message}` and the
 *   response echoes the header; auth-js only trusts `code` when that response header is present.
 * - Without it (or with an unparseable value) the legacy body `{code: <http status>, error_code, msg}` is used.
 * - Weak passwords add `weak_password: {reasons}`; OAuth-style errors are `{error, error_description}` with 400.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../lib/types.ts';

export const API_VERSION_HEADER = 'X-Supabase-Api-Version';
const API_VERSION_2024_01_01 = '2024-01-01';

/** An error with an HTTP status, a GoTrue error code and a message for people. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Logged, never sent: the underlying cause (e.g. a database error). */
    readonly internal?: unknown,
  ) {
    super(message);
  }
}

/** 422 weak_password with the reasons auth-js exposes as `AuthWeakPasswordError.reasons`. */
export class WeakPasswordError extends Error {
  constructor(message: string, readonly reasons: string[]) {
    super(message);
  }
}

/** OAuth2-style error (`{error, error_description}`, always 400), e.g. a refresh grant without a token. */
export class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string) {
    super(description);
  }
}

export const badRequest = (code: string, msg: string, internal?: unknown) => new HttpError(400, code, msg, internal);
export const forbidden = (code: string, msg: string) => new HttpError(403, code, msg);
export const notFound = (code: string, msg: string) => new HttpError(404, code, msg);
export const unprocessable = (code: string, msg: string) => new HttpError(422, code, msg);
export const internalError = (msg: string, internal?: unknown) => new HttpError(500, 'unexpected_failure', msg, internal);

/**
 * GoTrue's DetermineClosestAPIVersion: a `YYYY-MM-DD` header at or after 2024-01-01 selects the 2024-01-01 format;
 * anything earlier selects the initial (legacy) format; an unparseable value is logged and treated as initial.
 */
export function requestApiVersion(req: Request, log: Logger): '2024-01-01' | null {
  const raw = req.headers.get(API_VERSION_HEADER);
  if (raw === null || raw === '') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw.trim());
  const time = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  const valid = m !== null && !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === raw.trim();
  if (!valid) {
    log.warn(`invalid ${API_VERSION_HEADER} header ${JSON.stringify(raw.slice(0, 40))}, using the initial API version`);
    return null;
  }
  return time >= Date.UTC(2024, 0, 1) ? API_VERSION_2024_01_01 : null;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** Turns any thrown value into GoTrue's error response for this request. Unknown errors become a logged 500. */
export function errorResponse(err: unknown, req: Request, log: Logger): Response {
  const version = requestApiVersion(req, log);
  const headers: Record<string, string> = version ? { [API_VERSION_HEADER]: version } : {};

  if (err instanceof WeakPasswordError) {
    const body = version
      ? { code: 'weak_password', message: err.message, weak_password: { reasons: err.reasons } }
      : { code: 422, error_code: 'weak_password', msg: err.message, weak_password: { reasons: err.reasons } };
    return json(422, body, headers);
  }
  if (err instanceof OAuthError) {
    const body: Record<string, string> = { error: err.error };
    if (err.description) body.error_description = err.description;
    return json(400, body, headers);
  }
  let e: HttpError;
  if (err instanceof HttpError) {
    e = err;
  } else {
    e = internalError('Unexpected failure, please check server logs for more information', err);
  }
  let errorId: string | undefined;
  if (e.status >= 500) {
    errorId = randomUUID();
    log.error(`${req.method} ${new URL(req.url).pathname} ${e.status} ${e.message} [error_id ${errorId}]: ${describe(e.internal)}`);
  }
  if (version) return json(e.status, { code: e.code || (e.status === 500 ? 'unexpected_failure' : 'unknown'), message: e.message }, headers);
  const legacy: Record<string, unknown> = { code: e.status, error_code: e.code || 'unknown', msg: e.message };
  if (errorId) legacy.error_id = errorId;
  return json(e.status, legacy, headers);
}

/** A one-line description of an internal cause for the log (database errors carry their code and constraint). */
export function describe(cause: unknown): string {
  if (cause === undefined || cause === null) return 'no internal cause';
  if (cause instanceof Error) {
    const pg = cause as Error & { code?: string; constraint?: string; detail?: string; table?: string };
    const bits = [pg.message];
    if (pg.code) bits.push(`sqlstate ${pg.code}`);
    if (pg.table) bits.push(`table ${pg.table}`);
    if (pg.constraint) bits.push(`constraint ${pg.constraint}`);
    // "Failing row contains (...)" would echo whole rows (password hashes included): keep only safe details.
    if (pg.detail && !pg.detail.startsWith('Failing row contains')) bits.push(`detail: ${pg.detail}`);
    return bits.join('; ');
  }
  return String(cause);
}
