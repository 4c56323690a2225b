/**
 * The segment meter uses the very counter the server charges by (supabase/functions/_shared/messaging/segments.ts,
 * pure TypeScript, no runtime dependencies), so the preview and the quota never disagree.
 */
export { countSegments, fixToGsm, canFix, MAX_BODY_CHARS, type SegmentInfo, type Encoding } from '../../../../supabase/functions/_shared/messaging/segments.ts';
