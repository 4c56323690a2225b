/**
 * The Storage stand-in behind `/storage/v1`: the subset of supabase/storage's HTTP API that storage-js (inside
 * supabase-js v2) uses, with the same request and response shapes and error bodies.
 *
 * - Metadata lives in `storage.buckets` / `storage.objects` (local/db/bootstrap/30-storage.sql). Every read and
 *   write runs in a transaction that first sets the caller's role and JWT claims (db.ts), so the app's RLS
 *   policies on those tables decide, in Postgres, exactly as on hosted Supabase; service_role bypasses RLS.
 * - Bytes live on local disk under `dataDir`, one file per object version (keys.ts), written to a temp file
 *   first and put in place only together with the committed metadata row (disk.ts).
 *
 * The gateway hands us web-standard Requests with `/storage/v1` already stripped and `Authorization` already
 * derived from `apikey` the way Kong does it.
 */
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type pg from 'pg';
import type { FetchHandler, Logger } from '../lib/types.ts';
import { superUserScope, withScope, type Scope, type Tx } from './db.ts';
import { copyFileAtomic, createTempFile, installFile, openRead, removeQuiet, statFile, sweepTemp, type TempFile } from './disk.ts';
import { ERRORS, StorageError, errorResponse, toStorageError, validationError } from './errors.ts';
import { JwtError, jwtKey, signJwt, verifyJwt, type Claims } from './jwt.ts';
import { mustBeValidBucketName, mustBeValidKey, objectFilePath } from './keys.ts';
import { boundaryOf, readMultipart } from './multipart.ts';

export interface StorageServiceOptions {
  pool: pg.Pool;
  /** Where object bytes are kept: `${STATE_DIR}/storage`. */
  dataDir: string;
  jwtSecret: string;
  log: Logger;
  /** Global upload limit in bytes (supabase/config.toml `[storage] file_size_limit`, CLI default 50MiB). */
  fileSizeLimit?: number;
  /** Lifetime of signed upload URLs in seconds (storage's default: 2 hours). */
  signedUploadUrlExpiresIn?: number;
}

export interface StorageService {
  handler: FetchHandler;
  close(): Promise<void>;
}

const DEFAULT_FILE_SIZE_LIMIT = 50 * 1024 * 1024;

/**
 * Bytes from supabase/config.toml's `[storage] file_size_limit` ("50MiB", "5GB", "512KB", "1024B"), for the
 * `fileSizeLimit` option. Binary units (KiB/MiB/GiB) are powers of 1024, decimal ones (KB/MB/GB) of 1000.
 */
export function parseConfigSizeLimit(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i.exec(value);
  if (!m) throw new Error(`invalid storage file_size_limit "${value}" (use e.g. 50MiB, 5GB, 512KB)`);
  const mult: Record<string, number> = {
    b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
  };
  return Math.floor(Number(m[1]) * mult[(m[2] ?? 'b').toLowerCase()]);
}
const MAX_USER_METADATA_BYTES = 1024 * 1024;
const MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;
/** After a size-limit refusal we read (and drop) at most this much more, so the client sees our answer. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
const EMPTY_FOLDER_PLACEHOLDER = '.emptyFolderPlaceholder';

const OPS = {
  CREATE_BUCKET: 'storage.bucket.create',
  DELETE_BUCKET: 'storage.bucket.delete',
  EMPTY_BUCKET: 'storage.bucket.empty',
  LIST_BUCKET: 'storage.bucket.list',
  GET_BUCKET: 'storage.bucket.get',
  UPDATE_BUCKET: 'storage.bucket.update',
  COPY_OBJECT: 'storage.object.copy',
  CREATE_OBJECT: 'storage.object.upload',
  DELETE_OBJECT: 'storage.object.delete',
  DELETE_OBJECTS: 'storage.object.delete_many',
  GET_PUBLIC_OBJECT: 'storage.object.get_public',
  GET_AUTH_OBJECT: 'storage.object.get_authenticated',
  INFO_AUTH_OBJECT: 'storage.object.info_authenticated',
  INFO_PUBLIC_OBJECT: 'storage.object.info_public',
  GET_SIGNED_OBJECT: 'storage.object.get_signed',
  SIGN_UPLOAD_URL: 'storage.object.sign_upload_url',
  SIGN_OBJECT_URL: 'storage.object.sign',
  SIGN_OBJECT_URLS: 'storage.object.sign_many',
  LIST_OBJECTS: 'storage.object.list',
  MOVE_OBJECT: 'storage.object.move',
  UPDATE_OBJECT: 'storage.object.upload_update',
  UPLOAD_SIGN_OBJECT: 'storage.object.upload_signed',
} as const;

interface BucketRow {
  id: string;
  public: boolean | null;
  file_size_limit: string | number | null;
  allowed_mime_types: string[] | null;
}

interface ObjectRow {
  id: string;
  bucket_id: string;
  name: string;
  version: string | null;
  metadata: Record<string, unknown> | null;
  user_metadata: Record<string, unknown> | null;
  created_at: Date | string | null;
  updated_at: Date | string | null;
}

/** What a request runs as: the verified caller (or anon when a route allows an invalid/absent token). */
interface Caller {
  scope: Scope;
  claims: Claims;
  isAuthenticated: boolean;
  /** JWT `sub`: the owner recorded on what the caller creates. */
  owner: string | undefined;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-5][0-9a-f]{3}-[089ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ownerUuid = (owner: string | undefined) => (owner && UUID_RE.test(owner) ? owner : null);

export function createStorageService(opts: StorageServiceOptions): StorageService {
  const { pool, log } = opts;
  const dataDir = path.resolve(opts.dataDir);
  const key = jwtKey(opts.jwtSecret);
  const globalLimit = opts.fileSizeLimit ?? DEFAULT_FILE_SIZE_LIMIT;
  const uploadUrlTtl = opts.signedUploadUrlExpiresIn ?? 7200;
  const ready = sweepTemp(dataDir).catch((err) => log.warn(`could not prepare ${dataDir}: ${(err as Error).message}`));
  const inflight = new Set<Promise<unknown>>();
  let closed = false;

  // ---------------------------------------------------------------------------------------------------------
  // Request plumbing

  function baseScope(req: Request, url: URL, operation: string): Omit<Scope, 'role' | 'claims' | 'jwt'> {
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => { headers[k] = v; });
    return { method: req.method, path: url.pathname + url.search, headers, operation };
  }

  const bearer = (req: Request) => (req.headers.get('authorization') ?? '').replace(/^Bearer\s+/i, '');

  async function authenticate(req: Request, url: URL, operation: string, allowInvalid = false): Promise<Caller> {
    const jwt = bearer(req);
    try {
      const claims = await verifyJwt(jwt, key);
      const role = typeof claims.role === 'string' && claims.role ? claims.role : 'anon';
      const owner = typeof claims.sub === 'string' ? claims.sub : undefined;
      return { scope: { ...baseScope(req, url, operation), role, claims, jwt }, claims, isAuthenticated: true, owner };
    } catch (err) {
      if (!(err instanceof JwtError)) throw err;
      if (allowInvalid) return anonCaller(req, url, operation);
      throw ERRORS.AccessDenied(err.message);
    }
  }

  function anonCaller(req: Request, url: URL, operation: string): Caller {
    const claims: Claims = { role: 'anon' };
    return { scope: { ...baseScope(req, url, operation), role: 'anon', claims, jwt: '' }, claims, isAuthenticated: false, owner: undefined };
  }

  async function readJson(req: Request): Promise<Record<string, unknown>> {
    const text = await readTextCapped(req, MAX_JSON_BODY_BYTES);
    if (!text.trim()) return {};
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw validationError("Body is not valid JSON but content-type is set to 'application/json'");
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw validationError('body must be object');
    return body as Record<string, unknown>;
  }

  const json = (data: unknown, status = 200, headers?: Record<string, string>) =>
    new Response(JSON.stringify(data), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    });

  /** A bucket limit above the global upload limit is refused, as storage's parseMaxSizeLimit does. */
  function withinGlobalLimit(limit: number | null | undefined) {
    if (typeof limit === 'number' && limit > globalLimit) throw ERRORS.EntityTooLarge();
    return limit;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Shared database steps

  const OBJECT_COLUMNS = 'id, bucket_id, name, version, metadata, user_metadata, created_at, updated_at';

  async function findBucket(tx: Tx, id: string): Promise<BucketRow | undefined> {
    const r = await tx.client.query<BucketRow>(
      'select id, public, file_size_limit, allowed_mime_types from storage.buckets where id = $1', [id]);
    return r.rows[0];
  }

  async function findObject(tx: Tx, bucket: string, name: string, forUpdate = false): Promise<ObjectRow | undefined> {
    const r = await tx.client.query<ObjectRow>(
      `select ${OBJECT_COLUMNS} from storage.objects where bucket_id = $1 and name = $2${forUpdate ? ' for update' : ''}`,
      [bucket, name]);
    return r.rows[0];
  }

  const lockKey = (tx: Tx, bucket: string, name: string) =>
    tx.client.query('select pg_advisory_xact_lock(hashtext($1))', [`${bucket}/${name}`]);

  /** storage's `canUpload`: the INSERT (or upsert) the caller is about to make, tried and rolled back. */
  async function testUploadPermission(tx: Tx, bucket: string, name: string, owner: string | undefined, upsert: boolean) {
    const values = [randomUUID(), bucket, name, ownerUuid(owner), owner ?? null];
    try {
      if (!upsert) {
        await tx.client.query(
          `insert into storage.objects (id, bucket_id, name, owner, owner_id, version)
           values ($1, $2, $3, $4, $5, '1')`, values);
      } else {
        await tx.client.query(
          `insert into storage.objects (id, bucket_id, name, owner, owner_id, version)
           values ($1, $2, $3, $4, $5, '1')
           on conflict (bucket_id, name) do update set version = excluded.version, owner = excluded.owner,
             owner_id = excluded.owner_id
           returning *`, values);
      }
    } catch (err) {
      throw keyExists(err);
    }
  }

  /** A unique violation on an object row is storage's KeyAlreadyExists. */
  function keyExists(err: unknown): unknown {
    const se = toStorageError(err);
    return se.code === 'ResourceAlreadyExists' ? ERRORS.KeyAlreadyExists(err) : se;
  }

  /** Removes a version file once nothing references it (after a commit), keeping going on errors. */
  function dropVersion(bucket: string, name: string, version: string | null) {
    let file: string;
    try { file = objectFilePath(dataDir, bucket, name, version); } catch { return; }
    removeQuiet(file, path.join(dataDir, bucket)).catch((err) =>
      log.warn(`could not remove replaced object file ${bucket}/${name}: ${(err as Error).message}`));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Uploads

  interface Incoming {
    temp: TempFile;
    size: number;
    eTag: string;
    mimetype: string;
    cacheControl: string;
    userMetadata: Record<string, unknown> | undefined;
  }

  /** Reads the upload body (multipart or raw) into a temp file, enforcing `limit`. */
  async function receiveBody(req: Request, limit: number): Promise<Incoming> {
    const contentType = req.headers.get('content-type') ?? '';
    const declared = Number(req.headers.get('content-length') ?? NaN);
    const temp = await createTempFile(dataDir, limit);
    try {
      let mimetype: string;
      let cacheControl: string;
      let userMetadata: Record<string, unknown> | undefined;
      if (contentType.toLowerCase().startsWith('multipart/form-data')) {
        const boundary = boundaryOf(contentType);
        if (!boundary || !req.body) throw ERRORS.NoContentProvided();
        const fields = new Map<string, string>();
        let fileType: string | undefined;
        await drainOnLimit(req.body, (stream) => readMultipart(stream, boundary, {
          onField: (name, value) => { if (!fields.has(name)) fields.set(name, value); },
          onFile: (info) => { fileType = info.contentType; return temp; },
        }));
        const cacheTime = fields.get('cacheControl');
        cacheControl = cacheTime ? `max-age=${cacheTime}` : 'no-cache';
        mimetype = fields.get('contentType') || fileType || 'text/plain';
        const md = fields.get('metadata') ?? fields.get('userMetadata');
        if (md !== undefined) {
          if (Buffer.byteLength(md) > MAX_USER_METADATA_BYTES) throw ERRORS.EntityTooLarge('user_metadata');
          userMetadata = parseJsonObject(md);
        }
      } else {
        if (Number.isFinite(declared) && declared > limit) {
          await req.body?.cancel().catch(() => undefined);
          throw ERRORS.EntityTooLarge();
        }
        if (req.body) {
          await drainOnLimit(req.body, async (stream) => {
            for await (const chunk of stream) await temp.write(chunk);
          });
        }
        mimetype = contentType || 'application/octet-stream';
        cacheControl = req.headers.get('cache-control') ?? 'no-cache';
        const md = req.headers.get('x-metadata');
        if (md) userMetadata = parseJsonObject(Buffer.from(md, 'base64').toString('utf8'));
      }
      const { size, eTag } = await temp.finish();
      return { temp, size, eTag, mimetype, cacheControl, userMetadata };
    } catch (err) {
      await temp.discard();
      throw err;
    }
  }

  /**
   * Runs `consume` over the body; if it refuses the body as too large, keeps reading (and dropping) up to
   * MAX_DRAIN_BYTES so the client gets to read our answer instead of a reset connection.
   */
  async function drainOnLimit(
    body: ReadableStream<Uint8Array>,
    consume: (stream: AsyncIterable<Uint8Array>) => Promise<void>,
  ) {
    const reader = body.getReader();
    const iterable: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const { done, value } = await reader.read();
          return done ? { done: true, value: undefined } : { done: false, value };
        },
        return: async () => ({ done: true, value: undefined }),
      }),
    };
    try {
      await consume(iterable);
    } catch (err) {
      if (err instanceof StorageError && err.code === 'EntityTooLarge') {
        let drained = 0;
        while (drained < MAX_DRAIN_BYTES) {
          const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (done) break;
          drained += value?.byteLength ?? 0;
        }
      }
      await reader.cancel().catch(() => undefined);
      throw err;
    } finally {
      reader.releaseLock();
    }
  }

  function validateMimeType(mimeType: string, allowed: string[]) {
    // As storage's Uploader.validateMimeType: type/subtype compared literally, `type/*` wildcards.
    const requested = mimeType.split('/');
    if (requested.length < 2) throw ERRORS.InvalidMimeType(mimeType);
    const [type, ext] = requested;
    for (const a of allowed) {
      const [aType, aExt] = a.split('/');
      if (aType === type && (aExt === '*' || aExt === ext)) return;
    }
    throw ERRORS.InvalidMimeType(mimeType);
  }

  /**
   * Uploads one object as `caller` (storage's uploadFromRequest): bucket lookup and permission check first
   * (so an unauthorised upload is refused before its body is read), then the body into a temp file, then one
   * transaction writing the row under the caller's role while the bytes are moved into place.
   */
  async function uploadObject(req: Request, caller: Caller, bucket: string, name: string, isUpsert: boolean,
    owner: string | undefined): Promise<{ id: string; key: string }> {
    mustBeValidBucketName(bucket);
    mustBeValidKey(name);
    const scope = caller.scope;
    const b = await withScope(pool, scope, async (tx) => {
      const found = await tx.as(superUserScope(scope), () => findBucket(tx, bucket));
      if (!found) throw ERRORS.NoSuchBucket(bucket);
      await testUploadPermission(tx, bucket, name, owner, isUpsert);
      return found;
    }, { rollbackOnly: true });

    const isPlaceholder = name.endsWith(EMPTY_FOLDER_PLACEHOLDER);
    const bucketLimit = b.file_size_limit === null || b.file_size_limit === undefined ? Infinity : Number(b.file_size_limit);
    const limit = isPlaceholder ? 0 : Math.min(globalLimit, bucketLimit);
    const incoming = await receiveBody(req, limit);
    try {
      if (b.allowed_mime_types && b.allowed_mime_types.length > 0 && !isPlaceholder) {
        validateMimeType(incoming.mimetype, b.allowed_mime_types);
      }
    } catch (err) {
      await incoming.temp.discard();
      throw err;
    }

    const version = randomUUID();
    const finalPath = objectFilePath(dataDir, bucket, name, version);
    const metadata = {
      eTag: incoming.eTag,
      size: incoming.size,
      mimetype: incoming.mimetype,
      cacheControl: incoming.cacheControl,
      lastModified: new Date().toISOString(),
      contentLength: incoming.size,
      httpStatusCode: 200,
    };
    let installed = false;
    try {
      const { id, previous } = await withScope(pool, scope, async (tx) => {
        await lockKey(tx, bucket, name);
        const existing = await tx.as(superUserScope(scope), () => findObject(tx, bucket, name, true));
        const values = [randomUUID(), bucket, name, ownerUuid(owner), owner ?? null, metadata,
          incoming.userMetadata ?? null, version];
        let id = values[0] as string;
        try {
          if (!isUpsert) {
            await tx.client.query(
              `insert into storage.objects (id, bucket_id, name, owner, owner_id, metadata, user_metadata, version)
               values ($1, $2, $3, $4, $5, $6, $7, $8)`, values);
          } else {
            const r = await tx.client.query<{ id: string }>(
              `insert into storage.objects (id, bucket_id, name, owner, owner_id, metadata, user_metadata, version)
               values ($1, $2, $3, $4, $5, $6, $7, $8)
               on conflict (bucket_id, name) do update set metadata = excluded.metadata,
                 user_metadata = excluded.user_metadata, version = excluded.version, owner = excluded.owner,
                 owner_id = excluded.owner_id
               returning id`, values);
            id = r.rows[0].id;
          }
        } catch (err) {
          throw keyExists(err);
        }
        await installFile(incoming.temp.path, finalPath);
        installed = true;
        return { id, previous: existing };
      });
      if (previous && previous.version !== version) dropVersion(bucket, name, previous.version);
      return { id, key: `${bucket}/${name}` };
    } catch (err) {
      if (installed) await removeQuiet(finalPath).catch(() => undefined);
      else await incoming.temp.discard();
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Downloads

  function parseRange(header: string | null, size: number): { start: number; end: number } | undefined {
    if (!header) return undefined;
    const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    if (!m || (m[1] === '' && m[2] === '')) throw ERRORS.InvalidRange();
    let start: number;
    let end: number;
    if (m[1] === '') {
      const suffix = Number(m[2]);
      start = Math.max(0, size - suffix);
      end = size - 1;
    } else {
      start = Number(m[1]);
      end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    }
    if (start > end || start >= size) throw ERRORS.InvalidRange();
    return { start, end };
  }

  /** storage's AssetRenderer: the object's bytes with its stored content type, cache control and ETag. */
  async function renderObject(req: Request, obj: ObjectRow, o: { download?: string | null; expires?: string; head?: boolean }) {
    const file = objectFilePath(dataDir, obj.bucket_id, obj.name, obj.version);
    const stat = await statFile(file);
    if (!stat) throw ERRORS.ObjectBytesMissing();
    const md = obj.metadata ?? {};
    const mimetype = typeof md.mimetype === 'string' ? md.mimetype : 'application/octet-stream';
    const eTag = typeof md.eTag === 'string' ? md.eTag : undefined;
    const lastModified = typeof md.lastModified === 'string' ? new Date(md.lastModified) : stat.mtime;
    const headers: Record<string, string> = {
      'accept-ranges': 'bytes',
      // as storage: HTML is never served as HTML from the storage origin
      'content-type': mimetype.includes('text/html') ? 'text/plain' : mimetype,
      'last-modified': lastModified.toUTCString(),
    };
    if (eTag) headers.etag = eTag;
    if (o.expires) headers.expires = o.expires;
    else headers['cache-control'] = typeof md.cacheControl === 'string' ? md.cacheControl : 'no-cache';
    if (o.download !== undefined && o.download !== null) {
      if (o.download === '') headers['content-disposition'] = 'attachment;';
      else {
        const enc = encodeURIComponent(o.download);
        headers['content-disposition'] = `attachment; filename=${enc}; filename*=UTF-8''${enc};`;
      }
    }

    const inm = req.headers.get('if-none-match');
    const ims = req.headers.get('if-modified-since');
    if ((inm && eTag && inm === eTag) || (!inm && ims && !Number.isNaN(Date.parse(ims))
      && Math.floor(lastModified.getTime() / 1000) <= Math.floor(Date.parse(ims) / 1000))) {
      return new Response(null, { status: 304, headers });
    }

    const range = parseRange(req.headers.get('range'), stat.size);
    let status = 200;
    if (range) {
      status = 206;
      headers['content-range'] = `bytes ${range.start}-${range.end}/${stat.size}`;
      headers['content-length'] = String(range.end - range.start + 1);
    } else headers['content-length'] = String(stat.size);
    if (o.head) return new Response(null, { status, headers });
    const stream = Readable.toWeb(openRead(file, range)) as unknown as ReadableStream<Uint8Array>;
    return new Response(stream, { status, headers });
  }

  /**
   * The object as the route sees it: public buckets via the service role, private ones under RLS; an
   * unauthenticated caller only reaches public buckets (storage's getObject requestHandler).
   */
  async function lookupForRead(caller: Caller, bucket: string, name: string, publicOnly: boolean): Promise<ObjectRow> {
    mustBeValidBucketName(bucket);
    mustBeValidKey(name);
    const scope = caller.scope;
    return withScope(pool, scope, async (tx) => {
      const sup = superUserScope(scope);
      const b = await tx.as(sup, () => findBucket(tx, bucket));
      if (!b || ((publicOnly || !caller.isAuthenticated) && !b.public)) throw ERRORS.NoSuchBucket(bucket);
      const obj = b.public ? await tx.as(sup, () => findObject(tx, bucket, name)) : await findObject(tx, bucket, name);
      if (!obj) throw ERRORS.NoSuchKey(name);
      return obj;
    });
  }

  function infoBody(obj: ObjectRow) {
    const md = obj.metadata ?? {};
    return {
      id: obj.id,
      name: obj.name,
      version: obj.version,
      bucket_id: obj.bucket_id,
      size: md.size ?? null,
      content_type: md.mimetype ?? null,
      cache_control: md.cacheControl ?? null,
      etag: md.eTag ?? null,
      metadata: obj.user_metadata,
      last_modified: obj.updated_at,
      created_at: obj.created_at,
    };
  }

  function infoResponse(obj: ObjectRow) {
    const md = obj.metadata ?? {};
    const headers: Record<string, string> = {};
    if (typeof md.eTag === 'string') headers.etag = md.eTag;
    if (typeof md.cacheControl === 'string') headers['cache-control'] = md.cacheControl;
    if (typeof md.lastModified === 'string') headers['last-modified'] = new Date(md.lastModified).toUTCString();
    return json(infoBody(obj), 200, headers);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Routes

  type Route = (req: Request, url: URL, m: string[]) => Promise<Response>;
  const routes: Array<{ method: string | string[]; re: RegExp; run: Route }> = [];
  const on = (method: string | string[], re: RegExp, run: Route) => routes.push({ method, re, run });
  const download = (url: URL) => url.searchParams.get('download');

  on('GET', /^\/status$/, async () => new Response(null, { status: 200 }));

  // --- buckets ---
  on('GET', /^\/bucket\/?$/, async (req, url) => {
    const caller = await authenticate(req, url, OPS.LIST_BUCKET);
    const p = url.searchParams;
    const sortColumn = ['id', 'name', 'created_at', 'updated_at'].includes(p.get('sortColumn') ?? '')
      ? p.get('sortColumn')! : 'name';
    const sortOrder = p.get('sortOrder')?.toLowerCase() === 'desc' ? 'desc' : 'asc';
    const limit = optionalInt(p.get('limit'), 'querystring/limit', 1);
    const offset = optionalInt(p.get('offset'), 'querystring/offset', 0);
    const search = p.get('search');
    const rows = await withScope(pool, caller.scope, async (tx) => {
      const params: unknown[] = [];
      let sql = `select id, name, owner, public, file_size_limit, allowed_mime_types, created_at, updated_at
                 from storage.buckets`;
      if (search) { params.push(`%${escapeLike(search)}%`); sql += ` where name ilike $${params.length}`; }
      sql += ` order by ${sortColumn} ${sortOrder}`;
      if (limit !== undefined) { params.push(limit); sql += ` limit $${params.length}`; }
      if (offset !== undefined) { params.push(offset); sql += ` offset $${params.length}`; }
      return (await tx.client.query(sql, params)).rows.map(bucketJson);
    });
    return json(rows);
  });

  on('GET', /^\/bucket\/([^/]+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.GET_BUCKET);
    const id = decode(m[1]);
    const row = await withScope(pool, caller.scope, async (tx) => (await tx.client.query(
      `select id, name, owner, public, file_size_limit, allowed_mime_types, created_at, updated_at
       from storage.buckets where id = $1`, [id])).rows[0]);
    if (!row) throw ERRORS.NoSuchBucket(id);
    return json(bucketJson(row));
  });

  on('POST', /^\/bucket\/?$/, async (req, url) => {
    const caller = await authenticate(req, url, OPS.CREATE_BUCKET);
    const body = await readJson(req);
    const name = requiredString(body, 'name');
    const id = optionalString(body, 'id') || name;
    mustBeValidBucketName(name);
    mustBeValidBucketName(id);
    const isPublic = optionalBool(body, 'public') ?? false;
    const sizeLimit = withinGlobalLimit(parseBucketSizeLimit(body.file_size_limit));
    const mimeTypes = parseMimeTypes(body.allowed_mime_types);
    await withScope(pool, caller.scope, async (tx) => {
      try {
        await tx.client.query(
          `insert into storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types)
           values ($1, $2, $3, $4, $5, $6, $7)`,
          [id, name, ownerUuid(caller.owner), caller.owner ?? null, isPublic, sizeLimit ?? null, mimeTypes ?? null]);
      } catch (err) {
        const se = toStorageError(err);
        throw se.code === 'ResourceAlreadyExists' ? ERRORS.BucketAlreadyExists(err) : se;
      }
    });
    return json({ name });
  });

  on('PUT', /^\/bucket\/([^/]+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.UPDATE_BUCKET);
    const id = decode(m[1]);
    mustBeValidBucketName(id);
    const body = await readJson(req);
    const sets: string[] = ['updated_at = now()'];
    const params: unknown[] = [id];
    const isPublic = optionalBool(body, 'public');
    if (isPublic !== undefined) { params.push(isPublic); sets.push(`public = $${params.length}`); }
    if ('file_size_limit' in body && body.file_size_limit !== undefined) {
      params.push(withinGlobalLimit(parseBucketSizeLimit(body.file_size_limit)) ?? null);
      sets.push(`file_size_limit = $${params.length}`);
    }
    if ('allowed_mime_types' in body && body.allowed_mime_types !== undefined) {
      params.push(parseMimeTypes(body.allowed_mime_types) ?? null);
      sets.push(`allowed_mime_types = $${params.length}`);
    }
    const n = await withScope(pool, caller.scope, async (tx) =>
      (await tx.client.query(`update storage.buckets set ${sets.join(', ')} where id = $1`, params)).rowCount);
    if (!n) throw ERRORS.NoSuchBucket(id);
    return json({ message: 'Successfully updated' });
  });

  on('DELETE', /^\/bucket\/([^/]+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.DELETE_BUCKET);
    const id = decode(m[1]);
    mustBeValidBucketName(id);
    await withScope(pool, caller.scope, async (tx) => {
      const sup = superUserScope(caller.scope);
      const found = await tx.as(sup, async () =>
        (await tx.client.query('select id from storage.buckets where id = $1 for update', [id])).rows[0]);
      if (!found) throw ERRORS.NoSuchBucket(id);
      const count = await tx.as(sup, async () => (await tx.client.query(
        'select count(*)::int as n from (select 1 from storage.objects where bucket_id = $1 limit 10) o', [id])).rows[0].n);
      if (count > 0) throw ERRORS.BucketNotEmpty();
      const deleted = (await tx.client.query('delete from storage.buckets where id = $1', [id])).rowCount;
      if (!deleted) throw ERRORS.NoSuchBucket(id);
    });
    // The bucket held no objects, so its folder holds at most leftovers of replaced versions. Awaited, so a
    // bucket re-created under the same id right after this answer never loses new files to this cleanup.
    await fsp.rm(path.join(dataDir, id), { recursive: true, force: true })
      .catch((err) => log.warn(`could not remove the folder of deleted bucket ${id}: ${(err as Error).message}`));
    return json({ message: 'Successfully deleted' });
  });

  on('POST', /^\/bucket\/([^/]+)\/empty$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.EMPTY_BUCKET);
    const id = decode(m[1]);
    mustBeValidBucketName(id);
    const exists = await withScope(pool, caller.scope, async (tx) =>
      (await tx.client.query('select id from storage.buckets where id = $1', [id])).rows[0]);
    if (!exists) throw ERRORS.NoSuchBucket(id);
    for (;;) {
      const { listed, deleted } = await withScope(pool, caller.scope, async (tx) => {
        const listed = (await tx.client.query<{ id: string; name: string }>(
          'select id, name from storage.objects where bucket_id = $1 order by name collate "C" limit 500', [id])).rows;
        if (!listed.length) return { listed, deleted: [] as Array<{ name: string; version: string | null }> };
        const deleted = (await tx.client.query<{ name: string; version: string | null }>(
          'delete from storage.objects where bucket_id = $1 and id = any($2::uuid[]) returning name, version',
          [id, listed.map((o) => o.id)])).rows;
        if (deleted.length !== listed.length) {
          const gone = new Set(deleted.map((d) => d.name));
          const remaining = listed.filter((o) => !gone.has(o.name)).map((o) => o.name);
          throw ERRORS.AccessDenied(
            `Cannot delete: ${remaining.join(' ,')}, you may have SELECT but not DELETE permissions`);
        }
        return { listed, deleted };
      });
      for (const d of deleted) dropVersion(id, d.name, d.version);
      if (!listed.length) break;
    }
    return json({ message: 'Successfully emptied' });
  });

  // --- objects: static prefixes first, as storage's router matches them ---
  on('POST', /^\/object\/list\/([^/]+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.LIST_OBJECTS);
    const bucket = decode(m[1]);
    mustBeValidBucketName(bucket);
    const body = await readJson(req);
    let prefix = requiredString(body, 'prefix');
    const limit = optionalInt(body.limit, 'body/limit', 1) ?? 100;
    const offset = optionalInt(body.offset, 'body/offset', 0) ?? 0;
    const search = optionalString(body, 'search') ?? '';
    const sortBy = (body.sortBy && typeof body.sortBy === 'object' ? body.sortBy : {}) as Record<string, unknown>;
    const column = typeof sortBy.column === 'string' ? sortBy.column : 'name';
    const order = typeof sortBy.order === 'string' ? sortBy.order : 'asc';
    if (prefix.length > 0 && !prefix.endsWith('/')) prefix = `${prefix}/`;
    const rows = await withScope(pool, caller.scope, async (tx) => (await tx.client.query(
      'select * from storage.search($1, $2, $3, $4, $5, $6, $7, $8)',
      [prefix, bucket, limit, prefix.split('/').length, offset, search, column, order])).rows);
    return json(rows);
  });

  on('POST', /^\/object\/sign\/([^/]+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.SIGN_OBJECT_URLS);
    const bucket = decode(m[1]);
    mustBeValidBucketName(bucket);
    const body = await readJson(req);
    const expiresIn = requiredInt(body.expiresIn, 'expiresIn', 1);
    if (!Array.isArray(body.paths)) throw validationError("body must have required property 'paths'");
    if (body.paths.length < 1) throw validationError('body/paths must NOT have fewer than 1 items');
    const paths = body.paths.map((p, i) => {
      if (typeof p !== 'string') throw validationError(`body/paths/${i} must be string`);
      return p;
    });
    const visible = await withScope(pool, caller.scope, async (tx) => new Set((await tx.client.query<{ name: string }>(
      'select name from storage.objects where bucket_id = $1 and name = any($2::text[])', [bucket, paths])).rows
      .map((r) => r.name)));
    const out = await Promise.all(paths.map(async (p) => {
      if (!visible.has(p)) {
        return { error: 'Either the object does not exist or you do not have access to it', path: p, signedURL: null };
      }
      const urlToSign = `${bucket}/${p}`;
      const token = await signJwt({ url: urlToSign }, key, expiresIn);
      return { error: null, path: p, signedURL: `/object/sign/${urlToSign}?token=${token}` };
    }));
    return json(out);
  });

  on('POST', /^\/object\/sign\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.SIGN_OBJECT_URL);
    const bucket = decode(m[1]);
    const name = decode(m[2]);
    mustBeValidBucketName(bucket);
    mustBeValidKey(name);
    const body = await readJson(req);
    const expiresIn = requiredInt(body.expiresIn, 'expiresIn', 1);
    // storage's signObjectUrl: the caller must be able to SELECT the object (RLS), else "Object not found".
    const obj = await withScope(pool, caller.scope, (tx) => findObject(tx, bucket, name));
    if (!obj) throw ERRORS.NoSuchKey(name);
    const urlToSign = `${bucket}/${name}`;
    const token = await signJwt({ url: urlToSign }, key, expiresIn);
    return json({ signedURL: `/object/sign/${urlToSign}?token=${token}` });
  });

  on(['GET', 'HEAD'], /^\/object\/sign\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const bucket = decode(m[1]);
    const name = decode(m[2]);
    const token = url.searchParams.get('token');
    if (!token) throw validationError("querystring must have required property 'token'");
    let payload: Claims;
    try {
      payload = await verifyJwt(token, key);
    } catch (err) {
      if (err instanceof JwtError) throw ERRORS.InvalidJWT(err.message);
      throw err;
    }
    if (payload.url !== `${bucket}/${name}`) throw ERRORS.InvalidSignature();
    mustBeValidBucketName(bucket);
    mustBeValidKey(name);
    const caller = anonCaller(req, url, OPS.GET_SIGNED_OBJECT);
    const obj = await withScope(pool, superUserScope(caller.scope), (tx) => findObject(tx, bucket, name));
    if (!obj) throw ERRORS.NoSuchKey(name);
    return renderObject(req, obj, {
      download: download(url),
      expires: new Date((payload.exp ?? 0) * 1000).toUTCString(),
      head: req.method === 'HEAD',
    });
  });

  on('POST', /^\/object\/upload\/sign\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.SIGN_UPLOAD_URL);
    const bucket = decode(m[1]);
    const name = decode(m[2]);
    mustBeValidBucketName(bucket);
    mustBeValidKey(name);
    const upsert = req.headers.get('x-upsert') === 'true';
    await withScope(pool, caller.scope, async (tx) => {
      const found = await tx.as(superUserScope(caller.scope), () => findBucket(tx, bucket));
      if (!found) throw ERRORS.NoSuchBucket(bucket);
      await testUploadPermission(tx, bucket, name, caller.owner, upsert);
    }, { rollbackOnly: true });
    const urlPath = `${bucket}/${name}`;
    const token = await signJwt({ owner: caller.owner, url: urlPath, upsert }, key, uploadUrlTtl);
    return json({ url: `/object/upload/sign/${urlPath}?token=${token}`, token });
  });

  on('PUT', /^\/object\/upload\/sign\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const bucket = decode(m[1]);
    const name = decode(m[2]);
    const token = url.searchParams.get('token');
    if (!token) throw validationError("querystring must have required property 'token'");
    let payload: Claims;
    try {
      payload = await verifyJwt(token, key);
    } catch (err) {
      if (err instanceof JwtError) throw ERRORS.InvalidJWT(err.message);
      throw err;
    }
    if (payload.url !== `${bucket}/${name}`) throw ERRORS.InvalidSignature();
    if ((payload.exp ?? 0) * 1000 < Date.now()) throw ERRORS.ExpiredSignature();
    const anon = anonCaller(req, url, OPS.UPLOAD_SIGN_OBJECT);
    const sup: Caller = { ...anon, scope: superUserScope(anon.scope), isAuthenticated: true };
    const owner = typeof payload.owner === 'string' ? payload.owner : undefined;
    const { key: objectKey } = await uploadObject(req, sup, bucket, name, payload.upsert === true, owner);
    return json({ Key: objectKey });
  });

  on('POST', /^\/object\/move$/, async (req, url) => {
    const caller = await authenticate(req, url, OPS.MOVE_OBJECT);
    const body = await readJson(req);
    const bucket = requiredString(body, 'bucketId');
    const src = requiredString(body, 'sourceKey');
    const dst = requiredString(body, 'destinationKey');
    const dstBucket = optionalString(body, 'destinationBucket') || bucket;
    mustBeValidBucketName(bucket);
    mustBeValidBucketName(dstBucket);
    mustBeValidKey(src);
    mustBeValidKey(dst);
    const newVersion = randomUUID();
    const dstPath = objectFilePath(dataDir, dstBucket, dst, newVersion);
    let installed = false;
    try {
      const moved = await withScope(pool, caller.scope, async (tx) => {
        for (const k of [`${bucket}/${src}`, `${dstBucket}/${dst}`].sort()) {
          await tx.client.query('select pg_advisory_xact_lock(hashtext($1))', [k]);
        }
        const sup = superUserScope(caller.scope);
        const source = await tx.as(sup, () => findObject(tx, bucket, src, true));
        if (!source) throw ERRORS.NoSuchKey(src);
        if (!(await findObject(tx, bucket, src))) throw ERRORS.NoSuchKey(src); // caller's SELECT
        if (bucket === dstBucket && src === dst) return { id: source.id, source, same: true };
        const md = { ...(source.metadata ?? {}), lastModified: new Date().toISOString() };
        const n = (await tx.client.query(
          `update storage.objects set name = $3, bucket_id = $4, version = $5, owner = $6, owner_id = $7,
             metadata = $8
           where bucket_id = $1 and name = $2`,
          [bucket, src, dst, dstBucket, newVersion, ownerUuid(caller.owner), caller.owner ?? null, md])).rowCount;
        if (!n) throw ERRORS.NoSuchKey(src);
        await copyFileAtomic(dataDir, objectFilePath(dataDir, bucket, src, source.version), dstPath);
        installed = true;
        return { id: source.id, source, same: false };
      });
      if (!moved.same) dropVersion(bucket, src, moved.source.version);
      return json({ message: 'Successfully moved', Id: moved.id, Key: dst });
    } catch (err) {
      if (installed) await removeQuiet(dstPath).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw ERRORS.ObjectBytesMissing();
      throw err;
    }
  });

  on('POST', /^\/object\/copy$/, async (req, url) => {
    const caller = await authenticate(req, url, OPS.COPY_OBJECT);
    const body = await readJson(req);
    const bucket = requiredString(body, 'bucketId');
    const src = requiredString(body, 'sourceKey');
    const dst = requiredString(body, 'destinationKey');
    const dstBucket = optionalString(body, 'destinationBucket') || bucket;
    mustBeValidBucketName(bucket);
    mustBeValidBucketName(dstBucket);
    mustBeValidKey(src);
    mustBeValidKey(dst);
    const copyMetadata = optionalBool(body, 'copyMetadata') ?? true;
    const upsert = req.headers.get('x-upsert') === 'true';
    const xMetadata = req.headers.get('x-metadata');
    const fileMetadata = body.metadata && typeof body.metadata === 'object' ? body.metadata as Record<string, unknown> : {};
    const newVersion = randomUUID();
    const dstPath = objectFilePath(dataDir, dstBucket, dst, newVersion);
    let installed = false;
    try {
      const result = await withScope(pool, caller.scope, async (tx) => {
        await lockKey(tx, dstBucket, dst);
        const sup = superUserScope(caller.scope);
        const source = await findObject(tx, bucket, src); // caller's SELECT
        if (!source) throw ERRORS.NoSuchKey(src);
        const existing = await tx.as(sup, () => findObject(tx, dstBucket, dst, true));
        const baseMd = source.metadata ?? {};
        const md = { ...(copyMetadata ? baseMd : { ...baseMd, ...pick(fileMetadata, ['cacheControl', 'mimetype']) }),
          lastModified: new Date().toISOString() };
        const userMd = copyMetadata ? source.user_metadata
          : xMetadata ? parseJsonObject(Buffer.from(xMetadata, 'base64').toString('utf8')) ?? null : null;
        const values = [randomUUID(), dstBucket, dst, ownerUuid(caller.owner), caller.owner ?? null, md, userMd, newVersion];
        try {
          if (!upsert) {
            await tx.client.query(
              `insert into storage.objects (id, bucket_id, name, owner, owner_id, metadata, user_metadata, version)
               values ($1, $2, $3, $4, $5, $6, $7, $8)`, values);
          } else {
            await tx.client.query(
              `insert into storage.objects (id, bucket_id, name, owner, owner_id, metadata, user_metadata, version)
               values ($1, $2, $3, $4, $5, $6, $7, $8)
               on conflict (bucket_id, name) do update set metadata = excluded.metadata,
                 user_metadata = excluded.user_metadata, version = excluded.version, owner = excluded.owner,
                 owner_id = excluded.owner_id
               returning id`, values);
          }
        } catch (err) {
          throw keyExists(err);
        }
        await copyFileAtomic(dataDir, objectFilePath(dataDir, bucket, src, source.version), dstPath);
        installed = true;
        const row = await tx.as(sup, async () => (await tx.client.query(
          `select id, bucket_id, name, owner, owner_id, version, metadata, user_metadata, created_at, updated_at,
             last_accessed_at from storage.objects where bucket_id = $1 and name = $2`, [dstBucket, dst])).rows[0]);
        return { row, previous: existing };
      });
      if (result.previous && result.previous.version !== newVersion) {
        dropVersion(dstBucket, dst, result.previous.version);
      }
      return json({ Id: result.row.id, Key: `${dstBucket}/${dst}`, ...result.row });
    } catch (err) {
      if (installed) await removeQuiet(dstPath).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw ERRORS.ObjectBytesMissing();
      throw err;
    }
  });

  on('GET', /^\/object\/info\/(authenticated|public)\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const isPublic = m[1] === 'public';
    const caller = isPublic ? anonCaller(req, url, OPS.INFO_PUBLIC_OBJECT)
      : await authenticate(req, url, OPS.INFO_AUTH_OBJECT);
    return infoResponse(await lookupForRead(caller, decode(m[2]), decode(m[3]), isPublic));
  });

  on('GET', /^\/object\/info\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.INFO_AUTH_OBJECT, true);
    return infoResponse(await lookupForRead(caller, decode(m[1]), decode(m[2]), false));
  });

  on(['GET', 'HEAD'], /^\/object\/public\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const caller = anonCaller(req, url, OPS.GET_PUBLIC_OBJECT);
    const obj = await lookupForRead(caller, decode(m[1]), decode(m[2]), true);
    return renderObject(req, obj, { download: download(url), head: req.method === 'HEAD' });
  });

  on(['GET', 'HEAD'], /^\/object\/authenticated\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.GET_AUTH_OBJECT);
    const obj = await lookupForRead(caller, decode(m[1]), decode(m[2]), false);
    return renderObject(req, obj, { download: download(url), head: req.method === 'HEAD' });
  });

  on(['GET', 'HEAD'], /^\/object\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.GET_AUTH_OBJECT, true);
    const obj = await lookupForRead(caller, decode(m[1]), decode(m[2]), false);
    return renderObject(req, obj, { download: download(url), head: req.method === 'HEAD' });
  });

  on(['POST', 'PUT'], /^\/object\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const isPut = req.method === 'PUT';
    const caller = await authenticate(req, url, isPut ? OPS.UPDATE_OBJECT : OPS.CREATE_OBJECT);
    // PUT (storage-js `update`) replaces: it is an upsert, needing INSERT + SELECT + UPDATE like x-upsert.
    const isUpsert = isPut || req.headers.get('x-upsert') === 'true';
    const { id, key: objectKey } = await uploadObject(req, caller, decode(m[1]), decode(m[2]), isUpsert, caller.owner);
    return json({ Id: id, Key: objectKey });
  });

  on('DELETE', /^\/object\/([^/]+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.DELETE_OBJECTS);
    const bucket = decode(m[1]);
    mustBeValidBucketName(bucket);
    const body = await readJson(req);
    if (!Array.isArray(body.prefixes)) throw validationError("body must have required property 'prefixes'");
    if (body.prefixes.length < 1) throw validationError('body/prefixes must NOT have fewer than 1 items');
    if (body.prefixes.length > 1000) throw validationError('body/prefixes must NOT have more than 1000 items');
    const prefixes = body.prefixes.map((p, i) => {
      if (typeof p !== 'string') throw validationError(`body/prefixes/${i} must be string`);
      return p;
    });
    const deleted = await withScope(pool, caller.scope, async (tx) => (await tx.client.query(
      'delete from storage.objects where bucket_id = $1 and name = any($2::text[]) returning *',
      [bucket, prefixes])).rows);
    for (const d of deleted) dropVersion(bucket, d.name, d.version);
    return json(deleted);
  });

  on('DELETE', /^\/object\/([^/]+)\/(.+)$/, async (req, url, m) => {
    const caller = await authenticate(req, url, OPS.DELETE_OBJECT);
    const bucket = decode(m[1]);
    const name = decode(m[2]);
    mustBeValidBucketName(bucket);
    mustBeValidKey(name);
    const version = await withScope(pool, caller.scope, async (tx) => {
      const obj = await tx.as(superUserScope(caller.scope), () => findObject(tx, bucket, name, true));
      if (!obj) throw ERRORS.NoSuchKey(name);
      const n = (await tx.client.query(
        'delete from storage.objects where bucket_id = $1 and name = $2', [bucket, name])).rowCount;
      if (!n) throw ERRORS.NoSuchKey(name);
      return obj.version;
    });
    dropVersion(bucket, name, version);
    return json({ message: 'Successfully deleted' });
  });

  // ---------------------------------------------------------------------------------------------------------

  async function dispatch(req: Request): Promise<Response> {
    const url = new URL(req.url);
    let pathname = url.pathname;
    if (pathname.startsWith('/storage/v1/')) pathname = pathname.slice('/storage/v1'.length); // tolerate unstripped
    for (const r of routes) {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      if (!methods.includes(req.method)) continue;
      const m = r.re.exec(pathname);
      if (m) return r.run(req, url, m);
    }
    return json({ message: `Route ${req.method}:${url.pathname} not found`, error: 'Not Found', statusCode: 404 }, 404);
  }

  const handler: FetchHandler = async (req) => {
    if (closed) return errorResponse(new StorageError('ServiceUnavailable', 503, 'Storage is shutting down'));
    const p = (async () => {
      await ready;
      try {
        return await dispatch(req);
      } catch (err) {
        const se = toStorageError(err);
        if (se.userStatusCode >= 500) {
          const cause = se.cause ?? err;
          log.error(`${req.method} ${new URL(req.url).pathname}: ${se.message}`
            + (cause instanceof Error && cause !== se ? ` (${cause.message})` : ''));
        }
        const headers: Record<string, string> = se.message === 'The resource was not found'
          ? { 'cache-control': 'no-store' } : {};
        return errorResponse(se, headers);
      }
    })();
    inflight.add(p);
    try {
      return await p;
    } finally {
      inflight.delete(p);
    }
  };

  return {
    handler,
    async close() {
      closed = true;
      const deadline = new Promise((r) => setTimeout(r, 5000).unref());
      await Promise.race([Promise.allSettled([...inflight]), deadline]);
    },
  };
}

// -----------------------------------------------------------------------------------------------------------
// Small helpers

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw validationError('Invalid URL encoding in path');
  }
}

async function readTextCapped(req: Request, cap: number): Promise<string> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      await reader.cancel().catch(() => undefined);
      throw ERRORS.EntityTooLarge('request body');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined; // as storage: unparseable user metadata is ignored
  }
}

function pick(o: Record<string, unknown>, keys: string[]) {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (typeof o[k] === 'string') out[k] = o[k];
  return out;
}

function escapeLike(s: string) {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function requiredString(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (v === undefined || v === null) throw validationError(`body must have required property '${name}'`);
  if (typeof v !== 'string') throw validationError(`body/${name} must be string`);
  return v;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw validationError(`body/${name} must be string`);
  return v;
}

function optionalBool(body: Record<string, unknown>, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw validationError(`body/${name} must be boolean`);
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

function requiredInt(v: unknown, name: string, min: number): number {
  if (v === undefined || v === null) throw validationError(`body must have required property '${name}'`);
  const n = toInt(v);
  if (n === undefined) throw validationError(`body/${name} must be integer`);
  if (n < min) throw validationError(`body/${name} must be >= ${min}`);
  return n;
}

function optionalInt(v: unknown, where: string, min: number): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = toInt(v);
  if (n === undefined) throw validationError(`${where} must be integer`);
  if (n < min) throw validationError(`${where} must be >= ${min}`);
  return n;
}

function parseFileSizeToBytes(valueWithUnit: string): number {
  const m = /(^[0-9]+(?:\.[0-9]+)?)(gb|mb|kb|b)$/i.exec(valueWithUnit);
  if (!m) throw ERRORS.InvalidFileSizeLimit();
  const value = +parseFloat(m[1]).toPrecision(3);
  switch (m[2].toUpperCase()) {
    case 'GB': return value * 1e9;
    case 'MB': return value * 1e6;
    case 'KB': return value * 1000;
    default: return value;
  }
}

/** A bucket's `file_size_limit` from the API: bytes, or '20MB'-style text; null clears it. */
function parseBucketSizeLimit(v: unknown): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) throw validationError('body/file_size_limit must be >= 0');
    return v;
  }
  if (typeof v === 'string') return Math.floor(parseFileSizeToBytes(v));
  throw validationError('body/file_size_limit must be integer or string');
}

function parseMimeTypes(v: unknown): string[] | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (!Array.isArray(v)) throw validationError('body/allowed_mime_types must be array');
  const types = v.filter((t) => t);
  for (const t of types) {
    if (typeof t !== 'string') throw validationError('body/allowed_mime_types must be array of strings');
    if (t.length > 1000 || !/^([a-zA-Z0-9\-+.]+)\/([a-zA-Z0-9\-+.]+)(;\s*charset=[a-zA-Z0-9-]+)?$|\*$/.test(t)) {
      throw ERRORS.InvalidMimeType(t);
    }
  }
  return types as string[];
}

function bucketJson(row: Record<string, unknown>) {
  return {
    id: row.id,
    name: row.name,
    owner: row.owner,
    public: row.public,
    file_size_limit: row.file_size_limit === null || row.file_size_limit === undefined ? null : Number(row.file_size_limit),
    allowed_mime_types: row.allowed_mime_types ?? null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
