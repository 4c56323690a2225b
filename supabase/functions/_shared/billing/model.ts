/**
 * Pure billing model: plans we sell, how a Stripe price maps to a plan, how a re-fetched subscription becomes
 * the snapshot `billing_apply_subscription()` stores, and the status machine's mapping (mirrored in SQL by
 * private.billing_tenant_status; tests/unit/billing-model.test.ts keeps both honest). No I/O here.
 */

export const PAID_PLANS = ['starter', 'pro', 'elite'] as const;
export type PaidPlan = (typeof PAID_PLANS)[number];
export type TenantStatus = 'trialing' | 'active' | 'past_due' | 'suspended' | 'canceled';
export type Standing = 'ok' | 'past_due' | 'locked' | 'suspended';

export const SUBSCRIPTION_STATUSES = [
  'incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused',
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const isPaidPlan = (v: unknown): v is PaidPlan => typeof v === 'string' && (PAID_PLANS as readonly string[]).includes(v);

/** The lookup key our prices carry in every Stripe account (created locally on first use). */
export const lookupKeyFor = (plan: PaidPlan) => `servicepro_${plan}_monthly`;

/** Configured price ids per plan (STRIPE_PRICE_STARTER/PRO/ELITE). */
export type PriceIds = Partial<Record<PaidPlan, string>>;

export interface PriceLike {
  id: string;
  lookup_key?: string | null;
  metadata?: Record<string, string> | null;
}

/** Which plan a price sells: the configured id first, then our lookup key, then `metadata.plan`. */
export function planForPrice(price: PriceLike | null | undefined, priceIds: PriceIds): PaidPlan | null {
  if (!price) return null;
  for (const plan of PAID_PLANS) if (priceIds[plan] && priceIds[plan] === price.id) return plan;
  const m = /^servicepro_([a-z]+)_monthly$/.exec(price.lookup_key ?? '');
  if (m && isPaidPlan(m[1])) return m[1];
  const meta = price.metadata?.plan;
  return isPaidPlan(meta) ? meta : null;
}

/** Shop status for a Stripe subscription status; null = leave it as it is (incomplete: first payment pending). */
export function tenantStatusFor(status: SubscriptionStatus): Exclude<TenantStatus, 'trialing' | 'canceled'> | null {
  switch (status) {
    case 'active':
    case 'trialing':
      return 'active';
    case 'past_due':
      return 'past_due';
    case 'unpaid':
    case 'canceled':
    case 'incomplete_expired':
    case 'paused':
      return 'suspended';
    case 'incomplete':
      return null;
  }
}

/** The standing the SQL helper private.tenant_standing computes, for the PWA and tests. */
export function standingOf(
  t: { status: TenantStatus; trial_ends_at: string | null; past_due_since?: string | null; grace_days?: number },
  now: Date = new Date(),
): Standing {
  if (t.status === 'suspended' || t.status === 'canceled') return 'suspended';
  if (t.status === 'past_due') {
    if (t.past_due_since) {
      const end = new Date(t.past_due_since).getTime() + (t.grace_days ?? 7) * 86_400_000;
      if (end <= now.getTime()) return 'suspended';
    }
    return 'past_due';
  }
  if (t.status === 'trialing' && t.trial_ends_at && new Date(t.trial_ends_at).getTime() <= now.getTime()) return 'locked';
  return 'ok';
}

type Id = string | { id: string };
const idOf = (v: Id | null | undefined): string | null => (v == null ? null : typeof v === 'string' ? v : v.id);
const iso = (sec: number | null | undefined): string | null =>
  typeof sec === 'number' && Number.isFinite(sec) ? new Date(sec * 1000).toISOString() : null;

/** The fields of a Stripe subscription we read (API 2025+: periods live on the items). */
export interface SubscriptionLike {
  id: string;
  customer: Id;
  status: string;
  created: number;
  cancel_at_period_end?: boolean | null;
  canceled_at?: number | null;
  metadata?: Record<string, string> | null;
  current_period_start?: number | null;
  current_period_end?: number | null;
  items: {
    data: Array<{
      id: string;
      price: PriceLike;
      current_period_start?: number | null;
      current_period_end?: number | null;
    }>;
  };
}

export interface SubscriptionSnapshot {
  subscriptionId: string;
  customerId: string;
  status: SubscriptionStatus;
  itemId: string | null;
  priceId: string | null;
  plan: PaidPlan | null;
  periodStart: string | null;
  periodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: string | null;
  created: string;
  /** metadata.tenant_id as our checkout set it (a hint; the customer mapping decides). */
  tenantIdHint: string | null;
}

/** Normalises a re-fetched subscription. Throws on a shape we cannot trust (a bug or an API change, not input). */
export function snapshotOf(sub: SubscriptionLike, priceIds: PriceIds): SubscriptionSnapshot {
  if (!(SUBSCRIPTION_STATUSES as readonly string[]).includes(sub.status)) {
    throw new Error(`unknown subscription status ${sub.status}`);
  }
  const customerId = idOf(sub.customer);
  if (!customerId) throw new Error(`subscription ${sub.id} has no customer`);
  // One item per subscription in our catalog; if there ever are more, the one naming a plan wins.
  const items = sub.items?.data ?? [];
  const item = items.find((i) => planForPrice(i.price, priceIds)) ?? items[0] ?? null;
  const start = item?.current_period_start ?? sub.current_period_start ?? null;
  const end = item?.current_period_end ?? sub.current_period_end ?? null;
  const hint = sub.metadata?.tenant_id;
  return {
    subscriptionId: sub.id,
    customerId,
    status: sub.status as SubscriptionStatus,
    itemId: item?.id ?? null,
    priceId: item?.price?.id ?? null,
    plan: planForPrice(item?.price, priceIds),
    periodStart: iso(start),
    periodEnd: iso(end),
    cancelAtPeriodEnd: !!sub.cancel_at_period_end,
    canceledAt: iso(sub.canceled_at),
    created: iso(sub.created)!,
    tenantIdHint: typeof hint === 'string' && UUID.test(hint) ? hint : null,
  };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The subscription an invoice belongs to (2025+ API: parent.subscription_details.subscription). */
export function invoiceSubscriptionId(invoice: {
  parent?: { subscription_details?: { subscription?: Id | null } | null } | null;
  subscription?: Id | null;
}): string | null {
  return idOf(invoice.parent?.subscription_details?.subscription ?? null) ?? idOf(invoice.subscription ?? null);
}

/** The cheapest plan (by price) that includes a feature, from the plans table's rows. */
export function cheapestPlanWith<P extends { id: string; monthly_price_cents: number; features: string[] }>(
  plans: P[], feature: string,
): P | null {
  return plans
    .filter((p) => p.id !== 'trial' && p.features.includes(feature))
    .sort((a, b) => a.monthly_price_cents - b.monthly_price_cents)[0] ?? null;
}
