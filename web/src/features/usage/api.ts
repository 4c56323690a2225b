/** Usage calls: the only usage module that talks to Supabase. Throws AppError on failure. */
import { supabase } from '../../lib/supabase.ts';
import { toAppError } from '../../lib/errors.ts';
import { parseLimits, parseSummary, type Limits, type UsageSummary } from './model.ts';

export interface UsageApi {
  summary(tenantId: string): Promise<UsageSummary>;
  checkLimits(tenantId: string): Promise<Limits>;
  canUse(tenantId: string, feature: string): Promise<{ allowed: boolean; reason: string }>;
  setDailyEmail(tenantId: string, on: boolean): Promise<void>;
  dailyEmail(tenantId: string): Promise<boolean>;
}

export const usageApi: UsageApi = {
  async summary(tenantId) {
    const { data, error } = await supabase().rpc('usage_summary', { tenant_id: tenantId });
    if (error) throw toAppError(error);
    return parseSummary(data);
  },
  async checkLimits(tenantId) {
    const { data, error } = await supabase().rpc('check_limits', { tenant_id: tenantId });
    if (error) throw toAppError(error);
    return parseLimits(data);
  },
  async canUse(tenantId, feature) {
    const { data, error } = await supabase().rpc('can_use', { tenant_id: tenantId, feature });
    if (error) throw toAppError(error);
    return data as { allowed: boolean; reason: string };
  },
  async setDailyEmail(tenantId, on) {
    const { error } = await supabase().rpc('set_usage_settings', { tenant_id: tenantId, daily_email: on });
    if (error) throw toAppError(error);
  },
  async dailyEmail(tenantId) {
    const { data, error } = await supabase().from('usage_settings').select('daily_email').eq('tenant_id', tenantId).maybeSingle();
    if (error) throw toAppError(error);
    return !!(data as { daily_email?: boolean } | null)?.daily_email;
  },
};
