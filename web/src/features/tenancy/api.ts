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
  parseTenantRows,
  type Invitation,
  type Member,
  type NewShop,
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
};
