/**
 * POST /functions/v1/message-dispatcher — called every minute by pg_cron through pg_net (see the create_messaging
 * migration) with the service key. One run:
 *   1. sends scheduled messages whose window has opened (claimed with SKIP LOCKED, within each shop's rate);
 *   2. sends due review reminders (one per request, never when clicked, replied or paused);
 *   3. reconciles messages left 'unknown' by a timed-out create call: finds them at Twilio by To/From/date/body
 *      and records the real SID and status — never resends; not found after 15 minutes → failed and released.
 * Each text goes from the number it was reserved with, on the Twilio account that owns that number (the shop's
 * subaccount or BYO account for its own number, the platform account for the shared one: _shared/messaging/sender.ts);
 * reconciliation asks that same account. A scheduled text whose own number was released meanwhile is re-pointed to
 * what the shop sends from now. Credentials that cannot be read fail that text with nothing charged.
 * Answers { sent, failed, rescheduled, unknown, reminders, reconciled }.
 */
import { decodeJwtPayload, bearerToken } from '../_shared/auth.ts';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger } from '../_shared/log.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { deliverReserved, rpcFromClient, type DeliverDeps } from '../_shared/messaging/deliver.ts';
import { mediaSigner } from '../_shared/messaging/media.ts';
import { countSegments } from '../_shared/messaging/segments.ts';
import { DEFAULT_TEMPLATES, firstName, renderTemplate } from '../_shared/messaging/templates.ts';
import { directoryFromDb, isCredentialError, lazyKeyring, senderResolver, type Sender, type SenderResolver } from '../_shared/messaging/sender.ts';
import { credentialStore } from '../_shared/telephony/accounts.ts';
import { keyringFromEnv } from '../_shared/telephony/crypto.ts';
import { listMessages, type TwilioConfig, type TwilioMessage } from '../_shared/twilio.ts';

export interface DispatcherDeps extends DeliverDeps {
  serviceKeys: string[];
  /** Which number and account send for a shop (sender.ts). */
  senders: SenderResolver;
  /**
   * Re-points a claimed ('pending') message to another sender before it goes (its own number was released).
   * 'opted_out': the recipient opted out of the shared number it would now go from — not sent.
   */
  repoint(messageId: string, toPhone: string, sender: Sender): Promise<'ok' | 'opted_out' | 'gone'>;
  shortLinkBase: string;
  now(): Date;
  /** Customer + shop for a reminder (null: gone). */
  reminderContext(tenantId: string, customerId: string): Promise<{ name: string; phone: string; shop: string } | null>;
  /** Signed URL for a stored MMS path (null: not this shop's file). */
  mediaUrl(tenantId: string, path: string): Promise<string | null>;
}

interface Row {
  id: string; tenant_id: string; to_phone: string; from_phone: string | null; from_shared: boolean; body: string;
  media_paths: string[]; created_at: string; updated_at: string;
}

export function isServiceCaller(req: Request, keys: string[]): boolean {
  const t = bearerToken(req);
  if (!t) return false;
  if (keys.includes(t)) return true;
  return decodeJwtPayload(t)?.role === 'service_role' && keys.length === 0;
}

export async function reconcile(deps: DispatcherDeps, m: Row): Promise<'found' | 'failed' | 'pending'> {
  const created = new Date(m.created_at);
  // The account that sent it: a message from a shop's own number exists only in that shop's account.
  const account: TwilioConfig = await deps.senders.accountThatSent(m);
  const candidates: TwilioMessage[] = await listMessages(account, {
    to: m.to_phone, from: m.from_phone ?? undefined, dateSentAfter: new Date(created.getTime() - 86_400_000),
  });
  const hit = candidates.find((c) => c.body === m.body
    && (!c.date_created || Math.abs(new Date(c.date_created).getTime() - created.getTime()) < 15 * 60_000));
  if (hit) {
    await deps.rpc('messaging_settle_send', {
      message_id: m.id, outcome: 'sent', twilio_sid: hit.sid, status: hit.status,
      twilio_segments: hit.num_segments ? Number(hit.num_segments) : null,
    });
    return 'found';
  }
  if (deps.now().getTime() - created.getTime() > 15 * 60_000) {
    await deps.rpc('messaging_settle_send', {
      message_id: m.id, outcome: 'failed', error_message: 'Twilio has no record of this message; nothing was sent.',
    });
    return 'failed';
  }
  return 'pending';
}

export function createHandler(deps: DispatcherDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    if (!isServiceCaller(req, deps.serviceKeys)) throw new HttpError(403, 'forbidden', 'Only the scheduler calls this.');
    const out = { sent: 0, failed: 0, rescheduled: 0, unknown: 0, reminders: 0, reconciled: 0 };
    const tally = (o: string) => {
      if (o === 'sent') out.sent++; else if (o === 'failed') out.failed++; else if (o === 'retry') out.rescheduled++; else out.unknown++;
    };

    const due = await deps.rpc('messaging_claim_due', { max_rows: 200 }) as Row[];
    await Promise.all(due.map(async (m) => {
      const mediaUrls: string[] = [];
      for (const p of m.media_paths ?? []) {
        const u = await deps.mediaUrl(m.tenant_id, p);
        if (u) mediaUrls.push(u);
      }
      if ((m.media_paths?.length ?? 0) > 0 && !mediaUrls.length && !m.body) {
        // Every photo is gone and there is no text: a definite non-send, the reservation is given back.
        await deps.rpc('messaging_settle_send', { message_id: m.id, outcome: 'failed', error_message: 'The attached photos no longer exist.' });
        out.failed++;
        return;
      }
      let sender: Sender;
      try {
        const s = await deps.senders.forReserved(m);
        if (s.changed) {
          const r = await deps.repoint(m.id, m.to_phone, s);
          if (r === 'gone') return;
          if (r === 'opted_out') {
            await deps.rpc('messaging_settle_send', { message_id: m.id, outcome: 'failed',
              error_message: 'opted_out: the shop\'s number was released and the customer opted out of the shared number' });
            out.failed++;
            return;
          }
          deps.log.info('scheduled text re-pointed: its number was released', { message_id: m.id, shared: s.shared });
        }
        sender = s;
      } catch (e) {
        if (!isCredentialError(e)) {
          // A database hiccup: back to scheduled in a minute, quota kept, nothing sent.
          await deps.rpc('messaging_settle_send', { message_id: m.id, outcome: 'retry', error_message: (e as Error).message });
          out.rescheduled++;
          return;
        }
        // The shop's credentials cannot be opened (an operator problem: a key removed too early). Failing it gives
        // the quota back at once and shows the shop why; retrying would resend it later, maybe in quiet hours.
        deps.log.warn('scheduled text not sent: credentials unreadable', { message_id: m.id });
        await deps.rpc('messaging_settle_send', { message_id: m.id, outcome: 'failed', error_message: `credential_unreadable: ${(e as Error).message}` });
        out.failed++;
        return;
      }
      const r = await deliverReserved(deps, { id: m.id, to: m.to_phone, from: sender.from, body: m.body, mediaUrls, twilio: sender.twilio });
      tally(r.outcome);
    }));

    const reminders = await deps.rpc('messaging_due_review_reminders', { max_rows: 100 }) as
      Array<{ review_request_id: string; tenant_id: string; customer_id: string; code: string }>;
    for (const r of reminders) {
      const ctx = await deps.reminderContext(r.tenant_id, r.customer_id);
      if (!ctx) continue;
      const body = renderTemplate(DEFAULT_TEMPLATES.review_reminder, {
        first_name: firstName(ctx.name), shop_name: ctx.shop, review_link: `${deps.shortLinkBase.replace(/\/+$/, '')}/${r.code}`,
      });
      const seg = countSegments(body);
      let sender: Sender;
      try {
        sender = await deps.senders.forTenant(r.tenant_id);
      } catch (e) {
        // Nothing reserved: the reminder stays due and is tried again next run.
        deps.log.warn('review reminder postponed: sender unavailable', { review_request_id: r.review_request_id, reason: (e as Error).message });
        continue;
      }
      try {
        const res = await deps.rpc('messaging_reserve_send', {
          user_id: null, tenant_id: r.tenant_id, customer_id: r.customer_id, to_phone: ctx.phone, from_phone: sender.from,
          from_shared: sender.shared, template: 'review_reminder', body, media_paths: [], segments: seg.segments, encoding: seg.encoding,
          idempotency_key: `review-reminder:${r.review_request_id}`, send_at: null,
        }) as { id: string; status: string; replayed: boolean };
        await deps.rpc('messaging_link_reminder', { review_request_id: r.review_request_id, message_id: res.id });
        if (!res.replayed && res.status === 'pending') {
          tally((await deliverReserved(deps, { id: res.id, to: ctx.phone, from: sender.from, body, twilio: sender.twilio })).outcome);
          out.reminders++;
        }
      } catch (e) {
        // Opted out, over quota, billing: the reminder is simply not sent; it is not retried forever either.
        deps.log.info('review reminder skipped', { review_request_id: r.review_request_id, reason: (e as Error).message });
        await deps.rpc('messaging_link_reminder', { review_request_id: r.review_request_id, message_id: null }).catch(() => {});
      }
    }

    const unknown = await deps.rpc('messaging_unknown_messages', { older_than: '1 minute', max_rows: 100 }) as Row[];
    for (const m of unknown) {
      try {
        if ((await reconcile(deps, m)) !== 'pending') out.reconciled++;
      } catch (e) {
        deps.log.warn('reconciliation failed; will retry next run', { message_id: m.id, error: (e as Error).message });
      }
    }
    deps.log.info('dispatch run', out);
    return json(200, out);
  }, deps.log);
}

export function depsFromEnv(env: { get(name: string): string | undefined }): DispatcherDeps {
  const e = readEnv(getterOf(env), {
    ...PLATFORM_ENV,
    SUPABASE_SECRET_KEYS: { optional: true },
    TWILIO_API_URL: { default: 'https://api.twilio.com' },
    TWILIO_ACCOUNT_SID: true, TWILIO_AUTH_TOKEN: true, TWILIO_SHARED_NUMBER: true, TWILIO_WEBHOOK_BASE_URL: true,
    SHORT_LINK_BASE_URL: { optional: true },
  });
  const service = serviceClient(e);
  const twilio: TwilioConfig = { apiUrl: e.TWILIO_API_URL, accountSid: e.TWILIO_ACCOUNT_SID, authToken: e.TWILIO_AUTH_TOKEN, timeoutMs: 10_000 };
  const store = credentialStore(service, lazyKeyring(() => keyringFromEnv((k) => env.get(k))));
  const keys = [e.SUPABASE_SERVICE_ROLE_KEY];
  try {
    if (e.SUPABASE_SECRET_KEYS) keys.push(...Object.values(JSON.parse(e.SUPABASE_SECRET_KEYS) as Record<string, string>));
  } catch { /* not JSON: ignore */ }
  return {
    rpc: rpcFromClient(service),
    twilio,
    statusCallback: `${e.TWILIO_WEBHOOK_BASE_URL.replace(/\/+$/, '')}/twilio-status`,
    serviceKeys: keys,
    senders: senderResolver({ platform: twilio, sharedNumber: e.TWILIO_SHARED_NUMBER, directory: directoryFromDb(service, store) }),
    async repoint(messageId, toPhone, sender) {
      if (sender.shared) {
        const { data, error } = await service.from('shared_number_opt_outs').select('phone')
          .eq('phone', toPhone).eq('number', sender.from).limit(1);
        if (error) throw new Error(`shared_number_opt_outs could not be read: ${error.message}`);
        if ((data ?? []).length) return 'opted_out';
      }
      // Only the row this run claimed (still 'pending'): a concurrent cancel wins.
      const { data, error } = await service.from('messages').update({ from_phone: sender.from, from_shared: sender.shared })
        .eq('id', messageId).eq('status', 'pending').select('id');
      if (error) throw new Error(`the message could not be re-pointed: ${error.message}`);
      return (data ?? []).length ? 'ok' : 'gone';
    },
    shortLinkBase: e.SHORT_LINK_BASE_URL ?? `${e.SUPABASE_URL.replace(/\/+$/, '')}/functions/v1/r`,
    now: () => new Date(),
    async reminderContext(tenantId, customerId) {
      const [{ data: c }, { data: t }] = await Promise.all([
        service.from('customers').select('name, phone').eq('tenant_id', tenantId).eq('id', customerId).maybeSingle(),
        service.from('tenants').select('name').eq('id', tenantId).maybeSingle(),
      ]);
      return c && t ? { name: c.name as string, phone: c.phone as string, shop: t.name as string } : null;
    },
    mediaUrl: mediaSigner(service),
    log: createLogger('message-dispatcher'),
  };
}
