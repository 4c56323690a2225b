/**
 * Structured JSON logs for edge functions: one line per event, `{ time, level, fn, msg, ...fields }`,
 * with secrets redacted before anything is written (keys that name a secret, and values that look
 * like JWTs, API keys or bearer tokens). Works in Deno and Node; no globals at module load.
 */

export type Fields = Record<string, unknown>;
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Log {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Fields): Log;
}

export type Sink = (level: Level, line: string) => void;

const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|cookie|signature|credential|private[-_]?key|^auth$/i;

const SECRET_VALUE: ReadonlyArray<[RegExp, string]> = [
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, '[redacted-jwt]'],
  [/\bsb_(secret|publishable)_[A-Za-z0-9_-]+/g, '[redacted-key]'],
  [/\b(sk|rk|pk)_(live|test)_[A-Za-z0-9_]+/g, '[redacted-key]'],
  [/\bwhsec_[A-Za-z0-9_]+/g, '[redacted-key]'],
  [/\bBearer\s+[^\s,;"]+/gi, 'Bearer [redacted]'],
  [/\b(postgres(ql)?:\/\/[^:/\s]+:)[^@\s]+@/gi, '$1[redacted]@'],
];

export function redactString(s: string): string {
  let out = s;
  for (const [re, sub] of SECRET_VALUE) out = out.replace(re, sub);
  return out;
}

/** A JSON-safe copy of `value` with secrets replaced. Errors keep name and message (no stack). */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : typeof value === 'function' ? '[function]' : value;
  }
  if (seen.has(value)) return '[circular]';
  if (depth > 6) return '[truncated]';
  seen.add(value);
  if (value instanceof Error) {
    const out: Fields = { name: value.name, message: redactString(value.message) };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = redact(code, depth + 1, seen);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  if (value instanceof Date) return value.toISOString();
  const out: Fields = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined && v !== '' ? '[redacted]' : redact(v, depth + 1, seen);
  }
  return out;
}

const RESERVED = ['time', 'level', 'fn', 'msg'];

const defaultSink: Sink = (level, line) => {
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
};

export function createLogger(fn: string, opts: { sink?: Sink; now?: () => Date; base?: Fields } = {}): Log {
  const sink = opts.sink ?? defaultSink;
  const now = opts.now ?? (() => new Date());
  const base = opts.base ?? {};
  const write = (level: Level, msg: string, fields?: Fields) => {
    const extra = redact({ ...base, ...(fields ?? {}) }) as Fields;
    for (const k of RESERVED) delete extra[k];
    sink(level, JSON.stringify({ time: now().toISOString(), level, fn, msg: redactString(msg), ...extra }));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(fn, { sink, now, base: { ...base, ...fields } }),
  };
}
