/**
 * The Stripe emulator's usage-based billing surface through the real SDK: billing meters, metered prices (a meter
 * is required since API 2025-03-31), subscription items create/delete, meter events (shape checked at once;
 * duplicates, missing meters and unknown customers dropped as Stripe does asynchronously), failure injection,
 * and renewal invoices billing the meter's usage of the period just ended.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startStripeEmulator } from '../../local/emulators/stripe/index.ts';
import type { RunningService } from '../../local/lib/types.ts';
import { freePort } from '../helpers/ports.ts';

const PORT = await freePort(); 
const KEY = 'sk_test_unit_meters_key_000000000000000000';
const quiet = { info() {}, warn() {}, error() {} };

let emu: RunningService & { url: string };
let stripe: Stripe;

beforeAll(async () => {
  emu = await startStripeEmulator({
    port: PORT, secretKey: KEY, webhookSecret: 'whsec_unit_meters_00000000000000000000', publicUrl: `http://127.0.0.1:${PORT}`, log: quiet,
  });
  stripe = new Stripe(KEY, { host: '127.0.0.1', port: PORT, protocol: 'http', httpClient: Stripe.createFetchHttpClient(), maxNetworkRetries: 0 });
});
afterAll(async () => { await emu?.stop(); });
beforeEach(async () => { await fetch(`${emu.url}/_emulator/reset`, { method: 'POST' }); });

async function control(path: string, body?: unknown) {
  const res = await fetch(`${emu.url}/_emulator/${path}`, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as any };
}

async function setup() {
  const meter = await stripe.billing.meters.create({
    display_name: 'SMS overage', event_name: 'sms_overage_segments', default_aggregation: { formula: 'sum' },
    customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' }, value_settings: { event_payload_key: 'value' },
  });
  const plan = await stripe.prices.create({ currency: 'usd', unit_amount: 4900, recurring: { interval: 'month' }, product_data: { name: 'Starter' } });
  const overage = await stripe.prices.create({
    currency: 'usd', unit_amount_decimal: Stripe.Decimal.from('3'), product_data: { name: 'SMS overage' },
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
  });
  const customer = await stripe.customers.create({ name: 'Shop' });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: plan.id }] });
  return { meter, plan, overage, customer, sub };
}

const rejects = async (p: Promise<unknown>) => {
  try { await p; } catch (e) { return e as { statusCode: number; code?: string; param?: string; message: string; type: string }; }
  throw new Error('expected a Stripe error');
};

describe('meters and metered prices', () => {
  it('creates, lists and retrieves meters in Stripe\'s shape; one active meter per event_name', async () => {
    const { meter } = await setup();
    expect(meter).toMatchObject({ object: 'billing.meter', status: 'active', event_name: 'sms_overage_segments',
      default_aggregation: { formula: 'sum' }, customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' },
      value_settings: { event_payload_key: 'value' }, event_time_window: null });
    expect(meter.id).toMatch(/^mtr_/);
    expect((await stripe.billing.meters.list({ status: 'active' })).data.map((m) => m.id)).toEqual([meter.id]);
    expect((await stripe.billing.meters.retrieve(meter.id)).display_name).toBe('SMS overage');
    const dup = await rejects(stripe.billing.meters.create({ display_name: 'x', event_name: 'sms_overage_segments', default_aggregation: { formula: 'sum' } }));
    expect(dup).toMatchObject({ statusCode: 400, param: 'event_name' });
  });

  it('refuses a metered price without a meter (legacy usage records are gone) and a quantity on a metered item', async () => {
    const { overage, sub } = await setup();
    const legacy = await rejects(stripe.prices.create({ currency: 'usd', unit_amount: 3, product_data: { name: 'x' }, recurring: { interval: 'month', usage_type: 'metered' } }));
    expect(legacy).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'recurring[meter]' });
    const qty = await rejects(stripe.subscriptionItems.create({ subscription: sub.id, price: overage.id, quantity: 1 }));
    expect(qty.message).toMatch(/Quantity should not be specified where usage_type is `metered`/);
  });
});

describe('subscription items', () => {
  it('adds a metered item without a quantity, refuses the same price twice, deletes it; the last item stays', async () => {
    const { overage, sub } = await setup();
    const item = await stripe.subscriptionItems.create({ subscription: sub.id, price: overage.id }, { idempotencyKey: 'add-1' });
    expect(item).toMatchObject({ object: 'subscription_item', subscription: sub.id, price: { id: overage.id } });
    expect(item.quantity).toBeUndefined();
    // Same key + same params → the saved answer, not a second item.
    expect((await stripe.subscriptionItems.create({ subscription: sub.id, price: overage.id }, { idempotencyKey: 'add-1' })).id).toBe(item.id);
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data).toHaveLength(2);
    expect(await rejects(stripe.subscriptionItems.create({ subscription: sub.id, price: overage.id }))).toMatchObject({ statusCode: 400, param: 'price' });

    expect(await stripe.subscriptionItems.del(item.id)).toMatchObject({ id: item.id, object: 'subscription_item', deleted: true });
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data).toHaveLength(1);
    expect(await rejects(stripe.subscriptionItems.del(item.id))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    const last = (await stripe.subscriptions.retrieve(sub.id)).items.data[0]!;
    expect(await rejects(stripe.subscriptionItems.del(last.id))).toMatchObject({ statusCode: 400 });
    const events = (await control('events')).body as Array<{ type: string }>;
    expect(events.filter((e) => e.type === 'customer.subscription.updated')).toHaveLength(2);
  });
});

describe('meter events', () => {
  it('validates the request at once in Stripe\'s error format', async () => {
    const { customer } = await setup();
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[Stripe.Billing.MeterEventCreateParams, string]> = [
      [{ event_name: 'sms_overage_segments', payload: { value: '1' } }, 'payload[stripe_customer_id]'],
      [{ event_name: 'sms_overage_segments', payload: { stripe_customer_id: customer.id } }, 'payload[value]'],
      [{ event_name: 'sms_overage_segments', payload: { stripe_customer_id: customer.id, value: 'ten' } }, 'payload[value]'],
      [{ event_name: 'sms_overage_segments', payload: { stripe_customer_id: customer.id, value: '1' }, timestamp: now - 36 * 86_400 }, 'timestamp'],
      [{ event_name: 'sms_overage_segments', payload: { stripe_customer_id: customer.id, value: '1' }, timestamp: now + 600 }, 'timestamp'],
      [{ event_name: 'sms_overage_segments', payload: { stripe_customer_id: customer.id, value: '1' }, identifier: 'x'.repeat(101) }, 'identifier'],
    ];
    for (const [params, param] of cases) {
      const e = await rejects(stripe.billing.meterEvents.create(params));
      expect(e, JSON.stringify(params)).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', param });
    }
    expect((await control('meter_events')).body).toEqual([]);
  });

  it('counts an identifier once; drops events without a meter or customer as Stripe reports them asynchronously', async () => {
    const { customer } = await setup();
    const ev = { event_name: 'sms_overage_segments', payload: { stripe_customer_id: customer.id, value: '7' }, identifier: 'shop:1:7' };
    const first = await stripe.billing.meterEvents.create(ev);
    expect(first).toMatchObject({ object: 'billing.meter_event', identifier: 'shop:1:7', payload: { value: '7' } });
    await stripe.billing.meterEvents.create(ev);
    await stripe.billing.meterEvents.create({ ...ev, event_name: 'no_such_meter', identifier: 'other:1' });
    await stripe.billing.meterEvents.create({ ...ev, payload: { stripe_customer_id: 'cus_nobody', value: '5' }, identifier: 'other:2' });
    const log = (await control('meter_events')).body as Array<{ identifier: string; status: string; error_code: string | null }>;
    expect(log.map((e) => [e.identifier, e.status, e.error_code])).toEqual([
      ['shop:1:7', 'accepted', null], ['shop:1:7', 'duplicate', null],
      ['other:1', 'error', 'no_meter'], ['other:2', 'error', 'meter_event_customer_not_found'],
    ]);
    expect((await control(`meter_usage?customer=${customer.id}&event_name=sms_overage_segments`)).body)
      .toMatchObject({ events: 1, value: 7 });
  });

  it('injected failures answer Stripe errors for the next N matching requests', async () => {
    const { customer } = await setup();
    expect((await control('failures', { path: '/v1/billing/meter_events', status: 503, times: 2 })).status).toBe(200);
    const ev = { event_name: 'sms_overage_segments', payload: { stripe_customer_id: customer.id, value: '1' } };
    expect(await rejects(stripe.billing.meterEvents.create(ev))).toMatchObject({ statusCode: 503, type: 'StripeAPIError' });
    expect(await rejects(stripe.billing.meterEvents.create(ev))).toMatchObject({ statusCode: 503 });
    await stripe.billing.meterEvents.create(ev);
    expect((await control('failures')).body).toEqual([]);
    expect((await control('failures', { path: 'nope' })).status).toBe(400);
  });
});

describe('renewal invoices', () => {
  it('bill the metered item in arrears: the meter\'s usage of the period just ended × the unit amount', async () => {
    const { overage, customer, sub } = await setup();
    await stripe.subscriptionItems.create({ subscription: sub.id, price: overage.id });
    await stripe.billing.meterEvents.create({ event_name: 'sms_overage_segments', payload: { stripe_customer_id: customer.id, value: '6' }, identifier: 'a' });
    await stripe.billing.meterEvents.create({ event_name: 'sms_overage_segments', payload: { stripe_customer_id: customer.id, value: '4' }, identifier: 'b' });
    const renewed = (await control(`subscriptions/${sub.id}/renew`, {})).body;
    const paid = renewed.events.find((e: { type: string }) => e.type === 'invoice.paid');
    const invoice = (await stripe.events.retrieve(paid.id)).data.object as Stripe.Invoice;
    const lines = invoice.lines.data.map((l) => [l.quantity, l.amount]);
    expect(lines).toEqual([[1, 4900], [10, 30]]);
    expect(invoice.total).toBe(4930);
  });
});
