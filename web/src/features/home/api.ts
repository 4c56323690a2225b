/**
 * The owner dashboard's reads: the only home module that talks to Supabase. All through RLS (members read their
 * shop's messages and customers); the quota comes from the usage feature's check_limits and can_use, with the
 * shop's explicit overage choice (tenants) and the plan's overage price (plans).
 */
import { supabase } from '../../lib/supabase.ts';
import { toAppError } from '../../lib/errors.ts';
import { usageApi } from '../usage/api.ts';
import { smsQuota, type DeliveryFailure, type Quota, type TodayCounts } from './model.ts';

export interface DashboardApi {
  timeZone(tenantId: string): Promise<string>;
  today(tenantId: string, since: Date): Promise<TodayCounts>;
  failures(tenantId: string, limit: number): Promise<DeliveryFailure[]>;
  quota(tenantId: string): Promise<Quota | null>;
}

export const dashboardApi: DashboardApi = {
  async timeZone(tenantId) {
    const { data, error } = await supabase().from('tenants').select('time_zone').eq('id', tenantId).single();
    if (error) throw toAppError(error);
    return (data as { time_zone: string }).time_zone;
  },
  async today(tenantId, since) {
    const count = async (statuses: string[] | null, exclude: string[] | null) => {
      let q = supabase().from('messages').select('id', { count: 'exact', head: true })
        .eq('tenant_id', tenantId).eq('direction', 'outbound').gte('created_at', since.toISOString());
      if (statuses) q = q.in('status', statuses);
      if (exclude) q = q.not('status', 'in', `(${exclude.join(',')})`);
      const { count: n, error } = await q;
      if (error) throw toAppError(error);
      return n ?? 0;
    };
    const [sent, delivered, failed, scheduled] = await Promise.all([
      count(null, ['scheduled', 'canceled']), count(['delivered'], null), count(['failed', 'undelivered'], null), count(['scheduled'], null),
    ]);
    return { sent, delivered, failed, scheduled };
  },
  async failures(tenantId, limit) {
    const { data, error } = await supabase().from('messages')
      .select('id, customer_id, to_phone, status, error_code, error_message, template, updated_at, customers(name)')
      .eq('tenant_id', tenantId).eq('direction', 'outbound').in('status', ['failed', 'undelivered'])
      .order('updated_at', { ascending: false }).limit(limit);
    if (error) throw toAppError(error);
    type Row = { id: string; customer_id: string | null; to_phone: string; status: 'failed' | 'undelivered'; error_code: number | null; error_message: string | null; template: string | null; updated_at: string; customers: { name: string | null } | { name: string | null }[] | null };
    return ((data ?? []) as unknown as Row[]).map((r) => {
      const c = Array.isArray(r.customers) ? r.customers[0] : r.customers;
      return {
        id: r.id, customerId: r.customer_id, customerName: c?.name ?? null, toPhone: r.to_phone, status: r.status,
        errorCode: r.error_code, errorMessage: r.error_message, template: r.template, at: r.updated_at,
      };
    });
  },
  async quota(tenantId) {
    const [limits, chosen] = await Promise.all([
      usageApi.checkLimits(tenantId),
      supabase().from('tenants').select('overage_policy_chosen_at').eq('id', tenantId).single(),
    ]);
    if (chosen.error) throw toAppError(chosen.error);
    const overageChosen = (chosen.data as { overage_policy_chosen_at: string | null }).overage_policy_chosen_at !== null;
    const quota = smsQuota(limits, { overageChosen, overageBilled: false, overageCentsPerSegment: null });
    if (!quota?.exceeded || limits.overagePolicy !== 'metered') return quota;
    // Metered and past the cap: can_use gives the send path's own answer (billed only in a paid period), and the
    // plan its price per extra segment.
    const [use, plan] = await Promise.all([
      usageApi.canUse(tenantId, 'sms_segments'),
      supabase().from('plans').select('overage_cents_per_segment').eq('id', limits.plan).maybeSingle(),
    ]);
    const price = plan.error ? null : Number((plan.data as { overage_cents_per_segment: number | string } | null)?.overage_cents_per_segment ?? NaN);
    return smsQuota(limits, { overageChosen, overageBilled: use.reason === 'metered_overage', overageCentsPerSegment: Number.isFinite(price) ? price : null });
  },
};
