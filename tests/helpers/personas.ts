/**
 * The people tenancy tests act as. Two shops, A and B, built through the real flows:
 *   ownerA creates shop A (create_tenant), invites adminA and techA (invite_member), who accept
 *   (accept_invitation); ownerB creates shop B; platformAdmin is in platform_admins and belongs to no shop.
 * Every run uses fresh, unique email addresses, so runs never see each other's data.
 *
 * Two flavours with the same shape:
 * - createApiWorld(): users created with the service key (auth.admin.createUser), signed in with
 *   supabase-js; each persona has its own client carrying its session. Needs the running stack.
 * - createSqlWorld(): users written into auth.users and the RPCs called through asUser (tests/helpers/db.ts).
 *   Needs only DB_URL.
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { env } from './env.ts';
import { asUser, createAuthUser, db, uniqueEmail } from './db.ts';

const clientOptions = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

/** A client with the anon key and no session: the anonymous visitor. */
export function anonClient(): SupabaseClient {
  return createClient(env.apiUrl, env.anonKey, clientOptions);
}

/** A client with the service-role key (bypasses RLS): arrange data, never assert access with it. */
export function serviceClient(): SupabaseClient {
  return createClient(env.apiUrl, env.serviceRoleKey, clientOptions);
}

export interface Persona {
  label: string;
  id: string;
  email: string;
  password: string;
  /** Signed in as this persona. */
  client: SupabaseClient;
}

/** Create a confirmed user through the admin API and sign in with a fresh client. */
export async function createPersona(label: string): Promise<Persona> {
  const email = uniqueEmail(label);
  const password = `pw-${label}-${Math.random().toString(36).slice(2)}-Aa1!`;
  const { data, error } = await serviceClient().auth.admin.createUser({ email, password, email_confirm: true });
  if (error || !data.user) throw new Error(`createUser(${label}) failed: ${error?.message}`);
  const client = createClient(env.apiUrl, env.anonKey, clientOptions);
  const signIn = await client.auth.signInWithPassword({ email, password });
  if (signIn.error) throw new Error(`signIn(${label}) failed: ${signIn.error.message}`);
  return { label, id: data.user.id, email, password, client };
}

/** Unwrap a supabase-js result or throw with the server's code and message. */
export function must<T>(result: { data: T; error: { code?: string; message: string } | null }, what: string): T {
  if (result.error) throw new Error(`${what}: ${result.error.code ?? ''} ${result.error.message}`);
  return result.data;
}

export interface ApiWorld {
  tenantA: string;
  tenantB: string;
  ownerA: Persona;
  adminA: Persona;
  techA: Persona;
  ownerB: Persona;
  platformAdmin: Persona;
  anon: SupabaseClient;
  service: SupabaseClient;
}

export const SHOP_DEFAULTS = { industry: 'auto_repair', time_zone: 'America/New_York' } as const;

async function apiJoin(owner: Persona, tenantId: string, member: Persona, role: 'admin' | 'technician' | 'owner') {
  const invitation = must(
    await owner.client.rpc('invite_member', { tenant_id: tenantId, email: member.email, role }),
    `invite ${member.label}`,
  ) as { token: string };
  must(await member.client.rpc('accept_invitation', { token: invitation.token }), `accept ${member.label}`);
}

export async function createApiWorld(): Promise<ApiWorld> {
  const [ownerA, adminA, techA, ownerB, platformAdmin] = await Promise.all(
    ['owner-a', 'admin-a', 'tech-a', 'owner-b', 'root'].map(createPersona),
  );
  const suffix = Math.random().toString(36).slice(2, 8);
  const tenantA = must(
    await ownerA.client.rpc('create_tenant', { name: `Shop A ${suffix}`, ...SHOP_DEFAULTS }),
    'create shop A',
  ) as string;
  const tenantB = must(
    await ownerB.client.rpc('create_tenant', { name: `Shop B ${suffix}`, ...SHOP_DEFAULTS }),
    'create shop B',
  ) as string;
  await apiJoin(ownerA, tenantA, adminA, 'admin');
  await apiJoin(ownerA, tenantA, techA, 'technician');
  const service = serviceClient();
  must(await service.from('platform_admins').insert({ user_id: platformAdmin.id, note: 'test' }), 'platform admin');
  return { tenantA, tenantB, ownerA, adminA, techA, ownerB, platformAdmin, anon: anonClient(), service };
}

export interface SqlUser {
  id: string;
  email: string;
}

export interface SqlWorld {
  tenantA: string;
  tenantB: string;
  ownerA: SqlUser;
  adminA: SqlUser;
  techA: SqlUser;
  ownerB: SqlUser;
  platformAdmin: SqlUser;
}

/** Call an RPC as a user through asUser; returns the single result column of the single row. */
export async function sqlRpc<T = unknown>(userId: string | null, sql: string, params: unknown[] = []): Promise<T> {
  return asUser(userId, async (c) => {
    const { rows } = await c.query(sql, params);
    return (rows[0] ? Object.values(rows[0])[0] : undefined) as T;
  });
}

async function sqlJoin(owner: SqlUser, tenantId: string, member: SqlUser, role: string) {
  const invitation = await sqlRpc<{ token: string }>(owner.id, 'select public.invite_member($1, $2, $3)', [
    tenantId, member.email, role,
  ]);
  await sqlRpc(member.id, 'select public.accept_invitation($1)', [invitation.token]);
}

export async function createSqlWorld(): Promise<SqlWorld> {
  const [ownerA, adminA, techA, ownerB, platformAdmin] = await Promise.all(
    ['owner-a', 'admin-a', 'tech-a', 'owner-b', 'root'].map((label) => createAuthUser({ email: uniqueEmail(label) })),
  );
  const suffix = Math.random().toString(36).slice(2, 8);
  const create = 'select public.create_tenant($1, $2, $3)';
  const tenantA = await sqlRpc<string>(ownerA.id, create, [`Shop A ${suffix}`, SHOP_DEFAULTS.industry, SHOP_DEFAULTS.time_zone]);
  const tenantB = await sqlRpc<string>(ownerB.id, create, [`Shop B ${suffix}`, SHOP_DEFAULTS.industry, SHOP_DEFAULTS.time_zone]);
  await sqlJoin(ownerA, tenantA, adminA, 'admin');
  await sqlJoin(ownerA, tenantA, techA, 'technician');
  await db().query('insert into public.platform_admins (user_id, note) values ($1, $2)', [platformAdmin.id, 'test']);
  return { tenantA, tenantB, ownerA, adminA, techA, ownerB, platformAdmin };
}
