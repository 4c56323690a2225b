/**
 * Applying Stripe's truth to the database: a subscription re-fetched from Stripe goes through
 * billing_apply_subscription() (idempotent, order-proof); the tenant comes from the Stripe customer mapping
 * (tenant_billing), never from anything a caller could forge.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { snapshotOf, type PriceIds, type SubscriptionLike, type SubscriptionSnapshot } from './model.ts';

/** A failure worth a retry (network, 5xx, timeouts) versus one that will fail the same way again. */
export class BillingSyncError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'BillingSyncError';
  }
}

/** SQLSTATEs our RPCs raise for bad input or broken invariants: retrying cannot help. */
const PERMANENT_SQLSTATE = new Set(['22023', 'P0001', '42501', '23505', '23503', '23514', '22P02']);

export function dbError(what: string, error: { code?: string; message: string }): BillingSyncError {
  return new BillingSyncError(`${what}: ${error.message}`, !PERMANENT_SQLSTATE.has(error.code ?? ''));
}

export interface ApplyResult {
  changed: boolean;
  ignored: boolean;
  /** The read was older than the one already applied. */
  stale?: boolean;
  previous_status: string;
  status: string;
  plan: string;
  period_reset: boolean;
  first_activation: boolean;
}

export async function tenantForCustomer(db: SupabaseClient, customerId: string): Promise<string | null> {
  const { data, error } = await db.rpc('billing_tenant_for_customer', { customer_id: customerId });
  if (error) throw dbError('billing_tenant_for_customer', error);
  return (data as string | null) ?? null;
}

/**
 * `fetchedAt`: when the Stripe read that produced `s` started (ISO). A read older than the last one applied is
 * ignored by the SQL, so concurrent deliveries cannot leave an older state behind.
 */
export async function applySnapshot(
  db: SupabaseClient, tenantId: string, s: SubscriptionSnapshot, fetchedAt?: string,
): Promise<ApplyResult> {
  const { data, error } = await db.rpc('billing_apply_subscription', {
    tenant_id: tenantId,
    customer_id: s.customerId,
    subscription_id: s.subscriptionId,
    subscription_status: s.status,
    price_id: s.priceId,
    plan: s.plan,
    period_start: s.periodStart,
    period_end: s.periodEnd,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt,
    subscription_created: s.created,
    fetched_at: fetchedAt ?? null,
  });
  if (error) throw dbError('billing_apply_subscription', error);
  return data as ApplyResult;
}

/** Snapshot + apply for a subscription object fresh from the Stripe API. Null when the customer is not ours. */
export async function applySubscription(
  db: SupabaseClient, sub: SubscriptionLike, priceIds: PriceIds, fetchedAt?: string,
): Promise<{ tenantId: string; snapshot: SubscriptionSnapshot; result: ApplyResult } | null> {
  const snapshot = snapshotOf(sub, priceIds);
  const tenantId = await tenantForCustomer(db, snapshot.customerId);
  if (!tenantId) return null;
  const result = await applySnapshot(db, tenantId, snapshot, fetchedAt);
  return { tenantId, snapshot, result };
}
