/**
 * Tenancy types and pure helpers (no Supabase, no React): what a shop, a membership and an invitation look like
 * to the app, the parsers that check RPC answers, and the shop form's validation.
 */
import { AppError } from '../../lib/errors.ts';

export const ROLES = ['owner', 'admin', 'technician'] as const;
export type Role = (typeof ROLES)[number];

export const TENANT_STATUSES = ['trialing', 'active', 'past_due', 'suspended', 'canceled'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export interface TenantSummary {
  id: string;
  name: string;
  slug: string;
  role: Role;
  status: TenantStatus;
  plan: string | null;
}

export interface Member {
  tenantId: string;
  userId: string;
  role: Role;
  createdAt: string;
}

export interface Invitation {
  invitationId: string;
  token: string;
  /** ISO timestamp, when the server says. */
  expiresAt: string | null;
}

/** A row of `invitations` as owners and admins read it (the token itself is never stored or readable). */
export interface PendingInvitation {
  id: string;
  email: string;
  role: Role;
  createdAt: string;
  expiresAt: string;
}

export const INDUSTRIES = [
  { value: 'auto_repair', label: 'Auto repair' },
  { value: 'detailing', label: 'Detailing' },
  { value: 'device_repair', label: 'Device repair' },
  { value: 'lawn_care', label: 'Lawn care' },
  { value: 'cleaning', label: 'Cleaning' },
  { value: 'other', label: 'Other' },
] as const;
export type Industry = (typeof INDUSTRIES)[number]['value'];

export interface NewShop {
  name: string;
  industry: Industry;
  timeZone: string;
  /** Optional; null when left empty. */
  phone: string | null;
}

export const ROLE_LABELS: Record<Role, string> = { owner: 'Owner', admin: 'Admin', technician: 'Technician' };

export const STATUS_LABELS: Record<TenantStatus, string> = {
  trialing: 'Free trial',
  active: 'Active',
  past_due: 'Payment overdue',
  suspended: 'Suspended',
  canceled: 'Canceled',
};

export function canManageMembers(role: Role | null | undefined): boolean {
  return role === 'owner' || role === 'admin';
}

/** Roles someone with `role` may hand out: owners may invite owners; admins invite admins and technicians. */
export function invitableRoles(role: Role | null | undefined): Role[] {
  if (role === 'owner') return ['technician', 'admin', 'owner'];
  if (role === 'admin') return ['technician', 'admin'];
  return [];
}

// ---- Parsers for RPC answers (a changed server contract fails loudly here, not deep in a component) ---------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function badResponse(what: string): AppError {
  return new AppError('bad_response', `ServicePro's server sent an unexpected answer (${what}). Please reload and try again.`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

function isStatus(v: unknown): v is TenantStatus {
  return typeof v === 'string' && (TENANT_STATUSES as readonly string[]).includes(v);
}

export function parseTenantRows(data: unknown): TenantSummary[] {
  if (data == null) return [];
  if (!Array.isArray(data)) throw badResponse('my_tenants');
  return data.map((row) => {
    if (!isRecord(row) || typeof row.id !== 'string' || typeof row.name !== 'string' || !isRole(row.role)) {
      throw badResponse('my_tenants');
    }
    return {
      id: row.id,
      name: row.name,
      slug: typeof row.slug === 'string' ? row.slug : '',
      role: row.role,
      status: isStatus(row.status) ? row.status : 'active',
      plan: typeof row.plan === 'string' ? row.plan : null,
    };
  });
}

/**
 * A tenant id from an RPC answer: a bare uuid (`returns uuid`), `{ id }` / `{ tenant_id }` (`returns record`/json),
 * or a one-row array of those (`returns table`). Null when the answer carries none.
 */
export function extractTenantId(data: unknown): string | null {
  if (typeof data === 'string') return UUID.test(data) ? data : null;
  if (Array.isArray(data)) return data.length ? extractTenantId(data[0]) : null;
  if (isRecord(data)) {
    for (const key of ['tenant_id', 'id']) {
      const v = data[key];
      if (typeof v === 'string' && UUID.test(v)) return v;
    }
  }
  return null;
}

export function parseInvitation(data: unknown): Invitation {
  const row = Array.isArray(data) ? data[0] : data;
  if (!isRecord(row) || typeof row.token !== 'string' || !row.token) throw badResponse('invite_member');
  const id = row.invitation_id ?? row.id;
  return {
    invitationId: typeof id === 'string' ? id : String(id ?? ''),
    token: row.token,
    expiresAt: typeof row.expires_at === 'string' ? row.expires_at : null,
  };
}

export function parsePendingInvitations(data: unknown): PendingInvitation[] {
  if (data == null) return [];
  if (!Array.isArray(data)) throw badResponse('invitations');
  return data.map((row) => {
    if (!isRecord(row) || typeof row.id !== 'string' || typeof row.email !== 'string' || !isRole(row.role)) {
      throw badResponse('invitations');
    }
    return {
      id: row.id,
      email: row.email,
      role: row.role,
      createdAt: typeof row.created_at === 'string' ? row.created_at : '',
      expiresAt: typeof row.expires_at === 'string' ? row.expires_at : '',
    };
  });
}

/** Roles an owner may set on a member (only owners change roles, per set_member_role). */
export function assignableRoles(myRole: Role | null | undefined): Role[] {
  return myRole === 'owner' ? ['owner', 'admin', 'technician'] : [];
}

/** May `myRole` remove a member holding `theirRole`? (Anyone may leave; see remove_member.) */
export function canRemove(myRole: Role | null | undefined, theirRole: Role, isSelf: boolean): boolean {
  if (isSelf) return true;
  if (myRole === 'owner') return true;
  if (myRole === 'admin') return theirRole !== 'owner';
  return false;
}

export function parseMembers(data: unknown): Member[] {
  if (data == null) return [];
  if (!Array.isArray(data)) throw badResponse('memberships');
  return data.map((row) => {
    if (!isRecord(row) || typeof row.user_id !== 'string' || typeof row.tenant_id !== 'string' || !isRole(row.role)) {
      throw badResponse('memberships');
    }
    return { tenantId: row.tenant_id, userId: row.user_id, role: row.role, createdAt: typeof row.created_at === 'string' ? row.created_at : '' };
  });
}

/** Members sorted owners → admins → technicians, then by join date. */
export function sortMembers(members: Member[]): Member[] {
  const rank = (r: Role) => ROLES.indexOf(r);
  return [...members].sort((a, b) => rank(a.role) - rank(b.role) || a.createdAt.localeCompare(b.createdAt));
}

export function inviteLink(origin: string, token: string): string {
  return `${origin.replace(/\/+$/, '')}/invite/${encodeURIComponent(token)}`;
}

// ---- The shop form ----------------------------------------------------------------------------------------------

export type ShopField = 'name' | 'industry' | 'timeZone' | 'phone';
export type ShopErrors = Partial<Record<ShopField, string>>;

export function isValidTimeZone(tz: string): boolean {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function defaultTimeZone(): string {
  try {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return tz && isValidTimeZone(tz) ? tz : 'UTC';
  } catch {
    return 'UTC';
  }
}

/** The IANA zones the browser knows, with `ensure` included (a zone can resolve without being listed, e.g. UTC). */
export function timeZoneOptions(ensure: string): string[] {
  let zones: string[] = [];
  try {
    const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
    zones = intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : [];
  } catch {
    zones = [];
  }
  const set = new Set(zones);
  if (ensure) set.add(ensure);
  set.add('UTC');
  return [...set].sort();
}

export interface ShopDraft {
  name: string;
  industry: string;
  timeZone: string;
  phone: string;
}

/**
 * "+1 (555) 010-0199" → "+15550100199"; "0044 20 7946 0958" → "+442079460958". The server stores E.164
 * (`^\+[1-9][0-9]{6,14}$`); without a country code a number is ambiguous, so it is refused rather than guessed.
 */
export function toE164(input: string): string | null {
  const trimmed = input.trim();
  if (!/^(\+|00)?[\d\s().\-/]+$/.test(trimmed)) return null;
  const international = trimmed.startsWith('+') || trimmed.startsWith('00');
  if (!international) return null;
  const digits = trimmed.replace(/^00/, '').replace(/\D/g, '');
  const e164 = `+${digits}`;
  return /^\+[1-9][0-9]{6,14}$/.test(e164) ? e164 : null;
}

/** Checks a draft; returns field errors, or the clean NewShop to send. */
export function validateShop(draft: ShopDraft): { ok: true; shop: NewShop } | { ok: false; errors: ShopErrors } {
  const errors: ShopErrors = {};
  const name = draft.name.trim().replace(/\s+/g, ' ');
  if (name.length < 1) errors.name = 'Enter your shop’s name.';
  else if (name.length > 100) errors.name = 'Keep the name to 100 characters or fewer.';
  const industry = INDUSTRIES.find((i) => i.value === draft.industry)?.value;
  if (!industry) errors.industry = 'Choose what kind of shop this is.';
  const timeZone = draft.timeZone.trim();
  if (!isValidTimeZone(timeZone)) errors.timeZone = 'Choose your shop’s time zone.';
  let phone: string | null = null;
  if (draft.phone.trim()) {
    phone = toE164(draft.phone);
    if (!phone) errors.phone = 'Enter the number with its country code, like +1 555 010 0199, or leave it empty.';
  }
  if (Object.keys(errors).length || !industry) return { ok: false, errors };
  return { ok: true, shop: { name, industry, timeZone, phone } };
}
