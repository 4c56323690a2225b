/**
 * POST /functions/v1/ro-ocr — `{ tenant_id, path, client_id? }` with the caller's JWT →
 * `{ repair_order: { id, client_id, status, photo_path, ro_number, parsed: { name, phone, vehicle, vin, ro_number, confidence } } }`.
 *
 * 1. the body is checked and the path must be in the shop's folder (403 `path_outside_tenant`);
 * 2. the caller must be a member of the shop (403 `not_a_member`);
 * 3. the photo is downloaded AS THE CALLER (storage RLS applies; 404 `photo_not_found`);
 * 4. the capture's row is created or reused by client_id BEFORE any processing (status processing); a row that
 *    already holds a result is answered as is — a replayed offline capture is one repair order, OCR'd once;
 * 5. the bytes are checked by magic number and size (415 / 413 / 422), EXIF is removed losslessly and the cleaned
 *    photo written back over the upload, so no GPS or thumbnail stays stored;
 * 6. OCR (engine built once per instance), parse, and the result + usage stored in one RPC (needs_review).
 * Any failure after step 4 marks the row `failed` with its code and answers `{ code, message, details }`; the photo
 * and the row stay, and a retry with the same client_id runs again on the same row.
 */
import { authDepsFromClient, requireUser, type AuthDeps, type RequestUser } from '../_shared/auth.ts';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, readJson, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { anonClient, serviceClient, userClient } from '../_shared/supabase.ts';
import { checkImage, IMAGE_MIME, stripExif } from '../_shared/image/index.ts';
import { extractRepairOrder, OcrError, type AiUsageEvent, type OcrEngine, type ParsedRepairOrder } from '../_shared/ocr/index.ts';
import { parseOcrRequest } from '../_shared/capture/request.ts';
import { supabaseCaptureStore, type CaptureStore, type RepairOrderRow } from '../_shared/capture/store.ts';

export interface RoOcrDeps {
  auth: AuthDeps;
  log: Log;
  /** The store acting for this caller (their JWT for RLS, the service role for result + usage). */
  storeFor(user: RequestUser): CaptureStore;
  /** The OCR engine, created once per function instance. */
  engine: OcrEngine;
  /** Wall-clock budget for the OCR call (default 60 s; hosted functions are cut at 150 s). */
  ocrTimeoutMs?: number;
  /** Ids for attempts (tests pin it). */
  newId?: () => string;
}

const EMPTY_CONFIDENCE = { name: 0, phone: 0, vehicle: 0, vin: 0, ro_number: 0 };

function present(row: RepairOrderRow) {
  const p: Partial<ParsedRepairOrder> = row.parsed ?? {};
  return {
    id: row.id,
    client_id: row.client_id,
    status: row.status,
    photo_path: row.photo_path,
    ro_number: row.ro_number,
    customer_id: row.customer_id,
    error_code: row.error_code,
    parsed: {
      name: p.name ?? null,
      phone: p.phone ?? null,
      vehicle: p.vehicle ?? null,
      vin: p.vin ?? null,
      ro_number: p.ro_number ?? null,
      confidence: { ...EMPTY_CONFIDENCE, ...(p.confidence ?? {}) },
    },
  };
}

export function createHandler(deps: RoOcrDeps): Handler {
  const newId = deps.newId ?? (() => crypto.randomUUID());
  const timeoutMs = deps.ocrTimeoutMs ?? 60_000;

  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const user = await requireUser(req, deps.auth);
    const input = await parseOcrRequest(await readJson(req, 16 * 1024));
    const store = deps.storeFor(user);
    const log = deps.log.child({ tenant_id: input.tenantId, client_id: input.clientId });

    if (!(await store.isMember(input.tenantId))) {
      throw new HttpError(403, 'not_a_member', 'You are not a member of this shop.');
    }
    const original = await store.download(input.path);
    if (!original) {
      throw new HttpError(404, 'photo_not_found', 'No photo at this path. Upload it to the repair-orders bucket first.');
    }

    const row = await store.begin(input.tenantId, input.clientId, input.path);
    if (row.status === 'needs_review' || row.status === 'reviewed') {
      log.info('replayed capture answered from its row', { repair_order_id: row.id, status: row.status });
      return json(200, { repair_order: present(row), replayed: true }, { 'Cache-Control': 'no-store' });
    }

    const attemptId = newId();
    const usage: AiUsageEvent[] = [];
    const failWith = async (e: HttpError): Promise<never> => {
      try {
        await store.fail(row.id, { code: e.code, message: e.message, aiRequests: usage.length, attemptId });
      } catch (recordError) {
        log.error('could not mark the repair order failed', { repair_order_id: row.id, error: recordError });
      }
      throw new HttpError(e.status, e.code, e.message, { repair_order_id: row.id, retryable: e.status >= 500 || e.status === 429 });
    };

    let photo: Uint8Array;
    let orientation: number | null = null;
    try {
      const info = checkImage(original);
      const stripped = stripExif(original);
      orientation = stripped.orientation;
      photo = stripped.bytes;
      if (stripped.removed.length) {
        await store.replace(input.path, stripped.bytes, IMAGE_MIME[info.type]);
        log.info('photo metadata removed', { removed: stripped.removed });
      }
    } catch (e) {
      return failWith(e instanceof HttpError ? e : new HttpError(500, 'photo_processing_failed', 'The photo could not be prepared for reading.'));
    }

    const signal = AbortSignal.timeout(timeoutMs);
    let result;
    try {
      result = await extractRepairOrder(photo, deps.engine, {
        orientation,
        signal,
        onUsage: (e) => { usage.push(e); },
      });
    } catch (e) {
      if (e instanceof OcrError) {
        log.warn('ocr failed', { code: e.code, retryable: e.retryable });
        return failWith(new HttpError(e.status, e.code, e.message));
      }
      if (signal.aborted) return failWith(new HttpError(504, 'ocr_timeout', 'Reading the photo took too long. Try again.'));
      log.error('ocr crashed', { error: e });
      return failWith(new HttpError(500, 'ocr_failed', 'The photo could not be read. Try again, or type the details in.'));
    }

    const done = await store.complete(row.id, {
      rawText: result.ocr.text,
      parsed: result.parsed,
      engine: result.engine,
      aiRequests: usage.length,
      attemptId,
    });
    log.info('repair order read', { repair_order_id: done.id, engine: result.engine, ms: Math.round(result.ocr.ms) });
    return json(200, { repair_order: present(done) }, { 'Cache-Control': 'no-store' });
  }, deps.log, { cors: true });
}

/** Production wiring: the platform's variables, clients per request, and the engine the environment asks for. */
export function depsFromEnv(env: { get(name: string): string | undefined }, engine: OcrEngine): RoOcrDeps {
  const e = readEnv(getterOf(env), PLATFORM_ENV);
  const service = serviceClient(e);
  return {
    auth: authDepsFromClient(anonClient(e)),
    log: createLogger('ro-ocr'),
    engine,
    storeFor: (user) => supabaseCaptureStore(userClient(e, `Bearer ${user.token}`), service, user.id),
  };
}
