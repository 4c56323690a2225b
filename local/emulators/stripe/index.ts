/**
 * A local emulator of the Stripe API (v1) for local runs and tests only.
 *
 * It speaks Stripe's wire format so the `stripe` SDK runs unchanged with `host`/`port`/`protocol` overridden:
 * secret-key auth (Bearer or Basic), form-encoded bracket parameters, JSON objects shaped like Stripe's,
 * `{error: {type, code, message, param}}` errors, `Idempotency-Key` replay, `expand[]`, cursor lists, and
 * webhook events POSTed with a `Stripe-Signature` the SDK's `constructEventAsync` accepts.
 *
 * Billing flows: a hosted Checkout page (button "Pay") completes a subscription-mode session; a Billing Portal
 * page cancels at period end; test controls fail a renewal payment or renew a period. State is in memory.
 */
import crypto from 'node:crypto';
import type { Logger, RunningService } from '../../lib/types.ts';
import { alnumId, basicAuth, bearerToken, safeEqual } from '../_lib/auth.ts';
import { deliver, type DeliveryResult } from '../_lib/deliver.ts';
import { FormSyntaxError, parseFlatForm, parseNestedForm } from '../_lib/form.ts';
import { controlError, html, json, parseJsonObject, redirect, Router, serveHttp, type EmuRequest, type EmuResponse } from '../_lib/http.ts';
import { queryObject, RequestLog } from '../_lib/record.ts';
import { checkoutPage, messagePage, portalPage } from './pages.ts';
import {
  addInterval, allow, applyMetadata, arr, bool, expand, expandPaths, int, invalid, listOf, missingResource, nowSec, obj,
  oneOf, str, Store, StripeError, type Obj, type P,
} from './store.ts';

export interface StripeEmulatorOptions {
  port: number;
  secretKey: string;
  /** The endpoint secret (`whsec_…`) events are signed with. */
  webhookSecret: string;
  /** Where events are POSTed (changeable via POST /_emulator/config {webhookUrl}). */
  webhookUrl?: string;
  /** The emulator's own public base URL, used in Checkout and Billing Portal `url`s. */
  publicUrl: string;
  log: Logger;
}

/** The API version of the pinned `stripe` SDK (23.x); a request's `Stripe-Version` header overrides it for its events. */
export const DEFAULT_API_VERSION = '2026-10-28.endive';
const WEBHOOK_TIMEOUT_MS = 20_000;

interface EventRecord { event: Obj; deliveries: DeliveryResult[] }
interface RequestInfo { id: string | null; idempotency_key: string | null; apiVersion: string }

export async function startStripeEmulator(opts: StripeEmulatorOptions): Promise<RunningService & { url: string }> {
  if (!opts.secretKey.startsWith('sk_')) throw new Error('stripe emulator: secretKey must start with sk_');
  if (!opts.webhookSecret) throw new Error('stripe emulator: webhookSecret is required');
  const log = opts.log;
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');
  const store = new Store();
  const requests = new RequestLog();
  let webhookUrl: string | null = opts.webhookUrl ?? null;
  let events: EventRecord[] = [];
  let meterEvents: Obj[] = [];
  /** Injected failures: the next `times` API requests matching method + path answer `status` (tests). */
  let failures: Array<{ method: string; path: string; status: number; times: number }> = [];
  let idempotency = new Map<string, { signature: string; status: number; body: string; requestId: string } | 'in_flight'>();
  const lineItems = new Map<string, Obj[]>();
  let deliveryChain: Promise<unknown> = Promise.resolve();
  let generation = new AbortController();

  function reset() {
    generation.abort();
    generation = new AbortController();
    store.clear();
    requests.clear();
    events = [];
    meterEvents = [];
    failures = [];
    idempotency = new Map();
    lineItems.clear();
    webhookUrl = opts.webhookUrl ?? null;
  }

  // ---- events and webhook delivery ---------------------------------------------------------------------------
  function sign(payload: string, t = nowSec()): string {
    const v1 = crypto.createHmac('sha256', opts.webhookSecret).update(`${t}.${payload}`, 'utf8').digest('hex');
    return `t=${t},v1=${v1}`;
  }

  function emit(type: string, object: Obj, info: RequestInfo, previous?: Obj): EventRecord {
    const event: Obj = {
      id: alnumId('evt_', 24),
      object: 'event',
      api_version: info.apiVersion,
      created: nowSec(),
      data: { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) },
      livemode: false,
      pending_webhooks: webhookUrl ? 1 : 0,
      request: { id: info.id, idempotency_key: info.idempotency_key },
      type,
    };
    store.put(event);
    const rec: EventRecord = { event, deliveries: [] };
    events.push(rec);
    return rec;
  }

  /** Queues delivery (one at a time, in creation order); the promise settles when this event's attempt is done. */
  function enqueue(rec: EventRecord): Promise<DeliveryResult | null> {
    const signal = generation.signal;
    const run = deliveryChain.then(() => (signal.aborted ? null : deliverEvent(rec)));
    deliveryChain = run.catch(() => undefined);
    return run;
  }

  async function deliverEvent(rec: EventRecord): Promise<DeliveryResult | null> {
    const url = webhookUrl;
    if (!url) return null;
    const payload = JSON.stringify(rec.event, null, 2);
    const result = await deliver({
      url,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'stripe-signature': sign(payload),
        'cache-control': 'no-cache',
      },
      body: payload,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
    });
    rec.deliveries.push(result);
    rec.event.pending_webhooks = rec.deliveries.some((d) => d.ok) ? 0 : 1;
    if (!result.ok) log.warn(`event ${rec.event.type} (${rec.event.id}) to ${url}: ${result.error ?? `HTTP ${result.status}`}`);
    return result;
  }

  const deliverAll = (recs: EventRecord[]) => Promise.all(recs.map(enqueue));

  // ---- object builders ---------------------------------------------------------------------------------------
  function productObj(p: P, id?: string): Obj {
    const t = nowSec();
    return {
      id: id ?? alnumId('prod_', 14), object: 'product', active: bool(p, 'active') ?? true, created: t,
      default_price: null, description: str(p, 'description') ?? null, images: [], livemode: false,
      marketing_features: [], metadata: applyMetadata({}, p), name: str(p, 'name', { required: true }),
      package_dimensions: null, shippable: null, statement_descriptor: str(p, 'statement_descriptor') ?? null,
      tax_code: str(p, 'tax_code') ?? null, type: 'service', unit_label: str(p, 'unit_label') ?? null, updated: t,
      url: str(p, 'url') ?? null,
    };
  }

  function recurringOf(r: P, path: string): Obj {
    allow(r, ['interval', 'interval_count', 'usage_type', 'meter', 'aggregate_usage', 'trial_period_days']);
    const interval = oneOf(r, 'interval', ['day', 'week', 'month', 'year'] as const, { required: true, path: `${path}[interval]` });
    const count = int(r, 'interval_count', { path: `${path}[interval_count]`, min: 1 }) ?? 1;
    const max = { day: 365, week: 52, month: 12, year: 1 }[interval!];
    if (count > max) throw invalid(`Invalid ${path}[interval_count]: the maximum for ${interval} is ${max}`, `${path}[interval_count]`);
    const usageType = oneOf(r, 'usage_type', ['licensed', 'metered'] as const, { path: `${path}[usage_type]` }) ?? 'licensed';
    const meter = str(r, 'meter', { path: `${path}[meter]` });
    if (usageType === 'metered' && !meter) {
      // API 2025-03-31 removed legacy usage-based billing: a metered price needs a billing meter.
      throw invalid(`Missing required param: ${path}[meter]. Metered prices must be backed by a billing meter.`, `${path}[meter]`, 'parameter_missing');
    }
    if (meter !== undefined) {
      if (usageType !== 'metered') throw invalid(`${path}[meter] can only be set when ${path}[usage_type] is metered.`, `${path}[meter]`);
      const m = store.need(meter, 'billing.meter', 'billing meter', `${path}[meter]`);
      if (m.status !== 'active') throw invalid(`The meter ${meter} is inactive; you cannot attach it to a price.`, `${path}[meter]`);
    }
    return { interval, interval_count: count, meter: meter ?? null, trial_period_days: null, usage_type: usageType };
  }

  const isMetered = (price: Obj) => price?.recurring?.usage_type === 'metered';

  /** The usage a metered price bills for a customer over [from, to): its meter's sum of accepted events. */
  function meteredUsage(price: Obj, customer: string, from: number, to: number): number {
    const meter = price.recurring?.meter ? store.get(price.recurring.meter) : undefined;
    if (!meter) return 0;
    return meterEvents
      .filter((e) => e.status === 'accepted' && e.meter === meter.id && e.customer === customer && e.timestamp >= from && e.timestamp < to)
      .reduce((sum, e) => sum + e.value, 0);
  }

  /** A price from `prices.create` params or a `price_data` hash (then `inline`: created inactive, like Stripe). */
  function priceObj(p: P, path: string, inline: boolean): Obj {
    const currency = str(p, 'currency', { required: true, path: `${path}currency` })!.toLowerCase();
    if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}`, `${path}currency`);
    let product = str(p, 'product', { path: `${path}product` });
    const productData = obj(p, 'product_data', `${path}product_data`);
    if (product && productData) throw invalid('You may only specify one of these parameters: product, product_data.', `${path}product_data`);
    if (product) store.need(product, 'product', 'product', `${path}product`);
    else if (productData) {
      allow(productData, ['name', 'active', 'metadata', 'statement_descriptor', 'tax_code', 'unit_label', 'description', 'images', 'id']);
      product = store.put(productObj(productData)).id as string;
    } else {
      throw invalid(`Missing required param: ${path}product.`, `${path}product`, 'parameter_missing');
    }
    const unitAmount = int(p, 'unit_amount', { path: `${path}unit_amount`, min: 0 });
    const decimal = str(p, 'unit_amount_decimal', { path: `${path}unit_amount_decimal` });
    if (unitAmount === undefined && decimal === undefined) {
      throw invalid(`Missing required param: ${path}unit_amount.`, `${path}unit_amount`, 'parameter_missing');
    }
    if (decimal !== undefined && !/^\d+(\.\d{1,12})?$/.test(decimal)) throw invalid(`Invalid decimal: ${decimal}`, `${path}unit_amount_decimal`);
    const rec = obj(p, 'recurring', `${path}recurring`);
    const amount = unitAmount ?? Math.round(Number(decimal));
    return {
      id: alnumId('price_', 24), object: 'price', active: inline ? false : (bool(p, 'active') ?? true),
      billing_scheme: 'per_unit', created: nowSec(), currency, custom_unit_amount: null, livemode: false,
      lookup_key: null, metadata: applyMetadata({}, p), nickname: str(p, 'nickname') ?? null, product,
      recurring: rec ? recurringOf(rec, `${path}recurring`) : null,
      tax_behavior: oneOf(p, 'tax_behavior', ['inclusive', 'exclusive', 'unspecified'] as const) ?? 'unspecified',
      tiers_mode: null, transform_quantity: null, type: rec ? 'recurring' : 'one_time', unit_amount: amount,
      unit_amount_decimal: decimal ?? String(amount),
    };
  }

  function setLookupKey(price: Obj, key: string | undefined, transfer: boolean | undefined) {
    if (key === undefined) return;
    if (key === '') { price.lookup_key = null; return; }
    if (key.length > 200) throw invalid('lookup_key must be at most 200 characters.', 'lookup_key');
    const holder = store.all('price').find((x) => x.lookup_key === key && x.id !== price.id);
    if (holder) {
      if (!transfer) throw invalid(`A price (\`${holder.id}\`) already uses that lookup key.`, 'lookup_key');
      holder.lookup_key = null;
    }
    price.lookup_key = key;
  }

  function customerObj(p: P): Obj {
    return {
      id: alnumId('cus_', 14), object: 'customer', address: null, balance: 0, created: nowSec(), currency: null,
      default_source: null, delinquent: false, description: str(p, 'description') ?? null, discount: null,
      email: str(p, 'email') ?? null, invoice_prefix: alnumId('', 8).toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false, metadata: applyMetadata({}, p), name: str(p, 'name') ?? null, next_invoice_sequence: 1,
      phone: str(p, 'phone') ?? null, preferred_locales: [], shipping: null, tax_exempt: 'none', test_clock: null,
    };
  }
  const CUSTOMER_PARAMS = ['address', 'balance', 'description', 'email', 'invoice_prefix', 'invoice_settings', 'metadata', 'name', 'next_invoice_sequence', 'payment_method', 'phone', 'preferred_locales', 'shipping', 'source', 'tax', 'tax_exempt', 'tax_id_data', 'test_clock', 'cash_balance'];

  function subscriptionItemObj(subId: string, price: Obj, quantity: number | undefined, start: number, end: number): Obj {
    return {
      id: alnumId('si_', 14), object: 'subscription_item', billing_thresholds: null, created: nowSec(),
      current_period_end: end, current_period_start: start, discounts: [], metadata: {}, price: structuredClone(price),
      // Stripe omits quantity on metered items: usage comes from the meter.
      ...(isMetered(price) ? {} : { quantity: quantity ?? 1 }), subscription: subId, tax_rates: [],
    };
  }

  /** Stripe refuses a quantity on a metered price. */
  function checkMeteredQuantity(price: Obj, quantity: unknown, path: string) {
    if (isMetered(price) && quantity !== undefined) {
      throw invalid(`Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`${path}\`.`, `${path}[quantity]`);
    }
  }

  /** Keeps the subscription's period fields and its items' in step (newer API versions read them from items). */
  function setPeriod(sub: Obj, start: number, end: number) {
    sub.current_period_start = start;
    sub.current_period_end = end;
    for (const it of sub.items.data) { it.current_period_start = start; it.current_period_end = end; }
  }

  function invoiceObj(sub: Obj, reason: string, paid: boolean, periodStart: number, periodEnd: number, linePeriod: [number, number], zero = false): Obj {
    const customer = store.get(sub.customer)!;
    const id = alnumId('in_', 24);
    const t = nowSec();
    const lines = sub.items.data.map((it: Obj) => {
      const price = it.price;
      const metered = isMetered(price);
      // Licensed items bill the coming period in advance; metered items bill the period just ended in arrears.
      const quantity = metered ? meteredUsage(price, sub.customer, periodStart, periodEnd) : it.quantity;
      const amount = zero ? 0 : metered
        ? Math.round(quantity * Number(price.unit_amount_decimal ?? price.unit_amount))
        : price.unit_amount * it.quantity;
      const product = store.get(price.product);
      const linePeriodOf = metered ? [periodStart, periodEnd] : linePeriod;
      return {
        id: alnumId('il_', 24), object: 'line_item', amount, currency: price.currency,
        description: metered
          ? `${product?.name ?? price.product} (${quantity} × ${money(Number(price.unit_amount_decimal ?? price.unit_amount), price.currency)})`
          : `${it.quantity} × ${product?.name ?? price.product} (at ${money(price.unit_amount, price.currency)} / ${price.recurring?.interval ?? 'once'})`,
        discount_amounts: [], discountable: true, discounts: [], invoice: id, livemode: false, metadata: {},
        parent: {
          invoice_item_details: null,
          subscription_item_details: { invoice_item: null, proration: false, proration_details: { credited_items: null }, subscription: sub.id, subscription_item: it.id },
          type: 'subscription_item_details',
        },
        period: { end: linePeriodOf[1], start: linePeriodOf[0] }, pretax_credit_amounts: [],
        pricing: { price_details: { price: price.id, product: price.product }, type: 'price_details', unit_amount_decimal: price.unit_amount_decimal },
        quantity, taxes: [],
      };
    });
    const total = lines.reduce((s: number, l: Obj) => s + l.amount, 0);
    const number = `${customer.invoice_prefix}-${String(customer.next_invoice_sequence++).padStart(4, '0')}`;
    return {
      id, object: 'invoice', account_country: 'US', account_name: 'ServicePro (emulator)', amount_due: total,
      amount_overpaid: 0, amount_paid: paid ? total : 0, amount_remaining: paid ? 0 : total, amount_shipping: 0,
      attempt_count: 1, attempted: true, auto_advance: !paid, automatic_tax: { disabled_reason: null, enabled: false, liability: null, status: null },
      billing_reason: reason, collection_method: 'charge_automatically', created: t, currency: sub.currency,
      customer: sub.customer, customer_email: customer.email, customer_name: customer.name, default_payment_method: null,
      description: null, discounts: [], due_date: null, ending_balance: 0, hosted_invoice_url: null, invoice_pdf: null,
      last_finalization_error: null, lines: { object: 'list', data: lines, has_more: false, total_count: lines.length, url: `/v1/invoices/${id}/lines` },
      livemode: false, metadata: {}, next_payment_attempt: paid ? null : t + 3 * 86_400, number,
      parent: { quote_details: null, subscription_details: { metadata: structuredClone(sub.metadata), subscription: sub.id }, type: 'subscription_details' },
      period_end: periodEnd, period_start: periodStart, starting_balance: 0, status: paid ? 'paid' : 'open',
      status_transitions: { finalized_at: t, marked_uncollectible_at: null, paid_at: paid ? t : null, voided_at: null },
      subtotal: total, subtotal_excluding_tax: total, total, total_discount_amounts: [], total_excluding_tax: total,
      total_taxes: [], webhooks_delivered_at: t,
    };
  }

  /** Creates an active (or trialing) subscription with its first invoice, paid; returns the events in Stripe's order. */
  function startSubscription(customerId: string, items: { price: Obj; quantity: number | undefined }[], metadata: Record<string, string>, trialDays: number | undefined, info: RequestInfo, description: string | null = null) {
    const t = nowSec();
    const first = items[0].price;
    const trialEnd = trialDays ? t + trialDays * 86_400 : null;
    const end = trialEnd ?? addInterval(t, first.recurring.interval, first.recurring.interval_count);
    const id = alnumId('sub_', 24);
    const sub: Obj = {
      id, object: 'subscription', application: null, application_fee_percent: null,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null }, billing_cycle_anchor: end === trialEnd ? trialEnd : t,
      billing_cycle_anchor_config: null, billing_mode: { flexible: null, type: 'classic' }, billing_thresholds: null,
      cancel_at: null, cancel_at_period_end: false, canceled_at: null,
      cancellation_details: { comment: null, feedback: null, reason: null }, collection_method: 'charge_automatically',
      created: t, currency: first.currency, current_period_end: end, current_period_start: t, customer: customerId,
      days_until_due: null, default_payment_method: null, default_source: null, default_tax_rates: [], description,
      discounts: [], ended_at: null, invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
      items: { object: 'list', data: [] as Obj[], has_more: false, total_count: 0, url: `/v1/subscription_items?subscription=${id}` },
      latest_invoice: null, livemode: false, metadata, next_pending_invoice_item_invoice: null, on_behalf_of: null,
      pause_collection: null, payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
      pending_invoice_item_interval: null, pending_setup_intent: null, pending_update: null, schedule: null,
      start_date: t, status: trialEnd ? 'trialing' : 'active', test_clock: null, transfer_data: null, trial_end: trialEnd,
      trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } }, trial_start: trialEnd ? t : null,
    };
    sub.items.data = items.map((i) => subscriptionItemObj(id, i.price, i.quantity, t, end));
    sub.items.total_count = sub.items.data.length;
    for (const it of sub.items.data) store.put(it);
    const invoice = store.put(invoiceObj(sub, 'subscription_create', true, t, t, [t, end], !!trialEnd));
    sub.latest_invoice = invoice.id;
    store.put(sub);
    const recs = [
      emit('customer.subscription.created', sub, info),
      ...invoiceEvents(invoice, info, true),
    ];
    return { sub, invoice, recs };
  }

  function invoiceEvents(invoice: Obj, info: RequestInfo, paid: boolean): EventRecord[] {
    const draft = { ...structuredClone(invoice), status: 'draft', amount_paid: 0, amount_remaining: invoice.amount_due, status_transitions: { ...invoice.status_transitions, finalized_at: null, paid_at: null } };
    const open = { ...structuredClone(invoice), status: 'open', amount_paid: 0, amount_remaining: invoice.amount_due, status_transitions: { ...invoice.status_transitions, paid_at: null } };
    const recs = [emit('invoice.created', draft, info), emit('invoice.finalized', open, info)];
    if (paid) recs.push(emit('invoice.paid', invoice, info), emit('invoice.payment_succeeded', invoice, info));
    else recs.push(emit('invoice.payment_failed', invoice, info));
    return recs;
  }

  function money(amount: number, currency: string) {
    try {
      return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);
    } catch {
      return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
    }
  }

  // ---- session helpers ---------------------------------------------------------------------------------------
  function sessionLineItems(sessionId: string): Obj {
    const items = lineItems.get(sessionId) ?? [];
    return { object: 'list', data: structuredClone(items), has_more: false, url: `/v1/checkout/sessions/${sessionId}/line_items` };
  }
  const special = (node: Obj, field: string) =>
    node.object === 'checkout.session' && field === 'line_items' ? sessionLineItems(node.id) : undefined;
  const render = (o: Obj, p: P) => expand(o, expandPaths(p), store, special);
  const renderList = (l: Obj, p: P) => expand(l, expandPaths(p), store, special);

  /** Completes an open Checkout Session as the hosted page's "Pay" does; returns the events to deliver. */
  function completeCheckout(session: Obj, email: string | undefined): EventRecord[] {
    const info: RequestInfo = { id: null, idempotency_key: null, apiVersion: session._apiVersion ?? DEFAULT_API_VERSION };
    const recs: EventRecord[] = [];
    let customerId: string = session.customer;
    if (!customerId) {
      const c = store.put(customerObj({ email: email ?? session.customer_email }));
      customerId = c.id;
      recs.push(emit('customer.created', c, info));
    }
    const customer = store.get(customerId)!;
    const items = (lineItems.get(session.id) ?? []).map((li) => ({ price: store.get(li.price.id)!, quantity: li.quantity ?? undefined }));
    const sd = session._subscriptionData as { metadata: Record<string, string>; trialDays?: number; description: string | null };
    const { sub, invoice, recs: subRecs } = startSubscription(customerId, items, sd.metadata, sd.trialDays, info, sd.description);
    recs.push(...subRecs);
    session.status = 'complete';
    session.payment_status = sd.trialDays ? 'no_payment_required' : 'paid';
    session.customer = customerId;
    session.subscription = sub.id;
    session.invoice = invoice.id;
    session.customer_details = { address: null, email: customer.email, name: customer.name, phone: customer.phone, tax_exempt: 'none', tax_ids: [] };
    recs.push(emit('checkout.session.completed', publicSession(session), info));
    return recs;
  }

  /** The API rendering of a session (internal fields start with `_`). */
  function publicSession(s: Obj): Obj {
    return Object.fromEntries(Object.entries(s).filter(([k]) => !k.startsWith('_')));
  }

  function subscriptionChange(sub: Obj, mutate: () => void, info: RequestInfo): EventRecord {
    const before = structuredClone(sub);
    mutate();
    const previous: Obj = {};
    for (const k of Object.keys(sub)) {
      if (JSON.stringify(before[k]) !== JSON.stringify(sub[k])) previous[k] = before[k];
    }
    return emit('customer.subscription.updated', sub, info, previous);
  }

  function renew(sub: Obj, info: RequestInfo): EventRecord[] {
    if (sub.status === 'canceled') throw new StripeError(400, 'invalid_request_error', 'The subscription is canceled.');
    const latest = sub.latest_invoice ? store.get(sub.latest_invoice) : undefined;
    if (sub.status === 'past_due' && latest?.status === 'open') {
      // Retrying the open invoice succeeds.
      const t = nowSec();
      Object.assign(latest, {
        status: 'paid', amount_paid: latest.amount_due, amount_remaining: 0, attempt_count: latest.attempt_count + 1,
        next_payment_attempt: null, auto_advance: false, status_transitions: { ...latest.status_transitions, paid_at: t },
      });
      return [
        emit('invoice.paid', latest, info),
        emit('invoice.payment_succeeded', latest, info),
        subscriptionChange(sub, () => { sub.status = 'active'; }, info),
      ];
    }
    if (sub.cancel_at_period_end) {
      const end = sub.current_period_end;
      Object.assign(sub, { status: 'canceled', ended_at: end, cancel_at_period_end: false });
      return [emit('customer.subscription.deleted', sub, info)];
    }
    const oldStart = sub.current_period_start;
    const oldEnd = sub.current_period_end;
    const price = sub.items.data[0].price;
    const newEnd = addInterval(oldEnd, price.recurring.interval, price.recurring.interval_count);
    const invoice = store.put(invoiceObj(sub, 'subscription_cycle', true, oldStart, oldEnd, [oldEnd, newEnd]));
    const recs = invoiceEvents(invoice, info, true);
    recs.push(subscriptionChange(sub, () => {
      setPeriod(sub, oldEnd, newEnd);
      sub.latest_invoice = invoice.id;
      if (sub.status === 'trialing') sub.status = 'active';
    }, info));
    return recs;
  }

  function paymentFailed(sub: Obj, info: RequestInfo): EventRecord[] {
    if (sub.status === 'canceled') throw new StripeError(400, 'invalid_request_error', 'The subscription is canceled.');
    const latest = sub.latest_invoice ? store.get(sub.latest_invoice) : undefined;
    if (sub.status === 'past_due' && latest?.status === 'open') {
      latest.attempt_count += 1;
      latest.next_payment_attempt = nowSec() + 3 * 86_400;
      return [emit('invoice.payment_failed', latest, info)];
    }
    const oldStart = sub.current_period_start;
    const oldEnd = sub.current_period_end;
    const price = sub.items.data[0].price;
    const newEnd = addInterval(oldEnd, price.recurring.interval, price.recurring.interval_count);
    const invoice = store.put(invoiceObj(sub, 'subscription_cycle', false, oldStart, oldEnd, [oldEnd, newEnd]));
    const recs = invoiceEvents(invoice, info, false);
    recs.push(subscriptionChange(sub, () => {
      setPeriod(sub, oldEnd, newEnd);
      sub.latest_invoice = invoice.id;
      sub.status = 'past_due';
    }, info));
    return recs;
  }

  function setCancelAtPeriodEnd(sub: Obj, value: boolean) {
    sub.cancel_at_period_end = value;
    if (value) {
      sub.cancel_at = sub.current_period_end;
      sub.canceled_at = nowSec();
      sub.cancellation_details = { comment: null, feedback: null, reason: 'cancellation_requested' };
    } else {
      sub.cancel_at = null;
      sub.canceled_at = null;
      sub.cancellation_details = { comment: null, feedback: null, reason: null };
    }
  }

  // ---- API routes ----------------------------------------------------------------------------------------------
  type Api = (p: P, params: Record<string, string>, info: RequestInfo) => Obj;
  const api = new Router<Api>();

  // Products
  api.add('POST', '/v1/products', (p) => {
    allow(p, ['id', 'name', 'active', 'description', 'metadata', 'images', 'marketing_features', 'package_dimensions', 'shippable', 'statement_descriptor', 'tax_code', 'unit_label', 'url', 'default_price_data']);
    const id = str(p, 'id');
    if (id !== undefined && store.get(id)) throw invalid(`Product already exists.`, 'id', 'resource_already_exists');
    const product = store.put(productObj(p, id));
    const dpd = obj(p, 'default_price_data');
    if (dpd) {
      allow(dpd, ['currency', 'unit_amount', 'unit_amount_decimal', 'recurring', 'tax_behavior', 'metadata']);
      const price = store.put(priceObj({ ...dpd, product: product.id }, 'default_price_data[', false));
      product.default_price = price.id;
    }
    return render(product, p);
  });
  api.add('GET', '/v1/products', (p) => {
    const active = bool(p, 'active');
    return renderList(listOf('/v1/products', store.all('product').filter((x) => active === undefined || x.active === active), p), p);
  });
  api.add('GET', '/v1/products/:id', (p, { id }) => render(store.need(id, 'product', 'product'), p));
  api.add('POST', '/v1/products/:id', (p, { id }) => {
    allow(p, ['active', 'default_price', 'description', 'images', 'marketing_features', 'metadata', 'name', 'package_dimensions', 'shippable', 'statement_descriptor', 'tax_code', 'unit_label', 'url']);
    const product = store.need(id, 'product', 'product');
    const name = str(p, 'name');
    if (name !== undefined) product.name = name;
    const active = bool(p, 'active');
    if (active !== undefined) product.active = active;
    const description = str(p, 'description');
    if (description !== undefined) product.description = description || null;
    const dp = str(p, 'default_price');
    if (dp !== undefined) { store.need(dp, 'price', 'price', 'default_price'); product.default_price = dp; }
    product.metadata = applyMetadata(product.metadata, p);
    product.updated = nowSec();
    return render(product, p);
  });

  // Prices
  api.add('POST', '/v1/prices', (p) => {
    allow(p, ['currency', 'product', 'product_data', 'unit_amount', 'unit_amount_decimal', 'recurring', 'lookup_key', 'transfer_lookup_key', 'nickname', 'metadata', 'active', 'tax_behavior', 'billing_scheme', 'currency_options', 'custom_unit_amount', 'tiers', 'tiers_mode', 'transform_quantity']);
    if (p.billing_scheme !== undefined && p.billing_scheme !== 'per_unit') throw invalid('The emulator supports billing_scheme=per_unit only.', 'billing_scheme');
    const price = priceObj(p, '', false);
    setLookupKey(price, str(p, 'lookup_key'), bool(p, 'transfer_lookup_key'));
    return render(store.put(price), p);
  });
  api.add('GET', '/v1/prices', (p) => {
    const active = bool(p, 'active');
    const product = str(p, 'product');
    const type = str(p, 'type');
    const currency = str(p, 'currency');
    const keys = arr(p, 'lookup_keys');
    if (keys && keys.length > 10) throw invalid('lookup_keys accepts at most 10 keys.', 'lookup_keys');
    const rec = obj(p, 'recurring');
    const items = store.all('price').filter((x) =>
      (active === undefined || x.active === active) && (!product || x.product === product) && (!type || x.type === type) &&
      (!currency || x.currency === currency) && (!keys || (keys as string[]).includes(x.lookup_key)) &&
      (!rec?.interval || x.recurring?.interval === rec.interval));
    return renderList(listOf('/v1/prices', items, p), p);
  });
  api.add('GET', '/v1/prices/:id', (p, { id }) => render(store.need(id, 'price', 'price'), p));
  api.add('POST', '/v1/prices/:id', (p, { id }) => {
    allow(p, ['active', 'lookup_key', 'transfer_lookup_key', 'metadata', 'nickname', 'tax_behavior', 'currency_options']);
    const price = store.need(id, 'price', 'price');
    const active = bool(p, 'active');
    if (active !== undefined) price.active = active;
    const nickname = str(p, 'nickname');
    if (nickname !== undefined) price.nickname = nickname || null;
    setLookupKey(price, str(p, 'lookup_key'), bool(p, 'transfer_lookup_key'));
    price.metadata = applyMetadata(price.metadata, p);
    return render(price, p);
  });

  // Customers
  api.add('POST', '/v1/customers', (p, _x, info) => {
    allow(p, CUSTOMER_PARAMS);
    const c = store.put(customerObj(p));
    enqueue(emit('customer.created', c, info));
    return render(c, p);
  });
  api.add('GET', '/v1/customers', (p) => {
    const email = str(p, 'email');
    const items = store.all('customer').filter((c) => !c.deleted && (!email || c.email === email));
    return renderList(listOf('/v1/customers', items, p), p);
  });
  api.add('GET', '/v1/customers/search', (p) => {
    const query = str(p, 'query', { required: true })!;
    const match = searchMatcher(query);
    const limit = int(p, 'limit', { min: 1, max: 100 }) ?? 10;
    const found = store.all('customer').filter((c) => !c.deleted && match(c));
    return renderList({ object: 'search_result', data: found.slice(0, limit), has_more: found.length > limit, next_page: null, url: '/v1/customers/search' }, p);
  });
  api.add('GET', '/v1/customers/:id', (p, { id }) => {
    const c = store.need(id, 'customer', 'customer');
    return c.deleted ? { id: c.id, object: 'customer', deleted: true } : render(c, p);
  });
  api.add('POST', '/v1/customers/:id', (p, { id }, info) => {
    allow(p, [...CUSTOMER_PARAMS.filter((x) => x !== 'test_clock' && x !== 'payment_method'), 'default_source']);
    const c = store.need(id, 'customer', 'customer');
    if (c.deleted) throw missingResource('customer', id);
    const before = structuredClone(c);
    for (const f of ['email', 'name', 'phone', 'description'] as const) {
      const v = str(p, f);
      if (v !== undefined) c[f] = v === '' ? null : v;
    }
    c.metadata = applyMetadata(c.metadata, p);
    const previous: Obj = {};
    for (const k of Object.keys(c)) if (JSON.stringify(before[k]) !== JSON.stringify(c[k])) previous[k] = before[k];
    if (Object.keys(previous).length) enqueue(emit('customer.updated', c, info, previous));
    return render(c, p);
  });
  api.add('DELETE', '/v1/customers/:id', (_p, { id }, info) => {
    const c = store.need(id, 'customer', 'customer');
    if (c.deleted) throw missingResource('customer', id);
    for (const s of store.all('subscription')) {
      if (s.customer === id && s.status !== 'canceled') {
        Object.assign(s, { status: 'canceled', canceled_at: nowSec(), ended_at: nowSec() });
        enqueue(emit('customer.subscription.deleted', s, info));
      }
    }
    enqueue(emit('customer.deleted', c, info));
    c.deleted = true;
    return { id, object: 'customer', deleted: true };
  });

  // Checkout Sessions
  api.add('POST', '/v1/checkout/sessions', (p, _x, info) => {
    allow(p, ['mode', 'line_items', 'customer', 'customer_email', 'client_reference_id', 'metadata', 'subscription_data', 'success_url', 'cancel_url', 'allow_promotion_codes', 'billing_address_collection', 'payment_method_types', 'locale', 'expires_at', 'customer_update', 'automatic_tax', 'tax_id_collection', 'consent_collection', 'ui_mode', 'return_url', 'phone_number_collection', 'payment_method_collection', 'customer_creation', 'custom_text', 'discounts', 'submit_type', 'saved_payment_method_options']);
    const mode = oneOf(p, 'mode', ['payment', 'setup', 'subscription'] as const, { required: true });
    if (mode !== 'subscription') throw invalid(`The emulator supports mode=subscription only (got ${mode}).`, 'mode');
    const customer = str(p, 'customer');
    const customerEmail = str(p, 'customer_email');
    if (customer && customerEmail) throw invalid('You may only specify one of these parameters: customer, customer_email.', 'customer_email');
    if (customer) {
      const c = store.need(customer, 'customer', 'customer', 'customer');
      if (c.deleted) throw missingResource('customer', customer, 'customer');
    }
    const successUrl = str(p, 'success_url');
    const cancelUrl = str(p, 'cancel_url');
    for (const [k, v] of [['success_url', successUrl], ['cancel_url', cancelUrl]] as const) {
      if (v !== undefined && !/^https?:\/\/[^\s]+$/.test(v)) throw invalid(`Not a valid URL`, k, 'url_invalid');
    }
    const rawItems = arr(p, 'line_items');
    if (!rawItems || rawItems.length === 0) throw invalid('Missing required param: line_items.', 'line_items', 'parameter_missing');
    const items: Obj[] = rawItems.map((raw, i) => {
      if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('Invalid object', `line_items[${i}]`);
      const li = raw as P;
      allow(li, ['price', 'price_data', 'quantity', 'adjustable_quantity', 'dynamic_tax_rates', 'tax_rates']);
      const quantity = int(li, 'quantity', { path: `line_items[${i}][quantity]`, min: 1 }) ?? 1;
      let price: Obj;
      const priceId = str(li, 'price', { path: `line_items[${i}][price]` });
      const pd = obj(li, 'price_data', `line_items[${i}][price_data]`);
      if (priceId) price = store.need(priceId, 'price', 'price', `line_items[${i}][price]`);
      else if (pd) price = store.put(priceObj(pd, `line_items[${i}][price_data][`, true));
      else throw invalid(`Missing required param: line_items[${i}][price].`, `line_items[${i}][price]`, 'parameter_missing');
      if (priceId && !price.active) throw invalid(`The price specified is inactive. This field only accepts active prices.`, `line_items[${i}][price]`);
      if (price.type !== 'recurring') throw invalid('You must provide at least one recurring price in `subscription` mode when using prices.', `line_items[${i}][price]`);
      checkMeteredQuantity(price, li.quantity, `line_items[${i}]`);
      const product = store.get(price.product);
      // A metered price costs nothing up front: its usage is invoiced at the end of each period.
      const upfront = isMetered(price) ? 0 : price.unit_amount * quantity;
      return {
        id: alnumId('li_', 24), object: 'item', amount_discount: 0, amount_subtotal: upfront,
        amount_tax: 0, amount_total: upfront, currency: price.currency,
        description: product?.name ?? '', price: structuredClone(price), quantity: isMetered(price) ? null : quantity,
      };
    });
    const currencies = new Set(items.map((i) => i.currency));
    if (currencies.size > 1) throw invalid('All prices must use the same currency.', 'line_items');
    const sd = obj(p, 'subscription_data') ?? {};
    allow(sd, ['metadata', 'trial_period_days', 'description', 'trial_end', 'billing_cycle_anchor', 'default_tax_rates', 'proration_behavior', 'application_fee_percent', 'on_behalf_of', 'transfer_data', 'invoice_settings', 'trial_settings', 'billing_mode']);
    const trialDays = int(sd, 'trial_period_days', { path: 'subscription_data[trial_period_days]', min: 1, max: 730 });
    const t = nowSec();
    const expiresAt = int(p, 'expires_at') ?? t + 86_400;
    if (expiresAt < t + 1800 || expiresAt > t + 86_400) throw invalid('The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', 'expires_at');
    const total = items.reduce((s, i) => s + i.amount_total, 0);
    const id = alnumId('cs_test_a1', 56);
    const session: Obj = {
      id, object: 'checkout.session', adaptive_pricing: null, after_expiration: null, allow_promotion_codes: bool(p, 'allow_promotion_codes') ?? null,
      amount_subtotal: total, amount_total: total, automatic_tax: { enabled: false, liability: null, provider: null, status: null },
      billing_address_collection: str(p, 'billing_address_collection') ?? null, cancel_url: cancelUrl ?? null,
      client_reference_id: str(p, 'client_reference_id') ?? null, client_secret: null, collected_information: null,
      consent: null, consent_collection: null, created: t, currency: items[0].currency, custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: customer ?? null, customer_creation: customer ? null : 'always', customer_details: customer ? { email: store.get(customer)!.email, address: null, name: store.get(customer)!.name, phone: null, tax_exempt: 'none', tax_ids: null } : (customerEmail ? { email: customerEmail, address: null, name: null, phone: null, tax_exempt: 'none', tax_ids: null } : null),
      customer_email: customerEmail ?? null, discounts: [], expires_at: expiresAt, invoice: null, invoice_creation: null,
      livemode: false, locale: str(p, 'locale') ?? null, metadata: applyMetadata({}, p), mode,
      payment_intent: null, payment_link: null, payment_method_collection: 'always', payment_method_configuration_details: null,
      payment_method_options: { card: { request_three_d_secure: 'automatic' } }, payment_method_types: ['card'],
      payment_status: 'unpaid', phone_number_collection: { enabled: false }, recovered_from: null, saved_payment_method_options: null,
      setup_intent: null, shipping_address_collection: null, shipping_cost: null, shipping_options: [], status: 'open',
      submit_type: null, subscription: null, success_url: successUrl ?? null,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 }, ui_mode: 'hosted', url: `${publicUrl}/checkout/${id}`,
      wallet_options: null,
      _apiVersion: info.apiVersion,
      _subscriptionData: {
        metadata: applyMetadata({}, sd), trialDays, description: str(sd, 'description', { path: 'subscription_data[description]' }) ?? null,
      },
    };
    lineItems.set(id, items);
    store.put(session);
    return render(publicSession(session), p);
  });
  api.add('GET', '/v1/checkout/sessions', (p) => {
    const customer = str(p, 'customer');
    const subscription = str(p, 'subscription');
    const status = str(p, 'status');
    const items = store.all('checkout.session').filter((s) => (!customer || s.customer === customer) && (!subscription || s.subscription === subscription) && (!status || s.status === status)).map(publicSession);
    return renderList(listOf('/v1/checkout/sessions', items, p), p);
  });
  api.add('GET', '/v1/checkout/sessions/:id', (p, { id }) => render(publicSession(expireIfDue(store.need(id, 'checkout.session', 'checkout.session'))), p));
  api.add('GET', '/v1/checkout/sessions/:id/line_items', (p, { id }) => {
    store.need(id, 'checkout.session', 'checkout.session');
    return renderList(listOf(`/v1/checkout/sessions/${id}/line_items`, lineItems.get(id) ?? [], p), p);
  });
  api.add('POST', '/v1/checkout/sessions/:id/expire', (p, { id }, info) => {
    const s = store.need(id, 'checkout.session', 'checkout.session');
    if (s.status !== 'open') throw invalid(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${s.status}".`);
    s.status = 'expired';
    s.url = null;
    enqueue(emit('checkout.session.expired', publicSession(s), info));
    return render(publicSession(s), p);
  });

  function expireIfDue(s: Obj): Obj {
    if (s.status === 'open' && s.expires_at <= nowSec()) {
      s.status = 'expired';
      s.url = null;
      enqueue(emit('checkout.session.expired', publicSession(s), { id: null, idempotency_key: null, apiVersion: s._apiVersion }));
    }
    return s;
  }

  // Billing Portal
  api.add('POST', '/v1/billing_portal/sessions', (p) => {
    allow(p, ['customer', 'return_url', 'configuration', 'flow_data', 'locale', 'on_behalf_of']);
    const customer = str(p, 'customer', { required: true })!;
    const c = store.need(customer, 'customer', 'customer', 'customer');
    if (c.deleted) throw missingResource('customer', customer, 'customer');
    const returnUrl = str(p, 'return_url');
    if (returnUrl !== undefined && !/^https?:\/\/\S+$/.test(returnUrl)) throw invalid('Not a valid URL', 'return_url', 'url_invalid');
    const id = alnumId('bps_', 24);
    return render(store.put({
      id, object: 'billing_portal.session', configuration: str(p, 'configuration') ?? 'bpc_emulator_default',
      created: nowSec(), customer, flow: null, livemode: false, locale: str(p, 'locale') ?? null, on_behalf_of: null,
      return_url: returnUrl ?? null, url: `${publicUrl}/billing_portal/${id}`,
    }), p);
  });

  // Subscriptions
  api.add('POST', '/v1/subscriptions', (p, _x, info) => {
    allow(p, ['customer', 'items', 'metadata', 'trial_period_days', 'description', 'default_payment_method', 'payment_behavior', 'proration_behavior', 'collection_method', 'off_session', 'payment_settings', 'cancel_at_period_end', 'automatic_tax', 'billing_cycle_anchor', 'trial_end', 'coupon', 'discounts', 'days_until_due', 'default_tax_rates']);
    const customer = str(p, 'customer', { required: true })!;
    const c = store.need(customer, 'customer', 'customer', 'customer');
    if (c.deleted) throw missingResource('customer', customer, 'customer');
    const raw = arr(p, 'items');
    if (!raw || raw.length === 0) throw invalid('Missing required param: items.', 'items', 'parameter_missing');
    const items = raw.map((r, i) => {
      const it = r as P;
      allow(it, ['price', 'price_data', 'quantity', 'metadata', 'tax_rates', 'discounts', 'billing_thresholds']);
      const priceId = str(it, 'price', { path: `items[${i}][price]` });
      const pd = obj(it, 'price_data', `items[${i}][price_data]`);
      const price = priceId ? store.need(priceId, 'price', 'price', `items[${i}][price]`) : pd ? store.put(priceObj(pd, `items[${i}][price_data][`, true)) : undefined;
      if (!price) throw invalid(`Missing required param: items[${i}][price].`, `items[${i}][price]`, 'parameter_missing');
      if (price.type !== 'recurring') throw invalid('The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', `items[${i}][price]`);
      checkMeteredQuantity(price, it.quantity, `items[${i}]`);
      return { price, quantity: int(it, 'quantity', { path: `items[${i}][quantity]`, min: 0 }) ?? (isMetered(price) ? undefined : 1) };
    });
    const { sub, recs } = startSubscription(customer, items, applyMetadata({}, p), int(p, 'trial_period_days', { min: 1, max: 730 }), info, str(p, 'description') ?? null);
    if (bool(p, 'cancel_at_period_end')) setCancelAtPeriodEnd(sub, true);
    deliverAll(recs);
    return render(sub, p);
  });
  api.add('GET', '/v1/subscriptions', (p) => {
    const customer = str(p, 'customer');
    const price = str(p, 'price');
    const status = str(p, 'status');
    const items = store.all('subscription').filter((s) =>
      (!customer || s.customer === customer) &&
      (!price || s.items.data.some((i: Obj) => i.price.id === price)) &&
      (status === 'all' ? true : status === 'ended' ? ['canceled', 'incomplete_expired'].includes(s.status) : status ? s.status === status : s.status !== 'canceled'));
    return renderList(listOf('/v1/subscriptions', items, p), p);
  });
  api.add('GET', '/v1/subscriptions/:id', (p, { id }) => render(store.need(id, 'subscription', 'subscription'), p));
  api.add('POST', '/v1/subscriptions/:id', (p, { id }, info) => {
    allow(p, ['items', 'proration_behavior', 'proration_date', 'cancel_at_period_end', 'cancel_at', 'metadata', 'default_payment_method', 'description', 'payment_behavior', 'billing_cycle_anchor', 'trial_end', 'cancellation_details', 'collection_method', 'off_session', 'payment_settings', 'pause_collection', 'automatic_tax', 'discounts', 'days_until_due', 'default_tax_rates']);
    const sub = store.need(id, 'subscription', 'subscription');
    if (sub.status === 'canceled') {
      const extra = Object.keys(p).filter((k) => !['metadata', 'cancellation_details', 'expand'].includes(k));
      if (extra.length) throw invalid('A canceled subscription can only update its cancellation_details and metadata.', extra[0]);
    }
    const proration = oneOf(p, 'proration_behavior', ['create_prorations', 'none', 'always_invoice'] as const) ?? 'create_prorations';
    const rawItems = arr(p, 'items');
    const cape = bool(p, 'cancel_at_period_end');
    const description = str(p, 'description');
    // Validate everything before changing anything.
    const itemOps = (rawItems ?? []).map((r, i) => {
      if (typeof r !== 'object' || Array.isArray(r)) throw invalid('Invalid object', `items[${i}]`);
      const it = r as P;
      allow(it, ['id', 'price', 'price_data', 'quantity', 'deleted', 'clear_usage', 'metadata', 'tax_rates', 'discounts', 'billing_thresholds']);
      const itemId = str(it, 'id', { path: `items[${i}][id]` });
      const existing = itemId ? sub.items.data.find((x: Obj) => x.id === itemId) : undefined;
      if (itemId && !existing) throw missingResource('subscription item', itemId, `items[${i}][id]`);
      const priceId = str(it, 'price', { path: `items[${i}][price]` });
      const pd = obj(it, 'price_data', `items[${i}][price_data]`);
      let price: Obj | undefined;
      if (priceId) price = store.need(priceId, 'price', 'price', `items[${i}][price]`);
      if (price && price.type !== 'recurring') throw invalid('The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', `items[${i}][price]`);
      if (price && price.currency !== sub.currency) throw invalid(`The price's currency (${price.currency}) must match the subscription's currency (${sub.currency}).`, `items[${i}][price]`);
      if (!existing && !price && !pd) throw invalid(`Missing required param: items[${i}][price].`, `items[${i}][price]`, 'parameter_missing');
      const target = price ?? existing?.price;
      if (target) checkMeteredQuantity(target, it.quantity, `items[${i}]`);
      return { existing, price, pd, path: `items[${i}]`, quantity: int(it, 'quantity', { path: `items[${i}][quantity]`, min: 0 }), deleted: bool(it, 'deleted', `items[${i}][deleted]`), metadata: it };
    });
    const metadata = applyMetadata(sub.metadata, p);
    const remaining = sub.items.data.length - itemOps.filter((o) => o.existing && o.deleted).length + itemOps.filter((o) => !o.existing && !o.deleted).length;
    if (remaining < 1) throw invalid('A subscription must have at least one active plan.', 'items');
    const changedItems = itemOps.length > 0;
    const recs: EventRecord[] = [];
    const updated = subscriptionChange(sub, () => {
      for (const op of itemOps) {
        if (op.existing && op.deleted) {
          sub.items.data = sub.items.data.filter((x: Obj) => x !== op.existing);
          store.remove(op.existing.id);
          continue;
        }
        const price = op.price ?? (op.pd ? store.put(priceObj(op.pd, `${op.path}[price_data][`, true)) : undefined);
        if (op.existing) {
          if (price) op.existing.price = structuredClone(price);
          if (op.quantity !== undefined) op.existing.quantity = op.quantity;
          if (isMetered(op.existing.price)) delete op.existing.quantity;
          op.existing.metadata = applyMetadata(op.existing.metadata, op.metadata);
        } else if (price) {
          const it = store.put(subscriptionItemObj(sub.id, price, op.quantity, sub.current_period_start, sub.current_period_end));
          sub.items.data.push(it);
        }
      }
      sub.items.total_count = sub.items.data.length;
      sub.metadata = metadata;
      if (description !== undefined) sub.description = description || null;
      if (cape !== undefined) setCancelAtPeriodEnd(sub, cape);
      if (changedItems && proration === 'always_invoice') {
        const invoice = store.put(invoiceObj(sub, 'subscription_update', true, nowSec(), nowSec(), [nowSec(), sub.current_period_end]));
        sub.latest_invoice = invoice.id;
        recs.push(...invoiceEvents(invoice, info, true));
      }
    }, info);
    if (Object.keys(updated.event.data.previous_attributes ?? {}).length === 0) {
      // Nothing changed: Stripe sends no event.
      events = events.filter((e) => e !== updated);
      store.remove(updated.event.id);
    } else {
      recs.push(updated); // after the invoice events the same change created
    }
    for (const it of sub.items.data) store.put(it);
    deliverAll(recs);
    return render(publicSub(sub), p);
  });
  api.add('DELETE', '/v1/subscriptions/:id', (p, { id }, info) => {
    allow(p, ['invoice_now', 'prorate', 'cancellation_details']);
    const sub = store.need(id, 'subscription', 'subscription');
    if (sub.status === 'canceled') throw invalid('A canceled subscription can only update its cancellation_details and metadata.');
    const t = nowSec();
    Object.assign(sub, {
      status: 'canceled', canceled_at: t, ended_at: t, cancel_at_period_end: false, cancel_at: null,
      cancellation_details: { comment: null, feedback: null, reason: 'cancellation_requested' },
    });
    enqueue(emit('customer.subscription.deleted', sub, info));
    return render(publicSub(sub), p);
  });
  const publicSub = (s: Obj) => Object.fromEntries(Object.entries(s).filter(([k]) => !k.startsWith('_')));

  // Subscription items
  api.add('POST', '/v1/subscription_items', (p, _x, info) => {
    allow(p, ['subscription', 'price', 'price_data', 'quantity', 'metadata', 'proration_behavior', 'proration_date', 'payment_behavior', 'tax_rates', 'discounts', 'billing_thresholds']);
    const subId = str(p, 'subscription', { required: true })!;
    const sub = store.need(subId, 'subscription', 'subscription', 'subscription');
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
      throw invalid(`This subscription is ${sub.status}; items can no longer be added.`, 'subscription');
    }
    oneOf(p, 'proration_behavior', ['create_prorations', 'none', 'always_invoice'] as const);
    const priceId = str(p, 'price');
    const pd = obj(p, 'price_data');
    if (priceId && pd) throw invalid('You may only specify one of these parameters: price, price_data.', 'price_data');
    const price = priceId ? store.need(priceId, 'price', 'price', 'price') : pd ? store.put(priceObj(pd, 'price_data[', true)) : undefined;
    if (!price) throw invalid('Missing required param: price.', 'price', 'parameter_missing');
    if (priceId && !price.active) throw invalid('The price specified is inactive. This field only accepts active prices.', 'price');
    if (price.type !== 'recurring') throw invalid('The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', 'price');
    if (price.currency !== sub.currency) throw invalid(`The price's currency (${price.currency}) must match the subscription's currency (${sub.currency}).`, 'price');
    checkMeteredQuantity(price, p.quantity, 'subscription_item');
    if (sub.items.data.some((x: Obj) => x.price.id === price.id)) {
      throw invalid(`Cannot add multiple subscription items with the same price: ${price.id}. Update the quantity of the existing item instead.`, 'price');
    }
    const quantity = int(p, 'quantity', { min: 0 });
    let item: Obj | undefined;
    const rec = subscriptionChange(sub, () => {
      item = store.put(subscriptionItemObj(sub.id, price, quantity, sub.current_period_start, sub.current_period_end));
      item.metadata = applyMetadata({}, p);
      sub.items.data.push(item);
      sub.items.total_count = sub.items.data.length;
    }, info);
    enqueue(rec);
    return render(item!, p);
  });
  api.add('DELETE', '/v1/subscription_items/:id', (p, { id }, info) => {
    allow(p, ['clear_usage', 'proration_behavior', 'proration_date', 'payment_behavior']);
    const item = store.need(id, 'subscription_item', 'subscription item');
    const sub = store.need(item.subscription, 'subscription', 'subscription');
    oneOf(p, 'proration_behavior', ['create_prorations', 'none', 'always_invoice'] as const);
    const clear = bool(p, 'clear_usage');
    if (clear && !isMetered(item.price)) throw invalid('clear_usage is only allowed when the price\'s usage_type is metered.', 'clear_usage');
    if (sub.items.data.length <= 1) {
      throw invalid('A subscription must have at least one active plan. To cancel a subscription, please use the cancel API endpoint on /v1/subscriptions.');
    }
    const rec = subscriptionChange(sub, () => {
      sub.items.data = sub.items.data.filter((x: Obj) => x.id !== id);
      sub.items.total_count = sub.items.data.length;
    }, info);
    store.remove(id);
    enqueue(rec);
    return { id, object: 'subscription_item', deleted: true };
  });
  api.add('GET', '/v1/subscription_items', (p) => {
    const subscription = str(p, 'subscription', { required: true })!;
    const sub = store.need(subscription, 'subscription', 'subscription', 'subscription');
    return renderList(listOf('/v1/subscription_items', sub.items.data.slice().reverse(), p), p);
  });
  api.add('GET', '/v1/subscription_items/:id', (p, { id }) => render(store.need(id, 'subscription_item', 'subscription item'), p));

  // Invoices
  api.add('GET', '/v1/invoices', (p) => {
    const customer = str(p, 'customer');
    const subscription = str(p, 'subscription');
    const status = str(p, 'status');
    const items = store.all('invoice').filter((i) =>
      (!customer || i.customer === customer) && (!subscription || i.parent?.subscription_details?.subscription === subscription) && (!status || i.status === status));
    return renderList(listOf('/v1/invoices', items, p), p);
  });
  api.add('GET', '/v1/invoices/:id', (p, { id }) => render(store.need(id, 'invoice', 'invoice'), p));

  // Billing meters
  function meterObj(p: P): Obj {
    const t = nowSec();
    const eventName = str(p, 'event_name', { required: true })!;
    if (eventName.length > 100) throw invalid('event_name must be at most 100 characters.', 'event_name');
    if (store.all('billing.meter').some((m) => m.event_name === eventName && m.status === 'active')) {
      throw invalid(`An active meter with event_name \`${eventName}\` already exists.`, 'event_name');
    }
    const agg = obj(p, 'default_aggregation');
    if (!agg) throw invalid('Missing required param: default_aggregation.', 'default_aggregation', 'parameter_missing');
    allow(agg, ['formula']);
    const formula = oneOf(agg, 'formula', ['sum', 'count', 'last'] as const, { required: true, path: 'default_aggregation[formula]' })!;
    const cm = obj(p, 'customer_mapping') ?? {};
    allow(cm, ['event_payload_key', 'type']);
    const vs = obj(p, 'value_settings') ?? {};
    allow(vs, ['event_payload_key']);
    return {
      id: alnumId('mtr_test_', 32), object: 'billing.meter', created: t,
      customer_mapping: {
        event_payload_key: str(cm, 'event_payload_key', { path: 'customer_mapping[event_payload_key]' }) ?? 'stripe_customer_id',
        type: oneOf(cm, 'type', ['by_id'] as const, { path: 'customer_mapping[type]' }) ?? 'by_id',
      },
      default_aggregation: { formula },
      display_name: str(p, 'display_name', { required: true })!,
      event_name: eventName,
      event_time_window: oneOf(p, 'event_time_window', ['day', 'hour'] as const) ?? null,
      livemode: false, status: 'active', status_transitions: { deactivated_at: null }, updated: t,
      value_settings: { event_payload_key: str(vs, 'event_payload_key', { path: 'value_settings[event_payload_key]' }) ?? 'value' },
    };
  }
  api.add('POST', '/v1/billing/meters', (p) => {
    allow(p, ['default_aggregation', 'display_name', 'event_name', 'customer_mapping', 'event_time_window', 'value_settings']);
    return render(store.put(meterObj(p)), p);
  });
  api.add('GET', '/v1/billing/meters', (p) => {
    const status = oneOf(p, 'status', ['active', 'inactive'] as const);
    return renderList(listOf('/v1/billing/meters', store.all('billing.meter').filter((m) => !status || m.status === status), p), p);
  });
  api.add('GET', '/v1/billing/meters/:id', (p, { id }) => render(store.need(id, 'billing.meter', 'billing meter'), p));
  api.add('POST', '/v1/billing/meters/:id/deactivate', (p, { id }) => {
    const m = store.need(id, 'billing.meter', 'billing meter');
    if (m.status === 'active') Object.assign(m, { status: 'inactive', status_transitions: { deactivated_at: nowSec() }, updated: nowSec() });
    return render(m, p);
  });
  api.add('POST', '/v1/billing/meters/:id/reactivate', (p, { id }) => {
    const m = store.need(id, 'billing.meter', 'billing meter');
    if (m.status === 'inactive') Object.assign(m, { status: 'active', status_transitions: { deactivated_at: null }, updated: nowSec() });
    return render(m, p);
  });

  // Billing meter events. Stripe validates the request's shape synchronously and processes the event
  // asynchronously: a duplicate identifier (within 24 hours), a missing meter or an unknown customer do not fail
  // the request; the event is dropped and (for errors) reported on the meter. GET /_emulator/meter_events shows
  // each event's outcome (`status`: accepted | duplicate | error, with `error_code`).
  const IDENTIFIER_WINDOW_S = 24 * 3600;
  api.add('POST', '/v1/billing/meter_events', (p) => {
    allow(p, ['event_name', 'payload', 'identifier', 'timestamp']);
    const eventName = str(p, 'event_name', { required: true })!;
    if (eventName.length > 100) throw invalid('event_name must be at most 100 characters.', 'event_name');
    const payload = obj(p, 'payload');
    if (!payload) throw invalid('Missing required param: payload.', 'payload', 'parameter_missing');
    for (const [k, v] of Object.entries(payload)) {
      if (typeof v !== 'string') throw invalid(`Invalid string: ${JSON.stringify(v)}`, `payload[${k}]`, 'parameter_invalid_string');
    }
    const identifier = str(p, 'identifier') ?? crypto.randomUUID();
    if (identifier.length === 0 || identifier.length > 100) throw invalid('identifier must be between 1 and 100 characters.', 'identifier');
    const t = nowSec();
    const timestamp = int(p, 'timestamp') ?? t;
    if (timestamp < t - 35 * 86_400) throw invalid('timestamp must be within the past 35 calendar days.', 'timestamp', 'timestamp_too_far_in_past');
    if (timestamp > t + 5 * 60) throw invalid('timestamp must not be more than 5 minutes in the future.', 'timestamp', 'timestamp_in_future');
    const meter = store.all('billing.meter').find((m) => m.event_name === eventName);
    const customerKey = meter?.customer_mapping.event_payload_key ?? 'stripe_customer_id';
    const valueKey = meter?.value_settings.event_payload_key ?? 'value';
    const customer = payload[customerKey] as string | undefined;
    const rawValue = payload[valueKey] as string | undefined;
    if (!customer) throw invalid(`Missing required param: payload[${customerKey}].`, `payload[${customerKey}]`, 'parameter_missing');
    if (meter?.default_aggregation.formula !== 'count') {
      if (rawValue === undefined) throw invalid(`Missing required param: payload[${valueKey}].`, `payload[${valueKey}]`, 'parameter_missing');
      if (!/^-?\d+(\.\d+)?$/.test(rawValue)) throw invalid(`payload[${valueKey}] must be a number.`, `payload[${valueKey}]`, 'parameter_invalid_integer');
    }
    const ev = { object: 'billing.meter_event', created: t, event_name: eventName, identifier, livemode: false, payload: { ...payload }, timestamp };
    const prior = meterEvents.find((e) => e.identifier === identifier && e.status !== 'duplicate' && e.created > t - IDENTIFIER_WINDOW_S);
    let status = 'accepted';
    let errorCode: string | null = null;
    if (prior) status = 'duplicate';
    else if (!meter || meter.status !== 'active') { status = 'error'; errorCode = meter ? 'archived_meter' : 'no_meter'; }
    else if (!store.get(customer) || store.get(customer)!.object !== 'customer') { status = 'error'; errorCode = 'meter_event_customer_not_found'; }
    meterEvents.push({
      ...ev, status, error_code: errorCode, meter: meter?.id ?? null, customer,
      value: meter?.default_aggregation.formula === 'count' ? 1 : Number(rawValue ?? 0),
    });
    return ev;
  });

  // Events
  api.add('GET', '/v1/events', (p) => {
    const type = str(p, 'type');
    const types = arr(p, 'types') as string[] | undefined;
    if (type && types) throw invalid('You may only specify one of these parameters: type, types.', 'types');
    const ds = bool(p, 'delivery_success');
    const created = p.created;
    const matchType = (t: string) => {
      if (type) return type.endsWith('.*') ? t.startsWith(type.slice(0, -1)) : t === type;
      if (types) return types.includes(t);
      return true;
    };
    const items = events.slice().reverse().filter((r) =>
      matchType(r.event.type) &&
      (ds === undefined || (r.deliveries.length > 0 && r.deliveries.some((d) => d.ok) === ds) || (ds === false && r.deliveries.length === 0 && r.event.pending_webhooks > 0)) &&
      createdMatches(r.event.created, created)).map((r) => r.event);
    return renderList(listOf('/v1/events', items, p), p);
  });
  api.add('GET', '/v1/events/:id', (p, { id }) => render(store.need(id, 'event', 'event'), p));

  function createdMatches(created: number, filter: unknown): boolean {
    if (filter === undefined) return true;
    if (typeof filter === 'string') return created === Number(filter);
    const f = filter as Record<string, string>;
    return (f.gt === undefined || created > Number(f.gt)) && (f.gte === undefined || created >= Number(f.gte)) &&
      (f.lt === undefined || created < Number(f.lt)) && (f.lte === undefined || created <= Number(f.lte));
  }

  // ---- hosted pages (no auth, like checkout.stripe.com and billing.stripe.com) ---------------------------------
  async function pages(req: EmuRequest): Promise<EmuResponse | null> {
    let m = /^\/checkout\/([A-Za-z0-9_]+)(\/pay)?$/.exec(req.path);
    if (m) {
      const s = store.get(m[1]);
      if (!s || s.object !== 'checkout.session') return html(404, messagePage('Not found', 'This checkout page does not exist.'));
      expireIfDue(s);
      if (!m[2] && (req.method === 'GET' || req.method === 'HEAD')) {
        const items = lineItems.get(s.id) ?? [];
        return html(200, checkoutPage(s, items.map((li) => ({
          name: li.description, quantity: li.quantity, amount: money(li.amount_total, li.currency),
          interval: li.price.recurring ? (li.price.recurring.interval_count > 1 ? `every ${li.price.recurring.interval_count} ${li.price.recurring.interval}s` : `per ${li.price.recurring.interval}`) : '',
        })), money(s.amount_total, s.currency), !s.customer && !s.customer_email));
      }
      if (m[2] && req.method === 'POST') {
        if (s.status !== 'open') return html(409, messagePage('Checkout unavailable', `This Checkout Session is ${s.status}.`));
        const form = parseFlatForm(req.text);
        const email = typeof form.email === 'string' ? form.email.trim() : undefined;
        if (!s.customer && !s.customer_email && (!email || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))) {
          return html(400, messagePage('Email required', 'Enter a valid email address to pay.'));
        }
        const recs = completeCheckout(s, email);
        const results = await deliverAll(recs);
        log.info(`checkout ${s.id} completed; ${results.filter((r) => r?.ok).length}/${recs.length} events delivered`);
        if (s.success_url) return redirect(s.success_url.replaceAll('{CHECKOUT_SESSION_ID}', s.id));
        return html(200, messagePage('Payment complete', 'Your subscription is active.'));
      }
      return html(405, messagePage('Method not allowed', 'Use the Pay button.'));
    }
    m = /^\/billing_portal\/([A-Za-z0-9_]+)(\/cancel|\/renew)?$/.exec(req.path);
    if (m) {
      const ps = store.get(m[1]);
      if (!ps || ps.object !== 'billing_portal.session') return html(404, messagePage('Not found', 'This billing portal session does not exist.'));
      if (!m[2] && (req.method === 'GET' || req.method === 'HEAD')) {
        const subs = store.all('subscription').filter((s) => s.customer === ps.customer && s.status !== 'canceled');
        return html(200, portalPage(ps, subs.map((s) => {
          const price = s.items.data[0]?.price;
          const product = price ? store.get(price.product) : undefined;
          return {
            id: s.id, status: s.status, plan: product?.name ?? price?.id ?? '', amount: price ? `${money(price.unit_amount, price.currency)} / ${price.recurring?.interval}` : '',
            periodEnd: new Date(s.current_period_end * 1000).toISOString().slice(0, 10), cancelAtPeriodEnd: s.cancel_at_period_end,
          };
        })));
      }
      if (m[2] && req.method === 'POST') {
        const form = parseFlatForm(req.text);
        const subId = typeof form.subscription === 'string' ? form.subscription : '';
        const sub = store.get(subId);
        if (!sub || sub.object !== 'subscription' || sub.customer !== ps.customer || sub.status === 'canceled') {
          return html(404, messagePage('Not found', 'No such subscription for this customer.'));
        }
        const info: RequestInfo = { id: null, idempotency_key: null, apiVersion: DEFAULT_API_VERSION };
        const want = m[2] === '/cancel';
        if (sub.cancel_at_period_end !== want) {
          await deliverAll([subscriptionChange(sub, () => setCancelAtPeriodEnd(sub, want), info)]);
        }
        return redirect(`/billing_portal/${ps.id}`);
      }
      return html(405, messagePage('Method not allowed', 'Use the buttons on the page.'));
    }
    return null;
  }

  // ---- test controls -----------------------------------------------------------------------------------------
  const controls = new Router<(req: EmuRequest, params: Record<string, string>) => EmuResponse | Promise<EmuResponse>>();
  controls.add('GET', '/_emulator/requests', () => json(200, requests.list()));
  controls.add('GET', '/_emulator/events', () => json(200, events.map((r) => ({ ...r.event, deliveries: r.deliveries }))));
  controls.add('GET', '/_emulator/meter_events', () => json(200, meterEvents));
  controls.add('GET', '/_emulator/meter_usage', (req) => {
    const q = new URLSearchParams(req.query);
    const customer = q.get('customer');
    const eventName = q.get('event_name');
    const from = q.get('from') === null ? null : Number(q.get('from'));
    const to = q.get('to') === null ? null : Number(q.get('to'));
    if ((from !== null && !Number.isInteger(from)) || (to !== null && !Number.isInteger(to))) {
      return controlError(400, 'invalid_range', 'from and to are Unix timestamps (seconds).');
    }
    const accepted = meterEvents.filter((e) => e.status === 'accepted' && (!customer || e.customer === customer) &&
      (!eventName || e.event_name === eventName) && (from === null || e.timestamp >= from) && (to === null || e.timestamp < to));
    return json(200, { customer, event_name: eventName, from, to, events: accepted.length, value: accepted.reduce((s, e) => s + e.value, 0) });
  });
  controls.add('GET', '/_emulator/failures', () => json(200, failures));
  controls.add('POST', '/_emulator/failures', (req) => {
    const b = parseJsonObject(req.text);
    const method = typeof b?.method === 'string' ? b.method.toUpperCase() : 'POST';
    const status = b?.status === undefined ? 500 : b.status;
    const times = b?.times === undefined ? 1 : b.times;
    if (!b || typeof b.path !== 'string' || !b.path.startsWith('/v1/')) return controlError(400, 'invalid_body', 'Body must be {"path": "/v1/…", "method"?, "status"?, "times"?}.');
    if (typeof status !== 'number' || status < 400 || status > 599) return controlError(400, 'invalid_status', 'status must be an HTTP error status (400-599).');
    if (typeof times !== 'number' || !Number.isInteger(times) || times < 1) return controlError(400, 'invalid_times', 'times must be a positive integer.');
    failures.push({ method, path: b.path, status, times });
    return json(200, failures);
  });
  controls.add('GET', '/_emulator/config', () => json(200, { webhookUrl }));
  controls.add('POST', '/_emulator/config', (req) => {
    const b = parseJsonObject(req.text);
    if (!b) return controlError(400, 'invalid_json', 'Body must be a JSON object.');
    if ('webhookUrl' in b) {
      const v = b.webhookUrl;
      if (v !== null && (typeof v !== 'string' || !/^https?:\/\/\S+$/.test(v))) return controlError(400, 'invalid_url', 'webhookUrl must be an http(s) URL or null.');
      webhookUrl = v as string | null;
    }
    return json(200, { webhookUrl });
  });
  const controlInfo = (): RequestInfo => ({ id: null, idempotency_key: null, apiVersion: DEFAULT_API_VERSION });
  const subscriptionControl = (fn: (sub: Obj, info: RequestInfo) => EventRecord[]) => async (_req: EmuRequest, params: Record<string, string>) => {
    const sub = store.get(params.id);
    if (!sub || sub.object !== 'subscription') return controlError(404, 'not_found', `No such subscription: ${params.id}`);
    let recs: EventRecord[];
    try {
      recs = fn(sub, controlInfo());
    } catch (err) {
      if (err instanceof StripeError) return controlError(409, 'invalid_state', err.message);
      throw err;
    }
    await deliverAll(recs);
    return json(200, { subscription: publicSub(sub), events: recs.map((r) => ({ id: r.event.id, type: r.event.type, deliveries: r.deliveries })) });
  };
  controls.add('POST', '/_emulator/subscriptions/:id/payment_failed', subscriptionControl(paymentFailed));
  controls.add('POST', '/_emulator/subscriptions/:id/renew', subscriptionControl(renew));
  controls.add('POST', '/_emulator/deliver', async (req) => {
    const b = parseJsonObject(req.text);
    if (!b || typeof b.event_id !== 'string') return controlError(400, 'invalid_body', 'Body must be {"event_id": "evt_…"}.');
    const rec = events.find((r) => r.event.id === b.event_id);
    if (!rec) return controlError(404, 'not_found', `No such event: ${b.event_id}`);
    if (!webhookUrl) return controlError(409, 'no_webhook_url', 'No webhook URL is configured.');
    const result = await enqueue(rec);
    return json(200, { event_id: rec.event.id, delivery: result });
  });
  controls.add('POST', '/_emulator/reset', () => { reset(); return json(200, { reset: true }); });

  // ---- the server --------------------------------------------------------------------------------------------
  const server = await serveHttp({
    name: 'stripe',
    port: opts.port,
    log,
    handler: async (req) => {
      if (req.path.startsWith('/_emulator/')) {
        const hit = controls.match(req.method, req.path);
        if (hit === null) return controlError(404, 'not_found', `No emulator control at ${req.path}`);
        if (hit === 'method_not_allowed') return controlError(405, 'method_not_allowed', `${req.method} is not supported on ${req.path}`);
        return hit.handler(req, hit.params);
      }
      const page = await pages(req);
      if (page) return page;
      return apiRequest(req);
    },
  });

  async function apiRequest(req: EmuRequest): Promise<EmuResponse> {
    const requestId = alnumId('req_', 14);
    const apiVersion = typeof req.headers['stripe-version'] === 'string' ? req.headers['stripe-version'] : DEFAULT_API_VERSION;
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const headers = { 'request-id': requestId, 'stripe-version': apiVersion };
    let params: P = {};
    let parseError: StripeError | null = null;
    try {
      params = { ...parseNestedForm(req.query), ...(req.text ? parseNestedForm(req.text) : {}) };
    } catch (err) {
      parseError = invalid(err instanceof FormSyntaxError ? err.message : 'Invalid request body', err instanceof FormSyntaxError ? err.key : undefined);
    }
    const entry = requests.add({ method: req.method, path: req.path, query: queryObject(req.query), body: params, idempotency_key: key });
    const finish = (status: number, body: unknown, extra: Record<string, string> = {}): EmuResponse => {
      entry.status = status;
      return json(status, body, { ...headers, ...extra });
    };
    const fail = (e: StripeError) => finish(e.status, e.body());

    const hit = api.match(req.method, req.path);
    if (hit === null || hit === 'method_not_allowed') {
      return finish(404, { error: { message: `Unrecognized request URL (${req.method}: ${req.path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, type: 'invalid_request_error' } });
    }
    const bearer = bearerToken(req.headers) ?? basicAuth(req.headers)?.user ?? null;
    if (!bearer) {
      return finish(401, { error: { message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.", type: 'invalid_request_error' } });
    }
    if (!safeEqual(bearer, opts.secretKey)) {
      const shown = bearer.length > 8 ? `${bearer.slice(0, 8)}${'*'.repeat(Math.max(0, bearer.length - 12))}${bearer.slice(-4)}` : '****';
      return finish(401, { error: { message: `Invalid API Key provided: ${shown}`, type: 'invalid_request_error' } });
    }
    if (parseError) return fail(parseError);
    const injected = failures.find((f) => f.method === req.method && f.path === req.path);
    if (injected) {
      if (--injected.times <= 0) failures = failures.filter((f) => f !== injected);
      return injected.status >= 500
        ? fail(new StripeError(injected.status, 'api_error', 'An unknown error occurred (injected by the emulator).'))
        : fail(new StripeError(injected.status, injected.status === 429 ? 'invalid_request_error' : 'invalid_request_error',
          injected.status === 429 ? 'Too many requests (injected by the emulator).' : 'Request refused (injected by the emulator).',
          injected.status === 429 ? 'rate_limit' : undefined));
    }

    // Idempotency (POST only, as Stripe: GET and DELETE are idempotent by definition).
    const signature = `${req.method} ${req.path} ${canonical(params)}`;
    if (key && req.method === 'POST') {
      if (key.length > 255) return fail(invalid('Idempotency-Key must be at most 255 characters.', undefined));
      const prior = idempotency.get(key);
      if (prior === 'in_flight') {
        return fail(new StripeError(409, 'idempotency_error', 'There is currently another in-progress request using this Stripe-Idempotency-Key. Please try again later.'));
      }
      if (prior) {
        if (prior.signature !== signature) {
          return fail(new StripeError(400, 'idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`));
        }
        entry.status = prior.status;
        entry.idempotent_replayed = true;
        return {
          status: prior.status,
          headers: { 'content-type': 'application/json; charset=utf-8', ...headers, 'idempotent-replayed': 'true', 'original-request': prior.requestId, 'idempotency-key': key },
          body: prior.body,
        };
      }
      idempotency.set(key, 'in_flight');
    }
    let res: EmuResponse;
    try {
      const out = hit.handler(params, hit.params, { id: requestId, idempotency_key: key, apiVersion });
      res = finish(200, out);
    } catch (err) {
      if (!(err instanceof StripeError)) {
        if (key) idempotency.delete(key);
        throw err;
      }
      res = fail(err);
    }
    if (key && req.method === 'POST') {
      // Stripe saves results once the endpoint ran: successes and server errors, not validation failures.
      if (res.status < 400 || res.status >= 500) idempotency.set(key, { signature, status: res.status, body: String(res.body), requestId });
      else idempotency.delete(key);
      res.headers = { ...res.headers, 'idempotency-key': key };
    }
    return res;
  }

  return {
    name: 'stripe',
    url: server.url,
    async stop() {
      generation.abort();
      await server.stop();
      await deliveryChain.catch(() => undefined);
    },
  };
}

/** Stable JSON of parsed params (keys sorted) to compare idempotent retries. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A matcher for Stripe's search query language, the subset customers need: `field:'value'` (exact),
 * `field~'value'` (substring), `metadata['key']:'value'`, a leading `-` to negate, clauses joined by AND or OR.
 */
function searchMatcher(query: string): (o: Obj) => boolean {
  const clauses: { neg: boolean; field: string; key?: string; op: string; value: string }[] = [];
  const joins: string[] = [];
  const re = /\s*(-?)([a-z_]+)(?:\[(['"])(.+?)\3\])?\s*(:|~)\s*(['"])(.*?)\6\s*(?:(AND|OR)\b|$)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(query)) !== null) {
    clauses.push({ neg: m[1] === '-', field: m[2], key: m[4], op: m[5], value: m[7] });
    if (m[8]) joins.push(m[8]);
    consumed = re.lastIndex;
    if (!m[8]) break;
  }
  if (clauses.length === 0 || consumed < query.trimEnd().length || joins.length >= clauses.length) {
    throw invalid(`The search query is invalid or unsupported by the emulator: ${query}`, 'query');
  }
  if (new Set(joins).size > 1) throw invalid('Search queries cannot mix AND and OR.', 'query');
  const allowed = ['email', 'name', 'phone', 'metadata'];
  for (const c of clauses) {
    if (!allowed.includes(c.field)) throw invalid(`Field \`${c.field}\` is an unsupported search field for resource \`customers\`.`, 'query');
    if (c.field === 'metadata' && !c.key) throw invalid('metadata needs a key: metadata[\'key\']:\'value\'', 'query');
  }
  const test = (o: Obj, c: (typeof clauses)[number]) => {
    const v = c.field === 'metadata' ? o.metadata?.[c.key!] : o[c.field];
    if (v === undefined || v === null) return false;
    const hit = c.op === ':' ? String(v).toLowerCase() === c.value.toLowerCase() : String(v).toLowerCase().includes(c.value.toLowerCase());
    return c.neg ? !hit : hit;
  };
  return joins[0] === 'OR' ? (o) => clauses.some((c) => test(o, c)) : (o) => clauses.every((c) => test(o, c));
}
