/**
 * Shop settings calls: the only settings module that talks to Supabase. Reads and writes through RLS: members read
 * tenants and messaging_settings; owners and admins update tenants.google_review_url and insert/update their
 * shop's messaging_settings row (policies *_admins, column grants in the tenancy and messaging migrations).
 */
import { supabase } from '../../lib/supabase.ts';
import { AppError, toAppError } from '../../lib/errors.ts';
import { DEFAULT_SETTINGS, normaliseTime, type SettingsInput, type ShopSettings } from './model.ts';

export interface SettingsApi {
  load(tenantId: string): Promise<{ settings: ShopSettings; hasRow: boolean }>;
  save(tenantId: string, input: SettingsInput, before: { settings: ShopSettings; hasRow: boolean }): Promise<void>;
}

/** The database's check constraints, in words (the page validates first; this is the server's last word). */
const CHECKS: Record<string, string> = {
  tenants_google_review_url_check: 'The review link must start with https:// and have no spaces.',
  messaging_settings_window_check: 'The sending window must lie within 08:00–21:00 and end after it starts.',
  messaging_settings_pickup_check: 'The pickup message must be 1 to 1,000 characters.',
  messaging_settings_review_check: 'The review message must be 1 to 1,000 characters.',
  messaging_settings_reminder_check: 'The reminder must be 1 to 30 days after the request.',
};

function mapError(e: unknown): AppError {
  const err = toAppError(e);
  const raw = e as { message?: string } | null;
  const constraint = Object.keys(CHECKS).find((c) => raw?.message?.includes(c));
  if (constraint) return new AppError('invalid_settings', CHECKS[constraint]!, err.status);
  if (err.code === '42501') return new AppError('forbidden', 'Only owners and admins can change the shop settings.', err.status);
  return err;
}

export const settingsApi: SettingsApi = {
  async load(tenantId) {
    const db = supabase();
    const [t, s] = await Promise.all([
      db.from('tenants').select('google_review_url, overage_policy').eq('id', tenantId).single(),
      db.from('messaging_settings').select('quiet_start, quiet_end, pickup_template, review_template, review_reminder_days').eq('tenant_id', tenantId).maybeSingle(),
    ]);
    if (t.error) throw mapError(t.error);
    if (s.error) throw mapError(s.error);
    const tenant = t.data as { google_review_url: string | null; overage_policy: string };
    const row = s.data as { quiet_start: string; quiet_end: string; pickup_template: string; review_template: string; review_reminder_days: number | null } | null;
    return {
      hasRow: !!row,
      settings: {
        googleReviewUrl: tenant.google_review_url,
        overagePolicy: tenant.overage_policy === 'metered' ? 'metered' : 'hard_stop',
        ...(row ? {
          quietStart: normaliseTime(row.quiet_start) ?? DEFAULT_SETTINGS.quietStart,
          quietEnd: normaliseTime(row.quiet_end) ?? DEFAULT_SETTINGS.quietEnd,
          pickupTemplate: row.pickup_template,
          reviewTemplate: row.review_template,
          reviewReminderDays: row.review_reminder_days,
        } : DEFAULT_SETTINGS),
      },
    };
  },

  async save(tenantId, input, before) {
    const db = supabase();
    const values = {
      quiet_start: input.quietStart, quiet_end: input.quietEnd, pickup_template: input.pickupTemplate,
      review_template: input.reviewTemplate, review_reminder_days: input.reviewReminderDays,
    };
    // Not an upsert: PostgREST's upsert would also SET tenant_id, which members may never update.
    const update = () => db.from('messaging_settings').update(values).eq('tenant_id', tenantId).select('tenant_id');
    let s = before.hasRow ? await update() : await db.from('messaging_settings').insert({ tenant_id: tenantId, ...values }).select('tenant_id');
    // Someone (or an earlier half-finished save) created the row meanwhile: update it instead.
    if (s.error && (s.error as { code?: string }).code === '23505') s = await update();
    if (s.error) throw mapError(s.error);
    if (!s.data?.length) throw new AppError('forbidden', 'Only owners and admins can change the shop settings.', 403);
    if (input.googleReviewUrl !== before.settings.googleReviewUrl) {
      const t = await db.from('tenants').update({ google_review_url: input.googleReviewUrl }).eq('id', tenantId).select('id');
      if (t.error) throw mapError(t.error);
      if (!t.data?.length) throw new AppError('forbidden', 'Only owners and admins can change the shop settings.', 403);
    }
  },
};
