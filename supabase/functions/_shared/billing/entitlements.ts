/**
 * Gates other functions call. `requireFeature` answers 402 `feature_not_in_plan` naming the cheapest plan that has
 * the feature (the PWA's feature wall reads `details.required_plan`); `requireStanding` answers 402
 * `billing_inactive` when the shop's standing does not allow the action. Both read the same tables and SQL helper
 * the database uses (plans, tenants, private.tenant_standing through public.tenant_standing).
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { HttpError } from '../http.ts';
import { cheapestPlanWith, type Standing } from './model.ts';

export type Feature =
  | 'ai_sms_agent' | 'ai_voice_agent' | 'dedicated_number' | 'campaigns' | 'data_export' | 'website_generator';

const FEATURE_LABEL: Record<Feature, string> = {
  ai_sms_agent: 'The AI text assistant',
  ai_voice_agent: 'The AI voice agent',
  dedicated_number: 'A dedicated phone number',
  campaigns: 'Campaigns',
  data_export: 'Data export',
  website_generator: 'The website generator',
};

interface PlanRow { id: string; label: string; monthly_price_cents: number; features: string[] }

const unavailable = () =>
  new HttpError(503, 'database_unavailable', 'Your plan could not be checked right now. Please try again.');

/** Throws 402 feature_not_in_plan unless the shop's plan includes `feature`. `db` is the service client. */
export async function requireFeature(db: SupabaseClient, tenantId: string, feature: Feature): Promise<void> {
  const [tenant, plans] = await Promise.all([
    db.from('tenants').select('plan').eq('id', tenantId).maybeSingle(),
    db.from('plans').select('id, label, monthly_price_cents, features'),
  ]);
  if (tenant.error || plans.error) throw unavailable();
  if (!tenant.data) throw new HttpError(404, 'tenant_not_found', 'No such shop.');
  const rows = (plans.data ?? []) as PlanRow[];
  const current = rows.find((p) => p.id === (tenant.data as { plan: string }).plan);
  if (current?.features.includes(feature)) return;
  const needed = cheapestPlanWith(rows, feature);
  const label = FEATURE_LABEL[feature] ?? feature;
  throw new HttpError(402, 'feature_not_in_plan',
    needed ? `${label} is part of ${needed.label}. Upgrade to use it — your setup stays as it is.`
      : `${label} is not available on any plan.`,
    { feature, current_plan: current?.id ?? null, required_plan: needed?.id ?? null });
}

/** The shop's standing ('ok' | 'past_due' | 'locked' | 'suspended'). */
export async function tenantStanding(db: SupabaseClient, tenantId: string): Promise<Standing> {
  const { data, error } = await db.rpc('tenant_standing', { tenant_id: tenantId });
  if (error) throw unavailable();
  if (data == null) throw new HttpError(404, 'tenant_not_found', 'No such shop.');
  return data as Standing;
}

const STANDING_MESSAGE: Record<Exclude<Standing, 'ok'>, string> = {
  past_due: 'The last payment failed. Update the card on the Billing page to continue.',
  locked: 'The free trial has ended. Choose a plan on the Billing page to continue.',
  suspended: 'The subscription is suspended. Renew it on the Billing page to continue — no data was deleted.',
};

/** Throws 402 billing_inactive unless the standing is one of `allowed` (default: only 'ok'). */
export async function requireStanding(
  db: SupabaseClient, tenantId: string, allowed: Standing[] = ['ok'],
): Promise<Standing> {
  const standing = await tenantStanding(db, tenantId);
  if (!allowed.includes(standing)) {
    throw new HttpError(402, 'billing_inactive', STANDING_MESSAGE[standing as Exclude<Standing, 'ok'>], { standing });
  }
  return standing;
}
