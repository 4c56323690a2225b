/**
 * Every failure the app shows goes through here: our functions' `{ code, message }` JSON, PostgREST errors
 * (`{ code: SQLSTATE | PGRSTxxx, message, details, hint }`), GoTrue errors (auth-js `AuthError` with `code`/`status`),
 * supabase-js functions errors, and network failures. The result is an AppError with a machine-readable `code` and a
 * `message` written for the person at the counter, never a stack trace or an SQL fragment.
 */

export class AppError extends Error {
  /** Stable, machine-readable: a GoTrue error code, a SQLSTATE, a PGRST code, our snake_case code, or one of ours. */
  readonly code: string;
  /** HTTP status when the failure came from an HTTP response. */
  readonly status: number | undefined;
  constructor(code: string, message: string, status?: number) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
  }
}

/** Codes this module produces itself. */
export const NETWORK = 'network_error';
export const UNKNOWN = 'unknown_error';
export const SESSION_EXPIRED = 'session_expired';

const MSG_NETWORK = "Can't reach ServicePro. Check your connection and try again.";
const MSG_SERVER = 'ServicePro had a problem on its side. Please try again in a moment.';
const MSG_UNKNOWN = 'Something went wrong. Please try again.';
const MSG_SESSION = 'Your session has ended. Please sign in again.';

/** Human messages by code, whatever layer the code came from. */
const MESSAGES: Record<string, string> = {
  // GoTrue (auth-js `code`), https://supabase.com/docs/guides/auth/debugging/error-codes
  invalid_credentials: "That email and password don't match. Check them and try again.",
  user_already_exists: 'An account with this email already exists. Sign in instead.',
  email_exists: 'An account with this email already exists. Sign in instead.',
  email_not_confirmed: 'Confirm your email address first: open the link we sent you, then sign in.',
  email_address_invalid: 'Enter a valid email address.',
  validation_failed: 'Check the email address and password and try again.',
  signup_disabled: 'New sign-ups are turned off for this ServicePro installation.',
  over_request_rate_limit: 'Too many attempts. Wait a minute and try again.',
  over_email_send_rate_limit: 'Too many emails were sent. Wait a minute and try again.',
  user_banned: 'This account is blocked. Contact ServicePro support.',
  session_not_found: MSG_SESSION,
  refresh_token_not_found: MSG_SESSION,
  refresh_token_already_used: MSG_SESSION,
  bad_jwt: MSG_SESSION,
  no_authorization: MSG_SESSION,
  [SESSION_EXPIRED]: MSG_SESSION,
  // PostgREST
  PGRST116: "We couldn't find that. It may have been removed.",
  PGRST202: "This server doesn't offer that action yet. Its database may need updating.",
  PGRST205: "This server doesn't offer that yet. Its database may need updating.",
  PGRST301: MSG_SESSION,
  PGRST302: 'Please sign in first.',
  PGRST303: MSG_SESSION,
  // Postgres SQLSTATE
  '42501': "You don't have permission to do that in this shop.",
  '23505': 'That already exists.',
  '23503': 'That refers to something that no longer exists.',
  '23502': 'Some required information is missing.',
  '23514': 'Some of the information is not valid.',
  '22P02': 'Some of the information is not in the right format.',
  '22001': 'Some of the text is too long.',
  '57014': 'That took too long. Please try again.',
  // Our own codes (RPCs and edge functions), kept in one place so wording stays consistent.
  not_a_member: "You're not a member of that shop.",
  forbidden: "You don't have permission to do that in this shop.",
  invitation_not_found: 'This invitation link is not valid. Ask for a new one.',
  invalid_invitation: 'This invitation link is not valid. Ask for a new one.',
  invitation_expired: 'This invitation has expired. Ask the shop for a new one.',
  invitation_used: 'This invitation has already been used. Ask the shop for a new one if you still need access.',
  invitation_already_accepted: 'This invitation has already been used. Ask the shop for a new one if you still need access.',
  already_member: "You're already a member of this shop.",
  last_owner: 'A shop needs at least one owner. Make someone else an owner first.',
  not_authenticated: MSG_SESSION,
  invitation_revoked: 'This invitation was withdrawn. Ask the shop for a new one.',
  invitation_email_mismatch: 'This invitation was sent to another email address. Sign in with that address to accept it.',
  [NETWORK]: MSG_NETWORK,
};

const NETWORK_PATTERNS = [/failed to fetch/i, /networkerror/i, /network request failed/i, /fetch failed/i, /load failed/i, /ECONNREFUSED/];

/** Postgres' own messages name relations, columns and constraints: not for people. Messages we RAISE are. */
const TECHNICAL_PATTERNS = [
  /\brelation\b/i,
  /\bcolumn\b/i,
  /\bconstraint\b/i,
  /\bviolates\b/i,
  /\bsyntax\b/i,
  /\bfunction\b.*\bdoes not exist\b/i,
  /\bschema cache\b/i,
  /\bof type\b/i,
  /\bJWT\b/,
  /\bpermission denied\b/i,
  /\brow-level security\b/i,
  /\bnull value\b/i,
  /^[a-z]+(_[a-z]+)+$/, // a bare snake_case code used as a message
];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function isNetworkMessage(message: string | undefined): boolean {
  return !!message && NETWORK_PATTERNS.some((re) => re.test(message));
}

/** True when a message is fit to show as-is (written by our RPCs/functions, not by Postgres or a library). */
export function isHumanMessage(message: string | undefined): message is string {
  if (!message) return false;
  if (message.length > 300) return false;
  return !TECHNICAL_PATTERNS.some((re) => re.test(message.trim()));
}

/** SQLSTATEs Postgres itself raises with technical wording (as opposed to our RAISE ... P0001). */
function isSystemSqlState(code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code) && /^(0[8A-Z]|2[2-8]|3[4-9BDF]|4[02]|5[3-8]|F0|HV|P0|XX)/.test(code) && code !== 'P0001';
}

/** Codes our RPCs raise on purpose with a message for people; a human-looking message wins over the generic one. */
const RAISED_WITH_MESSAGE = new Set(['P0001', '22023', '42501', '28000', '23514']);

function messageFor(code: string, raw: string | undefined, status: number | undefined): string {
  // A message that is itself one of our snake_case codes (e.g. RAISE EXCEPTION 'invitation_expired').
  const rawKey = raw?.trim();
  if (rawKey && MESSAGES[rawKey] && rawKey !== code) return MESSAGES[rawKey]!;
  if (isNetworkMessage(raw)) return MSG_NETWORK;
  if (RAISED_WITH_MESSAGE.has(code) && isHumanMessage(raw)) return raw;
  const known = MESSAGES[code];
  if (known) return known;
  const fromLibrary = isSystemSqlState(code) || /^PGRST/.test(code);
  if (!fromLibrary && isHumanMessage(raw) && !(status !== undefined && status >= 500 && code.startsWith('http_'))) return raw;
  if (status !== undefined && status >= 500) return MSG_SERVER;
  if (/^(XX|P0|58|53)/.test(code)) return MSG_SERVER;
  if (status === 401) return MSG_SESSION;
  if (status === 403) return MESSAGES['42501']!;
  if (status === 404) return MESSAGES.PGRST116!;
  return MSG_UNKNOWN;
}

/**
 * Our RPCs raise `'<code>: <sentence for people>'` (e.g. `invitation_expired: this invitation has expired; ask the
 * shop for a new one`). Postgres' own messages never start with a snake_case word and a colon.
 */
export function splitRaised(message: string | undefined): { code: string; text: string } | null {
  const m = message ? /^([a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]{3,}):\s+(\S[\s\S]*)$/.exec(message.trim()) : null;
  if (!m) return null;
  return { code: m[1]!, text: m[2]! };
}

function sentence(text: string): string {
  const t = text.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** Codes whose server text we replace with our own wording. */
const PREFER_OUR_WORDING = new Set(['not_authenticated']);

/** When a message is exactly one of our codes (RAISE EXCEPTION 'invitation_expired'), that code. */
function codeFromMessage(raw: string | undefined): string | undefined {
  const m = raw?.trim();
  return m && MESSAGES[m] ? m : undefined;
}

/**
 * Normalises anything thrown or returned as `error` into an AppError. Idempotent.
 * Recognises: AppError; auth-js AuthError (`__isAuthError`, `code`, `status`, `name`); PostgrestError
 * (`code`, `message`, `details`, `hint`); a parsed `{ code, message }` body; TypeError from fetch; strings.
 */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (typeof e === 'string') {
    const code = codeFromMessage(e) ?? (isNetworkMessage(e) ? NETWORK : UNKNOWN);
    return new AppError(code, messageFor(code, e, undefined));
  }
  if (!isObject(e)) return new AppError(UNKNOWN, MSG_UNKNOWN);

  const name = str(e.name);
  const rawMessage = str(e.message) ?? str(e.msg) ?? str(e.error_description);
  const status = num(e.status) ?? (typeof e.code === 'number' ? e.code : undefined);

  // auth-js: network failures surface as AuthRetryableFetchError (status 0 or 5xx).
  if (name === 'AuthRetryableFetchError') {
    return status && status >= 500 ? new AppError('server_error', MSG_SERVER, status) : new AppError(NETWORK, MSG_NETWORK, status);
  }
  if (name === 'AuthSessionMissingError' || name === 'AuthInvalidJwtError') {
    return new AppError(SESSION_EXPIRED, MSG_SESSION, status);
  }
  if (name === 'AuthWeakPasswordError' || str(e.code) === 'weak_password') {
    return new AppError('weak_password', weakPasswordMessage(e.reasons), status);
  }
  // A TypeError from fetch() (offline, DNS, CORS) or postgrest-js's wrapped one ("TypeError: Failed to fetch", code "").
  if (!str(e.code) && isNetworkMessage(rawMessage)) {
    return new AppError(NETWORK, MSG_NETWORK, status);
  }
  if (name === 'FunctionsFetchError' || name === 'FunctionsRelayError') {
    return new AppError(NETWORK, MSG_NETWORK, status);
  }

  const prefixed = splitRaised(rawMessage);
  if (prefixed) {
    const ours = PREFER_OUR_WORDING.has(prefixed.code) ? MESSAGES[prefixed.code] : undefined;
    return new AppError(prefixed.code, ours ?? sentence(prefixed.text), status);
  }
  const raised = codeFromMessage(rawMessage);
  const given = str(e.error_code) ?? str(e.code) ?? str(e.error);
  const code = (given === 'P0001' || !given ? raised : undefined) ?? given ?? (status !== undefined ? `http_${status}` : UNKNOWN);
  return new AppError(code, messageFor(code, rawMessage, status), status);
}

function weakPasswordMessage(reasons: unknown): string {
  const list = Array.isArray(reasons) ? reasons.filter((r): r is string => typeof r === 'string') : [];
  const parts: string[] = [];
  if (list.includes('length')) parts.push('make it longer');
  if (list.includes('characters')) parts.push('mix letters, digits and symbols');
  if (list.includes('pwned')) parts.push("pick one that hasn't appeared in a data breach");
  return parts.length
    ? `That password is too weak: ${parts.join(', ')}.`
    : 'That password is too weak. Use at least 8 characters with a mix of letters, digits and symbols.';
}

/**
 * supabase-js `functions.invoke` returns a FunctionsHttpError whose `context` is the Response; our functions answer
 * `{ code, message }`. Reads that body (once) and normalises it.
 */
export async function fromFunctionsError(e: unknown): Promise<AppError> {
  if (isObject(e) && e.name === 'FunctionsHttpError' && isObject(e.context) && typeof (e.context as { json?: unknown }).json === 'function') {
    const res = e.context as unknown as Response;
    try {
      const body: unknown = await res.clone().json();
      if (isObject(body)) return toAppError({ ...body, status: res.status });
    } catch {
      // not JSON: fall through to the status
    }
    return toAppError({ status: res.status, message: res.statusText });
  }
  return toAppError(e);
}

/** The message to show for anything thrown. */
export function errorMessage(e: unknown): string {
  return toAppError(e).message;
}

/** True when signing in again is the fix. */
export function isSessionError(e: unknown): boolean {
  const err = toAppError(e);
  return MESSAGES[err.code] === MSG_SESSION;
}
