/**
 * The Stripe price of a plan. Production: STRIPE_PRICE_STARTER/PRO/ELITE (required there). Without a configured
 * id the price is found by its lookup key (servicepro_<plan>_monthly); against the local emulator
 * (STRIPE_API_URL set) a missing one is created from the plans table, so a fresh stack needs no configuration.
 */
import type Stripe from 'stripe';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { EnvSpec } from '../env.ts';
import { HttpError } from '../http.ts';
import { lookupKeyFor, type PaidPlan, type PriceIds } from './model.ts';

export const PRICE_ENV = {
  STRIPE_PRICE_STARTER: { optional: true },
  STRIPE_PRICE_PRO: { optional: true },
  STRIPE_PRICE_ELITE: { optional: true },
} as const satisfies EnvSpec;

export function priceIdsFrom(env: { STRIPE_PRICE_STARTER?: string; STRIPE_PRICE_PRO?: string; STRIPE_PRICE_ELITE?: string }): PriceIds {
  const out: PriceIds = {};
  if (env.STRIPE_PRICE_STARTER) out.starter = env.STRIPE_PRICE_STARTER;
  if (env.STRIPE_PRICE_PRO) out.pro = env.STRIPE_PRICE_PRO;
  if (env.STRIPE_PRICE_ELITE) out.elite = env.STRIPE_PRICE_ELITE;
  return out;
}

export interface PriceResolverDeps {
  stripe: Stripe;
  db: SupabaseClient;
  priceIds: PriceIds;
  /** True only against the emulator: create missing products/prices. */
  createMissing: boolean;
}

export async function resolvePriceId(deps: PriceResolverDeps, plan: PaidPlan): Promise<string> {
  const configured = deps.priceIds[plan];
  if (configured) return configured;
  const key = lookupKeyFor(plan);
  const found = await deps.stripe.prices.list({ lookup_keys: [key], active: true, limit: 1 });
  if (found.data[0]) return found.data[0].id;
  if (!deps.createMissing) {
    throw new HttpError(500, 'price_not_configured',
      `No Stripe price for the ${plan} plan: set STRIPE_PRICE_${plan.toUpperCase()} (or a price with lookup key ${key}).`);
  }
  const { data, error } = await deps.db.from('plans').select('label, monthly_price_cents').eq('id', plan).single();
  if (error || !data) throw new HttpError(503, 'database_unavailable', 'The plan could not be read. Please try again.');
  const row = data as { label: string; monthly_price_cents: number };
  const price = await deps.stripe.prices.create({
    currency: 'usd',
    unit_amount: row.monthly_price_cents,
    recurring: { interval: 'month' },
    lookup_key: key,
    metadata: { plan },
    product_data: { name: `ServicePro ${row.label}`, metadata: { plan } },
  }, { idempotencyKey: `servicepro-price-${key}-${row.monthly_price_cents}` });
  return price.id;
}
