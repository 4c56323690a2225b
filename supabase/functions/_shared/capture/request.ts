/**
 * The `ro-ocr` request body, checked: `{ tenant_id, path, client_id? }`. Pure (Deno and Node).
 *
 * `path` is an object path inside the `repair-orders` bucket and must sit directly in the shop's own folder
 * (`<tenant_id>/<file>`): anything else is 403 `path_outside_tenant` — before any storage or database call.
 * Without a `client_id`, the capture's id is derived from the path, so retries of the same photo still map to
 * ONE repair order.
 */
import { HttpError } from '../http.ts';

export interface OcrRequest {
  tenantId: string;
  path: string;
  clientId: string;
  /** True when client_id came from the request (false: derived from the path). */
  clientIdGiven: boolean;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** A stable uuid-shaped id (version nibble 5, RFC 4122 variant) from the SHA-256 of `text`. */
export async function uuidFromText(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  const b = digest.slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function parseOcrRequest(body: unknown): Promise<OcrRequest> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_request', 'Send a JSON object: { "tenant_id", "path", "client_id"? }.');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.tenant_id !== 'string' || !UUID_RE.test(b.tenant_id)) {
    throw new HttpError(400, 'invalid_tenant_id', 'tenant_id must be the shop\'s id (a uuid).');
  }
  const tenantId = b.tenant_id.toLowerCase();
  if (typeof b.path !== 'string' || b.path.length === 0 || b.path.length > 300) {
    throw new HttpError(400, 'invalid_path', 'path must be the photo\'s path in the repair-orders bucket, e.g. "<tenant_id>/<uuid>.jpg".');
  }
  const parts = b.path.split('/');
  if (parts[0] !== tenantId) {
    throw new HttpError(403, 'path_outside_tenant', 'The photo must be in this shop\'s own folder of the repair-orders bucket.');
  }
  if (parts.length !== 2 || !FILE_RE.test(parts[1]!) || parts[1]!.includes('..')) {
    throw new HttpError(400, 'invalid_path', 'path must be "<tenant_id>/<file name>" (letters, digits, dot, dash, underscore).');
  }
  const path = `${parts[0]}/${parts[1]}`;
  let clientId: string;
  let clientIdGiven = false;
  if (b.client_id === undefined || b.client_id === null) {
    clientId = await uuidFromText(`repair-orders:${tenantId}:${path}`);
  } else if (typeof b.client_id === 'string' && UUID_RE.test(b.client_id)) {
    clientId = b.client_id.toLowerCase();
    clientIdGiven = true;
  } else {
    throw new HttpError(400, 'invalid_client_id', 'client_id, when given, must be a uuid generated on the device.');
  }
  return { tenantId, path, clientId, clientIdGiven };
}
