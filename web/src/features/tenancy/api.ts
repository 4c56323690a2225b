/**
 * Tenancy calls: the only tenancy module that talks to Supabase. Every call that acts for a shop takes its
 * tenant id explicitly (the database checks membership each time). Throws AppError on failure.
 */
import { supabase } from '../../lib/supabase.ts';
import { toAppError } from '../../lib/errors.ts';
import {
  extractTenantId,
  parseInvitation,
  parseMembers,
  parsePendingInvitations,
  parseTenantRows,
  type Invitation,
  type Member,
  type NewShop,
  type PendingInvitation,
  type Role,
  type TenantSummary,
} from './model.ts';

export interface TenancyApi {
  /** The shops the signed-in user belongs to, with their role in each. */
  myTenants(): Promise<TenantSummary[]>;
  /** Creates a shop (trialing, caller as owner); returns its id. */
  createTenant(shop: NewShop): Promise<string>;
  /** Accepts an invitation for the signed-in user; returns the shop's id when the server says it. */
  acceptInvitation(token: string): Promise<string | null>;
  listMembers(tenantId: string): Promise<Member[]>;
  inviteMember(tenantId: string, email: string, role: Role): Promise<Invitation>;
  /** Pending invitations (not accepted, not revoked, not expired); owners and admins only (RLS). */
  listInvitations(tenantId: string): Promise<PendingInvitation[]>;
  revokeInvitation(tenantId: string, invitationId: string): Promise<void>;
  /** Owners only; the last owner cannot be demoted (last_owner). */
  setMemberRole(tenantId: string, userId: string, role: Role): Promise<void>;
  /** Owners/admins remove others (admins not owners); anyone may remove themselves (leave). */
  removeMember(tenantId: string, userId: string): Promise<void>;
}

export const tenancyApi: TenancyApi = {
  async myTenants() {
    const { data, error } = await supabase().rpc('my_tenants');
    if (error) throw toAppError(error);
    return parseTenantRows(data);
  },

  async createTenant(shop) {
    const { data, error } = await supabase().rpc('create_tenant', {
      name: shop.name,
      industry: shop.industry,
      time_zone: shop.timeZone,
      phone: shop.phone,
    });
    if (error) throw toAppError(error);
    const id = extractTenantId(data);
    if (!id) throw toAppError({ code: 'bad_response', message: "ServicePro's server did not return the new shop. Reload to see if it was created." });
    return id;
  },

  async acceptInvitation(token) {
    const { data, error } = await supabase().rpc('accept_invitation', { token });
    if (error) throw toAppError(error);
    return extractTenantId(data);
  },

  async listMembers(tenantId) {
    const { data, error } = await supabase()
      .from('memberships')
      .select('tenant_id, user_id, role, created_at')
      .eq('tenant_id', tenantId)
      .order('created_at', { ascending: true });
    if (error) throw toAppError(error);
    return parseMembers(data);
  },

  async inviteMember(tenantId, email, role) {
    const { data, error } = await supabase().rpc('invite_member', { tenant_id: tenantId, email, role });
    if (error) throw toAppError(error);
    return parseInvitation(data);
  },

  async listInvitations(tenantId) {
    const { data, error } = await supabase()
      .from('invitations')
      .select('id, email, role, created_at, expires_at')
      .eq('tenant_id', tenantId)
      .is('accepted_at', null)
      .is('revoked_at', null)
      .gt('expires_at', new Date().toISOString())
      .order('created_at', { ascending: false });
    if (error) throw toAppError(error);
    return parsePendingInvitations(data);
  },

  async revokeInvitation(tenantId, invitationId) {
    const { data, error } = await supabase()
      .from('invitations')
      .update({ revoked_at: new Date().toISOString() })
      .eq('tenant_id', tenantId)
      .eq('id', invitationId)
      .is('revoked_at', null)
      .select('id');
    if (error) throw toAppError(error);
    if (!Array.isArray(data) || data.length === 0) {
      throw toAppError({ code: 'invitation_not_found', message: 'invitation_not_found' });
    }
  },

  async setMemberRole(tenantId, userId, role) {
    const { error } = await supabase().rpc('set_member_role', { tenant_id: tenantId, user_id: userId, role });
    if (error) throw toAppError(error);
  },

  async removeMember(tenantId, userId) {
    const { error } = await supabase().rpc('remove_member', { tenant_id: tenantId, user_id: userId });
    if (error) throw toAppError(error);
  },
};
