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
 * invoice has billed it, then goes.
 */
import type Stripe from 'stripe';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { EnvSpec } from '../env.ts';
import { HttpError } from '../http.ts';
import type { Log } from '../log.ts';
import { Stripe as StripeSdk } from '../stripe.ts';

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

const isOveragePrice = (price: PriceRef, priceId: string) =>
  price.id === priceId || price.lookup_key === OVERAGE_LOOKUP_KEY;

async function recordItem(db: SupabaseClient, w: ItemWork, itemId: string | null, priceId: string | null) {
  const { error } = await db.rpc('billing_overage_item_set', {
    tenant_id: w.tenant_id, subscription_id: w.subscription_id, item_id: itemId, price_id: priceId,
  });
  if (error) throw new Error(`billing_overage_item_set failed: ${error.message}`);
}

/** Makes one shop's subscription carry the overage item exactly when its policy is metered. */
export async function syncOverageItem(deps: OverageDeps, w: ItemWork): Promise<ItemOutcome> {
  if (w.overage_policy === 'metered') {
    if (w.item_id) return 'unchanged';
    const priceId = await resolveOveragePrice(deps);
    // The item may already be there (added at checkout, or an earlier run whose database write was lost).
    const sub = await deps.stripe.subscriptions.retrieve(w.subscription_id);
    const existing = (sub.items.data as unknown as ItemRef[]).find((i) => isOveragePrice(i.price, priceId));
    if (existing) {
      await recordItem(deps.db, w, existing.id, existing.price.id);
      return 'found';
    }
    // One key per explicit choice: a retry of this switch replays, a later switch back creates a new item.
    // (The choice's timestamp as Postgres wrote it, to the microsecond.)
    const choice = (w.policy_chosen_at ?? 'default').replace(/[^0-9A-Za-z]/g, '');
    const item = await deps.stripe.subscriptionItems.create(
      { subscription: w.subscription_id, price: priceId, metadata: { tenant_id: w.tenant_id, kind: 'sms_overage' } },
      { idempotencyKey: `servicepro-overage-item-${w.subscription_id}-${priceId}-${choice}` },
    );
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
