/**
 * Request parsing and input rules, with GoTrue's exact messages (clients show them to people):
 * JSON bodies decoded the way Go's encoding/json fills a params struct, email/phone formats, password strength,
 * Go duration strings (ban_duration).
 */
import { HttpError, WeakPasswordError, badRequest } from './errors.ts';

/** Field kinds of a GoTrue params struct. `password` is a *string: null means "absent". */
type FieldKind = 'string' | 'nullable_string' | 'object' | 'bool';
export type Schema = Record<string, FieldKind>;

const GO_TYPE: Record<FieldKind, string> = {
  string: 'string',
  nullable_string: 'string',
  object: 'map[string]interface {}',
  bool: 'bool',
};

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // 'string' | 'number' | 'object'
}

/** Largest body accepted: far above any auth request, small enough to refuse abuse early. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a JSON body into a params object, like GoTrue's retrieveRequestParams: unknown fields are ignored,
 * `null` leaves a field unset, a wrongly typed field or malformed JSON is 400 bad_json. The body is read whatever
 * the Content-Type (as GoTrue does); an empty body is malformed JSON.
 */
export async function readParams<T extends Record<string, unknown>>(req: Request, struct: string, schema: Schema): Promise<Partial<T>> {
  const text = await readBodyText(req);
  return parseParams<T>(text, struct, schema);
}

export async function readBodyText(req: Request): Promise<string> {
  const buf = await req.arrayBuffer();
  if (buf.byteLength > MAX_BODY_BYTES) {
    throw new HttpError(413, 'request_too_large', `Request body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  return new TextDecoder().decode(buf);
}

export function parseParams<T extends Record<string, unknown>>(text: string, struct: string, schema: Schema): Partial<T> {
  const fail = (detail: string) => badRequest('bad_json', `Could not parse request body as JSON: ${detail}`);
  if (text.trim() === '') throw fail('unexpected end of JSON input');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw fail((e as Error).message);
  }
  if (raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw fail(`json: cannot unmarshal ${jsonKind(raw)} into Go value of type api.${struct}`);
  }
  const out: Record<string, unknown> = {};
  for (const [field, kind] of Object.entries(schema)) {
    const v = (raw as Record<string, unknown>)[field];
    if (v === undefined || v === null) continue;
    const ok =
      kind === 'bool' ? typeof v === 'boolean'
      : kind === 'object' ? typeof v === 'object' && !Array.isArray(v)
      : typeof v === 'string';
    if (!ok) {
      throw fail(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${struct}.${field} of type ${GO_TYPE[kind]}`);
    }
    out[field] = v;
  }
  return out as Partial<T>;
}

// The address pattern of github.com/badoux/checkmail ValidateFormat, which GoTrue uses.
const EMAIL_RE =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** GoTrue validateEmail: required, at most 255 characters, checkmail's format; returns it lower-cased. */
export function validateEmail(email: string | undefined): string {
  if (!email) throw badRequest('validation_failed', 'An email address is required');
  if (email.length > 255) throw badRequest('validation_failed', 'An email address is too long');
  if (!EMAIL_RE.test(email)) throw badRequest('validation_failed', 'Unable to validate email address: invalid format');
  return email.toLowerCase();
}

/** GoTrue validatePhone: strips a leading + and spaces, then requires E.164 digits. */
export function validatePhone(phone: string): string {
  const p = phone.trim().replace(/^\+/, '').replace(/ /g, '');
  if (!/^[1-9]\d{1,14}$/.test(p)) throw badRequest('validation_failed', 'Invalid phone number format (E.164 required)');
  return p;
}

/** bcrypt only looks at the first 72 bytes, so GoTrue refuses longer passwords. */
export const MAX_PASSWORD_BYTES = 72;

/**
 * GoTrue checkPasswordStrength with the local CLI's defaults (minimum length, no required character sets,
 * no HIBP check): too long → 400 validation_failed, too short → 422 weak_password reason "length".
 */
export function checkPasswordStrength(password: string, minLength: number): void {
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw badRequest('validation_failed', `Password cannot be longer than ${MAX_PASSWORD_BYTES} characters`);
  }
  if (Buffer.byteLength(password, 'utf8') < minLength) {
    throw new WeakPasswordError(`Password should be at least ${minLength} characters.`, ['length']);
  }
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/** Go's time.ParseDuration ("24h", "1h30m", "-1.5h", "0"), in milliseconds; throws Go's error text. */
export function parseGoDuration(s: string): number {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let total = 0;
  while (rest.length) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)([^\d.]*)/.exec(rest);
    if (!m) throw invalid();
    if (m[2] === '') throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    const unit = DURATION_UNITS[m[2]];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(m[2])} in duration ${JSON.stringify(s)}`);
    total += Number(m[1]) * unit;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** GoTrue paginate(): `page` (default 1) and `per_page` (default 50) as unsigned integers. */
export function parsePagination(url: URL): { page: number; perPage: number } {
  const parse = (name: string, def: number) => {
    const v = url.searchParams.get(name);
    if (v === null || v === '') return def;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      throw badRequest('validation_failed', `Bad Pagination Parameters: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
    }
    return Number(v);
  };
  const page = Math.max(1, parse('page', 1));
  const perPage = parse('per_page', 50);
  if (perPage < 1) throw badRequest('validation_failed', 'Bad Pagination Parameters: per_page must be at least 1');
  return { page, perPage };
}
