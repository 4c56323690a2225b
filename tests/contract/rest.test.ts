/**
 * The REST contract the app relies on, driven through supabase-js → gateway (/rest/v1, Kong's apikey
 * mapping) → the real PostgREST → Postgres RLS. A scratch table, a read-only scratch table and a scratch
 * RPC are created with unique names over DB_URL and dropped afterwards.
 *
 * The two users are access tokens with the claims the auth server issues (tests/helpers/db.ts
 * claimsFor), signed with the stack's JWT secret: this suite pins PostgREST's behaviour independently
 * of the auth service (whose own contract lives in its suite).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLISHABLE_KEY, RUN_DIR, SECRET_KEY } from '../../local/config.ts';
import { claimsFor } from '../helpers/db.ts';
import { env } from '../helpers/env.ts';

const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const table = `zz_rest_notes_${suffix}`;
const locked = `zz_rest_locked_${suffix}`;
const rpcName = `zz_rest_whoami_${suffix}`;
const options = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

let admin: pg.Client;
const userA = { id: randomUUID(), client: undefined as unknown as SupabaseClient };
const userB = { id: randomUUID(), client: undefined as unknown as SupabaseClient };

async function tokenFor(userId: string): Promise<string> {
  return new SignJWT({ ...claimsFor(userId, { email: `${userId}@test.servicepro.local` }) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(env.jwtSecret));
}

async function userClient(userId: string): Promise<SupabaseClient> {
  return createClient(env.apiUrl, env.anonKey, {
    ...options,
    global: { headers: { Authorization: `Bearer ${await tokenFor(userId)}` } },
  });
}

/** Makes PostgREST see new objects: NOTIFY (Postgres) and SIGUSR1 (works on PGlite too), then waits. */
async function reloadSchema(visible: () => Promise<boolean>) {
  await admin.query(`notify pgrst, 'reload schema'`).catch(() => {});
  const pidFile = path.join(RUN_DIR, 'postgrest.pid');
  if (fs.existsSync(pidFile)) {
    try { process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGUSR1'); } catch { /* not ours to signal */ }
  }
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await visible()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('PostgREST did not pick up the scratch schema within 15 s');
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: env.dbUrl });
  await admin.connect();
  await admin.query(`
    create table public.${table} (
      id bigint generated always as identity primary key,
      owner uuid not null default auth.uid(),
      title text not null,
      code text unique,
      created_at timestamptz not null default now()
    );
    alter table public.${table} enable row level security;
    create policy "${table}_select" on public.${table} for select to authenticated using (owner = (select auth.uid()));
    create policy "${table}_insert" on public.${table} for insert to authenticated with check (owner = (select auth.uid()));
    create policy "${table}_update" on public.${table} for update to authenticated
      using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
    create policy "${table}_delete" on public.${table} for delete to authenticated using (owner = (select auth.uid()));
    revoke all on public.${table} from anon, authenticated;
    grant select, insert, update, delete on public.${table} to authenticated;
    grant all on public.${table} to service_role;

    create table public.${locked} (id int primary key, note text);
    alter table public.${locked} enable row level security;
    create policy "${locked}_select" on public.${locked} for select to authenticated using (true);
    revoke all on public.${locked} from anon, authenticated;
    grant select on public.${locked} to authenticated;
    insert into public.${locked} values (1, 'read only');

    create function public.${rpcName}(n int) returns jsonb language sql stable as $$
      select jsonb_build_object('uid', auth.uid(), 'role', current_user, 'doubled', n * 2)
    $$;
    revoke execute on function public.${rpcName}(int) from public, anon;
    grant execute on function public.${rpcName}(int) to authenticated;
  `);
  userA.client = await userClient(userA.id);
  userB.client = await userClient(userB.id);
  await reloadSchema(async () => {
    const [t, f] = await Promise.all([
      userA.client.from(table).select('id', { head: true }),
      userA.client.rpc(rpcName, { n: 1 }),
    ]);
    return !t.error && !f.error;
  });
});

afterAll(async () => {
  if (!admin) return;
  await admin.query(`
    drop function if exists public.${rpcName}(int);
    drop table if exists public.${table};
    drop table if exists public.${locked};
  `);
  await admin.query(`notify pgrst, 'reload schema'`).catch(() => {});
  await admin.end();
});

describe('REST through the gateway and the real PostgREST', () => {
  it('enforces RLS per user on select, insert, update and delete', async () => {
    const a = await userA.client.from(table).insert({ title: 'A1' }).select().single();
    expect(a.error).toBeNull();
    expect(a.status).toBe(201);
    expect(a.data).toMatchObject({ title: 'A1', owner: userA.id });
    const b = await userB.client.from(table).insert({ title: 'B1' }).select().single();
    expect(b.error).toBeNull();
    expect(b.data!.owner).toBe(userB.id);

    const seenByA = await userA.client.from(table).select('title, owner');
    expect(seenByA.error).toBeNull();
    expect(seenByA.data).toEqual([{ title: 'A1', owner: userA.id }]);
    const seenByB = await userB.client.from(table).select('title');
    expect(seenByB.data).toEqual([{ title: 'B1' }]);

    // A cannot change or remove B's row: zero rows match under RLS.
    const upd = await userA.client.from(table).update({ title: 'hacked' }).eq('id', b.data!.id).select();
    expect(upd.error).toBeNull();
    expect(upd.data).toEqual([]);
    const del = await userA.client.from(table).delete().eq('id', b.data!.id).select();
    expect(del.data).toEqual([]);
    const still = await admin.query(`select title from public.${table} where id = $1`, [b.data!.id]);
    expect(still.rows).toEqual([{ title: 'B1' }]);

    // A's own row: update (204 without representation) and delete.
    const ownUpd = await userA.client.from(table).update({ title: 'A1 edited' }).eq('id', a.data!.id);
    expect(ownUpd.error).toBeNull();
    expect(ownUpd.status).toBe(204);
    const ownDel = await userA.client.from(table).delete().eq('id', a.data!.id).select('title');
    expect(ownDel.data).toEqual([{ title: 'A1 edited' }]);
  });

  it("refuses writing a row as another user: 42501 → 403 for an authenticated caller", async () => {
    const res = await userA.client.from(table).insert({ title: 'spoof', owner: userB.id });
    expect(res.status).toBe(403);
    expect(res.error).toMatchObject({ code: '42501' });
    expect(res.error!.message).toMatch(/row-level security/);
  });

  it('missing privilege: 42501 → 401 for anon, 403 for a signed-in user', async () => {
    const anon = createClient(env.apiUrl, env.anonKey, options);
    const r1 = await anon.from(table).select('*');
    expect(r1.status).toBe(401);
    expect(r1.error).toMatchObject({ code: '42501' });
    const r2 = await userA.client.from(locked).insert({ id: 2, note: 'x' });
    expect(r2.status).toBe(403);
    expect(r2.error).toMatchObject({ code: '42501' });
    const r3 = await userA.client.from(locked).select('note');
    expect(r3.data).toEqual([{ note: 'read only' }]);
  });

  it('unique violation: 409 with code 23505', async () => {
    const code = `dup-${suffix}`;
    const first = await userA.client.from(table).insert({ title: 'first', code });
    expect(first.error).toBeNull();
    const second = await userA.client.from(table).insert({ title: 'second', code });
    expect(second.status).toBe(409);
    expect(second.error).toMatchObject({ code: '23505' });
    // The message names the constraint; Postgres withholds the key values (details) under RLS.
    expect(second.error!.message).toContain(`${table}_code_key`);
    expect(second.error!.details).toBeNull();
  });

  it('.single() on no rows: 406 PGRST116', async () => {
    const res = await userA.client.from(table).select('*').eq('title', 'no such row').single();
    expect(res.status).toBe(406);
    expect(res.data).toBeNull();
    expect(res.error).toMatchObject({ code: 'PGRST116' });
    const maybe = await userA.client.from(table).select('*').eq('title', 'no such row').maybeSingle();
    expect(maybe.error).toBeNull();
    expect(maybe.data).toBeNull();
  });

  it("count: 'exact' with a range: the total in count and in Content-Range, 206 for a partial page", async () => {
    const seen: Array<{ status: number; contentRange: string | null }> = [];
    const recording = createClient(env.apiUrl, env.anonKey, {
      ...options,
      global: {
        headers: { Authorization: `Bearer ${await tokenFor(userB.id)}` },
        fetch: async (input, init) => {
          const res = await fetch(input, init);
          seen.push({ status: res.status, contentRange: res.headers.get('content-range') });
          return res;
        },
      },
    });
    const rows = Array.from({ length: 5 }, (_, i) => ({ title: `page-${i}` }));
    expect((await recording.from(table).insert(rows)).error).toBeNull();
    const total = (await admin.query(`select count(*)::int as n from public.${table} where owner = $1`, [userB.id])).rows[0].n;

    seen.length = 0;
    const page = await recording.from(table).select('title', { count: 'exact' }).order('id').range(1, 2);
    expect(page.error).toBeNull();
    expect(page.status).toBe(206);
    expect(page.count).toBe(total);
    expect(page.data).toHaveLength(2);
    expect(seen.at(-1)).toEqual({ status: 206, contentRange: `1-2/${total}` });

    const head = await recording.from(table).select('*', { count: 'exact', head: true });
    expect(head.count).toBe(total);
    expect(head.data).toBeNull();
  });

  it('rpc runs as the caller (role and auth.uid() from the JWT)', async () => {
    const res = await userA.client.rpc(rpcName, { n: 21 });
    expect(res.error).toBeNull();
    expect(res.data).toEqual({ uid: userA.id, role: 'authenticated', doubled: 42 });
    const anon = await createClient(env.apiUrl, env.anonKey, options).rpc(rpcName, { n: 1 });
    expect(anon.status).toBe(401);
    expect(anon.error).toMatchObject({ code: '42501' });
    const missing = await userA.client.rpc(`${rpcName}_nope`, { n: 1 });
    expect(missing.status).toBe(404);
    expect(missing.error).toMatchObject({ code: 'PGRST202' });
  });

  it("maps new-format keys as Kong does: publishable → anon, secret → service_role", async () => {
    const pub = await createClient(env.apiUrl, PUBLISHABLE_KEY, options).from(table).select('id');
    expect(pub.status).toBe(401);
    expect(pub.error).toMatchObject({ code: '42501' });
    const secret = await createClient(env.apiUrl, SECRET_KEY, options).from(table).select('owner');
    expect(secret.error).toBeNull();
    const owners = new Set(secret.data!.map((r) => r.owner));
    expect(owners.has(userB.id)).toBe(true); // service_role bypasses RLS and sees everyone's rows
  });
});
