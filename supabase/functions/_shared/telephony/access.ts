/**
 * Who may change a shop's phone setup (owners and admins, checked against memberships with the service client
 * after Auth confirmed the caller), and which server callers may run telephony jobs (the service role key, as
 * pg_net sends it from Vault's cron_function_key).
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { bearerToken, decodeJwtPayload } from '../auth.ts';
import { HttpError } from '../http.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseTenantId(v: unknown): string {
  if (typeof v !== 'string' || !UUID.test(v)) {
    throw new HttpError(400, 'invalid_tenant_id', 'tenant_id must be the id (uuid) of one of your shops.');
  }
  return v.toLowerCase();
}

/** 404 for a non-member (learns nothing), 403 for a technician. */
export async function requirePhoneAdmin(db: SupabaseClient, userId: string, tenantId: string): Promise<'owner' | 'admin'> {
  const { data, error } = await db.from('memberships').select('role').eq('tenant_id', tenantId).eq('user_id', userId).maybeSingle();
  if (error) throw new HttpError(503, 'database_unavailable', 'Your shop could not be checked right now. Please try again.');
  const role = (data as { role?: string } | null)?.role;
  if (!role) throw new HttpError(404, 'tenant_not_found', 'No such shop among yours.');
  if (role !== 'owner' && role !== 'admin') {
    throw new HttpError(403, 'forbidden', "Only the shop's owners and admins manage its phone number.");
  }
  return role;
}

/** The caller presents one of the service keys (or, with none configured, a service_role JWT). */
export function isServiceCaller(req: Request, serviceKeys: string[]): boolean {
  const t = bearerToken(req);
  if (!t) return false;
  if (serviceKeys.includes(t)) return true;
  return serviceKeys.length === 0 && decodeJwtPayload(t)?.role === 'service_role';
}

/** SUPABASE_SERVICE_ROLE_KEY plus the values of SUPABASE_SECRET_KEYS (hosted's new-style keys), when set. */
export function serviceKeysFrom(serviceRoleKey: string, secretKeysJson: string | undefined): string[] {
  const keys = [serviceRoleKey];
  if (secretKeysJson) {
    try {
      keys.push(...Object.values(JSON.parse(secretKeysJson) as Record<string, string>).filter((v) => typeof v === 'string'));
    } catch { /* not JSON: ignore */ }
  }
  return keys;
}
