/**
 * The PWA as one product: role-aware navigation (phone bar ≤ 5 thumb targets), the current entry per path, the
 * app-wide outbox line, the owner dashboard's pure parts and the shop settings' validation and preview.
 */
import { describe, expect, it } from 'vitest';
import { NAV_ITEMS, currentNavItem, navItemsFor } from '../../web/src/app/nav.ts';
import { countEntries, describeOutbox, outboxStatus, publishOutboxCounts } from '../../web/src/lib/outboxStatus.ts';
import { failureReason, quotaWords, smsQuota, startOfDayIn } from '../../web/src/features/home/model.ts';
import { createDashboardStore } from '../../web/src/features/home/store.ts';
import type { DashboardApi } from '../../web/src/features/home/api.ts';
import {
  DEFAULT_SETTINGS, draftFrom, normaliseTime, previewTemplate, templateWarnings, unknownMergeFields, validateSettings, type ShopSettings,
} from '../../web/src/features/settings/model.ts';
import { createSettingsStore } from '../../web/src/features/settings/store.ts';
import type { SettingsApi } from '../../web/src/features/settings/api.ts';
import { AppError } from '../../web/src/lib/errors.ts';
import { memoryStorage } from '../../web/src/lib/storage.ts';
import { createTenancyStore, TENANTS_CACHE_KEY } from '../../web/src/features/tenancy/store.ts';
import type { TenancyApi } from '../../web/src/features/tenancy/api.ts';
import type { TenantSummary } from '../../web/src/features/tenancy/model.ts';
import { decide } from '../../web/src/app/guard.ts';

describe('navigation', () => {
  const labels = (items: { label: string }[]) => items.map((i) => i.label);
  it('technicians see no owner-only entries and no Admin', () => {
    expect(labels(navItemsFor('technician', false))).toEqual(['Home', 'Snap', 'Customers', 'Outbox', 'Members', 'Phone']);
  });
  it('owners and admins see Usage & Billing and Settings; platform admins also Admin', () => {
    expect(labels(navItemsFor('owner', false))).toEqual(['Home', 'Snap', 'Customers', 'Outbox', 'Usage & Billing', 'Members', 'Settings', 'Phone']);
    expect(labels(navItemsFor('admin', true))).toContain('Admin');
    expect(labels(navItemsFor('technician', true))).toEqual(['Home', 'Snap', 'Customers', 'Outbox', 'Members', 'Phone', 'Admin']);
  });
  it('someone acting for no shop (an operator with none) sees only Admin and "Create a shop", both on the bar', () => {
    const operator = navItemsFor(null, true);
    expect(labels(operator)).toEqual(['Admin', 'Create a shop']);
    expect(operator.every((i) => i.primary)).toBe(true);
    expect(currentNavItem(operator, '/admin')).toBe('/admin');
    expect(currentNavItem(operator, '/')).toBeNull();
    expect(labels(navItemsFor(undefined, false))).toEqual(['Create a shop']);
    // Members of a shop never see "Create a shop" in the navigation (the shop switcher offers it).
    for (const role of ['owner', 'admin', 'technician'] as const) expect(labels(navItemsFor(role, true))).not.toContain('Create a shop');
  });
  it('the phone bar has at most four primary entries (plus More: five thumb targets at most)', () => {
    for (const role of ['owner', 'admin', 'technician'] as const) {
      expect(navItemsFor(role, true).filter((i) => i.primary).length).toBeLessThanOrEqual(4);
    }
    expect(NAV_ITEMS.find((i) => i.label === 'Snap')?.primary).toBe(true);
  });
  it('marks the longest matching entry as current', () => {
    const items = navItemsFor('owner', true);
    expect(currentNavItem(items, '/')).toBe('/');
    expect(currentNavItem(items, '/settings/phone')).toBe('/settings/phone');
    expect(currentNavItem(items, '/settings')).toBe('/settings');
    expect(currentNavItem(items, '/billing')).toBe('/usage');
    expect(currentNavItem(items, '/customers/abc/thread')).toBe('/customers');
    // The outbox is its own entry (under More on a phone), not a part of Customers.
    expect(currentNavItem(items, '/outbox')).toBe('/outbox');
    expect(currentNavItem(navItemsFor('technician', false), '/outbox')).toBe('/outbox');
    expect(currentNavItem(items, '/capture/review/x')).toBe('/capture');
    expect(currentNavItem(items, '/capturex')).toBeNull();
    expect(currentNavItem(items, '/nowhere')).toBeNull();
  });
});

describe('outbox line', () => {
  it('counts failed (permanent) apart from waiting, and says it in words', () => {
    expect(countEntries([{ state: 'queued' }, { state: 'failed', permanent: true }, { state: 'sending' }])).toEqual({ pending: 2, failed: 1 });
    publishOutboxCounts('sends', { pending: 2, failed: 1 });
    publishOutboxCounts('captures', { pending: 1, failed: 0 });
    expect(describeOutbox(outboxStatus.getState())).toEqual({ waiting: '2 texts and 1 photo waiting to send', failed: '1 text could not be sent' });
    publishOutboxCounts('sends', { pending: 0, failed: 0 });
    publishOutboxCounts('captures', { pending: 0, failed: 0 });
    expect(describeOutbox(outboxStatus.getState())).toBeNull();
  });
});

describe('owner dashboard', () => {
  it('"today" starts at midnight in the shop\'s time zone, DST included', () => {
    // 2026-03-08 is the US spring-forward day; 15:00 UTC is 10:00 CDT
    expect(startOfDayIn('America/Chicago', new Date('2026-03-08T15:00:00Z')).toISOString()).toBe('2026-03-08T06:00:00.000Z');
    expect(startOfDayIn('America/Chicago', new Date('2026-07-01T03:00:00Z')).toISOString()).toBe('2026-06-30T05:00:00.000Z');
    expect(startOfDayIn('Europe/Berlin', new Date('2026-11-22T09:00:00Z')).toISOString()).toBe('2026-11-21T23:00:00.000Z');
    expect(startOfDayIn('UTC', new Date('2026-11-22T23:59:59Z')).toISOString()).toBe('2026-11-22T00:00:00.000Z');
    expect(startOfDayIn('Asia/Kolkata', new Date('2026-11-22T20:00:00Z')).toISOString()).toBe('2026-11-22T18:30:00.000Z');
  });
  it('explains failures in plain words', () => {
    expect(failureReason({ errorCode: 30003, errorMessage: null, status: 'undelivered' })).toBe('The phone is off or unreachable.');
    expect(failureReason({ errorCode: 99999, errorMessage: 'Carrier said no', status: 'failed' })).toBe('Carrier said no');
    expect(failureReason({ errorCode: null, errorMessage: null, status: 'undelivered' })).toBe('The carrier could not deliver it.');
  });
  it('turns check_limits into the quota bar, with words beyond the colour', () => {
    const limits = (used: number, cap: number, policy = 'hard_stop') => ({ overagePolicy: policy, period: { end: '2026-12-01T00:00:00Z' }, limits: [{ key: 'sms_segments', used, cap, exceeded: used > cap }] });
    expect(smsQuota(limits(50, 200))).toMatchObject({ percent: 25, exceeded: false });
    expect(quotaWords(smsQuota(limits(170, 200))!)).toBe('85% used: running low.');
    const chosen = { overageChosen: true, overageBilled: false, overageCentsPerSegment: null };
    // Hard stop chosen by an owner: every text stops at the cap.
    expect(quotaWords(smsQuota(limits(200, 200), chosen)!)).toBe('Used up: texting stops until the next period or an upgrade.');
    // Nobody chose (the default hard stop): pickup notices still go out past the cap.
    expect(quotaWords(smsQuota(limits(200, 200))!)).toBe('Used up: only “ready for pickup” notices still go out until the next period or an upgrade.');
    expect(smsQuota(limits(200, 200))).toMatchObject({ exceeded: true, overageChosen: false, overageBilled: false });
    // A paying shop on metered overage keeps sending, billed per extra segment.
    const billed = { overageChosen: true, overageBilled: true, overageCentsPerSegment: 3 };
    expect(quotaWords(smsQuota(limits(250, 200, 'metered'), billed)!)).toBe('Over the plan: texts keep going out; extra segments are billed at $0.03 each on the next invoice.');
    expect(quotaWords(smsQuota(limits(250, 200, 'metered'), { ...billed, overageCentsPerSegment: 2.5 })!)).toMatch(/at \$0\.025 each/);
    expect(quotaWords(smsQuota(limits(250, 200, 'metered'), { ...billed, overageCentsPerSegment: null })!)).toMatch(/are billed on the next invoice/);
    // Metered but not billable now (a trial): the server stops texts as for a chosen hard stop.
    expect(quotaWords(smsQuota(limits(250, 200, 'metered'), chosen)!)).toMatch(/^Used up: texting stops/);
    // "Billed" only ever with the metered policy.
    expect(smsQuota(limits(250, 200, 'hard_stop'), billed)?.overageBilled).toBe(false);
    expect(smsQuota({ overagePolicy: 'hard_stop', period: { end: 'x' }, limits: [] })).toBeNull();
  });
  it('loads each part on its own: one failing read leaves the others', async () => {
    const since: Date[] = [];
    const api: DashboardApi = {
      async timeZone() { return 'America/Chicago'; },
      async today(_t, s) { since.push(s); return { sent: 3, delivered: 2, failed: 1, scheduled: 0 }; },
      async failures() { throw new AppError('42501', 'nope', 403); },
      async quota() { return { used: 1, cap: 10, percent: 10, exceeded: false, overagePolicy: 'hard_stop', periodEnd: 'x', overageChosen: false, overageBilled: false, overageCentsPerSegment: null }; },
    };
    const store = createDashboardStore(api, () => new Date('2026-11-22T15:00:00Z'));
    await store.getState().load('t1');
    const s = store.getState();
    expect(s.today.data).toEqual({ sent: 3, delivered: 2, failed: 1, scheduled: 0 });
    expect(s.quota.data?.used).toBe(1);
    expect(s.failures).toEqual({ data: null, error: 'nope' });
    expect(s.loading).toBe(false);
    expect(since[0]!.toISOString()).toBe('2026-11-22T06:00:00.000Z');
  });
});

describe('shop settings', () => {
  const settings: ShopSettings = { ...DEFAULT_SETTINGS, googleReviewUrl: null, overagePolicy: 'hard_stop' };
  it('accepts the defaults and normalises what was typed', () => {
    const r = validateSettings({ ...draftFrom(settings), googleReviewUrl: ' https://g.page/r/abc/review ', quietStart: '9:00', reviewReminderDays: '' });
    expect(r.errors).toEqual({});
    expect(r.input).toMatchObject({ googleReviewUrl: 'https://g.page/r/abc/review', quietStart: '09:00', quietEnd: '21:00', reviewReminderDays: null });
    expect(normaliseTime('08:30:00')).toBe('08:30');
    expect(normaliseTime('24:00')).toBeNull();
  });
  it('refuses what the database would refuse, with a sentence per field', () => {
    const r = validateSettings({
      googleReviewUrl: 'http://example.com/x', quietStart: '07:30', quietEnd: '22:00', pickupTemplate: '  ',
      reviewTemplate: 'x'.repeat(1001), reviewReminderDays: '45',
    });
    expect(r.input).toBeNull();
    expect(Object.keys(r.errors).sort()).toEqual(['googleReviewUrl', 'pickupTemplate', 'quietEnd', 'quietStart', 'reviewReminderDays', 'reviewTemplate']);
    expect(r.errors.quietStart).toMatch(/before 08:00/);
    expect(validateSettings({ ...draftFrom(settings), quietStart: '18:00', quietEnd: '09:00' }).errors.quietEnd).toMatch(/end after it starts/);
    expect(validateSettings({ ...draftFrom(settings), reviewReminderDays: '2.5' }).errors.reviewReminderDays).toBeTruthy();
  });
  it('previews with sample values and counts segments like send-sms; warns on unknown merge fields', () => {
    const p = previewTemplate('Hi {first_name}, your {vehicle} is ready at {shop_name}.', 'Joe’s Garage');
    expect(p.text).toBe('Hi Alexandra, your 2019 Toyota Camry is ready at Joe’s Garage.');
    expect(p.info).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(previewTemplate('x'.repeat(161), 'A').info.segments).toBe(2);
    expect(unknownMergeFields('Hi {firstname} {shop_name}')).toEqual(['{firstname}']);
    expect(templateWarnings('Thanks {first_name}!', 'review').join(' ')).toMatch(/review_link/);
  });
  it('a failed save keeps the draft and says why; a good one updates what was loaded', async () => {
    let fail: Error | null = new AppError('forbidden', 'Only owners and admins can change the shop settings.', 403);
    const saved: unknown[] = [];
    const api: SettingsApi = {
      async load() { return { settings, hasRow: false }; },
      async save(_t, input, before) { if (fail) throw fail; saved.push({ input, hasRow: before.hasRow }); },
    };
    const store = createSettingsStore(api);
    await store.getState().load('t1');
    store.getState().edit('quietStart', '07:00');
    expect(await store.getState().save()).toBe(false);
    expect(store.getState().errors.quietStart).toBeTruthy();
    expect(store.getState().draft?.quietStart).toBe('07:00');
    store.getState().edit('quietStart', '09:00');
    expect(store.getState().errors.quietStart).toBeUndefined();
    expect(await store.getState().save()).toBe(false);
    expect(store.getState().error).toMatch(/Only owners and admins.*still here/);
    expect(store.getState().draft?.quietStart).toBe('09:00');
    fail = null;
    expect(await store.getState().save()).toBe(true);
    expect(saved).toEqual([{ input: expect.objectContaining({ quietStart: '09:00' }), hasRow: false }]);
    expect(store.getState().loaded).toMatchObject({ hasRow: true, settings: { quietStart: '09:00' } });
    expect(store.getState().savedAt).not.toBeNull();
  });
});

describe('the shop list paints from this device first', () => {
  const shop = (id: string, name: string): TenantSummary => ({ id, name, slug: name.toLowerCase(), role: 'owner', status: 'trialing', plan: null });
  it('shows the user\'s last loaded shops at once (and offline), never another user\'s; sign-out forgets them', async () => {
    const storage = memoryStorage();
    let answer: Promise<TenantSummary[]> = Promise.resolve([shop('a', 'Alpha'), shop('b', 'Beta')]);
    const api = { myTenants: () => answer } as unknown as TenancyApi;
    const first = createTenancyStore({ api, storage });
    await first.getState().load('u1');
    first.getState().switchTenant('b');
    expect(storage.getItem(TENANTS_CACHE_KEY)).toContain('Alpha');

    // Next start: the server is slow (or unreachable); the home can render from the cache right away.
    let fail!: (e: Error) => void;
    answer = new Promise((_r, rej) => { fail = rej; });
    const next = createTenancyStore({ api, storage });
    const loading = next.getState().load('u1');
    expect(next.getState().tenants.map((t) => t.name)).toEqual(['Alpha', 'Beta']);
    expect(next.getState().activeTenantId).toBe('b');
    expect(decide({ access: 'shop', auth: 'signed_in', tenancy: next.getState().status, tenantCount: 2, activeTenantId: 'b', here: '/' })).toEqual({ kind: 'render' });
    fail(new AppError('network_error', 'offline'));
    await loading;
    expect(next.getState()).toMatchObject({ status: 'error', activeTenantId: 'b' });
    expect(next.getState().tenants.length).toBe(2);

    const other = createTenancyStore({ api, storage });
    answer = new Promise(() => {});
    void other.getState().load('u2');
    expect(other.getState().tenants).toEqual([]);

    next.getState().reset();
    expect(storage.getItem(TENANTS_CACHE_KEY)).toBeNull();
  });
});
