/**
 * The billing page's overage switch (store with a fake api): after saving the policy it says what it means, and
 * when Stripe could not be updated right away (stripe-overage unreachable) it says the scheduled run catches up.
 */
import { describe, expect, it, vi } from 'vitest';
import { createBillingStore } from '../../web/src/features/billing/store.ts';
import type { BillingApi } from '../../web/src/features/billing/api.ts';
import { formatSegmentPrice, overagePriceText, parsePlans, type Plan } from '../../web/src/features/billing/model.ts';

function fakeApi(synced: boolean | undefined, plans: Plan[] = []): BillingApi {
  return {
    plans: vi.fn(async () => plans),
    billing: vi.fn(async () => null),
    tenant: vi.fn(async () => ({ status: 'active' as const, plan: 'starter', trialEndsAt: null, overagePolicy: 'metered' as const, overageChosenAt: '2026-11-22T09:00:00Z' })),
    setOveragePolicy: vi.fn(async () => (synced === undefined ? undefined : { synced })),
    standing: vi.fn(async () => 'ok' as const),
    checkout: vi.fn(async () => ''),
    portal: vi.fn(async () => ''),
    changePlan: vi.fn(async () => ({ plan: 'starter', status: 'active' })),
  };
}

describe('overage switch', () => {
  it('metered: billed at $0.03 per segment; synced at once, nothing more to say', async () => {
    const s = createBillingStore({ api: fakeApi(true), go: vi.fn() });
    await s.getState().load('t1', { canManage: true });
    await s.getState().setOveragePolicy('metered');
    expect(s.getState().notice).toBe('Past your plan\'s texts, each extra segment is billed at $0.03 on your subscription.');
  });

  it('hard stop: extra segments already sent stay billed; an unreachable Stripe update is caught up by the schedule', async () => {
    const s = createBillingStore({ api: fakeApi(false), go: vi.fn() });
    await s.getState().load('t1', { canManage: true });
    await s.getState().setOveragePolicy('hard_stop');
    expect(s.getState().notice).toMatch(/sending stops.*already sent this period stay on the next invoice.*within 15 minutes/);
  });

  it('says the price of the shop\'s own plan, not a constant', async () => {
    const [starter] = parsePlans([{ id: 'starter', label: 'Starter', monthly_price_cents: 4900, sms_segments: 300,
      overage_cents_per_segment: 2.5, sort_order: 1 }]);
    const s = createBillingStore({ api: fakeApi(true, [starter!]), go: vi.fn() });
    await s.getState().load('t1', { canManage: true });
    await s.getState().setOveragePolicy('metered');
    expect(s.getState().notice).toBe('Past your plan\'s texts, each extra segment is billed at $0.025 on your subscription.');
  });
});

describe('segment prices', () => {
  it('reads as dollars with at least two decimals; unknown plans fall back to the default 3 cents', () => {
    expect([formatSegmentPrice(3), formatSegmentPrice(2.5), formatSegmentPrice(10)]).toEqual(['$0.03', '$0.025', '$0.10']);
    expect(overagePriceText([], 'pro')).toBe('$0.03');
  });
});

