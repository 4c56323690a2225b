/** Outbound webhook delivery with a timeout; the result is what the emulators record and return. */
export interface DeliveryResult {
  url: string;
  /** HTTP status of the receiver, or null when it could not be reached in time. */
  status: number | null;
  ok: boolean;
  /** The receiver's response body (TwiML for Twilio webhooks), cut at 64 KiB. */
  body: string;
  content_type: string | null;
  error: string | null;
  at: string;
  duration_ms: number;
}

export async function deliver(opts: {
  url: string;
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}): Promise<DeliveryResult> {
  const started = Date.now();
  const at = new Date(started).toISOString();
  try {
    const res = await fetch(opts.url, {
      method: opts.method ?? 'POST',
      headers: opts.headers,
      body: opts.method === 'GET' ? undefined : opts.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const body = (await res.text()).slice(0, 65_536);
    return {
      url: opts.url, status: res.status, ok: res.status >= 200 && res.status < 300, body,
      content_type: res.headers.get('content-type'), error: null, at, duration_ms: Date.now() - started,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? `timed out after ${opts.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { url: opts.url, status: null, ok: false, body: '', content_type: null, error: reason, at, duration_ms: Date.now() - started };
  }
}
