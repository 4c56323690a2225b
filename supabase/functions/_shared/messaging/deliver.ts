/**
 * reserve → send → settle, the Twilio half shared by send-sms and message-dispatcher. The reservation (quota,
 * usage, message row) is already committed by `messaging_reserve_send`; this calls Twilio and records the
 * outcome with `messaging_settle_send`:
 *   accepted                        → 'sent' with the SID and Twilio's status (queued/accepted)
 *   definite failure (4xx, 21610…)  → 'failed': reservation released, usage reversed, 21610 = carrier opt-out
 *   20429/429/503 after the retries → 'retry': back to scheduled in a minute (never processed by Twilio)
 *   timeout / cut-off answer        → 'unknown': quota kept, reconciled later, never resent automatically
 */
import type { Log } from '../log.ts';
import {
  TwilioAmbiguousError, TwilioApiError, createMessage, withTwilioRetry, type TwilioConfig,
} from '../twilio.ts';

export type Rpc = (fn: string, args: Record<string, unknown>) => Promise<unknown>;

export interface DeliverDeps {
  rpc: Rpc;
  /** The platform account (the shared number's). A message from a shop's own number carries its own `twilio`. */
  twilio: TwilioConfig;
  /** `${TWILIO_WEBHOOK_BASE_URL}/twilio-status` */
  statusCallback: string;
  log: Log;
  retry?: { retries?: number; baseMs?: number; maxMs?: number; sleep?: (ms: number) => Promise<void> };
}

export interface ReservedMessage {
  id: string;
  to: string;
  from: string;
  body: string;
  mediaUrls?: string[];
  /** The account that owns `from` (messaging/sender.ts); default: the platform account. */
  twilio?: TwilioConfig;
}

export interface Settled {
  id: string;
  status: string;
  segments: number;
  send_at: string | null;
  error_code: number | null;
}

export interface DeliverResult {
  outcome: 'sent' | 'failed' | 'retry' | 'unknown';
  message: Settled;
  twilioError?: { status: number; code: number | null; message: string };
}

export async function deliverReserved(deps: DeliverDeps, m: ReservedMessage): Promise<DeliverResult> {
  const log = deps.log.child({ message_id: m.id });
  try {
    const tw = await withTwilioRetry(() => createMessage(m.twilio ?? deps.twilio, {
      to: m.to, from: m.from, body: m.body || undefined, mediaUrls: m.mediaUrls, statusCallback: deps.statusCallback,
    }), { ...deps.retry, onRetry: (attempt, delayMs, e) => log.warn('twilio busy, retrying', { attempt, delayMs, code: e.code }) });
    const settled = await deps.rpc('messaging_settle_send', {
      message_id: m.id, outcome: 'sent', twilio_sid: tw.sid, status: tw.status,
      twilio_segments: tw.num_segments ? Number(tw.num_segments) : null,
    }) as Settled;
    log.info('sent', { sid: tw.sid, status: settled.status });
    return { outcome: 'sent', message: settled };
  } catch (e) {
    if (e instanceof TwilioApiError) {
      const twilioError = { status: e.status, code: e.code, message: e.message };
      if (e.retryable) {
        const settled = await deps.rpc('messaging_settle_send', {
          message_id: m.id, outcome: 'retry', error_code: e.code ?? e.status, error_message: e.message,
        }) as Settled;
        log.warn('twilio busy after retries; rescheduled', { code: e.code });
        return { outcome: 'retry', message: settled, twilioError };
      }
      if (e.definite) {
        const settled = await deps.rpc('messaging_settle_send', {
          message_id: m.id, outcome: 'failed', error_code: e.code ?? e.status, error_message: e.message,
        }) as Settled;
        log.warn('twilio refused the message; reservation released', { code: e.code, status: e.status });
        return { outcome: 'failed', message: settled, twilioError };
      }
      // 5xx other than 503: maybe processed. Keep the quota, reconcile.
    } else if (!(e instanceof TwilioAmbiguousError)) {
      throw e;
    }
    const settled = await deps.rpc('messaging_settle_send', {
      message_id: m.id, outcome: 'unknown', error_message: (e as Error).message,
    }) as Settled;
    log.warn('twilio outcome unknown; left for reconciliation', { error: (e as Error).message });
    return { outcome: 'unknown', message: settled };
  }
}

/** supabase-js `.rpc` → data, or a thrown `RpcError` carrying the SQL error's code prefix and detail. */
export class RpcError extends Error {
  constructor(readonly sqlstate: string | undefined, readonly code: string, message: string, readonly detail: unknown) {
    super(message);
    this.name = 'RpcError';
  }
}

export function rpcFromClient(client: { rpc(fn: string, args: Record<string, unknown>): PromiseLike<{ data: unknown; error: unknown }> }): Rpc {
  return async (fn, args) => {
    const { data, error } = await client.rpc(fn, args);
    if (error) {
      const err = error as { code?: string; message?: string; details?: string | null };
      const msg = err.message ?? 'database error';
      const m = /^([a-z][a-z0-9_]*): (.*)$/s.exec(msg);
      let detail: unknown = err.details ?? null;
      if (typeof detail === 'string') { try { detail = JSON.parse(detail); } catch { /* plain text */ } }
      throw new RpcError(err.code, m ? m[1]! : 'database_error', m ? m[2]! : msg, detail);
    }
    return data;
  };
}
