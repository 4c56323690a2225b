/**
 * The overage module and the stripe-overage handler with fake Stripe and database clients: which Stripe calls a
 * subscription-item sync makes (and with which idempotency keys), how a report run claims, sends and marks, and
 * who may call the function. The ledger itself is tested on Postgres in tests/features/billing-overage.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import type { SupabaseClient } from '@supabase/supabase-js';
import {
  meterEventIdentifier, meterTimestamp, OVERAGE_LOOKUP_KEY, overageItemOf, reconcileOverageItem, reportOverage,
  resolveOveragePrice, syncOverageItem,
  type ClaimedReport, type ItemWork, type OverageDeps,
} from '../../supabase/functions/_shared/billing/overage.ts';
import { createHandler, parseBody } from '../../supabase/functions/stripe-overage/handler.ts';
import { createLogger } from '../../supabase/functions/_shared/log.ts';

const TENANT = '11111111-1111-4111-8111-111111111111';
const log = createLogger('test', { sink: () => {} });

type Call = { fn: string; args: unknown[] };

function fakeDb(rpc: (fn: string, args: Record<string, unknown>) => { data: unknown; error: { message: string } | null }) {
  const calls: Call[] = [];
  const db = {
    rpc: async (fn: string, args: Record<string, unknown>) => { calls.push({ fn, args: [args] }); return rpc(fn, args); },
    from: (table: string) => ({
      select: () => ({
        eq: () => ({
          single: async () => ({ data: { overage_policy: 'metered' }, error: null }),
          eq: () => ({ maybeSingle: async () => ({ data: table === 'memberships' ? { role: 'owner' } : null, error: null }) }),
        }),
      }),
    }),
  };
  return { db: db as unknown as SupabaseClient, calls };
}

function fakeStripe(overrides: Record<string, (...a: any[]) => unknown> = {}) {
  const calls: Call[] = [];
  const rec = (fn: string, impl: (...a: any[]) => unknown) => async (...args: unknown[]) => {
    calls.push({ fn, args });
    return impl(...args);
  };
  const impl = (fn: string, dflt: (...a: any[]) => unknown) => rec(fn, overrides[fn] ?? dflt);
  const stripe = {
    prices: {
      list: impl('prices.list', () => ({ data: [] })),
      create: impl('prices.create', () => ({ id: 'price_overage_new' })),
    },
    billing: {
      meters: {
        list: impl('meters.list', () => ({ data: [] })),
        create: impl('meters.create', () => ({ id: 'mtr_test_1', event_name: 'sms_overage_segments' })),
      },
      meterEvents: { create: impl('meterEvents.create', () => ({ object: 'billing.meter_event' })) },
    },
    subscriptions: { retrieve: impl('subscriptions.retrieve', () => ({ items: { data: [{ id: 'si_plan', price: { id: 'price_plan' } }] } })) },
    subscriptionItems: {
      create: impl('subscriptionItems.create', () => ({ id: 'si_new' })),
      del: impl('subscriptionItems.del', () => ({ id: 'si_old', deleted: true })),
    },
  };
  return { stripe: stripe as unknown as Stripe, calls };
}

const work = (over: Partial<ItemWork> = {}): ItemWork => ({
  tenant_id: TENANT, overage_policy: 'metered', policy_chosen_at: '2026-11-22 09:15:30.123456+00',
  stripe_customer_id: 'cus_1', subscription_id: 'sub_1', subscription_status: 'active', item_id: null,
  item_price_id: null, removable: true, ...over,
});

function deps(stripe: Stripe, db: SupabaseClient, over: Partial<OverageDeps> = {}): OverageDeps {
  return { stripe, db, overage: { priceId: 'price_overage', eventName: 'sms_overage_segments', createMissing: false }, log, ...over };
}

describe('identifiers and timestamps', () => {
  it('builds <tenant>:<period start, unix>:<cumulative>, the same string the SQL ledger builds', () => {
    expect(meterEventIdentifier(TENANT, '2026-11-01T10:00:00Z', 12)).toBe(`${TENANT}:1793527200:12`);
    expect(meterEventIdentifier(TENANT, new Date('2026-11-01T10:00:00.000Z'), 12).length).toBeLessThanOrEqual(100);
  });

  it('never sends a timestamp in the future or older than Stripe accepts (35 days)', () => {
    const now = Date.parse('2026-11-22T12:00:00Z');
    expect(meterTimestamp('2026-11-22T11:00:00Z', now)).toBe(now / 1000 - 3600);
    expect(meterTimestamp('2026-12-22T00:00:00Z', now)).toBe(now / 1000);
    expect(meterTimestamp('2026-09-01T00:00:00Z', now)).toBe(now / 1000 - 34 * 86_400);
  });
});

describe('resolveOveragePrice', () => {
  it('uses STRIPE_PRICE_SMS_OVERAGE without calling Stripe', async () => {
    const { stripe, calls } = fakeStripe();
    expect(await resolveOveragePrice(deps(stripe, fakeDb(() => ({ data: null, error: null })).db))).toBe('price_overage');
    expect(calls).toEqual([]);
  });

  it('in production, without a configured or looked-up price, fails naming the variable', async () => {
    const { stripe } = fakeStripe();
    const d = deps(stripe, fakeDb(() => ({ data: null, error: null })).db, { overage: { eventName: 'sms_overage_segments', createMissing: false } });
    await expect(resolveOveragePrice(d)).rejects.toMatchObject({ status: 500, code: 'price_not_configured' });
  });

  it('against the emulator creates the meter (sum, by stripe_customer_id) and a metered price on it', async () => {
    const { stripe, calls } = fakeStripe();
    const d = deps(stripe, fakeDb(() => ({ data: null, error: null })).db, { overage: { eventName: 'sms_overage_segments', createMissing: true } });
    expect(await resolveOveragePrice(d)).toBe('price_overage_new');
    const meter = calls.find((c) => c.fn === 'meters.create')!;
    expect(meter.args[0]).toMatchObject({ event_name: 'sms_overage_segments', default_aggregation: { formula: 'sum' },
      customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' } });
    const price = calls.find((c) => c.fn === 'prices.create')!;
    expect(price.args[0]).toMatchObject({ lookup_key: OVERAGE_LOOKUP_KEY,
      recurring: { interval: 'month', usage_type: 'metered', meter: 'mtr_test_1' } });
    expect(String((price.args[0] as { unit_amount_decimal: unknown }).unit_amount_decimal)).toBe('3');
  });
});

describe('syncOverageItem', () => {
  it('adds the metered item with an idempotency key tied to this policy choice, then records it', async () => {
    const { stripe, calls } = fakeStripe();
    const { db, calls: rpcs } = fakeDb(() => ({ data: null, error: null }));
    expect(await syncOverageItem(deps(stripe, db), work())).toBe('added');
    const create = calls.find((c) => c.fn === 'subscriptionItems.create')!;
    expect(create.args[0]).toMatchObject({ subscription: 'sub_1', price: 'price_overage' });
    expect(create.args[0]).not.toHaveProperty('quantity');
    expect((create.args[1] as { idempotencyKey: string }).idempotencyKey)
      .toBe('servicepro-overage-item-sub_1-price_overage-20261122091530123456' + '00');
    expect(rpcs).toEqual([{ fn: 'billing_overage_item_set', args: [{ tenant_id: TENANT, subscription_id: 'sub_1', item_id: 'si_new', price_id: 'price_overage' }] }]);
  });

  it('records an item the subscription already has (checkout added it) instead of adding a second', async () => {
    const { stripe, calls } = fakeStripe({
      'subscriptions.retrieve': () => ({ items: { data: [{ id: 'si_plan', price: { id: 'price_plan' } }, { id: 'si_over', price: { id: 'price_overage' } }] } }),
    });
    const { db, calls: rpcs } = fakeDb(() => ({ data: null, error: null }));
    expect(await syncOverageItem(deps(stripe, db), work())).toBe('found');
    expect(calls.map((c) => c.fn)).not.toContain('subscriptionItems.create');
    expect((rpcs[0]!.args[0] as { item_id: string }).item_id).toBe('si_over');
  });

  it('removes the item of a hard-stop shop when nothing reported waits for an invoice; a gone item counts as removed', async () => {
    const gone = Object.assign(new Error('No such subscription item'), { statusCode: 404, code: 'resource_missing' });
    const { stripe, calls } = fakeStripe({ 'subscriptionItems.del': () => { throw gone; } });
    const { db, calls: rpcs } = fakeDb(() => ({ data: null, error: null }));
    expect(await syncOverageItem(deps(stripe, db), work({ overage_policy: 'hard_stop', item_id: 'si_old' }))).toBe('removed');
    expect(calls.find((c) => c.fn === 'subscriptionItems.del')!.args[0]).toBe('si_old');
    expect((rpcs[0]!.args[0] as { item_id: unknown }).item_id).toBeNull();
  });

  it('keeps the item while reported usage is not invoiced yet, and leaves matching shapes alone', async () => {
    const { stripe, calls } = fakeStripe();
    const { db } = fakeDb(() => ({ data: null, error: null }));
    expect(await syncOverageItem(deps(stripe, db), work({ overage_policy: 'hard_stop', item_id: 'si_old', removable: false }))).toBe('removal_deferred');
    expect(await syncOverageItem(deps(stripe, db), work({ item_id: 'si_x' }))).toBe('unchanged');
    expect(await syncOverageItem(deps(stripe, db), work({ overage_policy: 'hard_stop' }))).toBe('unchanged');
    expect(calls).toEqual([]);
  });
});

const claimed = (over: Partial<ClaimedReport> = {}): ClaimedReport => ({
  report_id: 'r1', tenant_id: TENANT, period_start: '2026-11-01T10:00:00Z', period_end: '2026-12-01T10:00:00Z',
  closed: false, identifier: `${TENANT}:1793527200:7`, segments: 7, cumulative_segments: 7, stripe_customer_id: 'cus_1',
  event_timestamp: '2026-11-22T11:00:00Z', claim_token: 'tok', ...over,
});

describe('syncOverageItem after the item was removed by hand', () => {
  it('a replayed add whose item is gone is not an add: the next key names the gone item, and that item is recorded', async () => {
    // The fetch client's lastResponse is the Response itself (Headers), as in the functions.
    const replay = (id: string) => Object.defineProperty({ id }, 'lastResponse', { value: new Response('{}', { headers: { 'Idempotent-Replayed': 'true' } }) });
    const keys: string[] = [];
    const { stripe, calls } = fakeStripe({
      'subscriptionItems.create': (_p: unknown, o: { idempotencyKey: string }) => {
        keys.push(o.idempotencyKey);
        return keys.length === 1 ? replay('si_gone') : { id: 'si_fresh' };
      },
    });
    const { db, calls: rpcs } = fakeDb(() => ({ data: null, error: null }));
    expect(await syncOverageItem(deps(stripe, db), work())).toBe('added');
    expect(keys).toEqual([
      'servicepro-overage-item-sub_1-price_overage-2026112209153012345600',
      'servicepro-overage-item-sub_1-price_overage-2026112209153012345600-after-si_gone',
    ]);
    expect(calls.filter((c) => c.fn === 'subscriptions.retrieve')).toHaveLength(2);
    expect((rpcs[0]!.args[0] as { item_id: string }).item_id).toBe('si_fresh');
  });

  it('a replayed add whose item is still there (a retry of the same switch) records that item', async () => {
    let reads = 0;
    const { stripe, calls } = fakeStripe({
      'subscriptions.retrieve': () => ({ items: { data: [{ id: 'si_plan', price: { id: 'price_plan' } },
        ...(reads++ ? [{ id: 'si_same', price: { id: 'price_overage' } }] : [])] } }),
      'subscriptionItems.create': () => Object.defineProperty({ id: 'si_same' }, 'lastResponse', { value: { headers: { 'idempotent-replayed': 'true' } } }),
    });
    const { db, calls: rpcs } = fakeDb(() => ({ data: null, error: null }));
    expect(await syncOverageItem(deps(stripe, db), work())).toBe('added');
    expect(calls.filter((c) => c.fn === 'subscriptionItems.create')).toHaveLength(1);
    expect((rpcs[0]!.args[0] as { item_id: string }).item_id).toBe('si_same');
  });
});

describe('reconcileOverageItem (stripe-webhook: Stripe is the source of truth for the item)', () => {
  const SUB = 'sub_1';
  const plan = { id: 'si_plan', price: { id: 'price_plan', lookup_key: 'servicepro_starter_monthly' } };
  const over = (id = 'si_over', price = { id: 'price_overage_x', lookup_key: OVERAGE_LOOKUP_KEY as string | null }) => ({ id, price });

  /** A service client whose billing_overage_items holds `row` (or an error). */
  function itemsDb(row: { subscription_id: string; item_id: string; price_id: string } | null, readError: { message: string } | null = null) {
    const rpcs: Array<Record<string, unknown>> = [];
    const db = {
      from: (table: string) => {
        expect(table).toBe('billing_overage_items');
        return { select: () => ({ eq: (_c: string, v: string) => ({ maybeSingle: async () => {
          expect(v).toBe(TENANT);
          return { data: row, error: readError };
        } }) }) };
      },
      rpc: async (fn: string, args: Record<string, unknown>) => {
        expect(fn).toBe('billing_overage_item_set');
        rpcs.push(args);
        return { data: null, error: null };
      },
    };
    return { db: db as unknown as SupabaseClient, rpcs };
  }

  it('forgets a recorded item the subscription no longer carries (removed in the Dashboard)', async () => {
    const { db, rpcs } = itemsDb({ subscription_id: SUB, item_id: 'si_over', price_id: 'price_overage_x' });
    expect(await reconcileOverageItem(db, TENANT, { id: SUB, items: { data: [plan] } }, undefined))
      .toEqual({ outcome: 'forgotten', itemId: null });
    expect(rpcs).toEqual([{ tenant_id: TENANT, subscription_id: SUB, item_id: null, price_id: null }]);
  });

  it('records an item the subscription carries but nobody recorded (checkout, or added by hand on a hard-stop shop)', async () => {
    const { db, rpcs } = itemsDb(null);
    expect(await reconcileOverageItem(db, TENANT, { id: SUB, items: { data: [plan, over()] } }, undefined))
      .toEqual({ outcome: 'recorded', itemId: 'si_over' });
    expect(rpcs).toEqual([{ tenant_id: TENANT, subscription_id: SUB, item_id: 'si_over', price_id: 'price_overage_x' }]);
    // Known by the configured price too, without the lookup key.
    const b = itemsDb({ subscription_id: SUB, item_id: 'si_old', price_id: 'price_cfg' });
    expect((await reconcileOverageItem(b.db, TENANT, { id: SUB, items: { data: [plan, over('si_new', { id: 'price_cfg', lookup_key: null })] } }, 'price_cfg')).outcome)
      .toBe('recorded');
    expect(b.rpcs[0]).toMatchObject({ item_id: 'si_new', price_id: 'price_cfg' });
  });

  it('writes nothing when the record already matches, or when neither side has an item', async () => {
    const a = itemsDb({ subscription_id: SUB, item_id: 'si_over', price_id: 'price_overage_x' });
    expect((await reconcileOverageItem(a.db, TENANT, { id: SUB, items: { data: [plan, over()] } }, undefined)).outcome).toBe('unchanged');
    const b = itemsDb(null);
    expect((await reconcileOverageItem(b.db, TENANT, { id: SUB, items: { data: [plan] } }, undefined)).outcome).toBe('unchanged');
    // A row of an earlier subscription is not this one's record: nothing to forget here.
    const c = itemsDb({ subscription_id: 'sub_old', item_id: 'si_x', price_id: 'price_overage_x' });
    expect((await reconcileOverageItem(c.db, TENANT, { id: SUB, items: { data: [plan] } }, undefined)).outcome).toBe('unchanged');
    expect([...a.rpcs, ...b.rpcs, ...c.rpcs]).toEqual([]);
  });

  it('a database failure throws a retryable error (the webhook answers 500 and Stripe redelivers)', async () => {
    const { db } = itemsDb(null, { message: 'fetch failed' });
    await expect(reconcileOverageItem(db, TENANT, { id: SUB, items: { data: [plan] } }, undefined))
      .rejects.toMatchObject({ retryable: true });
  });

  it('overageItemOf prefers the recorded item when a subscription carries two', () => {
    expect(overageItemOf([plan, over('si_a'), over('si_b')], undefined, 'si_b')?.id).toBe('si_b');
    expect(overageItemOf([plan, over('si_a'), over('si_b')], undefined)?.id).toBe('si_a');
    expect(overageItemOf([plan], 'price_plan_not_overage')).toBeNull();
  });
});

describe('reportOverage', () => {
  it('sends each claimed delta as a meter event and marks it sent', async () => {
    let round = 0;
    const { db, calls: rpcs } = fakeDb((fn) => fn === 'billing_overage_claim' ? { data: round++ === 0 ? [claimed()] : [], error: null } : { data: true, error: null });
    const { stripe, calls } = fakeStripe();
    const r = await reportOverage(deps(stripe, db, { now: () => Date.parse('2026-11-22T12:00:00Z') }));
    expect(r).toEqual({ sent: 1, segments: 7, failed: 0, failures: [] });
    const send = calls.find((c) => c.fn === 'meterEvents.create')!;
    expect(send.args[0]).toEqual({ event_name: 'sms_overage_segments', identifier: `${TENANT}:1793527200:7`,
      payload: { stripe_customer_id: 'cus_1', value: '7' }, timestamp: Date.parse('2026-11-22T11:00:00Z') / 1000 });
    expect(rpcs.filter((c) => c.fn === 'billing_overage_mark').map((c) => c.args[0]))
      .toEqual([{ report_id: 'r1', claim_token: 'tok', ok: true, error: null }]);
  });

  it('a failed send is released with its error and ends the run; Stripe "already have it" counts as sent', async () => {
    const { db, calls: rpcs } = fakeDb((fn) => fn === 'billing_overage_claim'
      ? { data: [claimed(), claimed({ report_id: 'r2', identifier: 'x:1:3', segments: 3 })], error: null } : { data: true, error: null });
    const down = Object.assign(new Error('boom'), { type: 'StripeAPIError', statusCode: 500 });
    const dup = Object.assign(new Error('An event with identifier x:1:3 already exists.'), { type: 'StripeInvalidRequestError', statusCode: 400 });
    const { stripe } = fakeStripe({ 'meterEvents.create': (p: { identifier: string }) => { throw p.identifier === 'x:1:3' ? dup : down; } });
    const r = await reportOverage(deps(stripe, db));
    expect(r).toMatchObject({ sent: 1, segments: 3, failed: 1 });
    expect(r.failures[0]!.error).toMatch(/StripeAPIError 500/);
    const marks = rpcs.filter((c) => c.fn === 'billing_overage_mark').map((c) => c.args[0] as { ok: boolean; error: string | null });
    expect(marks.map((m) => m.ok)).toEqual([false, true]);
    expect(rpcs.filter((c) => c.fn === 'billing_overage_claim')).toHaveLength(1); // no second round after a failure
  });
});

describe('stripe-overage handler', () => {
  const SERVICE = 'service-role-key-for-tests';
  function handler(over: { getUser?: () => Promise<unknown> } = {}) {
    const { db, calls } = fakeDb((fn) => ({ data: fn === 'billing_overage_claim' || fn === 'billing_overage_item_work' ? [] : null, error: null }));
    const { stripe } = fakeStripe();
    const h = createHandler({
      serviceRoleKey: SERVICE, db, stripe, log,
      auth: { getUser: (over.getUser ?? (async () => null)) as never },
      overage: { priceId: 'price_overage', eventName: 'sms_overage_segments', createMissing: false },
    });
    return { h, calls };
  }
  const post = (auth: string | null, body: unknown) => new Request('http://x/stripe-overage', {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
  });

  it('the service role runs every shop (or one) and answers what it did', async () => {
    const { h, calls } = handler();
    const res = await h(post(SERVICE, {}));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: {}, reported: { events: 0, segments: 0 }, failures: [] });
    expect(calls.map((c) => c.fn)).toEqual(['billing_overage_item_work', 'billing_overage_claim']);
    expect(calls[0]!.args[0]).toEqual({ for_tenant: null });
  });

  it('anyone else needs a signed-in user (401), and bad bodies are 400', async () => {
    expect((await handler().h(post('not-a-user', { tenant_id: TENANT }))).status).toBe(401);
    expect((await handler().h(post(null, { tenant_id: TENANT }))).status).toBe(401);
    expect(() => parseBody({ tenant_id: 'nope' })).toThrow(/tenant_id/);
    expect(() => parseBody({ tenant_id: TENANT, plan: 'pro' })).toThrow(/Unknown field/);
    expect(() => parseBody([])).toThrow(/JSON object/);
    expect(parseBody({})).toEqual({ tenantId: null });
    const res = await handler().h(new Request('http://x/stripe-overage', { method: 'GET' }));
    expect(res.status).toBe(405);
  });
});
