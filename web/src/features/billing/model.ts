/**
 * Billing page model (pure): the plans table's rows as cards and a comparison table, the action each card offers,
 * trial days left and the banner for the shop's standing. Tested in tests/unit/billing-web.test.ts.
 */

export type Standing = 'ok' | 'past_due' | 'locked' | 'suspended';

export interface Plan {
  id: string;
  label: string;
  monthlyPriceCents: number;
  trialDays: number | null;
  smsSegments: number;
  mmsMessages: number;
  voiceMinutes: number;
  emails: number;
  aiRequests: number;
  sendsPerMinute: number;
  /** What one segment past the cap costs on metered overage (plans.overage_cents_per_segment). */
  overageCentsPerSegment: number;
  features: string[];
  sortOrder: number;
}

export interface BillingInfo {
  status: string | null; // Stripe subscription status
  plan: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  latestInvoiceStatus: string | null;
  lastPaymentAt: string | null;
}

export interface TenantBillingState {
  status: 'trialing' | 'active' | 'past_due' | 'suspended' | 'canceled';
  plan: string;
  trialEndsAt: string | null;
  overagePolicy: OveragePolicy;
  /** null: the default nobody chose. */
  overageChosenAt: string | null;
}

export type OveragePolicy = 'hard_stop' | 'metered';

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown) => (typeof v === 'number' ? v : Number(v ?? 0));

export function parsePlans(data: unknown): Plan[] {
  if (!Array.isArray(data)) throw new Error('plans: unexpected response');
  return data.filter(isObj).map((r) => ({
    id: String(r.id),
    label: String(r.label),
    monthlyPriceCents: num(r.monthly_price_cents),
    trialDays: r.trial_days == null ? null : num(r.trial_days),
    smsSegments: num(r.sms_segments),
    mmsMessages: num(r.mms_messages),
    voiceMinutes: num(r.voice_minutes),
    emails: num(r.emails),
    aiRequests: num(r.ai_requests),
    sendsPerMinute: num(r.sends_per_minute),
    overageCentsPerSegment: r.overage_cents_per_segment == null ? 3 : num(r.overage_cents_per_segment),
    features: Array.isArray(r.features) ? r.features.map(String) : [],
    sortOrder: num(r.sort_order),
  })).sort((a, b) => a.sortOrder - b.sortOrder);
}

export function parseBilling(data: unknown): BillingInfo | null {
  if (!isObj(data)) return null;
  return {
    status: (data.subscription_status as string | null) ?? null,
    plan: (data.plan as string | null) ?? null,
    currentPeriodEnd: (data.current_period_end as string | null) ?? null,
    cancelAtPeriodEnd: !!data.cancel_at_period_end,
    latestInvoiceStatus: (data.latest_invoice_status as string | null) ?? null,
    lastPaymentAt: (data.last_payment_at as string | null) ?? null,
  };
}

export const FEATURE_LABELS: Record<string, string> = {
  ai_sms_agent: 'AI text assistant',
  ai_voice_agent: 'AI voice agent',
  dedicated_number: 'Dedicated phone number',
  campaigns: 'Campaigns',
  data_export: 'Data export',
  website_generator: 'Website generator',
};

export const formatPrice = (cents: number) =>
  cents === 0 ? 'Free' : `$${(cents / 100).toLocaleString('en-US', { maximumFractionDigits: 2 })}/mo`;
const n = (v: number) => v.toLocaleString('en-US');

/** A per-segment price in cents as people read it: 3 → "$0.03", 2.5 → "$0.025". */
export const formatSegmentPrice = (cents: number) =>
  `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;

/** The overage price of the shop's plan (the default $0.03 until the plans are loaded). */
export function overagePriceText(plans: Plan[], planId: string | undefined): string {
  return formatSegmentPrice(plans.find((p) => p.id === planId)?.overageCentsPerSegment ?? 3);
}

export interface ComparisonRow {
  label: string;
  /** One cell per plan, in the plans' order: text, or a boolean for "included". */
  cells: Array<string | boolean>;
}

/** The comparison table: every limit and feature of the plans table, nothing written twice. */
export function comparisonRows(plans: Plan[]): ComparisonRow[] {
  const rows: ComparisonRow[] = [
    { label: 'Price', cells: plans.map((p) => formatPrice(p.monthlyPriceCents)) },
    { label: 'SMS segments / month', cells: plans.map((p) => n(p.smsSegments)) },
    { label: 'Picture messages / month', cells: plans.map((p) => n(p.mmsMessages)) },
    { label: 'Voice minutes / month', cells: plans.map((p) => n(p.voiceMinutes)) },
    { label: 'Emails / month', cells: plans.map((p) => n(p.emails)) },
    { label: 'AI requests / month', cells: plans.map((p) => n(p.aiRequests)) },
    { label: 'Texts per minute', cells: plans.map((p) => n(p.sendsPerMinute)) },
  ];
  const features = Object.keys(FEATURE_LABELS).filter((f) => plans.some((p) => p.features.includes(f)));
  for (const f of features) rows.push({ label: FEATURE_LABELS[f]!, cells: plans.map((p) => p.features.includes(f)) });
  return rows;
}

export type PlanAction = 'current' | 'subscribe' | 'upgrade' | 'downgrade' | 'none';

/**
 * What a plan card offers. Without a live subscription (trial, suspended, canceled): Subscribe. With one:
 * Upgrade/Downgrade (change plan with proration), and the current plan is marked.
 */
export function planAction(plan: Plan, current: Plan | undefined, hasLiveSubscription: boolean): PlanAction {
  if (plan.id === 'trial') return current?.id === 'trial' ? 'current' : 'none';
  if (!hasLiveSubscription) return 'subscribe';
  if (current?.id === plan.id) return 'current';
  return (current?.monthlyPriceCents ?? 0) < plan.monthlyPriceCents ? 'upgrade' : 'downgrade';
}

export const LIVE_SUBSCRIPTION = new Set(['active', 'trialing', 'past_due']);

export function trialDaysLeft(trialEndsAt: string | null, now: Date = new Date()): number | null {
  if (!trialEndsAt) return null;
  const ms = new Date(trialEndsAt).getTime() - now.getTime();
  return ms <= 0 ? 0 : Math.ceil(ms / 86_400_000);
}

export function bannerFor(standing: Standing): { kind: 'error' | 'info'; title: string; text: string } | null {
  switch (standing) {
    case 'past_due':
      return { kind: 'error', title: 'Payment failed', text: 'Your last payment did not go through. Update your card in Manage billing — review requests are paused until then; pickup notices still go out.' };
    case 'suspended':
      return { kind: 'error', title: 'Subscription suspended', text: 'No messages go out and the app is read-only. Your data is safe: renew or choose a plan to continue. Billing and data export stay open.' };
    case 'locked':
      return { kind: 'info', title: 'Your free trial has ended', text: 'The app is read-only until you choose a plan. Nothing was deleted.' };
    default:
      return null;
  }
}

/**
 * What the billing page says on the way back from Stripe Checkout (`?checkout=success|canceled`). Stripe may send
 * people back before its webhook has reached us: until the subscription is live the page says it is on its way
 * (and reloads by itself, CHECKOUT_POLL); once live it names the plan now in force.
 */
export function checkoutNotice(checkout: string | null, live: boolean, planLabel: string | undefined): { kind: 'success' | 'info'; text: string } | null {
  if (checkout === 'canceled') return { kind: 'info', text: 'Checkout was canceled; nothing was charged.' };
  if (checkout !== 'success') return null;
  if (live) return { kind: 'success', text: `Thank you! You are on ${planLabel ?? 'your new plan'} now, and its limits apply right away.` };
  return { kind: 'success', text: 'Thank you! Your subscription is being activated; this page updates by itself in a moment.' };
}

/** Back from Checkout with no live subscription yet: reload the billing state this often, at most this many times. */
export const CHECKOUT_POLL = { everyMs: 2000, times: 15 } as const;
