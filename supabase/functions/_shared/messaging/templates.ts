/**
 * Message templates and merge fields: {first_name}, {shop_name}, {vehicle}, {review_link}. Unknown fields stay
 * as typed (so a typo shows in the preview instead of silently vanishing); missing values become a neutral word.
 */
export type TemplateId = 'pickup_ready' | 'review_request' | 'review_reminder' | 'custom';

export const DEFAULT_TEMPLATES = {
  pickup_ready: 'Hi {first_name}, your {vehicle} is ready for pickup at {shop_name}. Reply STOP to opt out.',
  review_request: 'Hi {first_name}, thanks for choosing {shop_name}! Would you share a quick review? {review_link}',
  review_reminder: 'Hi {first_name}, a quick reminder from {shop_name}: your review helps us a lot. {review_link}',
} as const;

export interface MergeValues {
  first_name?: string | null;
  shop_name?: string | null;
  vehicle?: string | null;
  review_link?: string | null;
}

/** The first word of a name, unless the "name" is a phone number (inbound-created customers). */
export function firstName(name: string | null | undefined): string {
  const n = (name ?? '').trim();
  if (!n || /^\+?[0-9 ()-]+$/.test(n)) return 'there';
  return n.split(/\s+/)[0]!;
}

export function vehicleLabel(vehicles: unknown): string {
  if (Array.isArray(vehicles) && vehicles.length) {
    const v = vehicles[0] as { label?: unknown };
    if (v && typeof v.label === 'string' && v.label.trim()) return v.label.trim();
  }
  return 'vehicle';
}

export function renderTemplate(template: string, values: MergeValues): string {
  const fallback: Record<string, string> = { first_name: 'there', shop_name: 'our shop', vehicle: 'vehicle', review_link: '' };
  return template.replace(/\{(first_name|shop_name|vehicle|review_link)\}/g, (_m, k: keyof MergeValues) => {
    const v = values[k];
    return typeof v === 'string' && v.trim() ? v.trim() : fallback[k]!;
  }).replace(/[ \t]+$/gm, '').trim();
}
