import { useEffect } from 'react';
import './billing.css';
import { Alert, Button, Loading, Page } from '../../../lib/ui/index.ts';
import { parseQuery, useLocation } from '../../../lib/router.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import {
  CHECKOUT_POLL, FEATURE_LABELS, LIVE_SUBSCRIPTION, bannerFor, checkoutNotice, comparisonRows, formatPrice, planAction,
  overagePriceText, trialDaysLeft, type Plan, type PlanAction,
} from '../model.ts';
import { billingStore, useBilling } from '../store.ts';

const ACTION_LABEL: Record<Exclude<PlanAction, 'current' | 'none'>, string> = {
  subscribe: 'Subscribe',
  upgrade: 'Upgrade',
  downgrade: 'Switch',
};

function PlanCard({ plan, action, highlighted, canManage, busy }: {
  plan: Plan; action: PlanAction; highlighted: boolean; canManage: boolean; busy: string | null;
}) {
  const s = billingStore.getState();
  return (
    <article className={`card plan-card${action === 'current' ? ' current' : ''}${highlighted ? ' highlighted' : ''}`}
      aria-labelledby={`plan-${plan.id}`}>
      <h2 id={`plan-${plan.id}`}>
        {plan.label} {action === 'current' ? <span className="badge">Current plan</span> : null}
      </h2>
      <p className="plan-price">{formatPrice(plan.monthlyPriceCents)}</p>
      <ul className="plan-points">
        <li>{plan.smsSegments.toLocaleString('en-US')} SMS segments a month</li>
        {plan.features.map((f) => <li key={f}>{FEATURE_LABELS[f] ?? f}</li>)}
      </ul>
      {canManage && action !== 'current' && action !== 'none' ? (
        <Button busy={busy === plan.id} busyLabel="Opening…" disabled={!!busy}
          variant={highlighted || action === 'upgrade' || action === 'subscribe' ? 'primary' : 'secondary'}
          onClick={() => void (action === 'subscribe' ? s.subscribe(plan.id) : s.changePlan(plan.id))}>
          {ACTION_LABEL[action]} to {plan.label}
        </Button>
      ) : null}
    </article>
  );
}

export function BillingPage() {
  const tenant = useTenancy(selectActiveTenant);
  const loc = useLocation();
  const { plans, billing, status, error, standing, busy, actionError, notice } = useBilling((s) => s);
  const shop = useBilling((s) => s.tenant);
  const tenantId = tenant?.id ?? null;
  const canManage = tenant?.role === 'owner' || tenant?.role === 'admin';
  const query = parseQuery(loc.search);
  const wanted = query.get('plan');
  const checkout = query.get('checkout');

  useEffect(() => {
    if (tenantId) void billingStore.getState().load(tenantId, { canManage });
  }, [tenantId, canManage]);

  const hasLive = LIVE_SUBSCRIPTION.has(billing?.status ?? '') || (!canManage && shop?.status === 'active');
  // Back from Checkout before Stripe's webhook arrived: reload until the subscription shows up (bounded).
  const awaitingCheckout = checkout === 'success' && canManage && !hasLive;
  useEffect(() => {
    if (!awaitingCheckout || !tenantId) return;
    let tries = 0;
    const timer = setInterval(() => {
      tries += 1;
      if (tries > CHECKOUT_POLL.times) clearInterval(timer);
      else void billingStore.getState().load(tenantId, { canManage });
    }, CHECKOUT_POLL.everyMs);
    return () => clearInterval(timer);
  }, [awaitingCheckout, tenantId, canManage]);

  if (!tenant) return null;
  const current = plans.find((p) => p.id === (shop?.plan ?? tenant.plan));
  const visible = plans.filter((p) => p.id !== 'trial' || current?.id === 'trial');
  const daysLeft = shop?.status === 'trialing' ? trialDaysLeft(shop.trialEndsAt) : null;
  const banner = standing ? bannerFor(standing) : null;
  const rows = comparisonRows(visible);
  const returned = checkoutNotice(checkout, hasLive, current?.label);

  return (
    <Page title="Billing" heading="Billing"
      actions={current ? <span className={`badge plan-${current.id}`}>{current.label}</span> : undefined}>
      {status === 'loading' && !plans.length ? <Loading label="Loading plans…" /> : null}
      {error ? (
        <>
          <Alert>{error.message}</Alert>
          <Button variant="secondary" onClick={() => void billingStore.getState().load(tenant.id, { canManage })}>Try again</Button>
        </>
      ) : null}
      {banner ? <Alert kind={banner.kind} title={banner.title}>{banner.text}</Alert> : null}
      {returned ? <Alert kind={returned.kind}>{returned.text}</Alert> : null}
      {notice ? <Alert kind="success">{notice}</Alert> : null}
      {actionError ? <Alert>{actionError.message}</Alert> : null}
      {daysLeft !== null && standing === 'ok' ? (
        <p className="trial-left"><strong>{daysLeft} {daysLeft === 1 ? 'day' : 'days'}</strong> left in your free trial.</p>
      ) : null}
      {billing?.cancelAtPeriodEnd && billing.currentPeriodEnd ? (
        <Alert kind="info">Your subscription ends on {new Date(billing.currentPeriodEnd).toLocaleDateString()}. Renew it in Manage billing.</Alert>
      ) : null}
      {!canManage ? <p className="muted">Only the shop's owners and admins can change the plan.</p> : null}

      {canManage && billing ? (
        <p>
          <Button variant="secondary" busy={busy === 'portal'} busyLabel="Opening…" disabled={!!busy}
            onClick={() => void billingStore.getState().openPortal()}>Manage billing</Button>{' '}
          <span className="muted">Card, invoices and cancellation, on Stripe.</span>
        </p>
      ) : null}

      {canManage && shop && hasLive ? (
        <fieldset className="card overage-choice" disabled={!!busy}>
          <legend>When the month's texts run out</legend>
          <label>
            <input type="radio" name="overage" checked={shop.overagePolicy === 'hard_stop'}
              onChange={() => void billingStore.getState().setOveragePolicy('hard_stop')} />{' '}
            Stop sending and show an upgrade prompt (default)
          </label>
          <label>
            <input type="radio" name="overage" checked={shop.overagePolicy === 'metered'}
              onChange={() => void billingStore.getState().setOveragePolicy('metered')} />{' '}
            Keep sending: {overagePriceText(plans, shop.plan)} per extra segment on the next invoice
          </label>
          {!shop.overageChosenAt ? <p className="muted">Not chosen yet: "ready for pickup" notices are never blocked until you choose.</p> : null}
        </fieldset>
      ) : null}

      {visible.length ? (
        <>
          <div className="plan-grid">
            {visible.map((p) => (
              <PlanCard key={p.id} plan={p} action={planAction(p, current, hasLive)} highlighted={p.id === wanted}
                canManage={canManage} busy={busy} />
            ))}
          </div>
          <table className="plan-compare">
            <caption>Compare plans</caption>
            <thead>
              <tr><th scope="col">Plan</th>{visible.map((p) => <th scope="col" key={p.id}>{p.label}</th>)}</tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.label}>
                  <th scope="row">{r.label}</th>
                  {r.cells.map((c, i) => (
                    <td key={visible[i]!.id}>{typeof c === 'boolean' ? (c ? 'Included' : '—') : c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </Page>
  );
}
