/**
 * Media for MMS: stored paths "<bucket>/<tenant_id>/…" become short-lived signed URLs Twilio can fetch. A shop may
 * attach only files under its own folder; anything else (another shop's folder, "..", empty segments) → null.
 */
import type { SupabaseClient } from '@supabase/supabase-js';

export function mediaSigner(service: SupabaseClient, expiresInSeconds = 3600) {
  return async (tenantId: string, path: string): Promise<string | null> => {
    const [bucket, ...rest] = path.split('/');
    if (!bucket || rest[0] !== tenantId || rest.some((s) => s === '..' || s === '')) return null;
    const { data, error } = await service.storage.from(bucket).createSignedUrl(rest.join('/'), expiresInSeconds);
    return error || !data ? null : data.signedUrl;
  };
}
