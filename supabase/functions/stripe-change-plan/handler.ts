/**
 * POST /functions/v1/stripe-change-plan `{ tenant_id, plan }` → `{ plan, status, changed }` (owners/admins).
 * Upgrades or downgrades the shop's subscription: its one item gets the new price with proration
 * (`create_prorations`), and the updated subscription Stripe answers with is applied at once
 * (billing_apply_subscription), so entitlements change before the webhook arrives. Nothing else is touched.
 */
import type { SubscriptionLike } from '../_shared/billing/model.ts';
import { snapshotOf } from '../_shared/billing/model.ts';
import { HttpError, allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import {
  billingRow, manageDepsFromEnv, manageRequest, parsePlan, stripeHttpError, type ManageDeps,
} from '../_shared/billing/manage.ts';
import { resolvePriceId } from '../_shared/billing/prices.ts';
import { applySnapshot } from '../_shared/billing/sync.ts';

const CHANGEABLE = new Set(['active', 'trialing', 'past_due']);

export function createHandler(deps: ManageDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const { tenantId, body } = await manageRequest(req, deps);
    const plan = parsePlan(body.plan);
    const billing = await billingRow(deps.db, tenantId);
    if (!billing?.stripe_subscription_id || !CHANGEABLE.has(billing.subscription_status ?? '')) {
      throw new HttpError(409, 'no_subscription', 'This shop has no active subscription: subscribe to a plan first.');
    }
    try {
      let fetchedAt = new Date().toISOString();
      const current = snapshotOf(
        await deps.stripe.subscriptions.retrieve(billing.stripe_subscription_id) as unknown as SubscriptionLike,
        deps.priceIds,
      );
      if (!CHANGEABLE.has(current.status)) {
        throw new HttpError(409, 'no_subscription', 'This shop has no active subscription: subscribe to a plan first.');
      }
      if (!current.itemId) throw new HttpError(409, 'no_subscription', 'The subscription has no plan item to change.');
      let snapshot = current;
      if (current.plan !== plan) {
        const price = await resolvePriceId(deps, plan);
        fetchedAt = new Date().toISOString();
        const updated = await deps.stripe.subscriptions.update(current.subscriptionId, {
          items: [{ id: current.itemId, price }],
          proration_behavior: 'create_prorations',
          metadata: { tenant_id: tenantId, plan },
        }, { idempotencyKey: `servicepro-change-${current.subscriptionId}-${current.itemId}-${current.priceId}-${price}` });
        snapshot = snapshotOf(updated as unknown as SubscriptionLike, deps.priceIds);
      }
      const result = await applySnapshot(deps.db, tenantId, snapshot, fetchedAt);
      deps.log.info('plan changed', { tenant_id: tenantId, from: current.plan, to: result.plan });
      return json(200, { plan: result.plan, status: result.status, changed: current.plan !== plan });
    } catch (e) {
      if (e instanceof Error && e.name === 'BillingSyncError') {
        throw new HttpError(503, 'billing_sync_failed', 'The plan changed at Stripe but could not be saved yet; it will sync shortly.');
      }
      throw stripeHttpError(e, deps.log);
    }
  }, deps.log, { cors: true });
}

export const depsFromEnv = (env: { get(name: string): string | undefined }) => manageDepsFromEnv('stripe-change-plan', env);
