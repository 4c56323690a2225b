/**
 * Who may manage a shop's billing: owners and admins. Checked with the service client against memberships
 * (the caller's id comes from a token Auth confirmed). A non-member learns nothing: 404 like a missing shop.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { HttpError } from '../http.ts';
import { UUID } from './model.ts';

export type Role = 'owner' | 'admin' | 'technician';
const RANK: Record<Role, number> = { technician: 1, admin: 2, owner: 3 };

export function parseTenantId(v: unknown): string {
  if (typeof v !== 'string' || !UUID.test(v)) {
    throw new HttpError(400, 'invalid_tenant_id', 'tenant_id must be the id (uuid) of one of your shops.');
  }
  return v.toLowerCase();
}

export async function requireTenantRole(db: SupabaseClient, userId: string, tenantId: string, min: Role): Promise<Role> {
  const { data, error } = await db.from('memberships').select('role')
    .eq('tenant_id', tenantId).eq('user_id', userId).maybeSingle();
  if (error) throw new HttpError(503, 'database_unavailable', 'Your shop could not be checked right now. Please try again.');
  const role = (data as { role?: Role } | null)?.role;
  if (!role) throw new HttpError(404, 'tenant_not_found', 'No such shop among yours.');
  if (RANK[role] < RANK[min]) {
    throw new HttpError(403, 'forbidden', 'Only the shop\'s owners and admins manage billing.');
  }
  return role;
}
