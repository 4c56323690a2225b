/**
 * The PWA's billing model and store (fake api), and the lib-level feature wall's parsing and wording.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  CHECKOUT_POLL, bannerFor, checkoutNotice, comparisonRows, parsePlans, planAction, trialDaysLeft, type Plan,
} from '../../web/src/features/billing/model.ts';
import { createBillingStore } from '../../web/src/features/billing/store.ts';
import type { BillingApi } from '../../web/src/features/billing/api.ts';
import { AppError } from '../../web/src/lib/errors.ts';
import { featureWallDetailOf, wallSentence } from '../../web/src/lib/featureWall.ts';

const ROWS = [
  { id: 'pro', label: 'Pro', monthly_price_cents: 9900, trial_days: null, sms_segments: 1000, mms_messages: 200, voice_minutes: 1000, emails: 5000, ai_requests: 1000, sends_per_minute: 60, features: ['campaigns', 'ai_sms_agent'], sort_order: 2 },
  { id: 'trial', label: 'Free trial', monthly_price_cents: 0, trial_days: 14, sms_segments: 50, mms_messages: 10, voice_minutes: 60, emails: 200, ai_requests: 100, sends_per_minute: 10, features: ['campaigns'], sort_order: 0 },
  { id: 'starter', label: 'Starter', monthly_price_cents: 4900, trial_days: null, sms_segments: 300, mms_messages: 50, voice_minutes: 200, emails: 1000, ai_requests: 200, sends_per_minute: 20, features: ['data_export'], sort_order: 1 },
];
const plans = parsePlans(ROWS);
const byId = (id: string) => plans.find((p) => p.id === id) as Plan;

describe('billing model', () => {
  it('orders plans and builds the comparison table from the rows (no limit written twice)', () => {
    expect(plans.map((p) => p.id)).toEqual(['trial', 'starter', 'pro']);
    const rows = comparisonRows(plans);
    expect(rows.find((r) => r.label === 'SMS segments / month')?.cells).toEqual(['50', '300', '1,000']);
    expect(rows.find((r) => r.label === 'Price')?.cells).toEqual(['Free', '$49/mo', '$99/mo']);
    expect(rows.find((r) => r.label === 'Campaigns')?.cells).toEqual([true, false, true]);
    expect(rows.some((r) => r.label === 'AI voice agent')).toBe(false); // no plan here has it
  });

  it('offers Subscribe without a live subscription, Upgrade/Downgrade with one, and marks the current plan', () => {
    expect(planAction(byId('pro'), byId('trial'), false)).toBe('subscribe');
    expect(planAction(byId('trial'), byId('trial'), false)).toBe('current');
    expect(planAction(byId('pro'), byId('starter'), true)).toBe('upgrade');
    expect(planAction(byId('starter'), byId('pro'), true)).toBe('downgrade');
    expect(planAction(byId('pro'), byId('pro'), true)).toBe('current');
    expect(planAction(byId('trial'), byId('pro'), true)).toBe('none');
  });

  it('counts trial days up, and shows a banner per standing', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    expect(trialDaysLeft('2026-11-24T11:00:00Z', now)).toBe(2);
    expect(trialDaysLeft('2026-11-22T11:00:00Z', now)).toBe(0);
    expect(trialDaysLeft(null, now)).toBeNull();
    expect(bannerFor('ok')).toBeNull();
    expect(bannerFor('past_due')?.text).toMatch(/pickup notices still go out/);
    expect(bannerFor('suspended')?.text).toMatch(/data is safe/);
    expect(bannerFor('locked')?.title).toMatch(/trial has ended/);
  });
});

function fakeApi(over: Partial<BillingApi> = {}): BillingApi {
  return {
    plans: vi.fn(async () => plans),
    billing: vi.fn(async () => ({ status: 'active', plan: 'starter', currentPeriodEnd: null, cancelAtPeriodEnd: false, latestInvoiceStatus: 'paid', lastPaymentAt: null })),
    tenant: vi.fn(async () => ({ status: 'active' as const, plan: 'starter', trialEndsAt: null, overagePolicy: 'hard_stop' as const, overageChosenAt: null })),
    setOveragePolicy: vi.fn(async () => {}),
    standing: vi.fn(async () => 'ok' as const),
    checkout: vi.fn(async () => 'https://checkout.example/cs_1'),
    portal: vi.fn(async () => 'https://portal.example/bps_1'),
    changePlan: vi.fn(async () => ({ plan: 'pro', status: 'active' })),
    ...over,
  };
}

describe('billing store', () => {
  it('loads plans, shop, standing, and billing only for managers', async () => {
    const api = fakeApi();
    const s = createBillingStore({ api, go: vi.fn() });
    await s.getState().load('t1');
    expect(s.getState()).toMatchObject({ status: 'ready', standing: 'ok', billing: null });
    expect(api.billing).not.toHaveBeenCalled();
    await s.getState().load('t1', { canManage: true });
    expect(s.getState().billing?.status).toBe('active');
    expect(api.plans).toHaveBeenCalledTimes(1);
  });

  it('subscribe and portal leave for Stripe; a failure stays on the page as a message', async () => {
    const go = vi.fn();
    const api = fakeApi({ portal: vi.fn(async () => { throw new AppError('forbidden', 'Only owners and admins manage billing.', 403); }) });
    const s = createBillingStore({ api, go });
    await s.getState().load('t1', { canManage: true });
    await s.getState().subscribe('pro');
    expect(api.checkout).toHaveBeenCalledWith('t1', 'pro');
    expect(go).toHaveBeenCalledWith('https://checkout.example/cs_1');
    await s.getState().openPortal();
    expect(go).toHaveBeenCalledTimes(1);
    expect(s.getState()).toMatchObject({ busy: null, actionError: { code: 'forbidden' } });
  });

  it('change plan reloads and says the setup stays', async () => {
    const api = fakeApi();
    const s = createBillingStore({ api, go: vi.fn() });
    await s.getState().load('t1', { canManage: true });
    await s.getState().changePlan('pro');
    expect(api.changePlan).toHaveBeenCalledWith('t1', 'pro');
    expect(s.getState().notice).toMatch(/You are on Pro now.*your setup stays as it is/);
  });
});

describe('the rest of the app follows the plan', () => {
  it('reloads the shop list when a load finds another plan or status than the app shows (a late webhook after Checkout)', async () => {
    let shown = { plan: 'trial' as string | null, status: 'trialing' };
    const refresh = vi.fn(async () => { shown = { plan: 'starter', status: 'active' }; });
    const shops = { summary: (id: string) => (id === 't1' ? shown : null), refresh };
    let live = false;
    const api = fakeApi({
      tenant: vi.fn(async () => ({ status: live ? 'active' : 'trialing', plan: live ? 'starter' : 'trial', trialEndsAt: null, overagePolicy: 'hard_stop', overageChosenAt: null }) as const),
    });
    const s = createBillingStore({ api, go: vi.fn(), shops });
    // Back from Checkout, the webhook not in yet: the page and the app agree, nothing to reload.
    await s.getState().load('t1', { canManage: true });
    expect(refresh).not.toHaveBeenCalled();
    // A poll sees the subscription: the shop list is reloaded once, and later polls find them agreeing.
    live = true;
    await s.getState().load('t1', { canManage: true });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(shown).toEqual({ plan: 'starter', status: 'active' });
    await s.getState().load('t1', { canManage: true });
    expect(refresh).toHaveBeenCalledTimes(1);
    // A shop the app does not list (not loaded yet): nothing to compare with.
    await s.getState().load('t2', { canManage: true });
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});

describe('overage choice', () => {
  it('saves the policy, reloads the shop and says what it means', async () => {
    const api = fakeApi();
    const s = createBillingStore({ api, go: vi.fn() });
    await s.getState().load('t1', { canManage: true });
    await s.getState().setOveragePolicy('metered');
    expect(api.setOveragePolicy).toHaveBeenCalledWith('t1', 'metered');
    expect(s.getState().notice).toMatch(/\$0\.03/);
  });
});

describe('feature wall (lib)', () => {
  it('recognises the 402 body and words the wall', () => {
    const d = featureWallDetailOf({ code: 'feature_not_in_plan', message: '…', details: { feature: 'campaigns', required_plan: 'pro' } });
    expect(d).toEqual({ feature: 'campaigns', requiredPlan: 'pro' });
    expect(wallSentence(d!)).toBe('Campaigns is part of Pro — your setup stays as it is.');
    expect(featureWallDetailOf({ code: 'billing_inactive' })).toBeNull();
    expect(featureWallDetailOf(null)).toBeNull();
  });
});

describe('back from Stripe Checkout', () => {
  it('names the plan once the subscription is live, says it is on its way before, and nothing otherwise', () => {
    expect(checkoutNotice('success', true, 'Starter')).toEqual({ kind: 'success', text: 'Thank you! You are on Starter now, and its limits apply right away.' });
    // Stripe may redirect before its webhook reached us: the page says so and reloads by itself, for a bounded time.
    expect(checkoutNotice('success', false, 'Free trial')?.text).toMatch(/being activated; this page updates by itself/);
    expect(CHECKOUT_POLL.everyMs * CHECKOUT_POLL.times).toBeGreaterThanOrEqual(20_000);
    expect(CHECKOUT_POLL.everyMs * CHECKOUT_POLL.times).toBeLessThanOrEqual(60_000);
    expect(checkoutNotice('canceled', false, undefined)).toEqual({ kind: 'info', text: 'Checkout was canceled; nothing was charged.' });
    expect(checkoutNotice(null, true, 'Pro')).toBeNull();
    expect(checkoutNotice('bogus', false, 'Pro')).toBeNull();
  });
});
