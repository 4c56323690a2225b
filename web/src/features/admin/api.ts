/** Operator calls (platform admins; every RPC checks again). Throws AppError on failure. */
import { supabase } from '../../lib/supabase.ts';
import { fromFunctionsError, toAppError } from '../../lib/errors.ts';
import { parseOverview, type OverviewRow } from './model.ts';

export interface DailyRow {
  day: string;
  sms_outbound_segments: number;
  sms_inbound: number;
  mms_outbound: number;
  voice_minutes_inbound: number;
  voice_minutes_outbound: number;
  emails_sent: number;
  ai_requests: number;
  ocr_pages: number;
}

export const adminApi = {
  async amIPlatformAdmin(): Promise<boolean> {
    const { data, error } = await supabase().rpc('am_i_platform_admin');
    if (error) throw toAppError(error);
    return data === true;
  },
  async overview(from: string, to: string): Promise<OverviewRow[]> {
    const { data, error } = await supabase().rpc('admin_usage_overview', { from_date: from, to_date: to });
    if (error) throw toAppError(error);
    return parseOverview(data);
  },
  async tenantDaily(tenantId: string, from: string, to: string): Promise<DailyRow[]> {
    const { data, error } = await supabase().rpc('admin_tenant_daily', { tenant_id: tenantId, from_date: from, to_date: to });
    if (error) throw toAppError(error);
    return ((data ?? []) as Record<string, unknown>[]).map((r) => Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, k === 'day' ? String(v) : Number(v)]))) as unknown as DailyRow[];
  },
  /** Runs the aggregation now (and sends pending alert emails) through the usage-aggregate function. */
  async runAggregation(from: string, to: string): Promise<unknown> {
    const { data, error } = await supabase().functions.invoke('usage-aggregate', { body: { from, to } });
    if (error) throw await fromFunctionsError(error);
    return data;
  },
};
