/**
 * What the browser-called Stripe functions (checkout, portal, change-plan) share: deps from env, the caller
 * confirmed with Auth, owners/admins only, the shop's billing row.
 */
import type Stripe from 'stripe';
import type { SupabaseClient } from '@supabase/supabase-js';
import { authDepsFromClient, requireUser, type AuthDeps, type RequestUser } from '../auth.ts';
import { HttpError, readJson } from '../http.ts';
import { createLogger, type Log } from '../log.ts';
import { stripeClient } from '../stripe.ts';
import { anonClient, serviceClient } from '../supabase.ts';
import { parseTenantId, requireTenantRole } from './access.ts';
import { readBillingEnv } from './config.ts';
import { isPaidPlan, PAID_PLANS, type PaidPlan, type PriceIds } from './model.ts';
import { overageConfigFrom, type OverageConfig } from './overage.ts';
import { priceIdsFrom } from './prices.ts';

export interface ManageDeps {
  auth: AuthDeps;
  db: SupabaseClient;
  stripe: Stripe;
  priceIds: PriceIds;
  /** Create missing prices (emulator only). */
  createMissing: boolean;
  appUrl: string;
  log: Log;
  now?: () => number;
  /** Metered SMS overage (checkout adds the overage price for shops that chose it). */
  overage?: OverageConfig;
}

export function manageDepsFromEnv(fn: string, env: { get(name: string): string | undefined }): ManageDeps {
  const e = readBillingEnv(env);
  return {
    auth: authDepsFromClient(anonClient(e)),
    db: serviceClient(e),
    stripe: stripeClient(e),
    priceIds: priceIdsFrom(e),
    createMissing: !!e.STRIPE_API_URL,
    appUrl: e.APP_URL.replace(/\/+$/, ''),
    log: createLogger(fn),
    overage: overageConfigFrom(e),
  };
}

export interface BillingRow {
  tenant_id: string;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  subscription_status: string | null;
  plan: string | null;
}

export interface ManageRequest {
  user: RequestUser;
  tenantId: string;
  body: Record<string, unknown>;
}

/** Auth, body `{ tenant_id, ... }`, owner/admin of that shop. */
export async function manageRequest(req: Request, deps: ManageDeps): Promise<ManageRequest> {
  const user = await requireUser(req, deps.auth);
  const body = await readJson<unknown>(req, 16 * 1024);
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_body', 'Send a JSON object such as {"tenant_id": "…"}.');
  }
  const b = body as Record<string, unknown>;
  const tenantId = parseTenantId(b.tenant_id);
  await requireTenantRole(deps.db, user.id, tenantId, 'admin');
  return { user, tenantId, body: b };
}

export function parsePlan(v: unknown): PaidPlan {
  if (!isPaidPlan(v)) {
    throw new HttpError(400, 'invalid_plan', `plan must be one of ${PAID_PLANS.join(', ')}.`);
  }
  return v;
}

export async function billingRow(db: SupabaseClient, tenantId: string): Promise<BillingRow | null> {
  const { data, error } = await db.from('tenant_billing')
    .select('tenant_id, stripe_customer_id, stripe_subscription_id, subscription_status, plan')
    .eq('tenant_id', tenantId).maybeSingle();
  if (error) throw new HttpError(503, 'database_unavailable', 'Billing could not be read right now. Please try again.');
  return data as BillingRow | null;
}

/** Subscriptions that still bill (a new checkout would double-charge). */
export const LIVE_SUBSCRIPTION = new Set(['active', 'trialing', 'past_due', 'unpaid', 'incomplete', 'paused']);

/** Maps a Stripe SDK error to our JSON error (never leaking the key or Stripe's internals beyond its message). */
export function stripeHttpError(e: unknown, log: Log): HttpError {
  if (e instanceof HttpError) return e;
  const err = e as { type?: string; statusCode?: number; code?: string; message?: string };
  if (err?.type?.startsWith?.('Stripe')) {
    log.error('stripe call failed', { type: err.type, status: err.statusCode, code: err.code, message: err.message });
    if (err.type === 'StripeInvalidRequestError' && err.statusCode && err.statusCode < 500) {
      return new HttpError(502, 'stripe_rejected', `Stripe refused the request: ${err.message ?? err.code}`);
    }
    return new HttpError(503, 'stripe_unavailable', 'Stripe could not be reached. Please try again in a moment.');
  }
  throw e;
}

/** Hex SHA-256 (idempotency keys that change when the parameters do). */
export async function sha256(s: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}
