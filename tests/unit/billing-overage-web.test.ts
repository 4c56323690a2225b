/**
 * The billing page's overage switch (store with a fake api): after saving the policy it says what it means, and
 * when Stripe could not be updated right away (stripe-overage unreachable) it says the scheduled run catches up.
 */
import { describe, expect, it, vi } from 'vitest';
import { createBillingStore } from '../../web/src/features/billing/store.ts';
import type { BillingApi } from '../../web/src/features/billing/api.ts';

function fakeApi(synced: boolean | undefined): BillingApi {
  return {
    plans: vi.fn(async () => []),
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
});
