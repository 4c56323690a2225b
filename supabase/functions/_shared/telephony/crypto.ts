/**
 * Twilio auth tokens at rest: AES-256-GCM (WebCrypto, Deno and Node) with a key from the TELEPHONY_KEYS secret —
 * a JSON map `{ "<key_id>": "<base64 of 32 bytes>" }` — and TELEPHONY_ACTIVE_KEY_ID naming the key new rows use.
 * Each row keeps its key_id, a fresh 12-byte nonce and the ciphertext (with the 16-byte tag); the associated data
 * binds the ciphertext to its row (tenant, kind, account SID), so a ciphertext copied onto another shop's row does
 * not decrypt. Rotation: add a key, make it active, re-encrypt (telephony-credentials `rotate`), remove the old key
 * (docs/runbooks/secrets.md). Key material and plaintext never leave this module in an error message.
 */

export interface Keyring {
  activeKeyId: string;
  keys: ReadonlyMap<string, CryptoKey>;
}

export interface Sealed {
  ciphertext: string;
  nonce: string;
  key_id: string;
}

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function b64encode(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function b64decode(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Parses TELEPHONY_KEYS / TELEPHONY_ACTIVE_KEY_ID. Errors name the problem, never a key. */
export async function loadKeyring(keysJson: string, activeKeyId: string): Promise<Keyring> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(keysJson);
  } catch {
    throw new KeyringError('TELEPHONY_KEYS is not valid JSON: expected {"<key_id>": "<base64 of 32 bytes>"}.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new KeyringError('TELEPHONY_KEYS must be a JSON object {"<key_id>": "<base64 of 32 bytes>"}.');
  }
  const keys = new Map<string, CryptoKey>();
  for (const [id, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (!KEY_ID.test(id)) throw new KeyringError(`TELEPHONY_KEYS: key id "${id.slice(0, 64)}" must match ${KEY_ID}.`);
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = typeof v === 'string' ? b64decode(v) : new Uint8Array(new ArrayBuffer(0));
    } catch {
      raw = new Uint8Array(new ArrayBuffer(0));
    }
    if (raw.length !== 32) throw new KeyringError(`TELEPHONY_KEYS: key "${id}" must be base64 of exactly 32 bytes.`);
    keys.set(id, await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']));
  }
  if (!keys.has(activeKeyId)) {
    throw new KeyringError(`TELEPHONY_ACTIVE_KEY_ID names "${activeKeyId.slice(0, 64)}", which is not in TELEPHONY_KEYS.`);
  }
  return { activeKeyId, keys };
}

/** A new random key, base64 (for the runbook and tests). */
export function generateKey(): string {
  return b64encode(crypto.getRandomValues(new Uint8Array(32)));
}

export interface RowBinding {
  tenantId: string;
  kind: 'subaccount' | 'byo';
  accountSid: string;
}

const aad = (b: RowBinding) => new TextEncoder().encode(`${b.tenantId.toLowerCase()}|${b.kind}|${b.accountSid}`);

export async function seal(ring: Keyring, plaintext: string, binding: RowBinding): Promise<Sealed> {
  const key = ring.keys.get(ring.activeKeyId)!;
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: aad(binding), tagLength: 128 }, key, new TextEncoder().encode(plaintext)));
  return { ciphertext: b64encode(ct), nonce: b64encode(nonce), key_id: ring.activeKeyId };
}

export async function open(ring: Keyring, sealed: Sealed, binding: RowBinding): Promise<string> {
  const key = ring.keys.get(sealed.key_id);
  if (!key) throw new KeyringError(`The credential is encrypted with key "${sealed.key_id}", which TELEPHONY_KEYS no longer has.`);
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: b64decode(sealed.nonce), additionalData: aad(binding), tagLength: 128 }, key, b64decode(sealed.ciphertext));
    return new TextDecoder().decode(pt);
  } catch {
    throw new KeyringError('A stored Twilio credential failed authentication (wrong key, or the row was altered).');
  }
}

/** Keyring from the environment (`TELEPHONY_KEYS`, `TELEPHONY_ACTIVE_KEY_ID`). Async: a missing variable rejects (never throws synchronously past a `.catch`). */
export async function keyringFromEnv(get: (name: string) => string | undefined): Promise<Keyring> {
  const keys = get('TELEPHONY_KEYS');
  const active = get('TELEPHONY_ACTIVE_KEY_ID');
  if (!keys || !active) throw new KeyringError('Missing TELEPHONY_KEYS / TELEPHONY_ACTIVE_KEY_ID: see docs/runbooks/secrets.md.');
  return loadKeyring(keys, active);
}
