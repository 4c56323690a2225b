/**
 * What `ro-ocr` needs from Supabase, behind one small interface so its handler stays a pure
 * `Request → Response` factory that vitest drives with an in-memory store.
 *
 * The Supabase implementation acts AS THE CALLER wherever it can (membership, the photo download and
 * write-back under storage RLS, creating the row with `created_by = auth.uid()`); only the two writes that
 * also record billable usage (`complete_repair_order_ocr`, `fail_repair_order_ocr`) use the service role,
 * after the handler has checked the caller's membership.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { HttpError } from '../http.ts';
import type { ParsedRepairOrder } from '../ocr/types.ts';

export const REPAIR_ORDERS_BUCKET = 'repair-orders';

export type RepairOrderStatus = 'uploaded' | 'processing' | 'needs_review' | 'reviewed' | 'failed';

/** A `repair_orders` row as the function reads it. */
export interface RepairOrderRow {
  id: string;
  tenant_id: string;
  client_id: string;
  photo_path: string;
  status: RepairOrderStatus;
  parsed: ParsedRepairOrder | null;
  engine: string | null;
  error_code: string | null;
  ro_number: string | null;
  customer_id: string | null;
  attempts: number;
}

export interface CompleteInput {
  rawText: string;
  parsed: ParsedRepairOrder;
  engine: string;
  /** AI calls this attempt made (usage ledger `ai_requests`). */
  aiRequests: number;
  attemptId: string;
}

export interface FailInput {
  code: string;
  message: string;
  aiRequests: number;
  attemptId: string;
}

/** One caller's view of capture storage and rows. Methods throw `HttpError` with a clear code. */
export interface CaptureStore {
  /** Is the caller a member of the shop (any role)? */
  isMember(tenantId: string): Promise<boolean>;
  /** The object's bytes, or null when it does not exist or the caller may not read it. */
  download(path: string): Promise<Uint8Array | null>;
  /** Overwrite the object (the EXIF-stripped photo). */
  replace(path: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** The capture's row by (shop, client_id), created or reused; status processing unless it holds a result. */
  begin(tenantId: string, clientId: string, path: string): Promise<RepairOrderRow>;
  complete(repairOrderId: string, input: CompleteInput): Promise<RepairOrderRow>;
  fail(repairOrderId: string, input: FailInput): Promise<RepairOrderRow>;
}

interface PgError { code?: string; message?: string; status?: number }

/** A PostgREST error as our JSON error: the message's `<snake_code>: ` prefix and the SQLSTATE's status. */
export function httpErrorFromPostgrest(error: PgError, fallbackCode = 'database_error'): HttpError {
  const message = error.message ?? 'The database refused the request.';
  const m = /^([a-z][a-z0-9_]{1,60}):\s*(.*)$/s.exec(message);
  const code = m ? m[1]! : fallbackCode;
  const text = m ? m[2]! : message;
  switch (error.code) {
    case '42501': return new HttpError(403, m ? code : 'forbidden', m ? text : 'You are not allowed to do this.');
    case '22023': case '22P02': return new HttpError(400, m ? code : 'invalid_argument', text);
    case '23505': return new HttpError(409, m ? code : 'conflict', text);
    case 'P0001': return new HttpError(code.endsWith('_not_found') ? 404 : 400, code, text);
    default: return new HttpError(502, fallbackCode, 'The database could not be reached. Please try again.');
  }
}

const ROW_COLUMNS = 'id, tenant_id, client_id, photo_path, status, parsed, engine, error_code, ro_number, customer_id, attempts';

function pick(row: Record<string, unknown>): RepairOrderRow {
  const out: Record<string, unknown> = {};
  for (const k of ROW_COLUMNS.split(', ')) out[k] = row[k] ?? null;
  out.attempts = Number(row.attempts ?? 0);
  return out as unknown as RepairOrderRow;
}

/**
 * The Supabase-backed store for one request: `user` is a client carrying the caller's JWT (RLS applies),
 * `service` the service-role client (used only for the result/usage writes), `userId` the verified caller.
 */
export function supabaseCaptureStore(user: SupabaseClient, service: SupabaseClient, userId: string): CaptureStore {
  const bucket = () => user.storage.from(REPAIR_ORDERS_BUCKET);
  return {
    async isMember(tenantId) {
      const { data, error } = await user.from('memberships').select('role')
        .eq('tenant_id', tenantId).eq('user_id', userId).maybeSingle();
      if (error) throw httpErrorFromPostgrest(error);
      return data !== null;
    },

    async download(path) {
      const { data, error } = await bucket().download(path);
      if (error) {
        const e = error as { status?: number; statusCode?: string | number; message?: string; originalError?: { status?: number } };
        const status = Number(e.status ?? e.originalError?.status ?? e.statusCode ?? NaN);
        // storage answers 400/404 "Object not found" for a missing object and for one RLS hides.
        if (status === 400 || status === 404 || /not.?found/i.test(e.message ?? '')) return null;
        throw new HttpError(502, 'storage_unavailable', 'The photo could not be read from storage. Please try again.');
      }
      return new Uint8Array(await data.arrayBuffer());
    },

    async replace(path, bytes, contentType) {
      const { error } = await bucket().upload(path, bytes, { upsert: true, contentType, cacheControl: '3600' });
      if (error) {
        throw new HttpError(502, 'storage_write_failed', 'The photo could not be saved without its metadata. Please try again.');
      }
    },

    async begin(tenantId, clientId, path) {
      const { data, error } = await user.rpc('begin_repair_order_ocr', { tenant_id: tenantId, client_id: clientId, photo_path: path });
      if (error) throw httpErrorFromPostgrest(error);
      return pick(data as Record<string, unknown>);
    },

    async complete(id, input) {
      const { data, error } = await service.rpc('complete_repair_order_ocr', {
        repair_order_id: id, raw_text: input.rawText, parsed: input.parsed, engine: input.engine,
        ai_requests: input.aiRequests, attempt_id: input.attemptId,
      });
      if (error) throw httpErrorFromPostgrest(error);
      return pick(data as Record<string, unknown>);
    },

    async fail(id, input) {
      const { data, error } = await service.rpc('fail_repair_order_ocr', {
        repair_order_id: id, error_code: input.code, error_message: input.message,
        ai_requests: input.aiRequests, attempt_id: input.attemptId,
      });
      if (error) throw httpErrorFromPostgrest(error);
      return pick(data as Record<string, unknown>);
    },
  };
}
