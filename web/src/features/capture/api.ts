/**
 * Capture calls: the only capture module that talks to Supabase. Throws AppError on failure (with `status` when an
 * HTTP answer was received, so the outbox can tell "try again later" from "this will never work").
 */
import { supabase } from '../../lib/supabase.ts';
import { readConfig } from '../../lib/env.ts';
import { AppError, fromFunctionsError, NETWORK, toAppError } from '../../lib/errors.ts';
import { capturePath, type Parsed, type RepairOrder, type ReviewInput } from './model.ts';

export const BUCKET = 'repair-orders';

export type ConsentSource = 'signed_ro' | 'verbal';
export type MessageTemplate = 'pickup_ready' | 'review_request';

export interface SaveResult {
  repair_order_id: string;
  customer_id: string;
  customer_created: boolean;
}

export interface RepairOrderDetail extends RepairOrder {
  created_at: string;
  reviewed_at: string | null;
  customer: { id: string; name: string; phone: string } | null;
}

const EMPTY_PARSED: Parsed = { name: null, phone: null, vehicle: null, vin: null, ro_number: null, confidence: {} };

function asRepairOrder(row: Record<string, unknown>): RepairOrder {
  return {
    id: String(row.id),
    client_id: String(row.client_id),
    status: row.status as RepairOrder['status'],
    photo_path: String(row.photo_path),
    ro_number: (row.ro_number as string | null) ?? null,
    customer_id: (row.customer_id as string | null) ?? null,
    error_code: (row.error_code as string | null) ?? null,
    parsed: { ...EMPTY_PARSED, ...((row.parsed as Parsed | null) ?? {}) },
    created_at: typeof row.created_at === 'string' ? row.created_at : undefined,
  };
}

async function accessToken(): Promise<string> {
  const { data } = await supabase().auth.getSession();
  const token = data.session?.access_token;
  // Not signed in (yet): the outbox keeps the photo and tries again later.
  if (!token) throw new AppError('not_signed_in', 'Sign in to upload your captures.');
  return token;
}

/**
 * Uploads with XMLHttpRequest (fetch has no upload progress) to the Storage API, as supabase-js would:
 * POST /storage/v1/object/<bucket>/<path> with `x-upsert: true`, so a replay overwrites the same object.
 */
function xhrUpload(url: string, headers: Record<string, string>, body: Blob, onProgress: (f: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      let body: { statusCode?: string; error?: string; message?: string } = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      const status = Number(body.statusCode) || xhr.status;
      const code = status === 413 ? 'file_too_large' : status === 415 ? 'unsupported_media_type' : body.error ? String(body.error).toLowerCase().replace(/\W+/g, '_') : `http_${status}`;
      const message = status === 413 ? 'The photo is larger than 10 MB.' : status === 415 ? 'This file type cannot be uploaded; use a photo.' : body.message;
      reject(toAppError({ code, message, status }));
    };
    xhr.onerror = () => reject(new AppError(NETWORK, "Can't reach ServicePro. The photo stays on this phone and uploads when you're back online."));
    xhr.ontimeout = xhr.onerror;
    xhr.timeout = 120_000;
    xhr.send(body);
  });
}

export const captureApi = {
  /** Calls `cb` whenever a session becomes available (sign-in, or the stored session restored at start). */
  onSignedIn(cb: () => void): void {
    supabase().auth.onAuthStateChange((event, session) => {
      if (session && (event === 'SIGNED_IN' || event === 'INITIAL_SESSION' || event === 'TOKEN_REFRESHED')) setTimeout(cb, 0);
    });
  },

  async uploadPhoto(tenantId: string, clientId: string, blob: Blob, onProgress: (fraction: number) => void): Promise<string> {
    const path = capturePath(tenantId, clientId);
    const { supabaseUrl, supabaseAnonKey } = readConfig();
    const token = await accessToken();
    await xhrUpload(
      `${supabaseUrl}/storage/v1/object/${BUCKET}/${path.split('/').map(encodeURIComponent).join('/')}`,
      { Authorization: `Bearer ${token}`, apikey: supabaseAnonKey, 'x-upsert': 'true', 'Content-Type': 'image/jpeg', 'cache-control': 'max-age=3600' },
      blob,
      onProgress,
    );
    return path;
  },

  /** ro-ocr: read the uploaded photo (idempotent by client id). */
  async readRepairOrder(tenantId: string, path: string, clientId: string): Promise<RepairOrder> {
    const { data, error } = await supabase().functions.invoke('ro-ocr', { body: { tenant_id: tenantId, path, client_id: clientId } });
    if (error) throw await fromFunctionsError(error);
    const ro = (data as { repair_order?: Record<string, unknown> } | null)?.repair_order;
    if (!ro) throw new AppError('bad_response', 'The server did not return the repair order. Try again.');
    return asRepairOrder(ro);
  },

  async getRepairOrder(tenantId: string, id: string): Promise<RepairOrderDetail> {
    const { data, error } = await supabase()
      .from('repair_orders')
      .select('id, client_id, status, photo_path, ro_number, customer_id, error_code, parsed, created_at, reviewed_at, customer:customers(id, name, phone)')
      .eq('tenant_id', tenantId)
      .eq('id', id)
      .single();
    if (error) throw toAppError(error);
    const row = data as unknown as Record<string, unknown>;
    return { ...asRepairOrder(row), created_at: String(row.created_at), reviewed_at: (row.reviewed_at as string | null) ?? null, customer: (row.customer as RepairOrderDetail['customer']) ?? null };
  },

  /** The repair order a capture became, by the capture's client-generated id (null: none in this shop). */
  async repairOrderByClientId(tenantId: string, clientId: string): Promise<RepairOrder | null> {
    const { data, error } = await supabase()
      .from('repair_orders')
      .select('id, client_id, status, photo_path, ro_number, customer_id, error_code, parsed, created_at')
      .eq('tenant_id', tenantId)
      .eq('client_id', clientId)
      .maybeSingle();
    if (error) throw toAppError(error);
    return data ? asRepairOrder(data as Record<string, unknown>) : null;
  },

  async recentRepairOrders(tenantId: string, limit = 20): Promise<RepairOrder[]> {
    const { data, error } = await supabase()
      .from('repair_orders')
      .select('id, client_id, status, photo_path, ro_number, customer_id, error_code, parsed, created_at')
      .eq('tenant_id', tenantId)
      .order('created_at', { ascending: false })
      .limit(limit);
    if (error) throw toAppError(error);
    return (data ?? []).map((r) => asRepairOrder(r as Record<string, unknown>));
  },

  /** A short-lived URL to show the stored photo (private bucket; storage RLS decides). */
  async photoUrl(path: string): Promise<string> {
    const { data, error } = await supabase().storage.from(BUCKET).createSignedUrl(path, 600);
    if (error || !data) throw toAppError(error ?? { message: 'The photo could not be loaded.' });
    return data.signedUrl;
  },

  async saveReview(tenantId: string, repairOrderId: string, input: ReviewInput, consentSource: ConsentSource | null): Promise<SaveResult> {
    const { data, error } = await supabase().rpc('save_repair_order_review', {
      tenant_id: tenantId, repair_order_id: repairOrderId, name: input.name, phone: input.phone,
      vehicle: input.vehicle, vin: input.vin, ro_number: input.ro_number, consent_source: consentSource,
    });
    if (error) throw toAppError(error);
    return data as SaveResult;
  },

  /** The shop's country (ISO 3166 alpha-2), the default region for phone numbers typed without +. */
  async tenantCountry(tenantId: string): Promise<string | null> {
    const { data, error } = await supabase().from('tenants').select('country').eq('id', tenantId).maybeSingle();
    if (error) throw toAppError(error);
    return (data?.country as string | null | undefined) ?? null;
  },

  /** One tap: the messaging feature's send-sms function (clear error if this server does not have it yet). */
  async sendMessage(args: { tenantId: string; customerId: string; template: MessageTemplate; repairOrderId: string; idempotencyKey: string; mediaPaths?: string[] }): Promise<{ status: string }> {
    const { data, error } = await supabase().functions.invoke('send-sms', {
      body: {
        tenant_id: args.tenantId, customer_id: args.customerId, template: args.template, repair_order_id: args.repairOrderId,
        idempotency_key: args.idempotencyKey, ...(args.mediaPaths?.length ? { media_paths: args.mediaPaths } : {}),
      },
    });
    if (error) {
      const e = await fromFunctionsError(error);
      const unreachable = e.code === NETWORK && (typeof navigator === 'undefined' || navigator.onLine);
      if ((e.status === 404 && !/_not_found$/.test(e.code)) || /function not found/i.test(e.message) || unreachable) {
        throw new AppError('messaging_unavailable', unreachable
          ? 'Texting could not be reached: the send-sms function may not be deployed on this server yet. Nothing was sent.'
          : 'Texting is not set up on this server yet (the send-sms function is missing). Nothing was sent.', e.status);
      }
      throw e;
    }
    const m = (data as { message?: { status?: string } } | null)?.message;
    return { status: m?.status ?? 'sent' };
  },
};
