/**
 * POST /functions/v1/stripe-checkout `{ tenant_id, plan }` → `{ url }` (owners/admins).
 * A Checkout Session in subscription mode for the plan's price, for the shop's one Stripe customer (created on
 * first use with an idempotency key and stored in tenant_billing), the shop in client_reference_id and metadata
 * (also on the subscription). A shop that already has a live subscription changes plan instead (409). A shop
 * that chose metered overage gets the metered overage price as a second line item.
 */
import { HttpError, allowMethods, json, withErrors, type Handler } from '../_shared/http.ts';
import {
  LIVE_SUBSCRIPTION, billingRow, manageDepsFromEnv, manageRequest, parsePlan, sha256, stripeHttpError,
  type ManageDeps,
} from '../_shared/billing/manage.ts';
import { resolveOveragePrice } from '../_shared/billing/overage.ts';
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
    const tenant = await deps.db.from('tenants').select('name, overage_policy').eq('id', tenantId).single();
    if (tenant.error) throw new HttpError(503, 'database_unavailable', 'The shop could not be read. Please try again.');
    const { name: shopName, overage_policy: overagePolicy } = tenant.data as { name: string; overage_policy: string };

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
      // A shop that chose metered overage subscribes with the metered overage price as a second item (no
      // quantity: usage comes from the meter). Without a configured price the subscription still starts and
      // stripe-overage adds the item once the price exists (it logs the configuration error meanwhile).
      let overagePrice: string | null = null;
      if (overagePolicy === 'metered' && deps.overage) {
        try {
          overagePrice = await resolveOveragePrice({ stripe: deps.stripe, db: deps.db, overage: deps.overage, log: deps.log });
        } catch (e) {
          deps.log.error('no overage price for checkout; the item will be added later', { tenant_id: tenantId, error: e });
        }
      }
      const window = Math.floor(now() / SESSION_WINDOW_MS);
      const session = await deps.stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: customerId,
        client_reference_id: tenantId,
        metadata: { tenant_id: tenantId, plan },
        subscription_data: { metadata: { tenant_id: tenantId, plan } },
        line_items: [{ price, quantity: 1 }, ...(overagePrice ? [{ price: overagePrice }] : [])],
        success_url: `${deps.appUrl}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${deps.appUrl}/billing?checkout=canceled`,
      }, { idempotencyKey: `servicepro-checkout-${tenantId}-${plan}-${price}-${overagePrice ?? 'no-overage'}-${customerId}-${window}` });
      if (!session.url) throw new HttpError(502, 'stripe_rejected', 'Stripe returned no checkout URL.');
      deps.log.info('checkout session created', { tenant_id: tenantId, plan, session_id: session.id });
      return json(200, { url: session.url }, { 'Cache-Control': 'no-store' });
    } catch (e) {
      throw stripeHttpError(e, deps.log);
    }
  }, deps.log, { cors: true });
}

export const depsFromEnv = (env: { get(name: string): string | undefined }) => manageDepsFromEnv('stripe-checkout', env);
