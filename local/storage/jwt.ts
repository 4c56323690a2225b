/**
 * HS256 JWTs for Storage: verifying the caller's Authorization token and the signed-URL tokens storage mints
 * itself (`signJWT({url, ...}, secret, expiresIn)` in supabase/storage `src/internal/auth/jwt.ts`).
 * Error messages follow the `jsonwebtoken` library storage uses ("jwt expired", "invalid signature", ...),
 * because storage passes them through to clients.
 */
import { SignJWT, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';

export type Claims = JWTPayload & { role?: string; [k: string]: unknown };

export class JwtError extends Error {}

export function jwtKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export async function verifyJwt(token: string, key: Uint8Array): Promise<Claims> {
  if (!token) throw new JwtError('jwt must be provided');
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    return payload as Claims;
  } catch (err) {
    throw new JwtError(jsonwebtokenMessage(err));
  }
}

/** Signs `payload` with `iat` now and `exp` = now + expiresIn seconds. */
export async function signJwt(payload: Record<string, unknown>, key: Uint8Array, expiresInSeconds: number) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + expiresInSeconds)
    .sign(key);
}

function jsonwebtokenMessage(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'jwt expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'invalid signature';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'invalid algorithm';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'jwt not active';
    return `jwt ${err.claim} invalid`;
  }
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'jwt malformed';
  return 'invalid token';
}
