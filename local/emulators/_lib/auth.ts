/** Credential parsing and constant-time comparison shared by the emulators. */
import crypto from 'node:crypto';
import type http from 'node:http';

export function basicAuth(headers: http.IncomingHttpHeaders): { user: string; pass: string } | null {
  const h = headers.authorization;
  if (!h || !/^basic /i.test(h)) return null;
  const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

export function bearerToken(headers: http.IncomingHttpHeaders): string | null {
  const h = headers.authorization;
  if (!h || !/^bearer /i.test(h)) return null;
  const t = h.slice(7).trim();
  return t === '' ? null : t;
}

export function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}

/** `prefix` + `hexLen` random lowercase hex digits (Twilio SIDs: two letters + 32 hex). */
export function hexId(prefix: string, hexLen = 32): string {
  return prefix + crypto.randomBytes(Math.ceil(hexLen / 2)).toString('hex').slice(0, hexLen);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** `prefix` + `len` random letters and digits (Stripe ids: `cus_` + 14, `sub_` + 24 …). */
export function alnumId(prefix: string, len: number): string {
  const bytes = crypto.randomBytes(len);
  let s = '';
  for (let i = 0; i < len; i++) s += ALNUM[bytes[i] % ALNUM.length];
  return prefix + s;
}
