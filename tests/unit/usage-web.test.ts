/** The usage and admin screens' pure parts: cards, the limits cache (TTL, shared requests, refresh), CSV. */
import { describe, expect, it } from 'vitest';
import { isFresh, usageCards, type Limits, type UsageSummary } from '../../web/src/features/usage/model.ts';
import { createLimitsStore } from '../../web/src/features/usage/store.ts';
import { filterRows, parseOverview, sortRows, toCsv } from '../../web/src/features/admin/model.ts';

const limits = (used: number): Limits => ({
  tenantId: 't', plan: 'pro', planLabel: 'Pro', status: 'active', overagePolicy: 'hard_stop',
  period: { start: '2026-11-01T00:00:00Z', end: '2026-12-01T00:00:00Z' },
  limits: [{ key: 'sms_segments', used, cap: 1000, remaining: 1000 - used, percent: used / 10, exceeded: false }], features: [],
});

describe('limits cache', () => {
  it('serves fresh answers from cache, shares concurrent requests, refetches after the TTL and after refresh', async () => {
    let now = 0;
    let calls = 0;
    const store = createLimitsStore({ api: { async checkLimits() { calls++; return limits(calls); } }, now: () => now, ttl: 1000 });
    const [a, b] = await Promise.all([store.getState().get('t'), store.getState().get('t')]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
    now = 999;
    expect((await store.getState().get('t')).limits[0]!.used).toBe(1);
    now = 1000;
    expect((await store.getState().get('t')).limits[0]!.used).toBe(2);
    expect((await store.getState().refresh('t')).limits[0]!.used).toBe(3);
    store.getState().invalidate();
    expect(store.getState().byTenant).toEqual({});
    expect(isFresh(undefined, 0)).toBe(false);
  });
});

describe('usage cards', () => {
  it('shows used / cap, percent and forecast per metric', () => {
    const s = {
      currentPlan: { name: 'pro', label: 'Pro', monthlyPrice: 99, status: 'active', overagePolicy: 'hard_stop' },
      planLimits: { smsSegments: 1000, mmsMessages: 200, voiceMinutes: 1000, emails: 5000, aiRequests: 1000, ocrPages: 1000 },
      currentPeriod: { start: '', end: '', daysElapsed: 10, daysTotal: 30 },
      totalsForPeriod: { smsOutboundSegments: 850, smsInbound: 12, mmsOutbound: 0, voiceMinutesInbound: 5, voiceMinutesOutbound: 7, voiceMinutes: 12, emailsSent: 1, aiRequests: 2000, ocrPages: 0 },
      dailyUsage: [],
      forecast: { smsOutboundSegments: { projected: 2550, cap: 1000, projectedPercent: 255, willExceed: true } },
      alerts: [],
    } as UsageSummary;
    const cards = usageCards(s);
    expect(cards.map((c) => c.key)).toEqual(['smsOutboundSegments', 'mmsOutbound', 'voiceMinutes', 'emailsSent', 'aiRequests']);
    expect(cards[0]).toMatchObject({ used: 850, cap: 1000, percent: 85, forecast: { willExceed: true } });
    expect(cards[2]!.detail).toBe('5 in · 7 out');
    expect(cards[4]!.percent).toBe(100); // capped for the bar
  });
});

describe('admin overview', () => {
  const rows = parseOverview([
    { tenant_id: '1', name: 'Beta', plan: 'pro', plan_label: 'Pro', status: 'active', sms_outbound_segments: '20', margin_cents: '-5.5', opt_out_rate: null, carrier_error_rate: null },
    { tenant_id: '2', name: '=cmd()', plan: 'trial', plan_label: 'Free trial', status: 'trialing', sms_outbound_segments: 300, margin_cents: 10, opt_out_rate: 0.02, carrier_error_rate: null },
    { tenant_id: '3', name: 'alpha, "quoted"', plan: 'starter', plan_label: 'Starter', status: 'active', sms_outbound_segments: 5, margin_cents: 0, opt_out_rate: 0.1, carrier_error_rate: null },
  ]);
  it('sorts numerically (nulls last) and filters by name', () => {
    expect(sortRows(rows, 'sms_outbound_segments', 'desc').map((r) => r.tenant_id)).toEqual(['2', '1', '3']);
    expect(sortRows(rows, 'margin_cents', 'asc').map((r) => r.tenant_id)).toEqual(['1', '3', '2']);
    expect(sortRows(rows, 'opt_out_rate', 'asc').map((r) => r.tenant_id)).toEqual(['2', '3', '1']);
    expect(filterRows(rows, '  ALPHA ').map((r) => r.tenant_id)).toEqual(['3']);
  });
  it('writes RFC 4180 CSV and defuses formulas', () => {
    const csv = toCsv(rows);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^Tenant ID,Shop,Plan,Status,SMS segments/);
    expect(lines[2]).toContain(`'=cmd()`);
    expect(lines[3]).toContain('"alpha, ""quoted"""');
    expect(lines[1]).toContain(',-5.5,');
  });
});
