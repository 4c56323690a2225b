/** Billing calls: the only billing module that talks to Supabase. Throws AppError on failure. */
import { supabase } from '../../lib/supabase.ts';
import { fromFunctionsError, toAppError } from '../../lib/errors.ts';
import { parseBilling, parsePlans, type BillingInfo, type OveragePolicy, type Plan, type Standing, type TenantBillingState } from './model.ts';

export interface BillingApi {
  plans(): Promise<Plan[]>;
  /** null for technicians (RLS shows billing to owners and admins only) and before the first checkout. */
  billing(tenantId: string): Promise<BillingInfo | null>;
  tenant(tenantId: string): Promise<TenantBillingState>;
  standing(tenantId: string): Promise<Standing>;
  checkout(tenantId: string, plan: string): Promise<string>;
  portal(tenantId: string): Promise<string>;
  changePlan(tenantId: string, plan: string): Promise<{ plan: string; status: string }>;
  /**
   * Owners/admins: hard stop at the cap, or a per-segment price (the plan's) for each extra segment billed on the subscription. Saves the choice,
   * then asks stripe-overage to add/remove the metered subscription item now; `synced: false` when that call
   * failed (the choice is saved and the scheduled run updates Stripe within 15 minutes).
   */
  setOveragePolicy(tenantId: string, policy: OveragePolicy): Promise<{ synced: boolean } | void>;
}

async function invoke<T>(fn: string, body: Record<string, unknown>): Promise<T> {
  const { data, error } = await supabase().functions.invoke(fn, { body });
  if (error) throw await fromFunctionsError(error);
  return data as T;
}

export const billingApi: BillingApi = {
  async plans() {
    const { data, error } = await supabase().from('plans')
      .select('id, label, monthly_price_cents, trial_days, sms_segments, mms_messages, voice_minutes, emails, ai_requests, sends_per_minute, overage_cents_per_segment, features, sort_order')
      .order('sort_order');
    if (error) throw toAppError(error);
    return parsePlans(data);
  },
  async billing(tenantId) {
    const { data, error } = await supabase().from('tenant_billing')
      .select('subscription_status, plan, current_period_end, cancel_at_period_end, latest_invoice_status, last_payment_at')
      .eq('tenant_id', tenantId).maybeSingle();
    if (error) throw toAppError(error);
    return parseBilling(data);
  },
  async tenant(tenantId) {
    const { data, error } = await supabase().from('tenants')
      .select('status, plan, trial_ends_at, overage_policy, overage_policy_chosen_at').eq('id', tenantId).single();
    if (error) throw toAppError(error);
    const r = data as {
      status: TenantBillingState['status']; plan: string; trial_ends_at: string | null;
      overage_policy: OveragePolicy; overage_policy_chosen_at: string | null;
    };
    return {
      status: r.status, plan: r.plan, trialEndsAt: r.trial_ends_at,
      overagePolicy: r.overage_policy, overageChosenAt: r.overage_policy_chosen_at,
    };
  },
  async standing(tenantId) {
    const { data, error } = await supabase().rpc('tenant_standing', { tenant_id: tenantId });
    if (error) throw toAppError(error);
    return data as Standing;
  },
  async checkout(tenantId, plan) {
    return (await invoke<{ url: string }>('stripe-checkout', { tenant_id: tenantId, plan })).url;
  },
  async portal(tenantId) {
    return (await invoke<{ url: string }>('stripe-portal', { tenant_id: tenantId })).url;
  },
  async changePlan(tenantId, plan) {
    return invoke<{ plan: string; status: string }>('stripe-change-plan', { tenant_id: tenantId, plan });
  },
  async setOveragePolicy(tenantId, policy) {
    const { data, error } = await supabase().from('tenants').update({ overage_policy: policy }).eq('id', tenantId).select('id');
    if (error) throw toAppError(error);
    if (!data?.length) throw toAppError({ code: 'forbidden', message: 'forbidden: only owners and admins choose the overage policy' });
    try {
      await invoke<{ item: string }>('stripe-overage', { tenant_id: tenantId });
      return { synced: true };
    } catch {
      return { synced: false };
    }
  },
};
