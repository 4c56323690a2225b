/**
 * Metered SMS overage on Stripe Billing Meters.
 *
 * Shape: a meter (event_name `sms_overage_segments` by default, aggregation `sum`, customer mapping by
 * `stripe_customer_id`) and a metered price on it ($0.03 per segment, STRIPE_PRICE_SMS_OVERAGE) that a shop's
 * subscription carries as a second item while its owner chose metered overage.
 *
 * Reporting: the database ledger (billing_overage_periods / billing_overage_reports, migration
 * create_overage_reporting) decides WHAT to send: per shop and quota period a delta whose identifier is
 * `<tenant>:<period start, unix>:<cumulative total>`. This module only claims, sends and marks:
 * claim (lease) → POST /v1/billing/meter_events → mark sent; a failed send is released and the next run resends
 * the SAME identifier and value, so Stripe's identifier dedupe (24 h+) makes any retry or overlap harmless.
 *
 * Subscription items: `syncOverageItem` makes the subscription match the policy — adds the metered item
 * (POST /v1/subscription_items, idempotency key per policy choice) or removes it (DELETE, idempotent by
 * definition). Removal waits while anything reported in the current period is not invoiced yet: on the classic
 * billing mode Stripe drops the un-invoiced usage of a deleted metered item, so the item stays until the renewal
 * invoice has billed it, then goes. `reconcileOverageItem` (stripe-webhook, on every re-fetched subscription) keeps
 * the record honest when the item is removed or added by hand in the Dashboard, so the next sync puts it right.
 */
import type Stripe from 'stripe';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { EnvSpec } from '../env.ts';
import { HttpError } from '../http.ts';
import type { Log } from '../log.ts';
import { Stripe as StripeSdk } from '../stripe.ts';
import { dbError } from './sync.ts';

export const OVERAGE_ENV = {
  STRIPE_PRICE_SMS_OVERAGE: {
    optional: true,
    description: 'Metered price (usage_type=metered on the SMS overage meter, $0.03/segment). Required in production.',
  },
  STRIPE_METER_EVENT_NAME: {
    default: 'sms_overage_segments',
    description: 'event_name of the Stripe billing meter the overage price is attached to.',
  },
} as const satisfies EnvSpec;

/** The lookup key of the overage price (found by it when STRIPE_PRICE_SMS_OVERAGE is unset). */
export const OVERAGE_LOOKUP_KEY = 'servicepro_sms_overage';
/** Cents per segment of the price created against the local emulator (plans.overage_cents_per_segment). */
const DEFAULT_CENTS_PER_SEGMENT = '3';
/** Stripe accepts meter events at most 35 days old; we stay a day inside that. */
const MAX_AGE_S = 34 * 86_400;

export interface OverageConfig {
  /** STRIPE_PRICE_SMS_OVERAGE. */
  priceId?: string;
  /** STRIPE_METER_EVENT_NAME. */
  eventName: string;
  /** True only against the emulator: create a missing meter and price. */
  createMissing: boolean;
}

export function overageConfigFrom(
  env: { STRIPE_PRICE_SMS_OVERAGE?: string; STRIPE_METER_EVENT_NAME: string; STRIPE_API_URL?: string },
): OverageConfig {
  return { priceId: env.STRIPE_PRICE_SMS_OVERAGE, eventName: env.STRIPE_METER_EVENT_NAME, createMissing: !!env.STRIPE_API_URL };
}

export interface OverageDeps {
  stripe: Stripe;
  db: SupabaseClient;
  overage: OverageConfig;
  log: Log;
  now?: () => number;
}

/** The identifier the ledger gives a meter event (SQL builds the same string; tests keep both honest). */
export function meterEventIdentifier(tenantId: string, periodStart: string | Date, cumulative: number): string {
  const epoch = Math.round(new Date(periodStart).getTime() / 1000);
  return `${tenantId}:${epoch}:${cumulative}`;
}

/** A meter event timestamp Stripe accepts: not in the future, not older than 34 days (seconds). */
export function meterTimestamp(eventTimestamp: string | Date, nowMs: number): number {
  const ts = Math.floor(new Date(eventTimestamp).getTime() / 1000);
  const now = Math.floor(nowMs / 1000);
  return Math.min(now, Math.max(ts, now - MAX_AGE_S));
}

/** The price of the metered overage item: configured, else by lookup key, else (emulator only) created. */
export async function resolveOveragePrice(deps: OverageDeps): Promise<string> {
  if (deps.overage.priceId) return deps.overage.priceId;
  const found = await deps.stripe.prices.list({ lookup_keys: [OVERAGE_LOOKUP_KEY], active: true, limit: 1 });
  if (found.data[0]) return found.data[0].id;
  if (!deps.overage.createMissing) {
    throw new HttpError(500, 'price_not_configured',
      `No Stripe price for SMS overage: set STRIPE_PRICE_SMS_OVERAGE (or a price with lookup key ${OVERAGE_LOOKUP_KEY}).`);
  }
  const meters = await deps.stripe.billing.meters.list({ status: 'active', limit: 100 });
  let meter = meters.data.find((m) => m.event_name === deps.overage.eventName);
  if (!meter) {
    meter = await deps.stripe.billing.meters.create({
      display_name: 'ServicePro SMS overage segments',
      event_name: deps.overage.eventName,
      default_aggregation: { formula: 'sum' },
      customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
      value_settings: { event_payload_key: 'value' },
    }, { idempotencyKey: `servicepro-meter-${deps.overage.eventName}` });
  }
  const price = await deps.stripe.prices.create({
    currency: 'usd',
    unit_amount_decimal: StripeSdk.Decimal.from(DEFAULT_CENTS_PER_SEGMENT),
    recurring: { interval: 'month', usage_type: 'metered', meter: meter.id },
    lookup_key: OVERAGE_LOOKUP_KEY,
    metadata: { kind: 'sms_overage' },
    product_data: { name: 'ServicePro SMS overage', unit_label: 'segment', metadata: { kind: 'sms_overage' } },
  }, { idempotencyKey: `servicepro-price-${OVERAGE_LOOKUP_KEY}-${meter.id}` });
  return price.id;
}

/** A row of public.billing_overage_item_work(). */
export interface ItemWork {
  tenant_id: string;
  overage_policy: 'hard_stop' | 'metered';
  policy_chosen_at: string | null;
  stripe_customer_id: string | null;
  subscription_id: string;
  subscription_status: string;
  item_id: string | null;
  item_price_id: string | null;
  removable: boolean;
}

export type ItemOutcome = 'added' | 'found' | 'removed' | 'removal_deferred' | 'unchanged';

interface PriceRef { id: string; lookup_key?: string | null; recurring?: { meter?: string | null } | null }
interface ItemRef { id: string; price: PriceRef }

const isOveragePrice = (price: PriceRef, priceId: string | null | undefined) =>
  (!!priceId && price.id === priceId) || price.lookup_key === OVERAGE_LOOKUP_KEY;

/**
 * The overage item among a subscription's items: the one whose price is the configured overage price or carries
 * OVERAGE_LOOKUP_KEY (the test stripe-overage uses too, so both agree). With several, the one `preferId` names.
 */
export function overageItemOf(
  items: readonly ItemRef[], priceId: string | null | undefined, preferId?: string | null,
): ItemRef | null {
  const found = items.filter((i) => i.price && isOveragePrice(i.price, priceId));
  return found.find((i) => i.id === preferId) ?? found[0] ?? null;
}

export type ReconcileOutcome = 'recorded' | 'forgotten' | 'unchanged';

/**
 * Stripe is the source of truth for the subscription's shape: after stripe-webhook applied a re-fetched
 * subscription (the shop's current one, not a stale read), billing_overage_items is made to say what Stripe holds.
 * An overage item on the subscription is recorded; a recorded item that is gone (removed in the Dashboard) is
 * forgotten. The next stripe-overage run then re-adds or removes the item per the owner's policy, because
 * billing_overage_item_work lists exactly the shops whose policy and recorded item disagree.
 */
export async function reconcileOverageItem(
  db: SupabaseClient, tenantId: string,
  sub: { id: string; items?: { data?: readonly ItemRef[] } | null },
  priceId: string | null | undefined,
): Promise<{ outcome: ReconcileOutcome; itemId: string | null }> {
  const read = await db.from('billing_overage_items').select('subscription_id, item_id, price_id')
    .eq('tenant_id', tenantId).maybeSingle();
  if (read.error) throw dbError('billing_overage_items read', read.error);
  const row = read.data as { subscription_id?: string; item_id?: string; price_id?: string } | null;
  // A row for an earlier subscription is ignored (billing_overage_item_work joins on the current one).
  const recorded = row && row.subscription_id === sub.id && row.item_id ? row : null;
  const actual = overageItemOf(sub.items?.data ?? [], priceId, recorded?.item_id);
  if (actual && recorded?.item_id === actual.id && recorded.price_id === actual.price.id) {
    return { outcome: 'unchanged', itemId: actual.id };
  }
  if (!actual && !recorded) return { outcome: 'unchanged', itemId: null };
  const { error } = await db.rpc('billing_overage_item_set', {
    tenant_id: tenantId, subscription_id: sub.id, item_id: actual?.id ?? null, price_id: actual?.price.id ?? null,
  });
  if (error) throw dbError('billing_overage_item_set', error);
  return actual ? { outcome: 'recorded', itemId: actual.id } : { outcome: 'forgotten', itemId: null };
}

async function recordItem(db: SupabaseClient, w: ItemWork, itemId: string | null, priceId: string | null) {
  const { error } = await db.rpc('billing_overage_item_set', {
    tenant_id: w.tenant_id, subscription_id: w.subscription_id, item_id: itemId, price_id: priceId,
  });
  if (error) throw new Error(`billing_overage_item_set failed: ${error.message}`);
}

/** Stripe answered from its idempotency cache (the `Idempotent-Replayed` header), not by doing the request now. */
function replayed(res: unknown): boolean {
  // lastResponse is the fetch Response (Headers) with the fetch client, a Node IncomingMessage (plain object) else.
  const h = (res as { lastResponse?: { headers?: Headers | Record<string, string> } })?.lastResponse?.headers;
  const v = h instanceof Headers ? h.get('idempotent-replayed') : h?.['idempotent-replayed'];
  return v === 'true';
}

/** Makes one shop's subscription carry the overage item exactly when its policy is metered. */
export async function syncOverageItem(deps: OverageDeps, w: ItemWork): Promise<ItemOutcome> {
  if (w.overage_policy === 'metered') {
    if (w.item_id) return 'unchanged';
    const priceId = await resolveOveragePrice(deps);
    // The item may already be there (added at checkout, or an earlier run whose database write was lost).
    const sub = await deps.stripe.subscriptions.retrieve(w.subscription_id);
    const existing = overageItemOf(sub.items.data as unknown as ItemRef[], priceId);
    if (existing) {
      await recordItem(deps.db, w, existing.id, existing.price.id);
      return 'found';
    }
    // One key per explicit choice: a retry of this switch replays, a later switch back creates a new item.
    // (The choice's timestamp as Postgres wrote it, to the microsecond.) A replay whose item is gone (removed in
    // the Dashboard after this choice added it; Stripe keeps keys 24 h) is not an add: the next key names it.
    const choice = (w.policy_chosen_at ?? 'default').replace(/[^0-9A-Za-z]/g, '');
    const base = `servicepro-overage-item-${w.subscription_id}-${priceId}-${choice}`;
    let key = base;
    let item: Stripe.SubscriptionItem | null = null;
    for (let attempt = 0; attempt < 4 && !item; attempt++) {
      const made = await deps.stripe.subscriptionItems.create(
        { subscription: w.subscription_id, price: priceId, metadata: { tenant_id: w.tenant_id, kind: 'sms_overage' } },
        { idempotencyKey: key },
      );
      if (!replayed(made)) {
        item = made;
      } else {
        // A replay: the item this key made is still there (a retry of this switch) or gone (try the next key).
        const now = await deps.stripe.subscriptions.retrieve(w.subscription_id);
        if ((now.items.data as unknown as ItemRef[]).some((i) => i.id === made.id)) item = made;
        else key = `${base}-after-${made.id}`;
      }
    }
    if (!item) throw new Error(`overage item for ${w.subscription_id}: every idempotent add replayed an item that is gone`);
    await recordItem(deps.db, w, item.id, priceId);
    deps.log.info('overage item added', { tenant_id: w.tenant_id, subscription_id: w.subscription_id, item_id: item.id });
    return 'added';
  }
  if (!w.item_id) return 'unchanged';
  if (!w.removable) return 'removal_deferred';
  try {
    // DELETE is idempotent by definition (Stripe takes no idempotency key on it); create_prorations also bills
    // any usage left on a flexible-billing-mode subscription.
    await deps.stripe.subscriptionItems.del(w.item_id, { proration_behavior: 'create_prorations' });
  } catch (e) {
    const err = e as { statusCode?: number; code?: string };
    if (!(err.statusCode === 404 || err.code === 'resource_missing')) throw e;
  }
  await recordItem(deps.db, w, null, null);
  deps.log.info('overage item removed', { tenant_id: w.tenant_id, subscription_id: w.subscription_id, item_id: w.item_id });
  return 'removed';
}

/** Shops whose item needs work (all, or one shop whatever its state). */
export async function overageItemWork(db: SupabaseClient, tenantId: string | null): Promise<ItemWork[]> {
  const { data, error } = await db.rpc('billing_overage_item_work', { for_tenant: tenantId });
  if (error) throw new HttpError(503, 'database_unavailable', 'Overage settings could not be read right now.');
  return (data ?? []) as ItemWork[];
}

/** A row of public.billing_overage_claim(). */
export interface ClaimedReport {
  report_id: string;
  tenant_id: string;
  period_start: string;
  period_end: string;
  closed: boolean;
  identifier: string;
  segments: number;
  cumulative_segments: number;
  stripe_customer_id: string;
  event_timestamp: string;
  claim_token: string;
}

export interface ReportResult {
  sent: number;
  segments: number;
  failed: number;
  failures: Array<{ tenant_id: string; identifier: string; error: string }>;
}

/** Stripe said it already has this identifier (a resend after a lost answer): the usage is recorded. */
function alreadyRecorded(e: unknown): boolean {
  const err = e as { statusCode?: number; message?: string; code?: string };
  return err?.statusCode === 400 && /identifier/i.test(err.message ?? '') && /already|duplicate|exists/i.test(err.message ?? '');
}

const describe = (e: unknown) => {
  const err = e as { type?: string; statusCode?: number; code?: string; message?: string };
  return `${err?.type ?? 'Error'} ${err?.statusCode ?? ''} ${err?.code ?? ''}: ${err?.message ?? String(e)}`.slice(0, 500);
};

/**
 * Claims and sends pending meter events (all shops, or one). A run does a few rounds so a period whose earlier
 * delta was just confirmed can send its next one; a round with a failure ends the run (the next run retries).
 */
export async function reportOverage(
  deps: OverageDeps, opts: { tenantId?: string | null; maxRows?: number; rounds?: number } = {},
): Promise<ReportResult> {
  const now = deps.now ?? Date.now;
  const result: ReportResult = { sent: 0, segments: 0, failed: 0, failures: [] };
  for (let round = 0; round < (opts.rounds ?? 3); round++) {
    const claim = await deps.db.rpc('billing_overage_claim', {
      max_rows: opts.maxRows ?? 200, lease_seconds: 120, for_tenant: opts.tenantId ?? null,
    });
    if (claim.error) throw new HttpError(503, 'database_unavailable', `Claiming overage reports failed: ${claim.error.message}`);
    const rows = (claim.data ?? []) as ClaimedReport[];
    if (rows.length === 0) break;
    let failedThisRound = false;
    for (const r of rows) {
      let ok = false;
      let error: string | null = null;
      try {
        await deps.stripe.billing.meterEvents.create({
          event_name: deps.overage.eventName,
          payload: { stripe_customer_id: r.stripe_customer_id, value: String(r.segments) },
          identifier: r.identifier,
          timestamp: meterTimestamp(r.event_timestamp, now()),
        }, { idempotencyKey: `servicepro-meter-${r.identifier}` });
        ok = true;
      } catch (e) {
        if (alreadyRecorded(e)) ok = true;
        else error = describe(e);
      }
      const mark = await deps.db.rpc('billing_overage_mark', {
        report_id: r.report_id, claim_token: r.claim_token, ok, error,
      });
      if (mark.error) {
        // Sent but not recorded: the lease runs out and the next run resends the same identifier (deduped).
        deps.log.error('could not record an overage report', { tenant_id: r.tenant_id, identifier: r.identifier, error: mark.error.message });
      }
      if (ok) {
        result.sent++;
        result.segments += r.segments;
        deps.log.info('overage reported', { tenant_id: r.tenant_id, identifier: r.identifier, segments: r.segments, closed: r.closed });
      } else {
        failedThisRound = true;
        result.failed++;
        result.failures.push({ tenant_id: r.tenant_id, identifier: r.identifier, error: error! });
        deps.log.warn('overage report failed; the next run retries it', { tenant_id: r.tenant_id, identifier: r.identifier, error });
      }
    }
    if (failedThisRound) break;
  }
  return result;
}
