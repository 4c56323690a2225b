/**
 * The inspection log every emulator keeps: each API request received, oldest first, as
 * `GET /_emulator/requests` returns it. Credentials are never recorded (headers are not kept).
 */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Query parameters, when the request had any. */
  query?: Record<string, string | string[]>;
  /** The account the request acted on, where the provider has accounts (Twilio). */
  account?: string;
  /** The parsed body (form fields, nested for Stripe; JSON for the email outbox). */
  body: unknown;
  /** ISO-8601 time of arrival. */
  at: string;
  /** HTTP status the emulator answered with (filled in once the response is known). */
  status?: number;
  /** Extra facts worth asserting on (e.g. Stripe's Idempotency-Key and whether the response was a replay). */
  [extra: string]: unknown;
}

export class RequestLog {
  private entries: RecordedRequest[] = [];

  add(entry: { method: string; path: string; body: unknown; query?: Record<string, string | string[]>; account?: string; [extra: string]: unknown }): RecordedRequest {
    const e: RecordedRequest = { ...entry, at: new Date().toISOString() };
    this.entries.push(e);
    return e;
  }

  list(): RecordedRequest[] {
    return this.entries.slice();
  }

  clear() {
    this.entries = [];
  }
}

/** Query parameters as a plain object (repeated keys become arrays); undefined when there are none. */
export function queryObject(q: URLSearchParams): Record<string, string | string[]> | undefined {
  const out: Record<string, string | string[]> = {};
  let any = false;
  for (const [k, v] of q) {
    any = true;
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return any ? out : undefined;
}
