/**
 * POST /functions/v1/stripe-portal `{ tenant_id }` → `{ url }` (owners/admins): a Billing Portal session for the
 * shop's Stripe customer (card, invoices, cancellation). 409 `no_billing_account` before the first checkout.
 */
import { HttpError, allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import { billingRow, manageDepsFromEnv, manageRequest, stripeHttpError, type ManageDeps } from '../_shared/billing/manage.ts';

export function createHandler(deps: ManageDeps): Handler {
  const now = deps.now ?? Date.now;
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const { user, tenantId } = await manageRequest(req, deps);
    const billing = await billingRow(deps.db, tenantId);
    if (!billing?.stripe_customer_id) {
      throw new HttpError(409, 'no_billing_account', 'This shop has no subscription yet: choose a plan first.');
    }
    try {
      const session = await deps.stripe.billingPortal.sessions.create({
        customer: billing.stripe_customer_id,
        return_url: `${deps.appUrl}/billing`,
      }, { idempotencyKey: `servicepro-portal-${tenantId}-${user.id}-${Math.floor(now() / 60_000)}` });
      return json(200, { url: session.url }, { 'Cache-Control': 'no-store' });
    } catch (e) {
      throw stripeHttpError(e, deps.log);
    }
  }, deps.log, { cors: true });
}

export const depsFromEnv = (env: { get(name: string): string | undefined }) => manageDepsFromEnv('stripe-portal', env);
