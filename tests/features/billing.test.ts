/**
 * Billing end to end on the running stack: the real stripe-checkout / stripe-portal / stripe-change-plan /
 * stripe-webhook functions through supabase-js and fetch, the stack's Stripe emulator (checkout page "Pay",
 * failure and renewal controls), the email outbox and the Twilio emulator.
 *
 * Signed-event tests sign their own payloads with the endpoint secret (the SDK's generateTestHeaderString) and POST
 * them to the function, so duplicates, reordering, tampering and stale timestamps are exercised exactly.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionsHttpError, type SupabaseClient } from '@supabase/supabase-js';
import { closeDb, db } from '../helpers/db.ts';
import { env } from '../helpers/env.ts';
import { createApiWorld, createPersona, must, SHOP_DEFAULTS, type ApiWorld, type Persona } from '../helpers/personas.ts';
import { requireFeature } from '../../supabase/functions/_shared/billing/entitlements.ts';

let w: ApiWorld;
let stripe: Stripe;
const webhookUrl = () => `${env.apiUrl}/functions/v1/stripe-webhook`;

beforeAll(async () => {
  w = await createApiWorld();
  const u = new URL(env.stripeApiUrl);
  stripe = new Stripe(env.stripeSecretKey, {
    host: u.hostname, port: Number(u.port), protocol: 'http', httpClient: Stripe.createFetchHttpClient(),
  });
}, 60_000);

afterAll(async () => {
  await closeDb();
});

// ---------------------------------------------------------------------------------------------- helpers
async function invoke(client: SupabaseClient, fn: string, body: unknown): Promise<{ status: number; body: any }> {
  const { data, error } = await client.functions.invoke(fn, { body: body as Record<string, unknown> });
  if (!error) return { status: 200, body: data };
  if (error instanceof FunctionsHttpError) {
    const res = error.context as Response;
    return { status: res.status, body: await res.json() };
  }
  throw error;
}

async function tenantRow(id: string) {
  const { rows } = await db().query(
    `select t.status::text, t.plan, t.updated_at, q.period_start, q.period_end, q.sms_segments_used,
            b.stripe_customer_id, b.stripe_subscription_id, b.subscription_status, b.latest_invoice_status,
            b.last_payment_at, b.current_period_start, b.current_period_end, b.past_due_since, b.cancel_at_period_end,
            b.welcomed_at, b.price_id
     from public.tenants t join public.tenant_quota q on q.tenant_id = t.id
     left join public.tenant_billing b on b.tenant_id = t.id where t.id = $1`, [id]);
  return rows[0];
}

/** The SMS cap the quota check applies now (the cap column private.consume_quota reads through the plan). */
async function smsCap(id: string): Promise<number> {
  const { rows } = await db().query(
    'select p.sms_segments from public.tenants t join public.plans p on p.id = t.plan where t.id = $1', [id]);
  return rows[0].sms_segments;
}

async function standing(id: string): Promise<string> {
  const { rows } = await db().query(`select private.tenant_standing($1) as s`, [id]);
  return rows[0].s;
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Checkout through the emulator's hosted page: the Pay form answers only after the webhooks are delivered. */
async function checkoutAndPay(p: Persona, tenantId: string, plan: string): Promise<string> {
  const res = await invoke(p.client, 'stripe-checkout', { tenant_id: tenantId, plan });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const url = res.body.url as string;
  const page = await (await fetch(url)).text();
  expect(page).toContain('<button type="submit">Pay</button>');
  const action = /<form method="post" action="([^"]+)"/.exec(page)![1]!;
  const paid = await fetch(new URL(action, url), { method: 'POST', redirect: 'manual' });
  expect(paid.status).toBe(303);
  expect(paid.headers.get('location')).toMatch(/\/billing\?checkout=success&session_id=cs_/);
  return url;
}

/** Waits until the emulator has attempted delivery of every event it emitted about this customer. */
async function deliveredFor(customerId: string) {
  await until(`deliveries for ${customerId}`, async () => {
    const events = await (await fetch(`${env.stripeApiUrl}/_emulator/events`)).json() as Array<{
      data: { object: { id?: string; customer?: string } }; deliveries: unknown[] }>;
    const mine = events.filter((e) => e.data.object.customer === customerId || e.data.object.id === customerId);
    return mine.length > 0 && mine.every((e) => e.deliveries.length > 0);
  });
}

/**
 * A fresh shop whose subscription exists at Stripe but has not reached the shop yet: the subscription is created
 * for a customer that is not linked to any shop (the emulator's own webhooks for it are answered "not a ServicePro
 * shop"), and the customer is linked only after those deliveries, so the signed events a test sends are the first
 * the shop sees. (No webhook-URL switching: test files share the emulator and run in parallel.)
 */
async function quietSubscription(plan: 'starter' | 'pro' = 'starter') {
  const owner = await createPersona('billing-quiet');
  const tenantId = must(await owner.client.rpc('create_tenant', { name: `Quiet ${randomBytes(3).toString('hex')}`, ...SHOP_DEFAULTS }), 'shop') as string;
  const customer = await stripe.customers.create({ name: 'Quiet shop', metadata: { tenant_id: tenantId } });
  const [price] = (await stripe.prices.list({ lookup_keys: [`servicepro_${plan}_monthly`], limit: 1 })).data;
  expect(price, 'the checkout test creates the prices first').toBeTruthy();
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price!.id }] });
  await deliveredFor(customer.id);
  must(await w.service.rpc('billing_link_customer', { tenant_id: tenantId, customer_id: customer.id }), 'link');
  expect((await tenantRow(tenantId)).status).toBe('trialing');
  return { owner, tenantId, customer, sub };
}

function signedEvent(type: string, object: unknown, opts: { id?: string; timestamp?: number; created?: number } = {}) {
  const event = {
    id: opts.id ?? `evt_test${randomBytes(10).toString('hex')}`, object: 'event', api_version: '2026-10-28.endive',
    created: opts.created ?? Math.floor(Date.now() / 1000), data: { object }, livemode: false, pending_webhooks: 1,
    request: { id: null, idempotency_key: null }, type,
  };
  const payload = JSON.stringify(event, null, 2);
  const header = stripe.webhooks.generateTestHeaderString({
    payload, secret: env.stripeWebhookSecret, timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
  });
  return { event, payload, header };
}

async function post(payload: string, header: string | null) {
  const res = await fetch(webhookUrl(), {
    method: 'POST', body: payload,
    headers: { 'content-type': 'application/json', ...(header ? { 'stripe-signature': header } : {}) },
  });
  return { status: res.status, body: await res.json() };
}

async function eventRows(id: string): Promise<number> {
  const { rows } = await db().query('select count(*)::int as n from public.stripe_events where id = $1', [id]);
  return rows[0].n;
}

// ---------------------------------------------------------------------------------------------- checkout → active
describe('checkout through the emulator page', () => {
  it('makes the shop active on the plan with Stripe\'s period as its quota period, welcomed once by email and SMS', async () => {
    must(await w.service.from('tenants').update({ phone: '+14155550142' }).eq('id', w.tenantA), 'phone');
    const welcomeTexts = async () => ((await (await fetch(`${env.twilioApiUrl}/_emulator/messages`)).json()) as Array<{ to: string; body: string }>)
      .filter((m) => m.to === '+14155550142' && /welcome/i.test(m.body)).length;
    const textsBefore = await welcomeTexts();
    await db().query('update public.tenant_quota set sms_segments_used = 9 where tenant_id = $1', [w.tenantA]);
    expect((await tenantRow(w.tenantA)).status).toBe('trialing');

    await checkoutAndPay(w.ownerA, w.tenantA, 'starter');

    const row = await tenantRow(w.tenantA);
    expect(row).toMatchObject({ status: 'active', plan: 'starter', subscription_status: 'active', latest_invoice_status: 'paid' });
    expect(row.stripe_customer_id).toMatch(/^cus_/);
    expect(row.stripe_subscription_id).toMatch(/^sub_/);
    expect(row.sms_segments_used).toBe(0);
    expect(row.period_start.toISOString()).toBe(row.current_period_start.toISOString());
    expect(row.period_end.toISOString()).toBe(row.current_period_end.toISOString());
    expect(row.last_payment_at).not.toBeNull();
    expect(await standing(w.tenantA)).toBe('ok');
    // the plan's quota: starter's cap through the core consume_quota
    expect(await smsCap(w.tenantA)).toBe(300);

    // Customer and subscription carry the shop
    const sub = await stripe.subscriptions.retrieve(row.stripe_subscription_id);
    expect(sub.metadata.tenant_id).toBe(w.tenantA);
    expect((await stripe.customers.retrieve(row.stripe_customer_id) as Stripe.Customer).metadata.tenant_id).toBe(w.tenantA);

    // Welcome: one email to the owner, one SMS to the phone, not counted in the quota
    const emails = await (await fetch(`${env.emailOutboxUrl}/_emulator/emails`)).json() as Array<{ to: string[] | string; subject: string }>;
    const mine = emails.filter((e) => [e.to].flat().includes(w.ownerA.email));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.subject).toMatch(/Welcome to ServicePro Starter/);
    expect(await welcomeTexts()).toBe(textsBefore + 1); // the emulator keeps earlier runs' messages
    expect((await tenantRow(w.tenantA)).sms_segments_used).toBe(0);

    // The welcome claim is spent: another activation event sends nothing more
    const again = signedEvent('customer.subscription.updated', sub);
    expect((await post(again.payload, again.header)).status).toBe(200);
    const emails2 = await (await fetch(`${env.emailOutboxUrl}/_emulator/emails`)).json() as Array<{ to: string[] | string }>;
    expect(emails2.filter((e) => [e.to].flat().includes(w.ownerA.email))).toHaveLength(1);
  }, 30_000);

  it('answers 409 already_subscribed to a second checkout, and opens the portal for an admin', async () => {
    const again = await invoke(w.adminA.client, 'stripe-checkout', { tenant_id: w.tenantA, plan: 'pro' });
    expect(again).toMatchObject({ status: 409, body: { code: 'already_subscribed' } });
    const portal = await invoke(w.adminA.client, 'stripe-portal', { tenant_id: w.tenantA });
    expect(portal.status).toBe(200);
    expect(portal.body.url).toMatch(/\/billing_portal\/bps_/);
  });

  it('validates input', async () => {
    expect(await invoke(w.ownerA.client, 'stripe-checkout', { tenant_id: w.tenantA, plan: 'trial' }))
      .toMatchObject({ status: 400, body: { code: 'invalid_plan' } });
    expect(await invoke(w.ownerA.client, 'stripe-checkout', { tenant_id: 'nope', plan: 'pro' }))
      .toMatchObject({ status: 400, body: { code: 'invalid_tenant_id' } });
    expect(await invoke(w.anon, 'stripe-checkout', { tenant_id: w.tenantA, plan: 'pro' }))
      .toMatchObject({ status: 401 });
  });
});

// ---------------------------------------------------------------------------------------------- cross-tenant
describe('who may see and open billing', () => {
  it('a member of another shop can neither read tenant_billing nor open checkout/portal/change-plan for it', async () => {
    const { data, error } = await w.ownerB.client.from('tenant_billing').select('*').eq('tenant_id', w.tenantA);
    expect(error).toBeNull();
    expect(data).toEqual([]);
    for (const fn of ['stripe-checkout', 'stripe-portal', 'stripe-change-plan']) {
      expect(await invoke(w.ownerB.client, fn, { tenant_id: w.tenantA, plan: 'pro' }))
        .toMatchObject({ status: 404, body: { code: 'tenant_not_found' } });
    }
  });

  it('a technician cannot read billing nor open checkout; owners and admins read their own', async () => {
    expect((await w.techA.client.from('tenant_billing').select('tenant_id').eq('tenant_id', w.tenantA)).data).toEqual([]);
    expect(await invoke(w.techA.client, 'stripe-checkout', { tenant_id: w.tenantA, plan: 'pro' }))
      .toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await invoke(w.techA.client, 'stripe-portal', { tenant_id: w.tenantA }))
      .toMatchObject({ status: 403, body: { code: 'forbidden' } });
    const own = await w.adminA.client.from('tenant_billing').select('tenant_id, subscription_status').eq('tenant_id', w.tenantA);
    expect(own.data).toEqual([{ tenant_id: w.tenantA, subscription_status: 'active' }]);
    // nobody but the service role writes it
    const upd = await w.ownerA.client.from('tenant_billing').update({ plan: 'elite' }).eq('tenant_id', w.tenantA).select();
    expect(upd.error?.code).toBe('42501');
    const rpc = await w.ownerA.client.rpc('billing_claim_event', { event_id: 'evt_x', event_type: 'x', event_created: null });
    expect(rpc.error).not.toBeNull();
    expect((await w.ownerA.client.from('stripe_events').select('id')).error?.code).toBe('42501');
  });
});

// ---------------------------------------------------------------------------------------------- change plan
describe('upgrade mid-period', () => {
  it('moves the shop to the new plan at once, keeps the period and counters, prorates at Stripe', async () => {
    const before = await tenantRow(w.tenantA);
    await db().query('update public.tenant_quota set sms_segments_used = 250 where tenant_id = $1', [w.tenantA]);
    const res = await invoke(w.ownerA.client, 'stripe-change-plan', { tenant_id: w.tenantA, plan: 'pro' });
    expect(res).toMatchObject({ status: 200, body: { plan: 'pro', status: 'active', changed: true } });
    const after = await tenantRow(w.tenantA);
    expect(after.plan).toBe('pro');
    expect(after.sms_segments_used).toBe(250);
    expect(after.period_start.toISOString()).toBe(before.period_start.toISOString());
    // the new cap applies immediately (pro's 1,000, not starter's 300) while the 250 used stay
    expect(await smsCap(w.tenantA)).toBe(1000);
    const sub = await stripe.subscriptions.retrieve(after.stripe_subscription_id);
    expect(sub.items.data[0]!.price.lookup_key).toBe('servicepro_pro_monthly');
    // the update Stripe received: same item, new price, prorated, under an idempotency key
    const log = await (await fetch(`${env.stripeApiUrl}/_emulator/requests`)).json() as Array<{
      method: string; path: string; body: any; idempotency_key: string | null; status: number }>;
    const update = log.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${sub.id}`).at(-1)!;
    expect(update).toMatchObject({ status: 200, body: { proration_behavior: 'create_prorations', items: [{ id: sub.items.data[0]!.id }] } });
    expect(update.idempotency_key).toMatch(/^servicepro-change-/);
    // the webhook that follows agrees (no flip-flop)
    await until('the subscription.updated delivery', async () => {
      const { rows: ev } = await db().query(`select count(*)::int as n from public.stripe_events
        where type = 'customer.subscription.updated' and result like $1`, [`${sub.id}%`]);
      return ev[0].n > 0;
    });
    expect((await tenantRow(w.tenantA)).plan).toBe('pro');
    // the same plan again changes nothing
    expect(await invoke(w.ownerA.client, 'stripe-change-plan', { tenant_id: w.tenantA, plan: 'pro' }))
      .toMatchObject({ status: 200, body: { plan: 'pro', changed: false } });
    await db().query('update public.tenant_quota set sms_segments_used = 0 where tenant_id = $1', [w.tenantA]);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------- feature gate
describe('requireFeature', () => {
  it('answers 402 feature_not_in_plan naming the cheapest plan that has the feature', async () => {
    const shop = must(await w.ownerB.client.rpc('create_tenant', { name: `Gate ${randomBytes(3).toString('hex')}`, ...SHOP_DEFAULTS }), 'shop') as string;
    must(await w.service.from('tenants').update({ plan: 'starter' }).eq('id', shop), 'starter');
    await expect(requireFeature(w.service, shop, 'data_export')).resolves.toBeUndefined();
    const err = await requireFeature(w.service, shop, 'campaigns').catch((e) => e);
    expect(err).toMatchObject({ status: 402, code: 'feature_not_in_plan', details: { feature: 'campaigns', current_plan: 'starter', required_plan: 'pro' } });
    expect(err.message).toMatch(/part of Pro.*your setup stays as it is/);
    const voice = await requireFeature(w.service, shop, 'ai_voice_agent').catch((e) => e);
    expect(voice.details.required_plan).toBe('elite');
  });
});

// ---------------------------------------------------------------------------------------------- signed events
describe('stripe-webhook verification', () => {
  it('rejects a missing header with its own 400 (verify_jwt is off, the verifier fails closed)', async () => {
    const { payload } = signedEvent('customer.subscription.updated', { id: 'sub_x' });
    expect(await post(payload, null)).toMatchObject({ status: 400, body: { code: 'missing_signature' } });
  });

  it('a body changed by one byte → 400 and nothing written', async () => {
    const { event, payload, header } = signedEvent('customer.subscription.updated', { id: 'sub_tampered' });
    const tampered = payload.replace('"livemode": false', '"livemode": falsE');
    expect(tampered).not.toBe(payload);
    expect(tampered.length).toBe(payload.length);
    expect(await post(tampered, header)).toMatchObject({ status: 400, body: { code: 'invalid_signature' } });
    expect(await eventRows(event.id)).toBe(0);
  });

  it('a timestamp 301 s old is rejected; 299 s old is accepted', async () => {
    const old = signedEvent('balance.available', {}, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect((await post(old.payload, old.header)).status).toBe(400);
    const ok = signedEvent('balance.available', {}, { timestamp: Math.floor(Date.now() / 1000) - 299 });
    expect((await post(ok.payload, ok.header)).status).toBe(200);
  });

  it('a wrong secret → 400; during rotation a header whose second v1 matches is accepted', async () => {
    const { payload, header } = signedEvent('balance.available', {});
    const t = /t=(\d+)/.exec(header)![1];
    const wrong = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_cli_other', timestamp: Number(t) });
    expect((await post(payload, wrong)).status).toBe(400);
    const wrongV1 = /v1=([0-9a-f]+)/.exec(wrong)![1];
    const rightV1 = /v1=([0-9a-f]+)/.exec(header)![1];
    expect((await post(payload, `t=${t},v1=${wrongV1},v1=${rightV1}`)).status).toBe(200);
  });

  it('an unknown event type → 200 and not recorded', async () => {
    const { event, payload, header } = signedEvent('customer.tax_id.created', { id: 'txi_1' });
    expect(await post(payload, header)).toMatchObject({ status: 200, body: { received: true, ignored: true } });
    expect(await eventRows(event.id)).toBe(0);
  });
});

describe('stripe-webhook delivery semantics', () => {
  it('the same event 5 times sequentially → one row, one state change, every answer 2xx', async () => {
    const { tenantId, sub, owner } = await quietSubscription();
    expect((await tenantRow(tenantId)).status).toBe('trialing');
    const { event, payload, header } = signedEvent('customer.subscription.created', sub);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await post(payload, header));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.filter((a) => a.body.duplicate)).toHaveLength(4);
    expect(answers[0]!.body.result).toMatch(/trialing → active/);
    expect(await eventRows(event.id)).toBe(1);
    const row = await tenantRow(tenantId);
    expect(row).toMatchObject({ status: 'active', plan: 'starter' });
    // redelivered by the emulator itself (its own event for the subscription) is also just 200
    const emails = await (await fetch(`${env.emailOutboxUrl}/_emulator/emails`)).json() as Array<{ to: string[] | string }>;
    expect(emails.filter((e) => [e.to].flat().includes(owner.email))).toHaveLength(1);
  }, 30_000);

  it('the same event 5 times concurrently → exactly one processes it', async () => {
    const { tenantId, sub, owner } = await quietSubscription('pro');
    await db().query('update public.tenant_quota set sms_segments_used = 4 where tenant_id = $1', [tenantId]);
    const { event, payload, header } = signedEvent('customer.subscription.updated', sub);
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(payload, header)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(1);
    expect(await eventRows(event.id)).toBe(1);
    const row = await tenantRow(tenantId);
    expect(row).toMatchObject({ status: 'active', plan: 'pro', sms_segments_used: 0 });
    const emails = await (await fetch(`${env.emailOutboxUrl}/_emulator/emails`)).json() as Array<{ to: string[] | string }>;
    expect(emails.filter((e) => [e.to].flat().includes(owner.email))).toHaveLength(1);
  }, 30_000);

  it('subscription.updated before subscription.created → the state Stripe holds now, not the older payload', async () => {
    const { tenantId, sub } = await quietSubscription();
    const t = Math.floor(Date.now() / 1000);
    const updated = signedEvent('customer.subscription.updated', { ...sub, status: 'active' }, { created: t + 1 });
    const created = signedEvent('customer.subscription.created', { ...sub, status: 'incomplete' }, { created: t });
    expect((await post(updated.payload, updated.header)).status).toBe(200);
    expect((await post(created.payload, created.header)).status).toBe(200);
    const row = await tenantRow(tenantId);
    expect(row).toMatchObject({ status: 'active', subscription_status: 'active', stripe_subscription_id: sub.id });
    expect(await eventRows(updated.event.id)).toBe(1);
    expect(await eventRows(created.event.id)).toBe(1);
  }, 30_000);

  it('an event for a customer that is not a ServicePro shop → 200, recorded, nothing changed', async () => {
    const customer = await stripe.customers.create({ name: 'Somebody else' });
    const [price] = (await stripe.prices.list({ lookup_keys: ['servicepro_starter_monthly'], limit: 1 })).data;
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price!.id }] });
    const { event, payload, header } = signedEvent('customer.subscription.updated', sub);
    const res = await post(payload, header);
    expect(res.status).toBe(200);
    expect(res.body.result).toMatch(/not a ServicePro shop/);
    expect(await eventRows(event.id)).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------- lifecycle
describe('failed payment, renewal, cancellation', () => {
  let subId: string;
  let customerRow: string;

  it('a failed invoice → past_due (counters kept), the grace period → suspended, payment → active with a reset', async () => {
    const row = await tenantRow(w.tenantA);
    subId = row.stripe_subscription_id;
    must(await w.service.from('customers').insert({ tenant_id: w.tenantA, name: 'Dana Driver', phone: '+15557770001' }), 'customer');
    customerRow = (await db().query('select id from public.customers where tenant_id = $1', [w.tenantA])).rows[0].id;
    await db().query('update public.tenant_quota set sms_segments_used = 7 where tenant_id = $1', [w.tenantA]);

    const failed = await fetch(`${env.stripeApiUrl}/_emulator/subscriptions/${subId}/payment_failed`, { method: 'POST' });
    expect(failed.status).toBe(200);
    const pd = await tenantRow(w.tenantA);
    expect(pd).toMatchObject({ status: 'past_due', subscription_status: 'past_due', latest_invoice_status: 'payment_failed', sms_segments_used: 7 });
    expect(pd.past_due_since).not.toBeNull();
    expect(await standing(w.tenantA)).toBe('past_due');
    expect(must(await w.ownerA.client.rpc('tenant_standing', { tenant_id: w.tenantA }), 'standing')).toBe('past_due');
    // the period did not move to the unpaid one
    expect(pd.period_start.toISOString()).toBe(row.period_start.toISOString());

    // grace over (lazily and by the daily job)
    await db().query(`update public.tenant_billing set past_due_since = now() - interval '8 days' where tenant_id = $1`, [w.tenantA]);
    expect(await standing(w.tenantA)).toBe('suspended');
    const { rows: job } = await db().query('select public.billing_suspend_overdue() as n');
    expect(job[0].n).toBeGreaterThanOrEqual(1);
    expect((await tenantRow(w.tenantA)).status).toBe('suspended');

    // any → active on payment; the paid new period resets the counters
    const renew = await fetch(`${env.stripeApiUrl}/_emulator/subscriptions/${subId}/renew`, { method: 'POST' });
    expect(renew.status).toBe(200);
    const ok = await tenantRow(w.tenantA);
    expect(ok).toMatchObject({ status: 'active', subscription_status: 'active', latest_invoice_status: 'paid', sms_segments_used: 0, past_due_since: null });
    expect(ok.period_start.getTime()).toBeGreaterThan(row.period_start.getTime());
    expect(ok.period_start.toISOString()).toBe(ok.current_period_start.toISOString());
  }, 30_000);

  it('a cycle renewal resets the counters once', async () => {
    await db().query('update public.tenant_quota set sms_segments_used = 11 where tenant_id = $1', [w.tenantA]);
    const before = await tenantRow(w.tenantA);
    const renew = await fetch(`${env.stripeApiUrl}/_emulator/subscriptions/${subId}/renew`, { method: 'POST' });
    expect(renew.status).toBe(200);
    const after = await tenantRow(w.tenantA);
    expect(after.sms_segments_used).toBe(0);
    expect(after.period_start.getTime()).toBeGreaterThan(before.period_start.getTime());
    // a replay of an old event for the same subscription does not reset again
    await db().query('update public.tenant_quota set sms_segments_used = 3 where tenant_id = $1', [w.tenantA]);
    const sub = await stripe.subscriptions.retrieve(subId);
    const replay = signedEvent('invoice.paid', { id: 'in_old', object: 'invoice', customer: sub.customer, created: 1, status: 'paid',
      parent: { subscription_details: { subscription: subId } } });
    expect((await post(replay.payload, replay.header)).status).toBe(200);
    expect((await tenantRow(w.tenantA)).sms_segments_used).toBe(3);
  }, 30_000);

  it('cancellation → suspended with every row intact; billing stays open', async () => {
    await stripe.subscriptions.cancel(subId);
    const row = await until('suspended', async () => {
      const r = await tenantRow(w.tenantA);
      return r.status === 'suspended' ? r : null;
    });
    expect(row).toMatchObject({ plan: 'pro', subscription_status: 'canceled', stripe_subscription_id: subId, sms_segments_used: 3 });
    expect(await standing(w.tenantA)).toBe('suspended');
    const { rows } = await db().query('select name from public.customers where id = $1', [customerRow]);
    expect(rows).toEqual([{ name: 'Dana Driver' }]);
    // billing still open: the portal works, and a new checkout is allowed (the old subscription is over)
    expect((await invoke(w.ownerA.client, 'stripe-portal', { tenant_id: w.tenantA })).status).toBe(200);
    const again = await invoke(w.ownerA.client, 'stripe-checkout', { tenant_id: w.tenantA, plan: 'starter' });
    expect(again.status).toBe(200);
    // the same customer is reused
    const session = await stripe.checkout.sessions.retrieve(/\/checkout\/(cs_[A-Za-z0-9_]+)/.exec(again.body.url)![1]!);
    expect(session.customer).toBe(row.stripe_customer_id);
  }, 30_000);
});

describe('trial end', () => {
  it('a trial past its end without payment is locked (read-only), and nothing is deleted', async () => {
    const shop = must(await w.ownerB.client.rpc('create_tenant', { name: `Trial ${randomUUID().slice(0, 6)}`, ...SHOP_DEFAULTS }), 'shop') as string;
    expect(await standing(shop)).toBe('ok');
    await db().query(`update public.tenants set trial_ends_at = now() - interval '1 second' where id = $1`, [shop]);
    expect(await standing(shop)).toBe('locked');
    expect(must(await w.ownerB.client.rpc('tenant_standing', { tenant_id: shop }), 'standing')).toBe('locked');
    expect((await w.ownerA.client.rpc('tenant_standing', { tenant_id: shop })).error?.code).toBe('42501');
    expect((await tenantRow(shop)).status).toBe('trialing');
  });
});

describe('order of concurrent reads and the overage choice', () => {
  it('an older Stripe read applied after a newer one is ignored', async () => {
    const { tenantId, sub, customer } = await quietSubscription();
    const base = {
      tenant_id: tenantId, customer_id: customer.id, subscription_id: sub.id, price_id: sub.items.data[0]!.price.id,
      plan: 'starter', period_start: new Date(sub.items.data[0]!.current_period_start * 1000).toISOString(),
      period_end: new Date(sub.items.data[0]!.current_period_end * 1000).toISOString(),
      cancel_at_period_end: false, canceled_at: null, subscription_created: new Date(sub.created * 1000).toISOString(),
    };
    const newer = new Date().toISOString();
    const older = new Date(Date.now() - 2000).toISOString();
    const first = must(await w.service.rpc('billing_apply_subscription', { ...base, subscription_status: 'active', fetched_at: newer }), 'apply newer') as { status: string };
    expect(first.status).toBe('active');
    const late = must(await w.service.rpc('billing_apply_subscription', { ...base, subscription_status: 'past_due', fetched_at: older }), 'apply older') as { stale?: boolean; changed: boolean };
    expect(late).toMatchObject({ stale: true, changed: false });
    expect((await tenantRow(tenantId)).status).toBe('active');
  }, 30_000);

  it('an owner setting the overage policy is recorded as an explicit choice; a technician cannot set it', async () => {
    const { rows: before } = await db().query('select overage_policy_chosen_at from public.tenants where id = $1', [w.tenantA]);
    expect(before[0].overage_policy_chosen_at).toBeNull();
    const tech = await w.techA.client.from('tenants').update({ overage_policy: 'metered' }).eq('id', w.tenantA).select('id');
    expect(tech.data ?? []).toEqual([]);
    must(await w.ownerA.client.from('tenants').update({ overage_policy: 'hard_stop' }).eq('id', w.tenantA), 'choose');
    const { rows } = await db().query('select overage_policy, overage_policy_chosen_at from public.tenants where id = $1', [w.tenantA]);
    expect(rows[0].overage_policy).toBe('hard_stop');
    expect(rows[0].overage_policy_chosen_at).not.toBeNull();
    const forged = await w.ownerA.client.from('tenants').update({ overage_policy_chosen_at: null }).eq('id', w.tenantA);
    expect(forged.error?.code).toBe('42501');
  });
});
