/**
 * Tenancy model helpers: parsing RPC answers strictly, the shop form's validation, roles, and invite links.
 */
import { describe, expect, it } from 'vitest';
import {
  canManageMembers,
  extractTenantId,
  inviteLink,
  invitableRoles,
  isValidTimeZone,
  parseInvitation,
  parseMembers,
  parseTenantRows,
  sortMembers,
  timeZoneOptions,
  toE164,
  validateShop,
  canRemove,
  assignableRoles,
  parsePendingInvitations,
} from '../../web/src/features/tenancy/model.ts';
import { emailProblem, passwordProblem } from '../../web/src/features/auth/validation.ts';
import { loadShopDraft, saveShopDraft, clearShopDraft, SHOP_DRAFT_KEY } from '../../web/src/features/tenancy/draft.ts';
import { memoryStorage } from '../../web/src/lib/storage.ts';
import { parseConfig } from '../../web/src/lib/env.ts';

const ID = '0d6f8a5e-3c1b-4f7e-9a2d-5b8c7e6f4a3b';

describe('parseTenantRows (my_tenants)', () => {
  it('reads rows {id, name, slug, role, status, plan}', () => {
    expect(parseTenantRows([{ id: ID, name: 'Joe’s Garage', slug: 'joes-garage', role: 'owner', status: 'trialing', plan: 'trial' }])).toEqual([
      { id: ID, name: 'Joe’s Garage', slug: 'joes-garage', role: 'owner', status: 'trialing', plan: 'trial' },
    ]);
    expect(parseTenantRows(null)).toEqual([]);
  });
  it('fails loudly on a changed contract instead of rendering nonsense', () => {
    expect(() => parseTenantRows({ id: ID })).toThrow(/unexpected answer \(my_tenants\)/);
    expect(() => parseTenantRows([{ id: ID, name: 'X', role: 'superuser' }])).toThrow(/my_tenants/);
  });
});

describe('extractTenantId (create_tenant / accept_invitation answers)', () => {
  it('accepts a bare uuid, {id}, {tenant_id} and one-row tables', () => {
    expect(extractTenantId(ID)).toBe(ID);
    expect(extractTenantId({ tenant_id: ID, role: 'technician' })).toBe(ID);
    expect(extractTenantId({ id: ID })).toBe(ID);
    expect(extractTenantId([{ tenant_id: ID }])).toBe(ID);
  });
  it('returns null for anything else', () => {
    expect(extractTenantId(null)).toBeNull();
    expect(extractTenantId('not-a-uuid')).toBeNull();
    expect(extractTenantId([])).toBeNull();
    expect(extractTenantId({ ok: true })).toBeNull();
  });
});

describe('invitations and members', () => {
  it('parses invite_member as an object or a one-row table', () => {
    expect(parseInvitation({ invitation_id: 'i1', token: 't1', expires_at: '2025-01-08T00:00:00Z' })).toEqual({
      invitationId: 'i1',
      token: 't1',
      expiresAt: '2025-01-08T00:00:00Z',
    });
    expect(parseInvitation([{ invitation_id: 'i2', token: 't2' }])).toEqual({ invitationId: 'i2', token: 't2', expiresAt: null });
    expect(() => parseInvitation({ invitation_id: 'i3' })).toThrow(/invite_member/);
  });
  it('builds the link the invitee opens', () => {
    expect(inviteLink('http://127.0.0.1:5173', 'abc')).toBe('http://127.0.0.1:5173/invite/abc');
  });
  it('parses and sorts memberships rows', () => {
    const rows = [
      { tenant_id: ID, user_id: 'u3', role: 'technician', created_at: '2025-01-01T00:00:00Z' },
      { tenant_id: ID, user_id: 'u2', role: 'admin', created_at: '2025-02-01T00:00:00Z' },
      { tenant_id: ID, user_id: 'u1', role: 'owner', created_at: '2025-03-01T00:00:00Z' },
    ];
    expect(sortMembers(parseMembers(rows)).map((m) => m.userId)).toEqual(['u1', 'u2', 'u3']);
    expect(() => parseMembers([{ user_id: 'u1' }])).toThrow(/memberships/);
  });
  it('knows who may manage members and which roles they can give', () => {
    expect(canManageMembers('owner')).toBe(true);
    expect(canManageMembers('admin')).toBe(true);
    expect(canManageMembers('technician')).toBe(false);
    expect(invitableRoles('owner')).toEqual(['technician', 'admin', 'owner']);
    expect(invitableRoles('admin')).toEqual(['technician', 'admin']);
    expect(invitableRoles('technician')).toEqual([]);
    expect(assignableRoles('owner')).toEqual(['owner', 'admin', 'technician']);
    expect(assignableRoles('admin')).toEqual([]);
    expect(canRemove('admin', 'owner', false)).toBe(false);
    expect(canRemove('admin', 'technician', false)).toBe(true);
    expect(canRemove('technician', 'technician', false)).toBe(false);
    expect(canRemove('technician', 'technician', true)).toBe(true);
  });
  it('parses pending invitations (never a token)', () => {
    const rows = [{ id: 'i1', email: 'a@x.co', role: 'admin', created_at: '2025-01-01T00:00:00Z', expires_at: '2025-01-08T00:00:00Z' }];
    expect(parsePendingInvitations(rows)).toEqual([
      { id: 'i1', email: 'a@x.co', role: 'admin', createdAt: '2025-01-01T00:00:00Z', expiresAt: '2025-01-08T00:00:00Z' },
    ]);
    expect(() => parsePendingInvitations([{ id: 'i1' }])).toThrow(/invitations/);
  });
});

describe('the shop form', () => {
  const good = { name: '  Joe’s   Garage ', industry: 'auto_repair', timeZone: 'America/New_York', phone: '' };

  it('cleans a good draft into the create_tenant arguments', () => {
    expect(validateShop(good)).toEqual({ ok: true, shop: { name: 'Joe’s Garage', industry: 'auto_repair', timeZone: 'America/New_York', phone: null } });
    expect(validateShop({ ...good, phone: ' +1 (555) 010-0199 ' })).toMatchObject({ ok: true, shop: { phone: '+15550100199' } });
  });
  it('sends phones in E.164 as create_tenant requires, and refuses numbers without a country code', () => {
    expect(toE164('+1 (555) 010-0199')).toBe('+15550100199');
    expect(toE164('0044 20 7946 0958')).toBe('+442079460958');
    expect(toE164('555 010 0199')).toBeNull();
    expect(toE164('+0 555 010 0199')).toBeNull();
    expect(toE164('+1 555')).toBeNull();
    expect(toE164('+1 555 010 0199 ext 2')).toBeNull();
  });
  it('names every field that needs fixing', () => {
    const r = validateShop({ name: ' ', industry: 'bakery', timeZone: 'Mars/Olympus', phone: 'call me' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(['industry', 'name', 'phone', 'timeZone']);
  });
  it('checks time zones with Intl and always offers the default one', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Nowhere/Land')).toBe(false);
    const zones = timeZoneOptions('Etc/GMT+5');
    expect(zones).toContain('Etc/GMT+5');
    expect(zones).toContain('UTC');
  });
  it('keeps the draft across reloads until the shop exists', () => {
    const storage = memoryStorage();
    saveShopDraft({ ...good, phone: '555 0100' }, storage);
    expect(loadShopDraft(storage)).toEqual({ ...good, phone: '555 0100' });
    clearShopDraft(storage);
    expect(storage.dump()[SHOP_DRAFT_KEY]).toBeUndefined();
    expect(loadShopDraft(memoryStorage({ [SHOP_DRAFT_KEY]: '"junk"' })).name).toBe('');
  });
});

describe('account fields and configuration', () => {
  it('validates email and password before any request', () => {
    expect(emailProblem('')).toMatch(/Enter your email/);
    expect(emailProblem('joe@garage')).toMatch(/valid email/);
    expect(emailProblem(' joe@garage.com ')).toBeNull();
    expect(passwordProblem('short', 'sign-up')).toMatch(/at least 8/);
    expect(passwordProblem('short', 'sign-in')).toBeNull();
  });
  it('names the missing or malformed VITE_ settings', () => {
    expect(parseConfig({ VITE_SUPABASE_URL: 'http://127.0.0.1:54321/', VITE_SUPABASE_ANON_KEY: 'k' })).toEqual({
      supabaseUrl: 'http://127.0.0.1:54321',
      supabaseAnonKey: 'k',
    });
    expect(() => parseConfig({})).toThrow(/VITE_SUPABASE_URL is not set; VITE_SUPABASE_ANON_KEY is not set/);
    expect(() => parseConfig({ VITE_SUPABASE_URL: 'ftp://x', VITE_SUPABASE_ANON_KEY: 'k' })).toThrow(/must be an http\(s\) URL/);
  });
});
