/**
 * The pure half of billing: price → plan, Stripe subscription status → shop status, the standing rules (mirrors
 * of private.billing_tenant_status and private.tenant_standing), and the snapshot a re-fetched subscription
 * becomes (API 2025+: periods on items, invoice.parent.subscription_details.subscription).
 */
import { describe, expect, it } from 'vitest';
import {
  SUBSCRIPTION_STATUSES, cheapestPlanWith, invoiceSubscriptionId, lookupKeyFor, planForPrice, snapshotOf, standingOf,
  tenantStatusFor, type SubscriptionLike,
} from '../../supabase/functions/_shared/billing/model.ts';

const sub = (over: Partial<SubscriptionLike> = {}): SubscriptionLike => ({
  id: 'sub_1', customer: 'cus_1', status: 'active', created: 1_700_000_000, cancel_at_period_end: false,
  canceled_at: null, metadata: { tenant_id: '7d1b6f5e-8a7b-4c1e-9a51-0d3c3f1b2a10' },
  items: { data: [{ id: 'si_1', price: { id: 'price_pro', lookup_key: 'servicepro_pro_monthly' },
    current_period_start: 1_700_000_000, current_period_end: 1_702_592_000 }] },
  ...over,
});

describe('planForPrice', () => {
  it('prefers configured price ids, then our lookup key, then metadata.plan', () => {
    expect(planForPrice({ id: 'price_x', lookup_key: 'servicepro_pro_monthly' }, { elite: 'price_x' })).toBe('elite');
    expect(planForPrice({ id: 'price_y', lookup_key: lookupKeyFor('starter') }, {})).toBe('starter');
    expect(planForPrice({ id: 'price_z', lookup_key: null, metadata: { plan: 'pro' } }, {})).toBe('pro');
  });
  it('knows nothing of foreign prices, the trial or made-up plans', () => {
    expect(planForPrice({ id: 'price_q', lookup_key: 'other_monthly' }, {})).toBeNull();
    expect(planForPrice({ id: 'price_q', lookup_key: 'servicepro_trial_monthly' }, {})).toBeNull();
    expect(planForPrice({ id: 'price_q', metadata: { plan: 'platinum' } }, {})).toBeNull();
    expect(planForPrice(null, {})).toBeNull();
  });
});

describe('tenantStatusFor (the status machine)', () => {
  it.each([
    ['active', 'active'], ['trialing', 'active'], ['past_due', 'past_due'], ['unpaid', 'suspended'],
    ['canceled', 'suspended'], ['incomplete_expired', 'suspended'], ['paused', 'suspended'], ['incomplete', null],
  ] as const)('%s → %s', (stripe, tenant) => {
    expect(tenantStatusFor(stripe)).toBe(tenant);
  });
  it('covers every Stripe status', () => {
    for (const s of SUBSCRIPTION_STATUSES) expect(() => tenantStatusFor(s)).not.toThrow();
  });
});

describe('standingOf (mirror of private.tenant_standing)', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  it('trial within its days is ok; after it, locked', () => {
    expect(standingOf({ status: 'trialing', trial_ends_at: '2026-11-30T00:00:00Z' }, now)).toBe('ok');
    expect(standingOf({ status: 'trialing', trial_ends_at: '2026-11-22T11:59:59Z' }, now)).toBe('locked');
  });
  it('past_due holds for the grace period, then suspended', () => {
    expect(standingOf({ status: 'past_due', trial_ends_at: null, past_due_since: '2026-11-16T12:00:01Z' }, now)).toBe('past_due');
    expect(standingOf({ status: 'past_due', trial_ends_at: null, past_due_since: '2026-11-15T12:00:00Z' }, now)).toBe('suspended');
    expect(standingOf({ status: 'past_due', trial_ends_at: null, past_due_since: '2026-11-21T12:00:00Z', grace_days: 1 }, now)).toBe('suspended');
  });
  it('active is ok whatever the old trial date; suspended and canceled are suspended', () => {
    expect(standingOf({ status: 'active', trial_ends_at: '2020-01-01T00:00:00Z' }, now)).toBe('ok');
    expect(standingOf({ status: 'suspended', trial_ends_at: null }, now)).toBe('suspended');
    expect(standingOf({ status: 'canceled', trial_ends_at: null }, now)).toBe('suspended');
  });
});

describe('snapshotOf', () => {
  it('reads the period from the item (2025+ API) and the plan from the price', () => {
    const s = snapshotOf(sub(), {});
    expect(s).toMatchObject({
      subscriptionId: 'sub_1', customerId: 'cus_1', status: 'active', itemId: 'si_1', priceId: 'price_pro',
      plan: 'pro', periodStart: '2023-11-14T22:13:20.000Z', periodEnd: '2023-12-14T22:13:20.000Z',
      cancelAtPeriodEnd: false, canceledAt: null, tenantIdHint: '7d1b6f5e-8a7b-4c1e-9a51-0d3c3f1b2a10',
    });
  });
  it('falls back to the subscription-level period of older API versions, and expanded customers', () => {
    const s = snapshotOf(sub({
      customer: { id: 'cus_9' }, current_period_start: 10, current_period_end: 20,
      items: { data: [{ id: 'si_2', price: { id: 'price_s', lookup_key: 'servicepro_starter_monthly' } }] },
    }), {});
    expect(s.customerId).toBe('cus_9');
    expect(s.periodStart).toBe(new Date(10_000).toISOString());
    expect(s.plan).toBe('starter');
  });
  it('ignores a tenant hint that is not a uuid, and refuses unknown statuses', () => {
    expect(snapshotOf(sub({ metadata: { tenant_id: "x' or 1=1" } }), {}).tenantIdHint).toBeNull();
    expect(() => snapshotOf(sub({ status: 'exploded' }), {})).toThrow(/unknown subscription status/);
  });
  it('records cancellation fields', () => {
    const s = snapshotOf(sub({ status: 'canceled', cancel_at_period_end: true, canceled_at: 1_700_000_100 }), {});
    expect(s.cancelAtPeriodEnd).toBe(true);
    expect(s.canceledAt).toBe(new Date(1_700_000_100_000).toISOString());
  });
});

describe('invoiceSubscriptionId', () => {
  it('reads parent.subscription_details.subscription, else the legacy field', () => {
    expect(invoiceSubscriptionId({ parent: { subscription_details: { subscription: 'sub_a' } } })).toBe('sub_a');
    expect(invoiceSubscriptionId({ parent: { subscription_details: { subscription: { id: 'sub_b' } } } })).toBe('sub_b');
    expect(invoiceSubscriptionId({ subscription: 'sub_c' })).toBe('sub_c');
    expect(invoiceSubscriptionId({ parent: null })).toBeNull();
  });
});

describe('cheapestPlanWith', () => {
  const plans = [
    { id: 'trial', monthly_price_cents: 0, features: ['campaigns', 'ai_sms_agent'] },
    { id: 'elite', monthly_price_cents: 19900, features: ['campaigns', 'ai_voice_agent'] },
    { id: 'pro', monthly_price_cents: 9900, features: ['campaigns'] },
    { id: 'starter', monthly_price_cents: 4900, features: ['data_export'] },
  ];
  it('names the cheapest paid plan with the feature (never the trial)', () => {
    expect(cheapestPlanWith(plans, 'campaigns')?.id).toBe('pro');
    expect(cheapestPlanWith(plans, 'ai_voice_agent')?.id).toBe('elite');
    expect(cheapestPlanWith(plans, 'ai_sms_agent')).toBeNull();
  });
});
