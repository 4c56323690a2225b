/**
 * The Stripe emulator runs the real `stripe` SDK unchanged (host/port/protocol overridden) and signs its
 * webhooks so that the SDK's own constructEventAsync accepts them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startStripeEmulator } from '../../local/emulators/stripe/index.ts';
import { parseNestedForm } from '../../local/emulators/_lib/form.ts';
import { startReceiver, type Receiver, type Received } from '../../local/emulators/_lib/receiver.ts';
import type { RunningService } from '../../local/lib/types.ts';
import { freePort } from '../helpers/ports.ts';

const PORT = await freePort();
const RECEIVER_PORT = await freePort();
const DEAD_PORT = await freePort(); // nothing listens here: deliveries fail
const KEY = 'sk_test_unit_emulator_key_0000000000000000';
const SECRET = 'whsec_unit_emulator_secret_00000000000000';
const quiet = { info() {}, warn() {}, error() {} };

let emu: RunningService & { url: string };
let rx: Receiver;
let stripe: Stripe;
const crypto = Stripe.createSubtleCryptoProvider();

beforeAll(async () => {
  rx = await startReceiver({ port: RECEIVER_PORT });
  emu = await startStripeEmulator({
    port: PORT, secretKey: KEY, webhookSecret: SECRET, webhookUrl: `${rx.url}/functions/v1/stripe-webhook`,
    publicUrl: `http://127.0.0.1:${PORT}`, log: quiet,
  });
  stripe = new Stripe(KEY, { host: '127.0.0.1', port: PORT, protocol: 'http', httpClient: Stripe.createFetchHttpClient() });
});
afterAll(async () => { await emu?.stop(); await rx?.stop(); });
beforeEach(async () => {
  await fetch(`${emu.url}/_emulator/reset`, { method: 'POST' });
  rx.received.length = 0;
});

async function control(path: string, body?: unknown) {
  const res = await fetch(`${emu.url}/_emulator/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
const verify = (r: Received, secret = SECRET) =>
  stripe.webhooks.constructEventAsync(r.raw, String(r.headers['stripe-signature']), secret, 300, crypto);

async function plan(lookupKey = 'pro_monthly', amount = 4900) {
  const product = await stripe.products.create({ name: 'ServicePro Pro' });
  return stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: amount, recurring: { interval: 'month' }, lookup_key: lookupKey });
}

/** Opens the hosted page, checks the "Pay" button and submits its form like a browser would. */
async function pay(url: string, fields: Record<string, string> = {}) {
  const page = await fetch(url);
  expect(page.status).toBe(200);
  const htmlText = await page.text();
  expect(htmlText).toContain('<button type="submit">Pay</button>');
  const action = /<form method="post" action="([^"]+)"/.exec(htmlText)![1];
  return fetch(new URL(action, url), {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
  });
}

async function subscribe(email = 'owner@joes-garage.test') {
  const price = await plan();
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription', line_items: [{ price: price.id, quantity: 1 }], customer_email: email,
    client_reference_id: 'tenant-1', metadata: { tenant_id: 'tenant-1' }, subscription_data: { metadata: { tenant_id: 'tenant-1' } },
    success_url: 'http://127.0.0.1:5173/billing/done?session_id={CHECKOUT_SESSION_ID}', cancel_url: 'http://127.0.0.1:5173/billing',
  });
  const res = await pay(session.url!);
  expect(res.status).toBe(303);
  const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription'] });
  return { price, session, done, sub: done.subscription as Stripe.Subscription, redirect: res.headers.get('location') };
}

describe('auth and errors', () => {
  it('answers 401 with Stripe\'s error body for a missing or wrong key', async () => {
    const none = await fetch(`${emu.url}/v1/customers`);
    expect(none.status).toBe(401);
    expect((await none.json()).error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('You did not provide an API key') });
    const wrong = new Stripe('sk_test_wrong_key_00000000000000', { host: '127.0.0.1', port: PORT, protocol: 'http', httpClient: Stripe.createFetchHttpClient() });
    const err = await wrong.customers.list().catch((e) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.statusCode).toBe(401);
    expect(err.message).not.toContain('sk_test_wrong_key_00000000000000');
  });

  it('reports missing resources, missing and unknown params the way Stripe does', async () => {
    const missing = await stripe.customers.retrieve('cus_doesnotexist').catch((e) => e);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id', message: "No such customer: 'cus_doesnotexist'" });
    const noItems = await stripe.checkout.sessions.create({ mode: 'subscription', success_url: 'http://x.test/ok' }).catch((e) => e);
    expect(noItems).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'line_items' });
    const unknown = await fetch(`${emu.url}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'emial=a%40b.c' });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_unknown', param: 'emial' });
    const route = await fetch(`${emu.url}/v1/nope`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(route.status).toBe(404);
  });

  it('accepts Basic auth with the key as user name, as Stripe does', async () => {
    const r = await fetch(`${emu.url}/v1/customers`, { headers: { authorization: 'Basic ' + Buffer.from(`${KEY}:`).toString('base64') } });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ object: 'list', data: [], has_more: false, url: '/v1/customers' });
  });
});

describe('form encoding', () => {
  it('parses Stripe\'s nested bracket syntax', () => {
    expect(parseNestedForm('line_items[0][price]=p1&line_items[0][quantity]=2&line_items[1][price]=p2&metadata[tenant_id]=t&expand[]=a&expand[]=b&subscription_data[metadata][k]=v&empty='))
      .toEqual({
        line_items: [{ price: 'p1', quantity: '2' }, { price: 'p2' }], metadata: { tenant_id: 't' }, expand: ['a', 'b'],
        subscription_data: { metadata: { k: 'v' } }, empty: '',
      });
    expect(() => parseNestedForm('a=1&a[b]=2')).toThrow();
  });
});

describe('customers, products and prices', () => {
  it('creates, updates, lists and searches customers', async () => {
    const c = await stripe.customers.create({ email: 'a@shop.test', name: 'Joe', metadata: { tenant_id: 't1', extra: 'x' } });
    expect(c.id).toMatch(/^cus_[A-Za-z0-9]{14}$/);
    expect(c).toMatchObject({ object: 'customer', email: 'a@shop.test', livemode: false, metadata: { tenant_id: 't1', extra: 'x' } });
    const u = await stripe.customers.update(c.id, { name: 'Joe B', metadata: { extra: '' } });
    expect(u).toMatchObject({ name: 'Joe B', metadata: { tenant_id: 't1' } });
    await stripe.customers.create({ email: 'b@shop.test', metadata: { tenant_id: 't2' } });
    expect((await stripe.customers.list({ email: 'a@shop.test' })).data.map((x) => x.id)).toEqual([c.id]);
    const found = await stripe.customers.search({ query: "metadata['tenant_id']:'t1'" });
    expect(found).toMatchObject({ object: 'search_result', data: [expect.objectContaining({ id: c.id })] });
    expect((await stripe.customers.search({ query: "email:'b@shop.test' OR email:'a@shop.test'" })).data).toHaveLength(2);
    const bad = await stripe.customers.search({ query: 'nonsense' }).catch((e) => e);
    expect(bad.statusCode).toBe(400);
    await stripe.customers.del(c.id);
    expect(await stripe.customers.retrieve(c.id)).toMatchObject({ id: c.id, deleted: true });
  });

  it('finds prices by lookup key, expands products, and guards lookup key uniqueness', async () => {
    const price = await plan('pro_monthly', 4900);
    expect(price).toMatchObject({ object: 'price', type: 'recurring', unit_amount: 4900, currency: 'usd', lookup_key: 'pro_monthly', recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed' } });
    const listed = await stripe.prices.list({ lookup_keys: ['pro_monthly'], expand: ['data.product'] });
    expect(listed.data).toHaveLength(1);
    expect((listed.data[0].product as Stripe.Product).name).toBe('ServicePro Pro');
    const dup = await plan('pro_monthly', 5900).catch((e) => e);
    expect(dup).toMatchObject({ statusCode: 400, param: 'lookup_key' });
    const moved = await stripe.prices.create({ product: price.product as string, currency: 'usd', unit_amount: 5900, recurring: { interval: 'month' }, lookup_key: 'pro_monthly', transfer_lookup_key: true });
    expect((await stripe.prices.list({ lookup_keys: ['pro_monthly'] })).data.map((p) => p.id)).toEqual([moved.id]);
    expect((await stripe.prices.retrieve(price.id)).lookup_key).toBeNull();
  });

  it('paginates newest first with starting_after', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await stripe.customers.create({ email: `c${i}@x.test` })).id);
    const page1 = await stripe.customers.list({ limit: 2 });
    expect(page1.data.map((c) => c.id)).toEqual([ids[4], ids[3]]);
    expect(page1.has_more).toBe(true);
    const all: string[] = [];
    for await (const c of stripe.customers.list({ limit: 2 })) all.push(c.id);
    expect(all).toEqual(ids.slice().reverse());
  });
});

describe('idempotency', () => {
  it('replays the first response for the same key and params, and refuses different params', async () => {
    const a = await stripe.customers.create({ email: 'same@x.test' }, { idempotencyKey: 'signup-42' });
    const b = await stripe.customers.create({ email: 'same@x.test' }, { idempotencyKey: 'signup-42' });
    expect(b.id).toBe(a.id);
    const replayed = (await control('requests')).body.filter((r: { idempotency_key: string }) => r.idempotency_key === 'signup-42');
    expect(replayed.map((r: { idempotent_replayed?: boolean }) => r.idempotent_replayed ?? false)).toEqual([false, true]);
    const raw = () => fetch(`${emu.url}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'idempotency-key': 'raw-1', 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=raw%40x.test' });
    const r1 = await raw();
    const r2 = await raw();
    expect(r2.headers.get('idempotent-replayed')).toBe('true');
    expect(r2.headers.get('original-request')).toBe(r1.headers.get('request-id'));
    expect(await r2.text()).toBe(await r1.text());
    expect((await stripe.customers.list()).data).toHaveLength(2);
    const err = await stripe.customers.create({ email: 'other@x.test' }, { idempotencyKey: 'signup-42' }).catch((e) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(err).toMatchObject({ statusCode: 400, type: 'StripeIdempotencyError' });
    expect(err.raw.type).toBe('idempotency_error');
    // Validation failures are not saved: the same key can be retried with corrected params.
    const bad = await stripe.checkout.sessions.create({ mode: 'subscription' }, { idempotencyKey: 'co-1' }).catch((e) => e);
    expect(bad.statusCode).toBe(400);
    const price = await plan();
    const ok = await stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: price.id, quantity: 1 }], success_url: 'http://x.test/ok' }, { idempotencyKey: 'co-1' });
    const again = await stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: price.id, quantity: 1 }], success_url: 'http://x.test/ok' }, { idempotencyKey: 'co-1' });
    expect(again.id).toBe(ok.id);
  });
});

describe('checkout', () => {
  it('completes a subscription via the hosted page and delivers signed events in Stripe\'s order', async () => {
    const { session, done, sub, redirect, price } = await subscribe();
    expect(session.url).toBe(`http://127.0.0.1:${PORT}/checkout/${session.id}`);
    expect(session.id).toMatch(/^cs_test_/);
    expect(session).toMatchObject({ object: 'checkout.session', status: 'open', payment_status: 'unpaid', mode: 'subscription', client_reference_id: 'tenant-1', customer: null, subscription: null });
    expect(redirect).toBe(`http://127.0.0.1:5173/billing/done?session_id=${session.id}`);
    expect(done).toMatchObject({ status: 'complete', payment_status: 'paid', metadata: { tenant_id: 'tenant-1' } });
    expect(done.customer).toMatch(/^cus_/);

    expect(sub).toMatchObject({ object: 'subscription', status: 'active', customer: done.customer, metadata: { tenant_id: 'tenant-1' }, cancel_at_period_end: false });
    const item = sub.items.data[0];
    expect(item.price.id).toBe(price.id);
    expect(item.current_period_end).toBeGreaterThan(item.current_period_start);
    const legacy = sub as unknown as { current_period_start: number; current_period_end: number };
    expect([legacy.current_period_start, legacy.current_period_end]).toEqual([item.current_period_start, item.current_period_end]);
    const full = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice', 'customer'] });
    expect(full.latest_invoice).toMatchObject({ object: 'invoice', status: 'paid', billing_reason: 'subscription_create', amount_paid: 4900 });
    expect((full.latest_invoice as Stripe.Invoice).parent?.subscription_details?.subscription).toBe(sub.id);
    expect((full.customer as Stripe.Customer).email).toBe('owner@joes-garage.test');

    const hooks = await rx.waitFor(7);
    const events = await Promise.all(hooks.map((h) => verify(h)));
    expect(events.map((e) => e.type)).toEqual([
      'customer.created', 'customer.subscription.created', 'invoice.created', 'invoice.finalized', 'invoice.paid',
      'invoice.payment_succeeded', 'checkout.session.completed',
    ]);
    expect(hooks.every((h) => h.pathAndQuery === '/functions/v1/stripe-webhook')).toBe(true);
    const completed = events[6].data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({ id: session.id, subscription: sub.id, client_reference_id: 'tenant-1', status: 'complete' });
    expect(events[0].api_version).toBe(stripe.getApiField('version'));
    // The SDK's verifier is the oracle: wrong secret and a one-byte change are both refused.
    await expect(verify(hooks[0], 'whsec_some_other_secret')).rejects.toThrow();
    await expect(verify({ ...hooks[0], raw: hooks[0].raw.replace('"livemode": false', '"livemode": true ') })).rejects.toThrow();
    // Events are retrievable through the API.
    expect((await stripe.events.retrieve(events[4].id)).type).toBe('invoice.paid');
    expect((await stripe.events.list({ type: 'invoice.paid' })).data.map((e) => e.id)).toEqual([events[4].id]);

    // Paying again is refused and creates nothing.
    const again = await fetch(`${emu.url}/checkout/${session.id}/pay`, { method: 'POST', redirect: 'manual' });
    expect(again.status).toBe(409);
    expect((await stripe.subscriptions.list({ customer: done.customer as string })).data).toHaveLength(1);
  });

  it('asks for an email when the session has no customer, and attaches an existing customer otherwise', async () => {
    const price = await plan();
    const s1 = await stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: price.id, quantity: 2 }], success_url: 'http://x.test/ok' });
    expect(s1.amount_total).toBe(9800);
    const noEmail = await pay(s1.url!);
    expect(noEmail.status).toBe(400);
    expect((await pay(s1.url!, { email: 'new@x.test' })).status).toBe(303);
    expect((await stripe.customers.list({ email: 'new@x.test' })).data).toHaveLength(1);

    const c = await stripe.customers.create({ email: 'known@x.test' });
    await rx.waitFor(1, (h) => h.raw.includes(c.id));
    rx.received.length = 0;
    const s2 = await stripe.checkout.sessions.create({ mode: 'subscription', customer: c.id, line_items: [{ price: price.id }], success_url: 'http://x.test/ok' });
    expect((await pay(s2.url!)).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(s2.id);
    expect(done.customer).toBe(c.id);
    const types = (await rx.waitFor(6)).map((h) => JSON.parse(h.raw).type);
    expect(types).not.toContain('customer.created');
  });

  it('expands line_items and refuses invalid sessions', async () => {
    const price = await plan();
    const s = await stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: price.id, quantity: 3 }], success_url: 'http://x.test/ok' }, );
    const withItems = await stripe.checkout.sessions.retrieve(s.id, { expand: ['line_items'] });
    expect(withItems.line_items?.data[0]).toMatchObject({ quantity: 3, amount_total: 14700, price: { id: price.id } });
    const oneTime = await stripe.prices.create({ product: price.product as string, currency: 'usd', unit_amount: 100 });
    const err = await stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: oneTime.id }], success_url: 'http://x.test/ok' }).catch((e) => e);
    expect(err.statusCode).toBe(400);
    const both = await stripe.checkout.sessions.create({ mode: 'subscription', customer: (await stripe.customers.create({})).id, customer_email: 'x@y.test', line_items: [{ price: price.id }] }).catch((e) => e);
    expect(both).toMatchObject({ statusCode: 400, param: 'customer_email' });
  });
});

describe('subscription lifecycle', () => {
  it('updates the price, schedules cancellation, cancels, and emits the matching events', async () => {
    const { sub } = await subscribe();
    await rx.waitFor(7);
    rx.received.length = 0;
    const team = await stripe.prices.create({ product: (await stripe.products.create({ name: 'Team' })).id, currency: 'usd', unit_amount: 9900, recurring: { interval: 'month' } });
    const updated = await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, price: team.id }], proration_behavior: 'none', metadata: { plan: 'team' } });
    expect(updated.items.data[0].price.id).toBe(team.id);
    expect(updated.metadata).toEqual({ tenant_id: 'tenant-1', plan: 'team' });
    const [u1] = await rx.waitFor(1);
    const e1 = await verify(u1);
    expect(e1.type).toBe('customer.subscription.updated');
    expect(Object.keys(e1.data.previous_attributes ?? {})).toEqual(expect.arrayContaining(['items', 'metadata']));

    const scheduled = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(scheduled).toMatchObject({ cancel_at_period_end: true, status: 'active' });
    expect(scheduled.cancel_at).toBe(scheduled.items.data[0].current_period_end);
    await rx.waitFor(2);

    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe('canceled');
    const hooks = await rx.waitFor(3);
    expect(JSON.parse(hooks[2].raw).type).toBe('customer.subscription.deleted');
    expect((await stripe.subscriptions.list({ customer: sub.customer as string })).data).toEqual([]);
    expect((await stripe.subscriptions.list({ customer: sub.customer as string, status: 'all' })).data).toHaveLength(1);
    const refused = await stripe.subscriptions.update(sub.id, { items: [{ price: team.id }] }).catch((e) => e);
    expect(refused.statusCode).toBe(400);
  });

  it('always_invoice proration bills the change at once', async () => {
    const { sub } = await subscribe();
    await rx.waitFor(7);
    rx.received.length = 0;
    const team = await stripe.prices.create({ product: (await stripe.products.create({ name: 'Team' })).id, currency: 'usd', unit_amount: 9900, recurring: { interval: 'month' } });
    await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0].id, price: team.id }], proration_behavior: 'always_invoice' });
    const types = (await rx.waitFor(5)).map((h) => JSON.parse(h.raw).type);
    expect(types).toEqual(['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']);
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((i) => i.billing_reason)).toEqual(['subscription_update', 'subscription_create']);
  });

  it('payment_failed makes the subscription past_due; renew pays it; a renewal starts a new period', async () => {
    const { sub } = await subscribe();
    await rx.waitFor(7);
    rx.received.length = 0;
    const failed = await control(`subscriptions/${sub.id}/payment_failed`, {});
    expect(failed.status).toBe(200);
    expect(failed.body.events.map((e: { type: string }) => e.type)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.payment_failed', 'customer.subscription.updated']);
    const pastDue = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(pastDue.status).toBe('past_due');
    expect(pastDue.latest_invoice).toMatchObject({ status: 'open', billing_reason: 'subscription_cycle', amount_remaining: 4900 });
    expect(pastDue.items.data[0].current_period_start).toBe(sub.items.data[0].current_period_end);
    const upd = await verify((await rx.waitFor(4))[3]);
    expect((upd.data.object as Stripe.Subscription).status).toBe('past_due');
    expect(upd.data.previous_attributes).toMatchObject({ status: 'active' });

    const recovered = await control(`subscriptions/${sub.id}/renew`, {});
    expect(recovered.body.events.map((e: { type: string }) => e.type)).toEqual(['invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');

    const renewed = await control(`subscriptions/${sub.id}/renew`, {});
    expect(renewed.body.events.map((e: { type: string }) => e.type)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']);
    const after = await stripe.subscriptions.retrieve(sub.id);
    expect(after.items.data[0].current_period_start).toBe(pastDue.items.data[0].current_period_end);
    expect(renewed.body.events.every((e: { deliveries: { ok: boolean }[] }) => e.deliveries[0].ok)).toBe(true);
  });

  it('the billing portal page cancels at period end; the next renewal ends the subscription', async () => {
    const { sub } = await subscribe();
    await rx.waitFor(7);
    rx.received.length = 0;
    const portal = await stripe.billingPortal.sessions.create({ customer: sub.customer as string, return_url: 'http://127.0.0.1:5173/billing' });
    expect(portal.url).toBe(`http://127.0.0.1:${PORT}/billing_portal/${portal.id}`);
    const page = await (await fetch(portal.url)).text();
    expect(page).toContain('Cancel subscription');
    const action = /<form method="post" action="([^"]+)"/.exec(page)![1];
    const res = await fetch(new URL(action, portal.url), { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `subscription=${sub.id}` });
    expect(res.status).toBe(303);
    expect((await stripe.subscriptions.retrieve(sub.id)).cancel_at_period_end).toBe(true);
    expect(JSON.parse((await rx.waitFor(1))[0].raw).type).toBe('customer.subscription.updated');
    const end = await control(`subscriptions/${sub.id}/renew`, {});
    expect(end.body.events.map((e: { type: string }) => e.type)).toEqual(['customer.subscription.deleted']);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('canceled');
  });
});

describe('delivery, redelivery and inspection', () => {
  it('redelivers an event on request (duplicate delivery) with a fresh signature', async () => {
    await stripe.customers.create({ email: 'dup@x.test' });
    const [first] = await rx.waitFor(1);
    const id = JSON.parse(first.raw).id;
    const r = await control('deliver', { event_id: id });
    expect(r.body.delivery).toMatchObject({ ok: true, status: 200 });
    const both = await rx.waitFor(2);
    expect(both.map((h) => JSON.parse(h.raw).id)).toEqual([id, id]);
    await verify(both[1]);
    const recorded = (await control('events')).body;
    expect(recorded[0].deliveries).toHaveLength(2);
  });

  it('records failed deliveries; events.list(delivery_success=false) finds them; config changes the URL', async () => {
    expect((await control('config', { webhookUrl: `http://127.0.0.1:${DEAD_PORT}/hook` })).body.webhookUrl).toContain(String(DEAD_PORT));
    const c = await stripe.customers.create({ email: 'lost@x.test' });
    let events: { deliveries: { ok: boolean; error: string | null }[]; type: string; data: { object: { id: string } } }[] = [];
    for (let i = 0; i < 50 && !events[0]?.deliveries.length; i++) {
      await new Promise((r) => setTimeout(r, 20));
      events = (await control('events')).body;
    }
    expect(events[0].deliveries[0]).toMatchObject({ ok: false, status: null });
    const missed = await stripe.events.list({ delivery_success: false });
    expect(missed.data.map((e) => (e.data.object as { id: string }).id)).toEqual([c.id]);
    expect(missed.data[0].pending_webhooks).toBe(1);
    expect((await control('config', { webhookUrl: 'not a url' })).status).toBe(400);
  });

  it('records meter events and every API request with its parsed body, never the key', async () => {
    const c = await stripe.customers.create({ email: 'meter@x.test', metadata: { tenant_id: 't9' } });
    const me = await stripe.billing.meterEvents.create({ event_name: 'sms_overage', payload: { stripe_customer_id: c.id, value: '3' }, identifier: 'usage-1' });
    expect(me).toMatchObject({ object: 'billing.meter_event', event_name: 'sms_overage', identifier: 'usage-1', payload: { stripe_customer_id: c.id, value: '3' } });
    expect((await control('meter_events')).body).toHaveLength(1);
    const log = (await control('requests')).body;
    expect(log[0]).toMatchObject({ method: 'POST', path: '/v1/customers', status: 200, body: { email: 'meter@x.test', metadata: { tenant_id: 't9' } } });
    expect(log[0].idempotency_key).toMatch(/^stripe-node-retry-/);
    expect(log[1]).toMatchObject({ path: '/v1/billing/meter_events', body: { payload: { value: '3' } } });
    expect(JSON.stringify(log)).not.toContain(KEY);
  });
});
