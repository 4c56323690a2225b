/**
 * Messaging calls: the only messaging module that talks to Supabase. Throws AppError (code + human message).
 * `sendMessage` is the entry point other features use (capture's "ready for pickup").
 */
import { supabase } from '../../lib/supabase.ts';
import { AppError, fromFunctionsError, toAppError } from '../../lib/errors.ts';
import { SEND_ERRORS } from './errors.ts';

export type MessageTemplate = 'pickup_ready' | 'review_request' | 'custom';

export interface ThreadMessage {
  id: string;
  direction: 'outbound' | 'inbound';
  body: string;
  status: string;
  template: string | null;
  segments: number;
  error_code: number | null;
  send_at: string | null;
  created_at: string;
  read_at: string | null;
  media_paths: string[];
}

export interface SendArgs {
  tenantId: string;
  customerId?: string;
  to?: string;
  template: MessageTemplate;
  body?: string;
  mediaPaths?: string[];
  repairOrderId?: string;
  /** The same key for every retry of one message (the offline outbox relies on it). */
  idempotencyKey: string;
}

export interface SentMessage {
  id: string;
  status: string;
  segments: number;
  send_at: string | null;
}

export async function sendMessage(args: SendArgs): Promise<SentMessage> {
  const { data, error } = await supabase().functions.invoke('send-sms', {
    body: {
      tenant_id: args.tenantId, template: args.template, idempotency_key: args.idempotencyKey,
      ...(args.customerId ? { customer_id: args.customerId } : { to: args.to }),
      ...(args.body !== undefined ? { body: args.body } : {}),
      ...(args.mediaPaths?.length ? { media_paths: args.mediaPaths } : {}),
      ...(args.repairOrderId ? { repair_order_id: args.repairOrderId } : {}),
    },
  });
  if (error) {
    const e = await fromFunctionsError(error);
    if (e.status === 404 && !/_not_found$/.test(e.code)) throw new AppError('messaging_unavailable', SEND_ERRORS.messaging_unavailable!, 404);
    throw new AppError(e.code, SEND_ERRORS[e.code] ?? e.message, e.status);
  }
  return (data as { message: SentMessage }).message;
}

const COLUMNS = 'id, direction, body, status, template, segments, error_code, send_at, created_at, read_at, media_paths';

export const messagingApi = {
  sendMessage,

  /** Calls `cb` whenever a session becomes available (start, sign-in, refresh): queued texts go with it. */
  onSignedIn(cb: () => void): void {
    supabase().auth.onAuthStateChange((event, session) => {
      if (session && (event === 'SIGNED_IN' || event === 'INITIAL_SESSION' || event === 'TOKEN_REFRESHED')) setTimeout(cb, 0);
    });
  },

  /** The latest 200 messages with a customer, oldest first. */
  async thread(tenantId: string, customerId: string): Promise<ThreadMessage[]> {
    const { data, error } = await supabase().from('messages').select(COLUMNS)
      .eq('tenant_id', tenantId).eq('customer_id', customerId).order('created_at', { ascending: false }).limit(200);
    if (error) throw toAppError(error);
    return ((data ?? []) as ThreadMessage[]).reverse();
  },

  async markRead(tenantId: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const { error } = await supabase().from('messages').update({ read_at: new Date().toISOString() })
      .eq('tenant_id', tenantId).in('id', ids).is('read_at', null);
    if (error) throw toAppError(error);
  },

  async cancel(tenantId: string, messageId: string): Promise<void> {
    const { error } = await supabase().rpc('messaging_cancel_message', { tenant_id: tenantId, message_id: messageId });
    if (error) { const e = toAppError(error); throw new AppError(e.code, SEND_ERRORS[e.code] ?? e.message, e.status); }
  },

  /** Unread inbound texts of the shop (the in-app notification badge). */
  async unreadCount(tenantId: string): Promise<number> {
    const { count, error } = await supabase().from('messages').select('id', { count: 'exact', head: true })
      .eq('tenant_id', tenantId).eq('direction', 'inbound').is('read_at', null);
    if (error) throw toAppError(error);
    return count ?? 0;
  },
};
