/**
 * The emulator's hosted pages: plain HTML with no scripts, so a test can fetch a page, read its form and submit
 * it, and a person can click through locally. Checkout has exactly one submit button, labelled "Pay".
 */
import { escapeHtml as e } from '../_lib/http.ts';
import type { Obj } from './store.ts';

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1f36}
h1{font-size:1.4rem} table{width:100%;border-collapse:collapse} td{padding:.4rem 0;border-bottom:1px solid #e3e8ee}
.total{font-weight:600} .test{background:#fff4d6;color:#8a5a00;padding:.2rem .5rem;border-radius:.3rem;font-size:.8rem}
button{background:#635bff;color:#fff;border:0;border-radius:.4rem;padding:.7rem 1.4rem;font-size:1rem;cursor:pointer;margin-top:1rem}
label{display:block;margin-top:1rem} input{width:100%;padding:.5rem;font-size:1rem}
</style></head><body><p><span class="test">TEST MODE · local Stripe emulator</span></p>${body}</body></html>`;
}

export function messagePage(title: string, text: string): string {
  return layout(title, `<h1>${e(title)}</h1><p>${e(text)}</p>`);
}

export interface CheckoutLine { name: string; quantity: number; amount: string; interval: string }

export function checkoutPage(session: Obj, lines: CheckoutLine[], total: string, askEmail: boolean): string {
  if (session.status !== 'open') {
    return layout('Checkout', `<h1>This Checkout Session is ${e(session.status)}</h1>${session.success_url && session.status === 'complete' ? `<p><a href="${e(session.success_url.replaceAll('{CHECKOUT_SESSION_ID}', session.id))}">Continue</a></p>` : ''}`);
  }
  const rows = lines.map((l) => `<tr><td>${e(l.name)} × ${l.quantity}</td><td>${e(l.amount)} ${e(l.interval)}</td></tr>`).join('');
  const email = session.customer_email ?? session.customer_details?.email ?? null;
  return layout('Checkout', `<h1>Subscribe</h1>
<table>${rows}<tr class="total"><td>Total due today</td><td>${e(total)}</td></tr></table>
${email ? `<p>Email: ${e(email)}</p>` : ''}
<form method="post" action="/checkout/${e(session.id)}/pay">
${askEmail ? '<label>Email <input type="email" name="email" required></label>' : ''}
<p>Card: 4242 4242 4242 4242 (test card, always succeeds)</p>
<button type="submit">Pay</button>
</form>
${session.cancel_url ? `<p><a href="${e(session.cancel_url)}">Cancel and return</a></p>` : ''}`);
}

export interface PortalSubscription { id: string; status: string; plan: string; amount: string; periodEnd: string; cancelAtPeriodEnd: boolean }

export function portalPage(ps: Obj, subs: PortalSubscription[]): string {
  const items = subs.length === 0
    ? '<p>No active subscriptions.</p>'
    : subs.map((s) => `<section><h2>${e(s.plan)}</h2><p>${e(s.amount)} · status ${e(s.status)}</p>
<p>${s.cancelAtPeriodEnd ? `Cancels on ${e(s.periodEnd)}` : `Renews on ${e(s.periodEnd)}`}</p>
<form method="post" action="/billing_portal/${e(ps.id)}/${s.cancelAtPeriodEnd ? 'renew' : 'cancel'}">
<input type="hidden" name="subscription" value="${e(s.id)}">
<button type="submit">${s.cancelAtPeriodEnd ? 'Renew subscription' : 'Cancel subscription'}</button>
</form></section>`).join('');
  return layout('Billing', `<h1>Manage billing</h1>${items}${ps.return_url ? `<p><a href="${e(ps.return_url)}">Return</a></p>` : ''}`);
}
