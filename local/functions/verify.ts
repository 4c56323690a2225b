/**
 * `verify_jwt` as the edge runtime's main service applies it before a request reaches a function
 * (Supabase CLI 3 `packages/stack/src/services/edge-runtime-main.ts`): skipped for OPTIONS; the
 * Bearer token (or, when the bearer is an `sb_` key, the `sb-api-key` header) must be an HS256 JWT
 * signed with the project secret. Any role passes, the anon key included. Unlike the CLI's local
 * check, `exp`/`nbf` are enforced too, as the hosted platform does.
 *
 * Failure: 401 `{ code, message, msg }` with an `sb-error-code` header (`msg` is the older field
 * supabase-js users still read).
 */
import { decodeProtectedHeader, jwtVerify } from 'jose';

export const AuthErrorCodes = {
  MissingAuthHeader: 'UNAUTHORIZED_NO_AUTH_HEADER',
  InvalidLegacyJWT: 'UNAUTHORIZED_LEGACY_JWT',
  InvalidAsymmetricJWT: 'UNAUTHORIZED_ASYMMETRIC_JWT',
  InvalidTokenFormat: 'UNAUTHORIZED_INVALID_JWT_FORMAT',
  UnsupportedTokenAlgorithm: 'UNAUTHORIZED_UNSUPPORTED_TOKEN_ALGORITHM',
} as const;

export function authErrorResponse(code: string, message = 'Invalid JWT'): Response {
  return Response.json(
    { code, message, msg: message },
    { status: 401, headers: { 'sb-error-code': code, 'Access-Control-Expose-Headers': 'sb-error-code' } },
  );
}

/** Returns a 401 response when the request must be refused, or null when it may pass. */
export async function verifyFunctionRequest(req: Request, secret: Uint8Array): Promise<Response | null> {
  if (req.method === 'OPTIONS') return null;
  const authorization = req.headers.get('authorization');
  // As the runtime does: whatever follows the first 7 characters ("Bearer ") is the token.
  const bearer = authorization ? authorization.slice('Bearer '.length).trim() : '';
  const compat = req.headers.get('sb-api-key')?.replace(/^Bearer/i, '').trim() ?? '';
  if (!bearer && !compat) return authErrorResponse(AuthErrorCodes.MissingAuthHeader, 'Missing authorization header');

  const token = !bearer || bearer.startsWith('sb_') ? compat : bearer;
  if (!token) return authErrorResponse(AuthErrorCodes.InvalidTokenFormat, 'Invalid JWT format');

  let alg: string | undefined;
  try {
    if (token.split('.').length !== 3) throw new Error('not three segments');
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return authErrorResponse(AuthErrorCodes.InvalidTokenFormat, 'Invalid JWT format');
  }
  if (!alg) return authErrorResponse(AuthErrorCodes.InvalidTokenFormat, 'Invalid JWT format');
  if (alg === 'HS256') {
    try {
      await jwtVerify(token, secret, { algorithms: ['HS256'] });
      return null;
    } catch {
      return authErrorResponse(AuthErrorCodes.InvalidLegacyJWT);
    }
  }
  if (alg === 'ES256' || alg === 'RS256') return authErrorResponse(AuthErrorCodes.InvalidAsymmetricJWT);
  return authErrorResponse(AuthErrorCodes.UnsupportedTokenAlgorithm, `Unsupported JWT algorithm ${alg}`);
}
