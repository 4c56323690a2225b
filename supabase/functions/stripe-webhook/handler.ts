/**
 * POST /functions/v1/stripe-webhook (verify_jwt = false: Stripe's signature is the only protection).
 *
 * 1. Verify `Stripe-Signature` over the raw body (constructEventAsync, 300 s tolerance, SubtleCrypto): 400 otherwise.
 * 2. Record the event id in stripe_events before any work; a repeat answers 200 `{duplicate: true}`.
 * 3. Subscription state is re-fetched from Stripe (never taken from the payload) and applied by
 *    billing_apply_subscription(), so duplicates and out-of-order deliveries converge on Stripe's current state.
 *    The recorded metered overage item (billing_overage_items) is reconciled with the re-fetched items the same way.
 * 4. 200 for types we ignore; 500 only for failures worth Stripe's retry (the claim is withdrawn first).
 */
import type Stripe from 'stripe';
import type { SupabaseClient } from '@supabase/supabase-js';
import { emailSender, type EmailSender } from '../_shared/email.ts';
import { readWebhookEnv } from '../_shared/billing/config.ts';
import { priceIdsFrom } from '../_shared/billing/prices.ts';
import { Stripe as StripeSdk, stripeClient } from '../_shared/stripe.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { HttpError, allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { invoiceSubscriptionId, UUID, type PriceIds, type SubscriptionLike } from '../_shared/billing/model.ts';
import { reconcileOverageItem } from '../_shared/billing/overage.ts';
import { BillingSyncError, applySubscription, dbError, tenantForCustomer } from '../_shared/billing/sync.ts';
import { welcomeIfFirst, type SmsConfig } from '../_shared/billing/welcome.ts';

export const HANDLED_EVENTS = new Set([
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
]);

export const TOLERANCE_SECONDS = 300;
const MAX_BODY = 512 * 1024;

export interface WebhookDeps {
  stripe: Stripe;
  /** Stripe.createSubtleCryptoProvider() in Deno. */
  crypto: Stripe.CryptoProvider;
  webhookSecret: string;
  db: SupabaseClient;
  priceIds: PriceIds;
  /** STRIPE_PRICE_SMS_OVERAGE (else the overage item is known by its price's lookup key). */
  overagePriceId?: string;
  email: EmailSender;
  sms: SmsConfig;
  appUrl: string;
  log: Log;
}

type Outcome = { result: string; tenantId?: string | null };

const idOf = (v: string | { id: string } | null | undefined) => (v == null ? null : typeof v === 'string' ? v : v.id);

/** Stripe API errors worth a retry: connection trouble, rate limits, 5xx. */
function stripeRetryable(e: unknown): boolean {
  const err = e as { type?: string; statusCode?: number };
  if (err?.type === 'StripeConnectionError' || err?.type === 'StripeAPIError' || err?.type === 'StripeRateLimitError') return true;
  if (typeof err?.statusCode === 'number') return err.statusCode >= 500 || err.statusCode === 429;
  return !(e instanceof BillingSyncError) && !(err?.type ?? '').startsWith('Stripe');
}

async function planLabel(db: SupabaseClient, plan: string): Promise<string> {
  const { data } = await db.from('plans').select('label').eq('id', plan).maybeSingle();
  return (data as { label?: string } | null)?.label ?? plan;
}

async function syncSubscription(deps: WebhookDeps, subscriptionId: string): Promise<Outcome> {
  let sub: Stripe.Subscription;
  const fetchedAt = new Date().toISOString();
  try {
    sub = await deps.stripe.subscriptions.retrieve(subscriptionId);
  } catch (e) {
    const err = e as { statusCode?: number; code?: string };
    if (err.statusCode === 404) return { result: `subscription ${subscriptionId} not found at Stripe; ignored` };
    throw e;
  }
  const applied = await applySubscription(deps.db, sub as unknown as SubscriptionLike, deps.priceIds, fetchedAt);
  if (!applied) return { result: `customer ${idOf(sub.customer)} is not a ServicePro shop; ignored` };
  const r = applied.result;
  // Stripe holds the subscription's shape too: record the overage item it carries, or forget one that was removed
  // (by hand in the Dashboard), so the next stripe-overage run re-adds or removes it per the owner's policy.
  let overage = '';
  if (!r.stale && !r.ignored) {
    const o = await reconcileOverageItem(deps.db, applied.tenantId, sub as never, deps.overagePriceId);
    if (o.outcome === 'recorded') overage = `, overage item ${o.itemId} recorded`;
    if (o.outcome === 'forgotten') overage = ', overage item gone at Stripe; forgotten';
    if (o.outcome !== 'unchanged') deps.log.info(`overage item ${o.outcome}`, { tenant_id: applied.tenantId, subscription_id: sub.id, item_id: o.itemId });
  }
  if (r.status === 'active' && !r.ignored) {
    await welcomeIfFirst(
      { db: deps.db, email: deps.email, sms: deps.sms, appUrl: deps.appUrl, log: deps.log },
      applied.tenantId, await planLabel(deps.db, r.plan),
    );
  }
  return {
    tenantId: applied.tenantId,
    result: r.stale ? `${sub.id} ${sub.status}: an older read than the one applied; ignored`
      : r.ignored ? `subscription ${sub.id} (${sub.status}) is not the shop's current one; ignored`
      : `${sub.id} ${sub.status}: ${r.previous_status} → ${r.status}, plan ${r.plan}` +
        `${r.changed ? '' : ' (unchanged)'}${r.period_reset ? ', quota period reset' : ''}${overage}`,
  };
}

async function process(deps: WebhookDeps, event: Stripe.Event): Promise<Outcome> {
  switch (event.type) {
    case 'checkout.session.completed': {
      const session = event.data.object as Stripe.Checkout.Session;
      if (session.mode !== 'subscription' || !session.subscription) return { result: 'not a subscription checkout; ignored' };
      const customerId = idOf(session.customer);
      const ref = session.client_reference_id ?? session.metadata?.tenant_id ?? null;
      if (customerId) {
        const owner = await tenantForCustomer(deps.db, customerId);
        if (!owner && ref && UUID.test(ref)) {
          // Our checkout links the customer before creating the session; this covers a session made elsewhere
          // for a shop that has no customer yet (the RPC never replaces an existing one).
          const { error } = await deps.db.rpc('billing_link_customer', { tenant_id: ref, customer_id: customerId });
          if (error) throw dbError('billing_link_customer', error);
        } else if (owner && ref && owner !== ref) {
          deps.log.warn('checkout session names another shop than its customer', { event_id: event.id });
        }
      }
      return syncSubscription(deps, idOf(session.subscription)!);
    }
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return syncSubscription(deps, (event.data.object as Stripe.Subscription).id);
    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const invoice = event.data.object as Stripe.Invoice;
      const customerId = idOf(invoice.customer);
      const tenantId = customerId ? await tenantForCustomer(deps.db, customerId) : null;
      if (!tenantId) return { result: `customer ${customerId} is not a ServicePro shop; ignored` };
      const paid = event.type === 'invoice.paid';
      const paidAt = paid ? (invoice.status_transitions?.paid_at ?? event.created) : null;
      const { error } = await deps.db.rpc('billing_record_invoice', {
        tenant_id: tenantId,
        invoice_id: invoice.id,
        invoice_status: paid ? 'paid' : 'payment_failed',
        invoice_created: new Date(invoice.created * 1000).toISOString(),
        paid_at: paidAt ? new Date(paidAt * 1000).toISOString() : null,
      });
      if (error) throw dbError('billing_record_invoice', error);
      const subId = invoiceSubscriptionId(invoice as never);
      if (!subId) return { tenantId, result: `invoice ${invoice.id} recorded (no subscription)` };
      const out = await syncSubscription(deps, subId);
      return { tenantId, result: `invoice ${invoice.id} ${paid ? 'paid' : 'payment_failed'}; ${out.result}` };
    }
    default:
      return { result: 'ignored type' };
  }
}

export function createHandler(deps: WebhookDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const signature = req.headers.get('stripe-signature');
    if (!signature) throw new HttpError(400, 'missing_signature', 'The Stripe-Signature header is missing.');
    const declared = Number(req.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > MAX_BODY) {
      throw new HttpError(413, 'payload_too_large', `Webhook bodies must be at most ${MAX_BODY} bytes.`);
    }
    const raw = await req.text();
    let event: Stripe.Event;
    try {
      event = await deps.stripe.webhooks.constructEventAsync(
        raw, signature, deps.webhookSecret, TOLERANCE_SECONDS, deps.crypto,
      );
    } catch (e) {
      deps.log.warn('stripe signature rejected', { reason: (e as Error).message?.slice(0, 120) });
      throw new HttpError(400, 'invalid_signature',
        'The Stripe signature does not match this body, or its timestamp is outside the 300 s tolerance.');
    }
    const log = deps.log.child({ event_id: event.id, type: event.type });

    if (!HANDLED_EVENTS.has(event.type)) {
      log.info('ignored event type');
      return json(200, { received: true, ignored: true });
    }

    const claim = await deps.db.rpc('billing_claim_event', {
      event_id: event.id, event_type: event.type, event_created: new Date(event.created * 1000).toISOString(),
    });
    if (claim.error) {
      log.error('could not record the event', { error: claim.error.message });
      return json(500, { code: 'database_unavailable', message: 'The event could not be recorded; retry.' });
    }
    if (claim.data !== true) {
      log.info('duplicate event');
      return json(200, { received: true, duplicate: true });
    }

    try {
      const out = await process({ ...deps, log }, event);
      const fin = await deps.db.rpc('billing_finish_event', { event_id: event.id, ok: true, result: out.result });
      if (fin.error) log.warn('could not mark the event processed', { error: fin.error.message });
      log.info('processed', { tenant_id: out.tenantId ?? null, result: out.result });
      return json(200, { received: true, result: out.result });
    } catch (e) {
      const retryable = e instanceof BillingSyncError ? e.retryable : stripeRetryable(e);
      if (retryable) {
        await deps.db.rpc('billing_finish_event', { event_id: event.id, ok: false, result: null });
        log.error('processing failed; Stripe will retry', { error: e });
        return json(500, { code: 'processing_failed', message: 'The event could not be processed; retry later.' });
      }
      const result = `failed permanently: ${(e as Error).message ?? String(e)}`.slice(0, 2000);
      await deps.db.rpc('billing_finish_event', { event_id: event.id, ok: true, result });
      log.error('processing failed permanently; not retrying', { error: e });
      return json(200, { received: true, error: 'not_retryable' });
    }
  }, deps.log);
}

export function depsFromEnv(env: { get(name: string): string | undefined }): WebhookDeps {
  const e = readWebhookEnv(env);
  return {
    stripe: stripeClient(e),
    crypto: StripeSdk.createSubtleCryptoProvider(),
    webhookSecret: e.STRIPE_WEBHOOK_SECRET,
    db: serviceClient(e),
    priceIds: priceIdsFrom(e),
    overagePriceId: e.STRIPE_PRICE_SMS_OVERAGE,
    email: emailSender(e),
    sms: e,
    appUrl: e.APP_URL.replace(/\/+$/, ''),
    log: createLogger('stripe-webhook'),
  };
}
