/**
 * Access tokens (HS256 JWTs with GoTrue's claims, internal/tokens/service.go GenerateAccessToken) and opaque
 * refresh tokens.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { forbidden } from './errors.ts';
import { metadata, type UserRow } from './store.ts';

export interface AmrEntry {
  method: string;
  timestamp: number;
}

/** The claims GoTrue puts in an access token, in its JSON field order. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  email: string;
  phone: string;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  role: string;
  aal?: string;
  amr?: AmrEntry[];
  session_id?: string;
  is_anonymous: boolean;
}

export function buildClaims(
  user: UserRow,
  session: { id: string; aal: string | null },
  amr: AmrEntry[],
  issuer: string,
  expirySeconds: number,
  now = Math.floor(Date.now() / 1000),
): AccessTokenClaims {
  const claims: AccessTokenClaims = {
    iss: issuer,
    sub: user.id,
    aud: user.aud ?? '',
    exp: now + expirySeconds,
    iat: now,
    email: user.email ?? '',
    phone: user.phone ?? '',
    app_metadata: metadata(user.raw_app_meta_data),
    user_metadata: metadata(user.raw_user_meta_data),
    role: user.role ?? '',
    aal: session.aal ?? 'aal1',
    amr,
    session_id: session.id,
    is_anonymous: user.is_anonymous ?? false,
  };
  if (!claims.amr?.length) delete claims.amr; // `amr,omitempty`
  return claims;
}

export function signAccessToken(claims: AccessTokenClaims, key: Uint8Array): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
}

/**
 * Verifies a bearer token as GoTrue's parseJWTClaims does (HS256 signature with the project secret, `exp`/`nbf`),
 * answering 403 bad_jwt with a message in the style of golang-jwt's errors.
 */
export async function verifyBearer(token: string, key: Uint8Array): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    return payload;
  } catch (e) {
    let reason: string;
    if (e instanceof joseErrors.JWTExpired) reason = 'token has invalid claims: token is expired';
    else if (e instanceof joseErrors.JWTClaimValidationFailed) reason = `token has invalid claims: ${e.message}`;
    else if (e instanceof joseErrors.JWSSignatureVerificationFailed) reason = 'token signature is invalid: signature is invalid';
    else if (e instanceof joseErrors.JOSEAlgNotAllowed) reason = 'token is unverifiable: signing method is invalid';
    else reason = `token is malformed: ${(e as Error).message}`;
    throw forbidden('bad_jwt', `invalid JWT: unable to parse or verify signature, ${reason}`);
  }
}

/** An opaque refresh token: 128 random bits, URL-safe (shaped like the ones hosted projects hand out). */
export function newRefreshToken(): string {
  return randomBytes(16).toString('base64url');
}

/** A random token hash for confirmation/email-change rows (never mailed locally, never returned). */
export function newTokenHash(): string {
  return randomBytes(28).toString('hex');
}
