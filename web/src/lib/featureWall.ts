/** The feature wall's pure half: its event, the 402 body it reads and its wording (the dialog is lib/ui/FeatureWall.tsx). */

export interface FeatureWallDetail {
  feature: string;
  /** Plan id that includes the feature ('pro'), from the 402 body's details.required_plan. */
  requiredPlan: string | null;
  /** Shown instead of the generic sentence when given. */
  message?: string;
}

export const FEATURE_WALL_EVENT = 'servicepro:feature-wall';

const FEATURE_NAMES: Record<string, string> = {
  ai_sms_agent: 'The AI text assistant',
  ai_voice_agent: 'The AI voice agent',
  dedicated_number: 'A dedicated phone number',
  campaigns: 'Campaigns',
  data_export: 'Data export',
  website_generator: 'The website generator',
};

export const planName = (id: string | null) => (id ? id.charAt(0).toUpperCase() + id.slice(1) : 'a paid plan');
export const featureName = (f: string) => FEATURE_NAMES[f] ?? f.replace(/_/g, ' ');

/** The wall's sentence: "<Feature> is part of <Plan> — your setup stays as it is." */
export function wallSentence(d: FeatureWallDetail): string {
  return `${featureName(d.feature)} is part of ${planName(d.requiredPlan)} — your setup stays as it is.`;
}

/** Reads a 402 feature_not_in_plan body ({code, message, details: {feature, required_plan}}); null otherwise. */
export function featureWallDetailOf(body: unknown): FeatureWallDetail | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { code?: unknown; details?: { feature?: unknown; required_plan?: unknown } };
  if (b.code !== 'feature_not_in_plan') return null;
  const feature = typeof b.details?.feature === 'string' ? b.details.feature : 'This feature';
  const requiredPlan = typeof b.details?.required_plan === 'string' ? b.details.required_plan : null;
  return { feature, requiredPlan };
}

