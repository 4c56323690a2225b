/**
 * Storage contract: what the app relies on from `/storage/v1`, driven through the real supabase-js.
 *
 * Scratch buckets and their policies are created with SQL (as app migrations do) and removed afterwards.
 * Users are identities with access tokens signed by the stack's JWT secret, exactly as GoTrue signs them
 * (sub, role, aud, exp, ...): storage only ever sees the token, and this keeps the suite about storage.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import pg from 'pg';
import { env } from '../helpers/env.ts';

const run = randomUUID().slice(0, 8);
const PRIVATE = `contract-private-${run}`;
const PUBLIC = `contract-public-${run}`;
const LIMITED = `contract-limited-${run}`;
const policy = (what: string) => `contract ${run} ${what}`;

interface User { id: string; client: SupabaseClient }

const clientOptions = { auth: { persistSession: false, autoRefreshToken: false } } as const;

async function accessToken(sub: string, expiresIn = '1h') {
  return new SignJWT({
    sub, role: 'authenticated', aud: 'authenticated', email: `${sub}@example.test`, phone: '',
    app_metadata: { provider: 'email', providers: ['email'] }, user_metadata: {}, aal: 'aal1',
    amr: [{ method: 'password', timestamp: Math.floor(Date.now() / 1000) }], session_id: randomUUID(), is_anonymous: false,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(`${env.apiUrl}/auth/v1`)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(env.jwtSecret));
}

async function user(): Promise<User> {
  const id = randomUUID();
  const token = await accessToken(id);
  const client = createClient(env.apiUrl, env.anonKey, {
    ...clientOptions, global: { headers: { Authorization: `Bearer ${token}` } },
  });
  return { id, client };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = async (b: Blob | null) => (b ? Buffer.from(await b.arrayBuffer()).toString('utf8') : null);

let db: pg.Client;
let service: SupabaseClient;
let anon: SupabaseClient;
let alice: User;
let bob: User;

beforeAll(async () => {
  db = new pg.Client({ connectionString: env.dbUrl });
  await db.connect();
  // As an app migration would: buckets by SQL, and an own-folder policy per command on the private bucket.
  const own = `bucket_id = '${PRIVATE}' and (storage.foldername(name))[1] = (select auth.uid()::text)`;
  await db.query(`
    insert into storage.buckets (id, name, public) values ('${PRIVATE}', '${PRIVATE}', false) on conflict do nothing;
    insert into storage.buckets (id, name, public) values ('${PUBLIC}', '${PUBLIC}', true) on conflict do nothing;
    create policy "${policy('insert')}" on storage.objects for insert to authenticated with check (${own});
    create policy "${policy('select')}" on storage.objects for select to authenticated using (${own});
    create policy "${policy('update')}" on storage.objects for update to authenticated using (${own}) with check (${own});
    create policy "${policy('delete')}" on storage.objects for delete to authenticated using (${own});
  `);
  service = createClient(env.apiUrl, env.serviceRoleKey, clientOptions);
  anon = createClient(env.apiUrl, env.anonKey, clientOptions);
  [alice, bob] = await Promise.all([user(), user()]);
});

afterAll(async () => {
  // Through the API (direct deletes from storage tables are refused, as on hosted Supabase).
  for (const b of [PRIVATE, PUBLIC, LIMITED]) {
    await service?.storage.emptyBucket(b);
    await service?.storage.deleteBucket(b);
  }
  if (db) {
    for (const what of ['insert', 'select', 'update', 'delete']) {
      await db.query(`drop policy if exists "${policy(what)}" on storage.objects`);
    }
    await db.end();
  }
});

describe('storage: own-folder policy', () => {
  it('uploads into the own folder and downloads the same bytes', async () => {
    const path = `${alice.id}/notes/first.txt`;
    const { data, error } = await alice.client.storage.from(PRIVATE).upload(path, bytes('hello storage'), {
      contentType: 'text/plain',
    });
    expect(error).toBeNull();
    expect(data).toMatchObject({ path, fullPath: `${PRIVATE}/${path}` });
    expect(data!.id).toMatch(/^[0-9a-f-]{36}$/);

    const dl = await alice.client.storage.from(PRIVATE).download(path);
    expect(dl.error).toBeNull();
    expect(await text(dl.data)).toBe('hello storage');
    expect(dl.data!.type).toBe('text/plain');

    const info = await alice.client.storage.from(PRIVATE).info(path);
    expect(info.error).toBeNull();
    expect(info.data).toMatchObject({ id: data!.id, name: path, bucketId: PRIVATE, size: 13, contentType: 'text/plain' });
    expect((await alice.client.storage.from(PRIVATE).exists(path)).data).toBe(true);
  });

  it('refuses another user\'s folder: upload, download, list, sign', async () => {
    const path = `${alice.id}/private/secret.txt`;
    expect((await alice.client.storage.from(PRIVATE).upload(path, bytes('secret'))).error).toBeNull();

    const up = await bob.client.storage.from(PRIVATE).upload(`${alice.id}/private/planted.txt`, bytes('x'));
    expect(up.data).toBeNull();
    expect(up.error).toMatchObject({ statusCode: '403', message: 'new row violates row-level security policy' });

    const dl = await bob.client.storage.from(PRIVATE).download(path);
    expect(dl.data).toBeNull();
    expect(dl.error).not.toBeNull();

    const list = await bob.client.storage.from(PRIVATE).list(alice.id);
    expect(list.error).toBeNull();
    expect(list.data).toEqual([]);

    const sign = await bob.client.storage.from(PRIVATE).createSignedUrl(path, 60);
    expect(sign.data).toBeNull();
    expect(sign.error).toMatchObject({ statusCode: '404', message: 'Object not found' });

    const anonDl = await anon.storage.from(PRIVATE).download(path);
    expect(anonDl.data).toBeNull();
    // and the file is untouched
    expect(await text((await alice.client.storage.from(PRIVATE).download(path)).data)).toBe('secret');
  });

  it('answers 409 Duplicate without upsert, replaces with upsert and update', async () => {
    const path = `${alice.id}/dup.txt`;
    const first = await alice.client.storage.from(PRIVATE).upload(path, bytes('v1'));
    expect(first.error).toBeNull();

    const dup = await alice.client.storage.from(PRIVATE).upload(path, bytes('v2'));
    expect(dup.data).toBeNull();
    expect(dup.error).toMatchObject({ statusCode: '409', message: 'The resource already exists' });
    expect(await text((await alice.client.storage.from(PRIVATE).download(path)).data)).toBe('v1');

    const up = await alice.client.storage.from(PRIVATE).upload(path, bytes('v2'), { upsert: true });
    expect(up.error).toBeNull();
    expect(up.data!.id).toBe(first.data!.id);
    expect(await text((await alice.client.storage.from(PRIVATE).download(path)).data)).toBe('v2');

    const upd = await alice.client.storage.from(PRIVATE).update(path, bytes('v3'), { contentType: 'text/csv' });
    expect(upd.error).toBeNull();
    const dl = await alice.client.storage.from(PRIVATE).download(path);
    expect(await text(dl.data)).toBe('v3');
    expect(dl.data!.type).toBe('text/csv');

    const bobUpsert = await bob.client.storage.from(PRIVATE).upload(path, bytes('hijack'), { upsert: true });
    expect(bobUpsert.error).toMatchObject({ statusCode: '403' });
    expect(await text((await alice.client.storage.from(PRIVATE).download(path)).data)).toBe('v3');
  });

  it('keeps FormData uploads\' content type, cache control and user metadata', async () => {
    const path = `${alice.id}/photos/pixel.png`;
    const png = new Blob([Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])], { type: 'image/png' });
    const { error } = await alice.client.storage.from(PRIVATE).upload(path, png, {
      cacheControl: '120', metadata: { takenBy: 'alice' },
    });
    expect(error).toBeNull();
    const info = await alice.client.storage.from(PRIVATE).info(path);
    expect(info.data).toMatchObject({ size: 11, contentType: 'image/png', cacheControl: 'max-age=120', metadata: { takenBy: 'alice' } });
    const dl = await alice.client.storage.from(PRIVATE).download(path);
    expect(Buffer.from(await dl.data!.arrayBuffer())).toEqual(Buffer.from(await png.arrayBuffer()));
  });

  it('lists folders (id null) before files, with prefix, search, limit and offset', async () => {
    const root = `${alice.id}/list`;
    for (const p of ['b-folder/one.txt', 'b-folder/two.txt', 'a-folder/x.txt', 'top-1.txt', 'top-2.txt']) {
      const { error } = await alice.client.storage.from(PRIVATE).upload(`${root}/${p}`, bytes(p), { contentType: 'text/plain' });
      expect(error).toBeNull();
    }
    const { data, error } = await alice.client.storage.from(PRIVATE).list(root);
    expect(error).toBeNull();
    expect(data!.map((o) => [o.name, o.id === null])).toEqual([
      ['a-folder', true], ['b-folder', true], ['top-1.txt', false], ['top-2.txt', false],
    ]);
    expect(data![2].metadata).toMatchObject({ size: 9, mimetype: 'text/plain' });

    const inner = await alice.client.storage.from(PRIVATE).list(`${root}/b-folder`);
    expect(inner.data!.map((o) => o.name)).toEqual(['one.txt', 'two.txt']);

    const searched = await alice.client.storage.from(PRIVATE).list(root, { search: 'top' });
    expect(searched.data!.map((o) => o.name)).toEqual(['top-1.txt', 'top-2.txt']);

    const paged = await alice.client.storage.from(PRIVATE).list(root, { limit: 2, offset: 1 });
    expect(paged.data!.map((o) => o.name)).toEqual(['b-folder', 'top-1.txt']);

    const desc = await alice.client.storage.from(PRIVATE).list(root, { sortBy: { column: 'name', order: 'desc' } });
    expect(desc.data!.map((o) => o.name)).toEqual(['b-folder', 'a-folder', 'top-2.txt', 'top-1.txt']);
  });

  it('removes own objects (and only those)', async () => {
    const mine = `${alice.id}/remove/me.txt`;
    const bobs = `${bob.id}/remove/bob.txt`;
    expect((await alice.client.storage.from(PRIVATE).upload(mine, bytes('bye'))).error).toBeNull();
    expect((await bob.client.storage.from(PRIVATE).upload(bobs, bytes('stay'))).error).toBeNull();

    const attempt = await alice.client.storage.from(PRIVATE).remove([bobs]);
    expect(attempt.error).toBeNull();
    expect(attempt.data).toEqual([]);
    expect(await text((await bob.client.storage.from(PRIVATE).download(bobs)).data)).toBe('stay');

    const removed = await alice.client.storage.from(PRIVATE).remove([mine, `${alice.id}/remove/never-existed.txt`]);
    expect(removed.error).toBeNull();
    expect(removed.data!.map((o) => o.name)).toEqual([mine]);
    expect((await alice.client.storage.from(PRIVATE).download(mine)).data).toBeNull();
    expect((await alice.client.storage.from(PRIVATE).exists(mine)).data).toBe(false);
  });

  it('copies and moves within the own folder, not into another user\'s', async () => {
    const src = `${alice.id}/files/src.txt`;
    expect((await alice.client.storage.from(PRIVATE).upload(src, bytes('payload'), { contentType: 'text/plain' })).error).toBeNull();

    const copy = await alice.client.storage.from(PRIVATE).copy(src, `${alice.id}/files/copy.txt`);
    expect(copy.error).toBeNull();
    expect(copy.data).toEqual({ path: `${PRIVATE}/${alice.id}/files/copy.txt` });

    const move = await alice.client.storage.from(PRIVATE).move(`${alice.id}/files/copy.txt`, `${alice.id}/files/moved.txt`);
    expect(move.error).toBeNull();
    expect(move.data!.message).toBe('Successfully moved');
    expect(await text((await alice.client.storage.from(PRIVATE).download(`${alice.id}/files/moved.txt`)).data)).toBe('payload');
    expect((await alice.client.storage.from(PRIVATE).exists(`${alice.id}/files/copy.txt`)).data).toBe(false);

    const steal = await alice.client.storage.from(PRIVATE).move(src, `${bob.id}/files/stolen.txt`);
    expect(steal.error).toMatchObject({ statusCode: '403' });
    expect(await text((await alice.client.storage.from(PRIVATE).download(src)).data)).toBe('payload');
  });
});

describe('storage: signed URLs', () => {
  it('work before expiry (token only, download honoured) and fail after', async () => {
    const path = `${alice.id}/signed/report.txt`;
    expect((await alice.client.storage.from(PRIVATE).upload(path, bytes('signed bytes'), { contentType: 'text/plain' })).error).toBeNull();

    const { data, error } = await alice.client.storage.from(PRIVATE).createSignedUrl(path, 60);
    expect(error).toBeNull();
    expect(data!.signedUrl).toContain(`/storage/v1/object/sign/${PRIVATE}/${path}?token=`);
    const ok = await fetch(data!.signedUrl); // no apikey, no Authorization: the token is the credential
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('signed bytes');
    expect(ok.headers.get('content-type')).toBe('text/plain');

    const asFile = await alice.client.storage.from(PRIVATE).createSignedUrl(path, 60, { download: 'r.txt' });
    const dl = await fetch(asFile.data!.signedUrl);
    expect(dl.headers.get('content-disposition')).toContain('attachment; filename=r.txt');
    await dl.arrayBuffer();

    const tampered = data!.signedUrl.replace(`/${path}?`, `/${alice.id}/signed/other.txt?`);
    const bad = await fetch(tampered);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ statusCode: '400' });

    const short = await alice.client.storage.from(PRIVATE).createSignedUrl(path, 1);
    expect(short.error).toBeNull();
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await fetch(short.data!.signedUrl);
    expect(expired.status).toBe(400);
    expect(await expired.json()).toMatchObject({ statusCode: '400', message: 'jwt expired' });
  });

  it('signs several paths at once, reporting the ones the caller cannot see', async () => {
    const path = `${alice.id}/signed/many.txt`;
    expect((await alice.client.storage.from(PRIVATE).upload(path, bytes('many'))).error).toBeNull();
    const hidden = `${bob.id}/signed/hidden.txt`;
    expect((await bob.client.storage.from(PRIVATE).upload(hidden, bytes('hidden'))).error).toBeNull();

    const { data, error } = await alice.client.storage.from(PRIVATE).createSignedUrls([path, hidden], 60);
    expect(error).toBeNull();
    expect(data![0]).toMatchObject({ path, error: null });
    expect(data![1]).toMatchObject({ path: hidden, signedUrl: null });
    expect(data![1].error).toMatch(/does not exist or you do not have access/);
    expect(await (await fetch(data![0].signedUrl)).text()).toBe('many');
  });

  it('accepts an upload to a signed upload URL without a user session', async () => {
    const path = `${alice.id}/signed/upload.txt`;
    const { data, error } = await alice.client.storage.from(PRIVATE).createSignedUploadUrl(path);
    expect(error).toBeNull();
    const up = await anon.storage.from(PRIVATE).uploadToSignedUrl(path, data!.token, bytes('via token'), { contentType: 'text/plain' });
    expect(up.error).toBeNull();
    expect(up.data).toMatchObject({ path, fullPath: `${PRIVATE}/${path}` });
    expect(await text((await alice.client.storage.from(PRIVATE).download(path)).data)).toBe('via token');

    const other = await bob.client.storage.from(PRIVATE).createSignedUploadUrl(`${alice.id}/signed/bob.txt`);
    expect(other.error).toMatchObject({ statusCode: '403' });
  });
});

describe('storage: buckets, limits and bad input', () => {
  it('serves public buckets through getPublicUrl, private ones not', async () => {
    const up = await service.storage.from(PUBLIC).upload('brand/logo.svg', bytes('<svg/>'), { contentType: 'image/svg+xml' });
    expect(up.error).toBeNull();
    const url = service.storage.from(PUBLIC).getPublicUrl('brand/logo.svg').data.publicUrl;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<svg/>');
    expect(res.headers.get('etag')).toMatch(/^".+"$/);

    expect((await alice.client.storage.from(PRIVATE).upload(`${alice.id}/not-public.txt`, bytes('no'))).error).toBeNull();
    const priv = await fetch(anon.storage.from(PRIVATE).getPublicUrl(`${alice.id}/not-public.txt`).data.publicUrl);
    expect(priv.status).toBe(400);
    expect(await priv.json()).toMatchObject({ statusCode: '404', message: 'Bucket not found' });
  });

  it('leaves bucket administration to the service role (RLS on storage.buckets)', async () => {
    const denied = await alice.client.storage.createBucket(`contract-denied-${run}`);
    expect(denied.error).toMatchObject({ statusCode: '403' });

    const created = await service.storage.createBucket(LIMITED, {
      public: false, fileSizeLimit: 1024, allowedMimeTypes: ['image/png'],
    });
    expect(created.error).toBeNull();
    expect(created.data).toEqual({ name: LIMITED });
    const got = await service.storage.getBucket(LIMITED);
    expect(got.data).toMatchObject({ id: LIMITED, public: false, file_size_limit: 1024, allowed_mime_types: ['image/png'] });
    const again = await service.storage.createBucket(LIMITED);
    expect(again.error).toMatchObject({ statusCode: '409' });
    expect((await service.storage.listBuckets()).data!.map((b) => b.id)).toContain(LIMITED);
    expect((await alice.client.storage.listBuckets()).data).toEqual([]);
  });

  it('enforces the bucket\'s file size limit and allowed MIME types', async () => {
    const big = await service.storage.from(LIMITED).upload('big.png', new Uint8Array(2048), { contentType: 'image/png' });
    expect(big.error).toMatchObject({ statusCode: '413', message: 'The object exceeded the maximum allowed size' });
    const wrong = await service.storage.from(LIMITED).upload('note.txt', bytes('hi'), { contentType: 'text/plain' });
    expect(wrong.error).toMatchObject({ statusCode: '415', message: 'mime type text/plain is not supported' });
    const fine = await service.storage.from(LIMITED).upload('small.png', new Uint8Array(512), { contentType: 'image/png' });
    expect(fine.error).toBeNull();
    expect((await service.storage.from(LIMITED).list()).data!.map((o) => o.name)).toEqual(['small.png']);
  });

  it('refuses path traversal and invalid keys, storing nothing', async () => {
    for (const key of [`${alice.id}/..%2F..%2F${bob.id}%2Fevil.txt`, `${alice.id}/nul%00.txt`]) {
      const { data, error } = await alice.client.storage.from(PRIVATE).upload(key, bytes('evil'));
      expect(data).toBeNull();
      expect(error).toMatchObject({ statusCode: '400' });
      expect(error!.message).toMatch(/^Invalid key/);
    }
    const rows = await db.query(
      `select name from storage.objects where bucket_id = $1 and (name like '%..%' or name like '%evil%')`, [PRIVATE]);
    expect(rows.rows).toEqual([]);
  });

  it('answers an invalid or expired token with storage\'s 403 body', async () => {
    const garbage = createClient(env.apiUrl, env.anonKey, { ...clientOptions, global: { headers: { Authorization: 'Bearer not-a-jwt' } } });
    const r1 = await garbage.storage.from(PRIVATE).upload(`${alice.id}/x.txt`, bytes('x'));
    expect(r1.error).toMatchObject({ statusCode: '403', message: 'jwt malformed' });

    const expiredToken = await accessToken(alice.id, '-10s');
    const expired = createClient(env.apiUrl, env.anonKey, { ...clientOptions, global: { headers: { Authorization: `Bearer ${expiredToken}` } } });
    const r2 = await expired.storage.from(PRIVATE).list(alice.id);
    expect(r2.error).toMatchObject({ statusCode: '403', message: 'jwt expired' });
  });
});
