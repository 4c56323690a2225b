/**
 * Pure capture logic (no DOM, no Supabase): the on-device downscale math, storage paths, the review draft with its
 * low-confidence flags, and the review's validation. Unit-tested in node.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/** Longest edge of the photo we upload: enough for OCR of small print, small enough for a phone on 4G. */
export const MAX_EDGE = 2000;
/** JPEG quality of the re-encoded photo (text stays crisp; ~300–700 KB at 2000 px). */
export const JPEG_QUALITY = 0.85;
/** Below this, a field is highlighted for the technician to check. */
export const LOW_CONFIDENCE = 0.8;

export const FIELDS = ['name', 'phone', 'vehicle', 'vin', 'ro_number'] as const;
export type Field = (typeof FIELDS)[number];

export const FIELD_LABELS: Record<Field, string> = {
  name: 'Customer name',
  phone: 'Mobile phone',
  vehicle: 'Vehicle or device',
  vin: 'VIN',
  ro_number: 'RO number',
};

/**
 * The size to draw a `width × height` image at so its long edge is at most `maxEdge` (never upscaled), in whole
 * pixels, at least 1×1. `width`/`height` are the upright (orientation-applied) dimensions.
 */
export function fitWithin(width: number, height: number, maxEdge = MAX_EDGE): { width: number; height: number; scale: number } {
  if (!(width > 0) || !(height > 0) || !Number.isFinite(width) || !Number.isFinite(height)) {
    throw new RangeError(`invalid image size ${width}×${height}`);
  }
  const scale = Math.min(1, maxEdge / Math.max(width, height));
  return {
    width: Math.max(1, Math.min(maxEdge, Math.round(width * scale))),
    height: Math.max(1, Math.min(maxEdge, Math.round(height * scale))),
    scale,
  };
}

/** Width/height after an EXIF orientation (5–8 swap the axes). For browsers without `imageOrientation`. */
export function orientedSize(width: number, height: number, orientation: number | null | undefined): { width: number; height: number } {
  return orientation !== null && orientation !== undefined && orientation >= 5 && orientation <= 8
    ? { width: height, height: width }
    : { width, height };
}

/** Where a capture's photo lives in the `repair-orders` bucket: the shop's folder, named by the capture id. */
export function capturePath(tenantId: string, clientId: string): string {
  return `${tenantId}/${clientId}.jpg`;
}

export interface Parsed {
  name: string | null;
  phone: string | null;
  vehicle: string | null;
  vin: string | null;
  ro_number: string | null;
  confidence: Partial<Record<Field, number>>;
}

export interface RepairOrder {
  id: string;
  client_id: string;
  status: 'uploaded' | 'processing' | 'needs_review' | 'reviewed' | 'failed';
  photo_path: string;
  ro_number: string | null;
  customer_id: string | null;
  error_code: string | null;
  parsed: Parsed;
  created_at?: string;
}

export type ReviewDraft = Record<Field, string>;

export function draftFromParsed(p: Parsed | null | undefined): ReviewDraft {
  return {
    name: p?.name ?? '',
    phone: p?.phone ?? '',
    vehicle: p?.vehicle ?? '',
    vin: p?.vin ?? '',
    ro_number: p?.ro_number ?? '',
  };
}

/** Fields to highlight: read with low confidence, or not found at all (name and phone are needed to save). */
export function lowConfidenceFields(p: Parsed | null | undefined, threshold = LOW_CONFIDENCE): Field[] {
  return FIELDS.filter((f) => {
    const value = p?.[f] ?? null;
    const c = p?.confidence?.[f] ?? 0;
    if (value === null || value === '') return f === 'name' || f === 'phone';
    return c < threshold;
  });
}

/** Formats an E.164 number for people (national format in its own country). */
export function formatPhone(e164: string | null | undefined): string {
  if (!e164) return '';
  const p = parsePhoneNumberFromString(e164);
  return p ? p.formatNational() : e164;
}

export interface ReviewInput {
  name: string;
  phone: string;
  vehicle: string | null;
  vin: string | null;
  ro_number: string | null;
}

const VIN_RE = /^[A-HJ-NPR-Z0-9]{17}$/;

/** Checks and normalises the review (phone to E.164 with the shop's country as default). */
export function validateReview(d: ReviewDraft, defaultCountry: string | null = 'US'): { input: ReviewInput | null; errors: Partial<Record<Field, string>> } {
  const errors: Partial<Record<Field, string>> = {};
  const name = d.name.trim().replace(/\s+/g, ' ');
  if (!name) errors.name = 'Enter the customer’s name.';
  else if (name.length > 200) errors.name = 'The name is too long (200 characters at most).';
  const phone = parsePhoneNumberFromString(d.phone.trim(), (defaultCountry || 'US') as CountryCode);
  if (!d.phone.trim()) errors.phone = 'Enter the customer’s mobile number.';
  else if (!phone || !phone.isValid()) errors.phone = 'This is not a valid phone number. Include the area code.';
  const vin = d.vin.trim().toUpperCase().replace(/\s+/g, '');
  if (vin && !VIN_RE.test(vin)) errors.vin = 'A VIN has 17 letters and digits (never I, O or Q).';
  const vehicle = d.vehicle.trim().replace(/\s+/g, ' ');
  if (vehicle.length > 200) errors.vehicle = 'Too long (200 characters at most).';
  const ro = d.ro_number.trim();
  if (ro.length > 50) errors.ro_number = 'Too long (50 characters at most).';
  if (Object.keys(errors).length) return { input: null, errors };
  return { input: { name, phone: phone!.number, vehicle: vehicle || null, vin: vin || null, ro_number: ro || null }, errors };
}

/** A fresh idempotency key for a one-tap message about a repair order (one per tap, reused on retry). */
export function messageKey(repairOrderId: string, template: string, nonce: string): string {
  return `ro:${repairOrderId}:${template}:${nonce}`;
}
