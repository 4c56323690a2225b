/**
 * Template rendering with the very function send-sms uses (supabase/functions/_shared/messaging/templates.ts, pure
 * TypeScript), so the settings preview and the text the customer gets never disagree.
 */
export { renderTemplate, DEFAULT_TEMPLATES, type MergeValues } from '../../../../supabase/functions/_shared/messaging/templates.ts';

export const MERGE_FIELDS = ['{first_name}', '{shop_name}', '{vehicle}', '{review_link}'] as const;
