/**
 * Shop settings (pure, unit-tested): the shape the page edits, validation with a message per field that mirrors
 * the database's checks (tenants_google_review_url_check, messaging_settings_*_check), and the template preview.
 */
import { countSegments, type SegmentInfo } from '../messaging/segments.ts';
import { DEFAULT_TEMPLATES, MERGE_FIELDS, renderTemplate } from '../messaging/templates.ts';

export interface ShopSettings {
  googleReviewUrl: string | null;
  /** "HH:MM", 24-hour. */
  quietStart: string;
  quietEnd: string;
  pickupTemplate: string;
  reviewTemplate: string;
  /** Days after a review request to send one reminder; null: no reminder. */
  reviewReminderDays: number | null;
  overagePolicy: 'hard_stop' | 'metered';
}

/** What the form holds: everything as typed. */
export interface SettingsDraft {
  googleReviewUrl: string;
  quietStart: string;
  quietEnd: string;
  pickupTemplate: string;
  reviewTemplate: string;
  reviewReminderDays: string;
}

export type SettingsField = keyof SettingsDraft;

export const LEGAL_START = '08:00';
export const LEGAL_END = '21:00';
export const TEMPLATE_MAX = 1000;

export const DEFAULT_SETTINGS: Omit<ShopSettings, 'googleReviewUrl' | 'overagePolicy'> = {
  quietStart: LEGAL_START,
  quietEnd: LEGAL_END,
  pickupTemplate: DEFAULT_TEMPLATES.pickup_ready,
  reviewTemplate: DEFAULT_TEMPLATES.review_request,
  reviewReminderDays: 3,
};

export function draftFrom(s: ShopSettings): SettingsDraft {
  return {
    googleReviewUrl: s.googleReviewUrl ?? '',
    quietStart: s.quietStart,
    quietEnd: s.quietEnd,
    pickupTemplate: s.pickupTemplate,
    reviewTemplate: s.reviewTemplate,
    reviewReminderDays: s.reviewReminderDays === null ? '' : String(s.reviewReminderDays),
  };
}

/** "08:00:00" (Postgres time) or "8:00" → "08:00"; null when it is not a time of day. */
export function normaliseTime(t: string): string | null {
  const m = /^\s*(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?\s*$/.exec(t);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return null;
  return `${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`;
}

/** Merge fields in a template that send-sms does not know (typos stay in the text as typed). */
export function unknownMergeFields(template: string): string[] {
  const known = new Set<string>(MERGE_FIELDS);
  return [...new Set(template.match(/\{[^{}\s]{1,40}\}/g) ?? [])].filter((f) => !known.has(f));
}

export type SettingsInput = Omit<ShopSettings, 'overagePolicy'>;

export function validateSettings(d: SettingsDraft): { input: SettingsInput | null; errors: Partial<Record<SettingsField, string>> } {
  const errors: Partial<Record<SettingsField, string>> = {};
  const url = d.googleReviewUrl.trim();
  if (url && (!/^https:\/\/\S+$/.test(url) || url.length > 2048)) {
    errors.googleReviewUrl = 'Paste the full link from Google, starting with https:// (no spaces).';
  } else if (url) {
    try { new URL(url); } catch { errors.googleReviewUrl = 'That is not a valid web address.'; }
  }
  const start = normaliseTime(d.quietStart);
  const end = normaliseTime(d.quietEnd);
  if (!start) errors.quietStart = 'Enter a time like 09:00.';
  else if (start < LEGAL_START) errors.quietStart = 'Texts may not go out before 08:00. Pick 08:00 or later.';
  if (!end) errors.quietEnd = 'Enter a time like 20:00.';
  else if (end > LEGAL_END) errors.quietEnd = 'Texts may not go out after 21:00. Pick 21:00 or earlier.';
  if (start && end && !errors.quietStart && !errors.quietEnd && start >= end) errors.quietEnd = 'The window must end after it starts.';
  for (const [field, text] of [['pickupTemplate', d.pickupTemplate], ['reviewTemplate', d.reviewTemplate]] as const) {
    const n = [...text.trim()].length;
    if (n === 0) errors[field] = 'Write the message (it cannot be empty).';
    else if (n > TEMPLATE_MAX) errors[field] = `At most ${TEMPLATE_MAX} characters (now ${n}).`;
  }
  const daysText = d.reviewReminderDays.trim();
  let days: number | null = null;
  if (daysText) {
    days = Number(daysText);
    if (!Number.isInteger(days) || days < 1 || days > 30) errors.reviewReminderDays = 'Enter a whole number of days from 1 to 30, or leave it empty for no reminder.';
  }
  if (Object.keys(errors).length) return { input: null, errors };
  return {
    input: {
      googleReviewUrl: url || null, quietStart: start!, quietEnd: end!,
      pickupTemplate: d.pickupTemplate.trim(), reviewTemplate: d.reviewTemplate.trim(), reviewReminderDays: days,
    },
    errors,
  };
}

/** Warnings that do not block saving but would surprise the owner. */
export function templateWarnings(template: string, kind: 'pickup' | 'review'): string[] {
  const w: string[] = [];
  const unknown = unknownMergeFields(template);
  if (unknown.length) w.push(`${unknown.join(' ')} ${unknown.length === 1 ? 'is not a merge field' : 'are not merge fields'}: it stays in the text as typed.`);
  if (kind === 'review' && !template.includes('{review_link}')) w.push('Add {review_link}, or the customer gets no link to review you.');
  if (kind === 'pickup' && !/\bSTOP\b/i.test(template)) w.push('Consider keeping "Reply STOP to opt out." in the text.');
  return w;
}

/** A sample short link as long as the real ones (send-sms puts the shop's short link in {review_link}). */
export const SAMPLE_REVIEW_LINK = 'https://servicepro.app/r/Ab3dE5gH';

/** The template as a customer would get it, with sample values, and its segments (what the quota counts). */
export function previewTemplate(template: string, shopName: string): { text: string; info: SegmentInfo } {
  const text = renderTemplate(template, { first_name: 'Alexandra', shop_name: shopName, vehicle: '2019 Toyota Camry', review_link: SAMPLE_REVIEW_LINK });
  return { text, info: countSegments(text) };
}
