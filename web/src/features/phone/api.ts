/** Phone calls: the only phone module that talks to Supabase. Throws PhoneError (an AppError with details) on failure. */
import { supabase } from '../../lib/supabase.ts';
import { AppError, fromFunctionsError, toAppError } from '../../lib/errors.ts';
import { parseNumber, parseVoicemail, type Alternative, type PhoneNumber, type SettingsPatch, type Voicemail } from './model.ts';

export class PhoneError extends AppError {
  constructor(base: AppError, readonly details: Record<string, unknown> | null) {
    super(base.code, base.message, base.status);
  }
  get alternatives(): Alternative[] {
    const a = this.details?.alternatives;
    return Array.isArray(a) ? (a as Alternative[]) : [];
  }
}

async function invoke<T>(fn: string, body: Record<string, unknown>): Promise<T> {
  const { data, error } = await supabase().functions.invoke(fn, { body });
  if (error) {
    let details: Record<string, unknown> | null = null;
    const ctx = (error as { context?: unknown }).context;
    if (ctx instanceof Response) {
      try {
        const b = await ctx.clone().json() as { details?: Record<string, unknown> };
        details = b.details ?? null;
      } catch { /* not JSON */ }
    }
    throw new PhoneError(await fromFunctionsError(error), details);
  }
  return data as T;
}

const NUMBER_COLS = 'id, e164, status, ivr_mode, forward_to, sip_uri, hours, greeting, after_hours_message, credential_kind';

export interface PhoneApi {
  number(tenantId: string): Promise<PhoneNumber | null>;
  provision(tenantId: string, areaCode: string, phoneNumber?: string): Promise<{ phone_number: string; status: string }>;
  release(tenantId: string): Promise<void>;
  saveSettings(tenantId: string, numberId: string, patch: SettingsPatch): Promise<PhoneNumber>;
  credentials(tenantId: string): Promise<{ subaccount_sid: string | null; byo_account_sid: string | null }>;
  saveByo(tenantId: string, accountSid: string, authToken: string): Promise<void>;
  removeByo(tenantId: string): Promise<void>;
  voicemails(tenantId: string, customerId?: string): Promise<Voicemail[]>;
  markVoicemailRead(id: string): Promise<void>;
}

export const phoneApi: PhoneApi = {
  async number(tenantId) {
    const { data, error } = await supabase().from('tenant_phone_numbers').select(NUMBER_COLS)
      .eq('tenant_id', tenantId).neq('status', 'released').maybeSingle();
    if (error) throw toAppError(error);
    return parseNumber(data as Record<string, unknown> | null);
  },
  provision(tenantId, areaCode, phoneNumber) {
    return invoke('provision-number', { tenant_id: tenantId, area_code: areaCode, ...(phoneNumber ? { phone_number: phoneNumber } : {}) });
  },
  async release(tenantId) {
    await invoke('provision-number', { tenant_id: tenantId, action: 'release', confirm: true });
  },
  async saveSettings(tenantId, numberId, patch) {
    const { data, error } = await supabase().from('tenant_phone_numbers').update(patch)
      .eq('tenant_id', tenantId).eq('id', numberId).select(NUMBER_COLS).single();
    if (error) throw toAppError(error);
    return parseNumber(data as Record<string, unknown>)!;
  },
  credentials(tenantId) {
    return invoke('telephony-credentials', { tenant_id: tenantId, action: 'status' });
  },
  async saveByo(tenantId, accountSid, authToken) {
    await invoke('telephony-credentials', { tenant_id: tenantId, action: 'save_byo', account_sid: accountSid, auth_token: authToken });
  },
  async removeByo(tenantId) {
    await invoke('telephony-credentials', { tenant_id: tenantId, action: 'remove_byo' });
  },
  /** The thread integration: the shop's (or one customer's) voicemails, newest first. */
  async voicemails(tenantId, customerId) {
    const { data, error } = await supabase().rpc('customer_voicemails', { tenant_id: tenantId, customer_id: customerId ?? null });
    if (error) throw toAppError(error);
    return ((data ?? []) as Record<string, unknown>[]).map(parseVoicemail);
  },
  async markVoicemailRead(id) {
    const { error } = await supabase().from('voicemails').update({ read_at: new Date().toISOString() }).eq('id', id);
    if (error) throw toAppError(error);
  },
};
