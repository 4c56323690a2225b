/**
 * Metered SMS overage end to end on the running stack: the real stripe-checkout and stripe-overage functions, the
 * ledger in Postgres (create_overage_reporting) and the Stripe emulator's billing meters, meter events (dedupe by
 * identifier), subscription items and renewal invoices.
 *
 * Usage past the cap is reserved the way the send path does (private.consume_quota with allow_overage). The
 * service-role runs are scoped to the test's own shop ({tenant_id}) because test files share the stack; one test
 * runs the all-shops path the cron uses.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionsHttpError, type SupabaseClient } from '@supabase/supabase-js';
import { closeDb, db } from '../helpers/db.ts';
import { env } from '../helpers/env.ts';
import { createApiWorld, createPersona, must, SHOP_DEFAULTS, type ApiWorld, type Persona } from '../helpers/personas.ts';
import { meterEventIdentifier, OVERAGE_LOOKUP_KEY } from '../../supabase/functions/_shared/billing/overage.ts';

let w: ApiWorld;
let stripe: Stripe;
const EVENT_NAME = 'sms_overage_segments';
const STARTER_CAP = 300;

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

/** The cron's call: the service role key as bearer. */
async function runJob(tenantId?: string): Promise<any> {
  const res = await fetch(`${env.apiUrl}/functions/v1/stripe-overage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.serviceRoleKey}`, apikey: env.serviceRoleKey, 'content-type': 'application/json' },
    body: JSON.stringify(tenantId ? { tenant_id: tenantId } : {}),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function emu(path: string, init?: RequestInit): Promise<any> {
  const res = await fetch(`${env.stripeApiUrl}${path}`, init);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBeLessThan(300);
  return body;
}

/** Accepted overage usage at the emulator for a customer (optionally within [from, to) Unix seconds). */
async function usage(customer: string, range: { from?: number; to?: number } = {}): Promise<{ events: number; value: number }> {
  const q = new URLSearchParams({ customer, event_name: EVENT_NAME });
  if (range.from !== undefined) q.set('from', String(range.from));
  if (range.to !== undefined) q.set('to', String(range.to));
  return emu(`/_emulator/meter_usage?${q}`);
}

async function meterEventsOf(customer: string): Promise<Array<{ identifier: string; status: string; value: number; timestamp: number }>> {
  const all = await emu('/_emulator/meter_events') as Array<{ customer: string; identifier: string; status: string; value: number; timestamp: number }>;
  return all.filter((e) => e.customer === customer);
}

async function overageItems(subscriptionId: string) {
  const sub = await stripe.subscriptions.retrieve(subscriptionId);
  return sub.items.data.filter((i) => i.price.lookup_key === OVERAGE_LOOKUP_KEY);
}

/** The overage item billing_overage_items records for the shop (server-only table). */
async function recordedItem(tenantId: string): Promise<{ subscription_id: string; item_id: string } | null> {
  const { rows } = await db().query(
    'select subscription_id, item_id from public.billing_overage_items where tenant_id = $1', [tenantId]);
  return rows[0] ?? null;
}

async function ledger(tenantId: string) {
  const { rows } = await db().query(
    `select period_start, period_end, billable_segments, offset_segments, reported_segments, closed_at
       from public.billing_overage_periods where tenant_id = $1 order by period_start`, [tenantId]);
  return rows as Array<{ period_start: Date; period_end: Date; billable_segments: number; offset_segments: number;
    reported_segments: number; closed_at: Date | null }>;
}

async function reports(tenantId: string) {
  const { rows } = await db().query(
    `select identifier, segments, cumulative_segments, status, attempts, last_error, event_timestamp
       from public.billing_overage_reports where tenant_id = $1 order by cumulative_segments`, [tenantId]);
  return rows as Array<{ identifier: string; segments: number; cumulative_segments: number; status: string;
    attempts: number; last_error: string | null; event_timestamp: Date }>;
}

/** Reserve SMS segments as the send path does for a shop allowed past its cap. */
async function send(tenantId: string, segments: number) {
  const { rows } = await db().query(
    `select (private.consume_quota($1, 'sms_outbound', $2, true)).*`, [tenantId, segments]);
  expect(rows[0].ok).toBe(true);
  return rows[0].used as number;
}

async function setPolicy(p: Persona, tenantId: string, policy: 'metered' | 'hard_stop') {
  const { data, error } = await p.client.from('tenants').update({ overage_policy: policy }).eq('id', tenantId).select('id');
  expect(error).toBeNull();
  expect(data).toHaveLength(1);
}

/** A shop on Starter through the emulator's checkout page (optionally choosing metered overage first). */
async function paidShop(policy: 'metered' | 'hard_stop' | null) {
  const owner = await createPersona('overage-owner');
  const tenantId = must(await owner.client.rpc('create_tenant', { name: `Overage ${randomBytes(3).toString('hex')}`, ...SHOP_DEFAULTS }), 'shop') as string;
  if (policy) await setPolicy(owner, tenantId, policy);
  const res = await invoke(owner.client, 'stripe-checkout', { tenant_id: tenantId, plan: 'starter' });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const url = res.body.url as string;
  const page = await (await fetch(url)).text();
  const action = /<form method="post" action="([^"]+)"/.exec(page)![1]!;
  const paid = await fetch(new URL(action, url), { method: 'POST', redirect: 'manual' });
  expect(paid.status).toBe(303);
  const row = await until('the shop is active', async () => {
    const { rows } = await db().query(
      `select t.status::text, b.stripe_customer_id, b.stripe_subscription_id from public.tenants t
         join public.tenant_billing b on b.tenant_id = t.id where t.id = $1`, [tenantId]);
    return rows[0]?.status === 'active' ? rows[0] : null;
  });
  return { owner, tenantId, customer: row.stripe_customer_id as string, subscription: row.stripe_subscription_id as string };
}

async function renew(subscriptionId: string) {
  return emu(`/_emulator/subscriptions/${subscriptionId}/renew`, { method: 'POST' });
}

// ---------------------------------------------------------------------------------------------- reporting
describe('a metered shop over its cap', () => {
  it('subscribes with the metered overage price as a second item (checkout)', async () => {
    const s = await paidShop('metered');
    const items = (await stripe.subscriptions.retrieve(s.subscription)).items.data;
    expect(items).toHaveLength(2);
    const overage = items.find((i) => i.price.lookup_key === OVERAGE_LOOKUP_KEY)!;
    expect(overage.price.recurring?.usage_type).toBe('metered');
    expect(overage.quantity).toBeUndefined();
    const meter = await stripe.billing.meters.retrieve(overage.price.recurring!.meter!);
    expect(meter).toMatchObject({ event_name: EVENT_NAME, default_aggregation: { formula: 'sum' },
      customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' } });
    // stripe-webhook records the item checkout added (Stripe's subscription is the truth); the run adds no second.
    await until('the webhook recorded the item', async () => (await recordedItem(s.tenantId))?.item_id === overage.id);
    const out = await runJob(s.tenantId);
    expect(out.items).toEqual({ unchanged: 1 });
    expect(await overageItems(s.subscription)).toHaveLength(1);
  });

  it('reports exactly the overage once, however often and concurrently the job runs', async () => {
    const s = await paidShop('metered');
    await send(s.tenantId, 250);
    await runJob(s.tenantId);
    expect(await reports(s.tenantId)).toEqual([]); // under the cap: nothing to bill
    await send(s.tenantId, STARTER_CAP - 250 + 7);

    await runJob(s.tenantId);
    await runJob(s.tenantId);
    await Promise.all([runJob(s.tenantId), runJob(s.tenantId), runJob()]);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 1, value: 7 }));

    await send(s.tenantId, 5);
    await Promise.all([runJob(s.tenantId), runJob(s.tenantId), runJob(s.tenantId)]);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 2, value: 12 }));

    const [period] = await ledger(s.tenantId);
    expect(period).toMatchObject({ billable_segments: 12, reported_segments: 12, offset_segments: 0, closed_at: null });
    const rs = await reports(s.tenantId);
    expect(rs.map((r) => [r.segments, r.cumulative_segments, r.status])).toEqual([[7, 7, 'sent'], [5, 12, 'sent']]);
    expect(rs.map((r) => r.identifier)).toEqual([
      meterEventIdentifier(s.tenantId, period!.period_start, 7), meterEventIdentifier(s.tenantId, period!.period_start, 12),
    ]);
    // What reached Stripe: two events, deltas 7 and 5, for this customer, under the ledger's identifiers.
    expect((await meterEventsOf(s.customer)).map((e) => [e.identifier, e.value, e.status]))
      .toEqual(rs.map((r) => [r.identifier, r.segments, 'accepted']));
  });

  it('a Stripe failure then success reports once; a resend after a lost answer is deduplicated by identifier', async () => {
    const s = await paidShop('metered');
    await runJob(s.tenantId); // records the item
    await send(s.tenantId, STARTER_CAP + 4);
    // Three 500s: the SDK's own two retries fail too, so this run fails and the report stays pending.
    await emu('/_emulator/failures', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/v1/billing/meter_events', status: 500, times: 3 }) });
    const failed = await runJob(s.tenantId);
    expect(failed.reported).toEqual({ events: 0, segments: 0 });
    expect(failed.failures).toEqual([expect.objectContaining({ tenant_id: s.tenantId, step: 'report' })]);
    expect(await reports(s.tenantId)).toEqual([expect.objectContaining({ segments: 4, status: 'pending', attempts: 1 })]);
    expect((await reports(s.tenantId))[0]!.last_error).toMatch(/500/);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 0, value: 0 }));

    const ok = await runJob(s.tenantId);
    expect(ok.reported).toEqual({ events: 1, segments: 4 });
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 1, value: 4 }));

    // Lost answer: a run claims and sends, then dies before marking; after the lease the next run resends the
    // same identifier and value, and Stripe counts it once.
    await send(s.tenantId, 3);
    const claim = must(await w.service.rpc('billing_overage_claim', { for_tenant: s.tenantId }), 'claim') as Array<{
      identifier: string; segments: number; stripe_customer_id: string }>;
    expect(claim).toHaveLength(1);
    await stripe.billing.meterEvents.create({ event_name: EVENT_NAME, identifier: claim[0]!.identifier,
      payload: { stripe_customer_id: claim[0]!.stripe_customer_id, value: String(claim[0]!.segments) } });
    expect((await runJob(s.tenantId)).reported.events).toBe(0); // still leased: nobody else sends it
    await db().query(`update public.billing_overage_reports set claimed_until = now() - interval '1 second'
                       where tenant_id = $1 and status = 'pending'`, [s.tenantId]);
    expect((await runJob(s.tenantId)).reported).toEqual({ events: 1, segments: 3 });
    const evs = await meterEventsOf(s.customer);
    expect(evs.filter((e) => e.identifier === claim[0]!.identifier).map((e) => e.status)).toEqual(['accepted', 'duplicate']);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 2, value: 7 }));
    expect((await ledger(s.tenantId))[0]).toMatchObject({ billable_segments: 7, reported_segments: 7 });
  });
});

describe('a hard-stop shop', () => {
  it('reports nothing, even with pickup notices past the cap, and carries no overage item', async () => {
    const s = await paidShop(null); // nobody chose: hard stop by default, pickups pass the cap
    await send(s.tenantId, STARTER_CAP + 9);
    await runJob(s.tenantId);
    await runJob();
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 0 }));
    expect(await reports(s.tenantId)).toEqual([]);
    expect(await overageItems(s.subscription)).toHaveLength(0);

    // Choosing metered later never bills the pickups that went past the cap before.
    await setPolicy(s.owner, s.tenantId, 'metered');
    const sync = await invoke(s.owner.client, 'stripe-overage', { tenant_id: s.tenantId });
    expect(sync.body).toMatchObject({ overage_policy: 'metered', subscription: true, item: 'added', reported: 0 });
    expect((await ledger(s.tenantId))[0]).toMatchObject({ billable_segments: 0, offset_segments: 9 });
    await send(s.tenantId, 2);
    await runJob(s.tenantId);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 1, value: 2 }));
  });
});

// ---------------------------------------------------------------------------------------------- subscription shape
describe('switching the policy', () => {
  it('adds the overage item, and removes it again at once when nothing was reported', async () => {
    const s = await paidShop('hard_stop');
    expect(await overageItems(s.subscription)).toHaveLength(0);
    await setPolicy(s.owner, s.tenantId, 'metered');
    const added = await invoke(s.owner.client, 'stripe-overage', { tenant_id: s.tenantId });
    expect(added).toMatchObject({ status: 200, body: { item: 'added', subscription: true } });
    const [item] = await overageItems(s.subscription);
    expect(item).toBeTruthy();
    // Asking again changes nothing (the item is recorded; no second item).
    expect((await invoke(s.owner.client, 'stripe-overage', { tenant_id: s.tenantId })).body.item).toBe('unchanged');
    expect(await overageItems(s.subscription)).toHaveLength(1);

    await setPolicy(s.owner, s.tenantId, 'hard_stop');
    const removed = await invoke(s.owner.client, 'stripe-overage', { tenant_id: s.tenantId });
    expect(removed.body).toMatchObject({ overage_policy: 'hard_stop', item: 'removed' });
    expect(await overageItems(s.subscription)).toHaveLength(0);
    expect((await stripe.subscriptions.retrieve(s.subscription)).items.data).toHaveLength(1);

    // Back to metered: a new item (a new idempotency key per choice, not a replay of the first add).
    await setPolicy(s.owner, s.tenantId, 'metered');
    expect((await invoke(s.owner.client, 'stripe-overage', { tenant_id: s.tenantId })).body.item).toBe('added');
    const [again] = await overageItems(s.subscription);
    expect(again!.id).not.toBe(item!.id);
  });

  it('keeps a reported item until the renewal invoice billed it, then removes it', async () => {
    const s = await paidShop('metered');
    await runJob(s.tenantId);
    await send(s.tenantId, STARTER_CAP + 6);
    await runJob(s.tenantId);
    await setPolicy(s.owner, s.tenantId, 'hard_stop');
    const deferred = await invoke(s.owner.client, 'stripe-overage', { tenant_id: s.tenantId });
    expect(deferred.body.item).toBe('removal_deferred');
    expect(await overageItems(s.subscription)).toHaveLength(1);

    const renewed = await renew(s.subscription);
    const invoiceEvent = renewed.events.find((e: { type: string }) => e.type === 'invoice.paid');
    const invoice = await stripe.invoices.retrieve(((await stripe.events.retrieve(invoiceEvent.id)).data.object as { id: string }).id);
    const meteredLine = invoice.lines.data.find((l) => l.quantity === 6);
    expect(meteredLine, JSON.stringify(invoice.lines.data.map((l) => [l.description, l.quantity, l.amount]))).toBeTruthy();
    expect(meteredLine!.amount).toBe(18); // 6 segments × 3 ¢

    await until('the quota period moved', async () => (await ledger(s.tenantId))[0]?.closed_at);
    const out = await runJob(s.tenantId);
    expect(out.items).toEqual({ removed: 1 });
    expect(await overageItems(s.subscription)).toHaveLength(0);
  });
});

describe('an overage item changed by hand in the Stripe Dashboard', () => {
  it('removed: the webhook forgets it, the next run re-adds exactly one, and later overage is billed', async () => {
    const s = await paidShop('metered');
    const [item] = await overageItems(s.subscription);
    await until('the webhook recorded the item', async () => (await recordedItem(s.tenantId))?.item_id === item!.id);

    await stripe.subscriptionItems.del(item!.id); // what the Dashboard does; Stripe sends customer.subscription.updated
    await until('the webhook forgot the item', async () => (await recordedItem(s.tenantId)) === null);
    const { rows: [evt] } = await db().query(
      `select result from public.stripe_events where type = 'customer.subscription.updated' and result like $1`,
      [`${s.subscription} %overage item gone at Stripe; forgotten`]);
    expect(evt).toBeTruthy();

    const out = await runJob(s.tenantId);
    expect(out.items).toEqual({ added: 1 });
    const again = await overageItems(s.subscription);
    expect(again).toHaveLength(1);
    expect(again[0]!.id).not.toBe(item!.id);
    expect((await recordedItem(s.tenantId))?.item_id).toBe(again[0]!.id);
    expect((await runJob(s.tenantId)).items).toEqual({ unchanged: 1 });
    expect(await overageItems(s.subscription)).toHaveLength(1);

    await send(s.tenantId, STARTER_CAP + 5);
    expect((await runJob(s.tenantId)).reported).toEqual({ events: 1, segments: 5 });
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 1, value: 5 }));
  });

  it('removed the same day stripe-overage added it: the re-add is a new item, not a replay of the first add', async () => {
    const s = await paidShop('hard_stop');
    await setPolicy(s.owner, s.tenantId, 'metered');
    expect((await invoke(s.owner.client, 'stripe-overage', { tenant_id: s.tenantId })).body.item).toBe('added');
    const [item] = await overageItems(s.subscription);
    await stripe.subscriptionItems.del(item!.id);
    await until('the webhook forgot the item', async () => (await recordedItem(s.tenantId)) === null);
    // The policy choice (and so the first idempotency key) is unchanged: Stripe would replay the deleted item.
    expect((await runJob(s.tenantId)).items).toEqual({ added: 1 });
    const again = await overageItems(s.subscription);
    expect(again.map((i) => i.id)).toHaveLength(1);
    expect(again[0]!.id).not.toBe(item!.id);
    expect((await recordedItem(s.tenantId))?.item_id).toBe(again[0]!.id);
  });

  it('added on a hard-stop shop: the webhook records it and the next run removes it', async () => {
    const s = await paidShop('hard_stop');
    const [price] = (await stripe.prices.list({ lookup_keys: [OVERAGE_LOOKUP_KEY], active: true, limit: 1 })).data;
    expect(price).toBeTruthy();
    const item = await stripe.subscriptionItems.create({ subscription: s.subscription, price: price!.id });
    await until('the webhook recorded the item', async () => (await recordedItem(s.tenantId))?.item_id === item.id);
    expect((await runJob(s.tenantId)).items).toEqual({ removed: 1 });
    expect(await overageItems(s.subscription)).toHaveLength(0);
    await until('the record is gone', async () => (await recordedItem(s.tenantId)) === null);
  });
});

describe('period rollover', () => {
  it('reports the old period\'s tail after the counters reset, timestamped inside the old period', async () => {
    const s = await paidShop('metered');
    await runJob(s.tenantId);
    await send(s.tenantId, STARTER_CAP + 3);
    await runJob(s.tenantId);
    await send(s.tenantId, 4); // the tail: never seen by a run before the renewal
    const [before] = await ledger(s.tenantId);
    expect(before).toMatchObject({ billable_segments: 3, reported_segments: 3 });

    await renew(s.subscription);
    const closed = await until('the old period closed', async () => {
      const rows = await ledger(s.tenantId);
      return rows[0]?.closed_at ? rows : null;
    });
    expect(closed[0]).toMatchObject({ billable_segments: 7, reported_segments: 3 });
    const { rows: [quota] } = await db().query('select sms_segments_used, period_start from public.tenant_quota where tenant_id = $1', [s.tenantId]);
    expect(quota.sms_segments_used).toBe(0);

    await runJob(s.tenantId);
    const rows = await ledger(s.tenantId);
    expect(rows[0]).toMatchObject({ billable_segments: 7, reported_segments: 7 });
    const tail = (await reports(s.tenantId)).find((r) => r.cumulative_segments === 7)!;
    expect(tail.segments).toBe(4);
    const oldStart = Math.floor(before!.period_start.getTime() / 1000);
    const oldEnd = Math.floor(before!.period_end.getTime() / 1000);
    expect(tail.event_timestamp.getTime() / 1000).toBeLessThan(oldEnd);
    expect(await usage(s.customer, { from: oldStart, to: oldEnd })).toEqual(expect.objectContaining({ value: 7 }));

    // The new period starts from zero: overage there needs the cap used up again.
    await send(s.tenantId, 10);
    await runJob(s.tenantId);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ value: 7 }));
  });
});

describe('a downgrade mid-period', () => {
  it('never bills segments that were within the plan the shop had when it sent them', async () => {
    const s = await paidShop('metered');
    await runJob(s.tenantId);
    // Simulate Pro's larger cap in use, then the plan going down to Starter with 400 already used.
    await db().query(`update public.tenants set plan = 'pro' where id = $1`, [s.tenantId]);
    await send(s.tenantId, 400);
    await db().query(`update public.tenants set plan = 'starter' where id = $1`, [s.tenantId]);
    await runJob(s.tenantId);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ value: 0 }));
    await send(s.tenantId, 5);
    await runJob(s.tenantId);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 1, value: 5 }));
  });
});

describe('an upgrade mid-period (stripe-change-plan)', () => {
  it('keeps the overage item, keeps what was billed, and bills again only past the new plan\'s cap', async () => {
    const s = await paidShop('metered');
    await runJob(s.tenantId);
    await send(s.tenantId, STARTER_CAP + 50);
    await runJob(s.tenantId);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ value: 50 }));

    const changed = await invoke(s.owner.client, 'stripe-change-plan', { tenant_id: s.tenantId, plan: 'pro' });
    expect(changed).toMatchObject({ status: 200, body: { plan: 'pro', changed: true } });
    const items = (await stripe.subscriptions.retrieve(s.subscription)).items.data;
    expect(items).toHaveLength(2);
    expect(items.filter((i) => i.price.lookup_key === OVERAGE_LOOKUP_KEY)).toHaveLength(1);
    expect(items.find((i) => i.price.lookup_key !== OVERAGE_LOOKUP_KEY)!.price.lookup_key).toBe('servicepro_pro_monthly');

    const { rows: [pro] } = await db().query(`select sms_segments from public.plans where id = 'pro'`);
    await send(s.tenantId, pro.sms_segments - (STARTER_CAP + 50)); // exactly Pro's cap: nothing new
    await runJob(s.tenantId);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ value: 50 }));
    await send(s.tenantId, 10);
    await runJob(s.tenantId);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 2, value: 60 }));
  });
});

// ---------------------------------------------------------------------------------------------- cron path
describe('the schedule', () => {
  it('pg_cron\'s tick queues a pg_net POST to stripe-overage with the Vault key, and that run reports', async () => {
    const s = await paidShop('metered');
    await runJob(s.tenantId);
    await send(s.tenantId, STARTER_CAP + 2);
    const { rows } = await db().query('select private.overage_cron_tick() as id');
    expect(rows[0].id).not.toBeNull();
    await until('the scheduled run reported', async () => (await usage(s.customer)).value === 2, 30_000);
    const { rows: jobs } = await db().query(`select schedule from cron.job where jobname = 'stripe-overage-report'`);
    expect(jobs).toEqual([{ schedule: '5,20,35,50 * * * *' }]);
  });
});

// ---------------------------------------------------------------------------------------------- cross-tenant
// ---------------------------------------------------------------------------------------------- who may go past the cap
describe('overage is allowed only where it is billed', () => {
  /** A zone where it is midday now, so quiet hours never defer the test's send. */
  function middayZone(): string {
    let h = 12 - new Date().getUTCHours();
    if (h > 14) h -= 24;
    if (h < -12) h += 24;
    return h === 0 ? 'Etc/UTC' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
  }
  const phone = () => `+1876${String(2_000_000 + Math.floor(Math.random() * 7_000_000)).slice(0, 7)}`;

  async function fillToCap(tenantId: string) {
    await db().query(`update public.tenants set time_zone = $2 where id = $1`, [tenantId, middayZone()]);
    await db().query(
      `update public.tenant_quota q set sms_segments_used = p.sms_segments
         from public.tenants t join public.plans p on p.id = t.plan
        where q.tenant_id = $1 and t.id = q.tenant_id`, [tenantId]);
  }

  it('a trialing shop that set metered through the API still stops at the cap: 402, nothing sent, nothing counted', async () => {
    const owner = await createPersona('trial-metered');
    const tenantId = must(await owner.client.rpc('create_tenant', { name: `Trial ${randomBytes(3).toString('hex')}`, ...SHOP_DEFAULTS }), 'shop') as string;
    await setPolicy(owner, tenantId, 'metered');
    await fillToCap(tenantId);
    const used = (await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [tenantId])).rows[0].sms_segments_used;
    expect(used).toBe(50); // the trial plan's cap

    const can = await owner.client.rpc('can_use', { tenant_id: tenantId, feature: 'sms' });
    expect(can.data).toMatchObject({ allowed: false, reason: 'cap_reached' });
    const r = await invoke(owner.client, 'send-sms',
      { tenant_id: tenantId, to: phone(), template: 'custom', body: 'Free texts past the trial?', idempotency_key: randomUUID() });
    expect([r.status, r.body.code]).toEqual([402, 'quota_exceeded']);
    // A pickup notice: the owner made a choice, so the nobody-chose exception does not apply either.
    const { rows: [c] } = await db().query(
      `insert into public.customers (tenant_id, name, phone) values ($1, 'Dana Lee', $2) returning id`, [tenantId, phone()]);
    const p = await invoke(owner.client, 'send-sms',
      { tenant_id: tenantId, customer_id: c.id, template: 'pickup_ready', idempotency_key: randomUUID() });
    expect([p.status, p.body.code]).toEqual([402, 'quota_exceeded']);
    expect((await db().query('select sms_segments_used from public.tenant_quota where tenant_id = $1', [tenantId])).rows[0].sms_segments_used).toBe(50);
    await runJob(tenantId);
    expect(await ledger(tenantId)).toEqual([]);
  });

  it('the same choice on a paying shop sends past the cap, and that segment is billed', async () => {
    const s = await paidShop('metered');
    await fillToCap(s.tenantId);
    const can = await s.owner.client.rpc('can_use', { tenant_id: s.tenantId, feature: 'sms' });
    expect(can.data).toMatchObject({ allowed: true, reason: 'metered_overage' });
    const r = await invoke(s.owner.client, 'send-sms',
      { tenant_id: s.tenantId, to: phone(), template: 'custom', body: 'One more', idempotency_key: randomUUID() });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await runJob(s.tenantId);
    expect(await usage(s.customer)).toEqual(expect.objectContaining({ events: 1, value: 1 }));
  });
});

describe('who can touch overage', () => {
  const TABLES = ['billing_overage_periods', 'billing_overage_reports', 'billing_overage_items'];

  it('no member (of this shop or another) reads or writes the ledger; only the service role does', async () => {
    for (const table of TABLES) {
      for (const p of [w.ownerA, w.adminA, w.ownerB]) {
        const read = await p.client.from(table).select('*').limit(1);
        expect(read.error?.code, `${p.label} reads ${table}`).toBe('42501');
        const write = await p.client.from(table).insert({ tenant_id: w.tenantA });
        expect(write.error?.code, `${p.label} writes ${table}`).toBe('42501');
      }
      expect((await w.anon.from(table).select('*').limit(1)).error?.code).toBe('42501');
      expect((await w.service.from(table).select('*').limit(1)).error).toBeNull();
    }
    for (const [fn, args] of [
      ['billing_overage_claim', {}], ['billing_overage_item_work', {}],
      ['billing_overage_mark', { report_id: '00000000-0000-4000-8000-000000000000', claim_token: '00000000-0000-4000-8000-000000000000', ok: true }],
      ['billing_overage_item_set', { tenant_id: w.tenantA, subscription_id: 'sub_x' }],
    ] as const) {
      const r = await w.ownerA.client.rpc(fn, args);
      expect(r.error?.code, fn).toBe('42501');
    }
  });

  it('stripe-overage: the anon key is 401, a technician 403, another shop\'s owner 404', async () => {
    expect((await invoke(w.anon, 'stripe-overage', { tenant_id: w.tenantA })).status).toBe(401);
    expect((await invoke(w.techA.client, 'stripe-overage', { tenant_id: w.tenantA })).body.code).toBe('forbidden');
    const other = await invoke(w.ownerB.client, 'stripe-overage', { tenant_id: w.tenantA });
    expect(other).toMatchObject({ status: 404, body: { code: 'tenant_not_found' } });
    const noShop = await invoke(w.ownerA.client, 'stripe-overage', { tenant_id: w.tenantA });
    expect(noShop).toMatchObject({ status: 200, body: { subscription: false, item: 'none' } });
    const bad = await invoke(w.ownerA.client, 'stripe-overage', { tenant_id: w.tenantA, extra: 1 });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid_body' } });
  });
});
