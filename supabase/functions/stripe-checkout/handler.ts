/**
 * POST /functions/v1/stripe-checkout `{ tenant_id, plan }` → `{ url }` (owners/admins).
 * A Checkout Session in subscription mode for the plan's price, for the shop's one Stripe customer (created on
 * first use with an idempotency key and stored in tenant_billing), the shop in client_reference_id and metadata
 * (also on the subscription). A shop that already has a live subscription changes plan instead (409).
 */
import { HttpError, allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import {
  LIVE_SUBSCRIPTION, billingRow, manageDepsFromEnv, manageRequest, parsePlan, sha256, stripeHttpError,
  type ManageDeps,
} from '../_shared/billing/manage.ts';
import { resolvePriceId } from '../_shared/billing/prices.ts';

/** Repeated clicks within this window reuse the same session (same idempotency key). */
const SESSION_WINDOW_MS = 10 * 60_000;

export function createHandler(deps: ManageDeps): Handler {
  const now = deps.now ?? Date.now;
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const { user, tenantId, body } = await manageRequest(req, deps);
    const plan = parsePlan(body.plan);

    const billing = await billingRow(deps.db, tenantId);
    if (billing?.stripe_subscription_id && LIVE_SUBSCRIPTION.has(billing.subscription_status ?? '')) {
      throw new HttpError(409, 'already_subscribed',
        'This shop already has a subscription: change its plan, or manage it in the billing portal.');
    }
    const tenant = await deps.db.from('tenants').select('name').eq('id', tenantId).single();
    if (tenant.error) throw new HttpError(503, 'database_unavailable', 'The shop could not be read. Please try again.');
    const shopName = (tenant.data as { name: string }).name;

    try {
      let customerId = billing?.stripe_customer_id ?? null;
      if (!customerId) {
        const params = { name: shopName, email: user.email ?? undefined, metadata: { tenant_id: tenantId } };
        const customer = await deps.stripe.customers.create(params, {
          idempotencyKey: `servicepro-customer-${tenantId}-${(await sha256(JSON.stringify(params))).slice(0, 16)}`,
        });
        const linked = await deps.db.rpc('billing_link_customer', { tenant_id: tenantId, customer_id: customer.id });
        if (linked.error) throw new HttpError(503, 'database_unavailable', 'Billing could not be saved. Please try again.');
        customerId = linked.data as string; // the first one stored wins a race between two clicks
      }
      const price = await resolvePriceId(deps, plan);
      const window = Math.floor(now() / SESSION_WINDOW_MS);
      const session = await deps.stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: customerId,
        client_reference_id: tenantId,
        metadata: { tenant_id: tenantId, plan },
        subscription_data: { metadata: { tenant_id: tenantId, plan } },
        line_items: [{ price, quantity: 1 }],
        success_url: `${deps.appUrl}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${deps.appUrl}/billing?checkout=canceled`,
      }, { idempotencyKey: `servicepro-checkout-${tenantId}-${plan}-${price}-${customerId}-${window}` });
      if (!session.url) throw new HttpError(502, 'stripe_rejected', 'Stripe returned no checkout URL.');
      deps.log.info('checkout session created', { tenant_id: tenantId, plan, session_id: session.id });
      return json(200, { url: session.url }, { 'Cache-Control': 'no-store' });
    } catch (e) {
      throw stripeHttpError(e, deps.log);
    }
  }, deps.log, { cors: true });
}

export const depsFromEnv = (env: { get(name: string): string | undefined }) => manageDepsFromEnv('stripe-checkout', env);
