/**
 * The customers CSV import, as pure functions (no DOM, no Supabase; unit-tested in node):
 * parse (papaparse: BOM, `,` `;` tab `|` delimiters, quoted fields with commas/newlines/quotes) → guess the column
 * mapping from the headers → normalise every row (E.164 phones with the shop's country as default, emails, VINs,
 * consent words) → merge duplicates within the file (same phone) → a report that names EVERY rejected row and why.
 * Rows go to the `import_customers` RPC in chunks; the server re-checks each and merges with existing customers.
 */
import Papa from 'papaparse';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export const TARGETS = ['name', 'first_name', 'last_name', 'phone', 'email', 'vehicle', 'vin', 'notes', 'consent', 'ignore'] as const;
export type Target = (typeof TARGETS)[number];

export const TARGET_LABELS: Record<Target, string> = {
  name: 'Full name',
  first_name: 'First name',
  last_name: 'Last name',
  phone: 'Mobile phone',
  email: 'Email',
  vehicle: 'Vehicle / device',
  vin: 'VIN',
  notes: 'Notes',
  consent: 'SMS consent (yes/no)',
  ignore: 'Don’t import',
};

/** Largest file the PWA accepts (10,000 rows of a typical export are ~1 MB). */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
export const MAX_ROWS = 20_000;
/** Rows per import_customers call (the RPC takes at most 1000). */
export const CHUNK_SIZE = 500;

export interface ParsedCsv {
  headers: string[];
  /** Data records (header excluded), each padded/trimmed to the header's width. */
  records: string[][];
  delimiter: string;
  /** Structural problems papaparse reported, by data row number (1 = first data row under the header). */
  problems: { row: number; message: string }[];
}

export class CsvError extends Error {
  constructor(readonly code: 'empty_file' | 'no_header' | 'too_many_rows' | 'too_large', message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

/** Parses CSV text (a leading BOM is dropped; the delimiter is detected). */
export function parseCsv(text: string): ParsedCsv {
  const clean = text.replace(/^\uFEFF/, '');
  if (!clean.trim()) throw new CsvError('empty_file', 'The file is empty.');
  const result = Papa.parse<string[]>(clean, {
    header: false,
    skipEmptyLines: 'greedy',
    delimitersToGuess: [',', ';', '\t', '|'],
  });
  const all = result.data.filter((r) => Array.isArray(r));
  if (all.length === 0) throw new CsvError('empty_file', 'The file has no rows.');
  const headers = all[0]!.map((h) => String(h ?? '').replace(/^\uFEFF/, '').trim());
  if (!headers.some((h) => h)) throw new CsvError('no_header', 'The first row must name the columns (e.g. Name, Phone).');
  const records = all.slice(1);
  if (records.length > MAX_ROWS) {
    throw new CsvError('too_many_rows', `The file has ${records.length.toLocaleString('en-US')} rows; import at most ${MAX_ROWS.toLocaleString('en-US')} at a time.`);
  }
  const problems = result.errors
    .filter((e) => e.code !== 'UndetectableDelimiter' && e.code !== 'TooFewFields' && e.code !== 'TooManyFields')
    .map((e) => ({ row: typeof e.row === 'number' ? e.row : 0, message: e.message }));
  return {
    headers,
    records: records.map((r) => headers.map((_, i) => String(r[i] ?? '').trim())),
    delimiter: result.meta.delimiter,
    problems,
  };
}

const HEADER_WORDS: [Target, RegExp][] = [
  ['first_name', /^(first|given|fore)[\s_-]*name$|^first$|^prenom$|^vorname$/],
  ['last_name', /^(last|family|sur)[\s_-]*name$|^surname$|^last$|^nom$|^nachname$/],
  ['phone', /phone|mobile|cell|tel|contact\s*#|sms|number|whatsapp|^ph$/],
  ['email', /e-?mail/],
  ['vin', /^vin\b|vehicle\s*id(entification)?\s*(no|number|#)?$|chassis/],
  ['vehicle', /vehicle|car|make|model|device|unit|auto|truck/],
  ['consent', /consent|opt[\s_-]*in|sms\s*ok|marketing|agree|permission|subscribed/],
  ['notes', /note|comment|remark|memo/],
  ['name', /name|customer|client|owner|contact|bill\s*to/],
];

/** A mapping (column index → target) guessed from the header words; unknown columns are ignored. */
export function guessMapping(headers: string[]): Target[] {
  const used = new Set<Target>();
  return headers.map((raw) => {
    const h = raw.toLowerCase().trim();
    for (const [target, re] of HEADER_WORDS) {
      if (re.test(h) && !used.has(target)) {
        // "Phone" wins over "Contact name" only when the header is about a number.
        if (target === 'phone' && /name/.test(h)) continue;
        used.add(target);
        return target;
      }
    }
    return 'ignore';
  });
}

export type RejectReason = 'missing_name' | 'missing_phone' | 'invalid_phone' | 'invalid_email' | 'invalid_vin' | 'invalid_consent' | 'too_long' | 'malformed_row';

export const REJECT_MESSAGES: Record<RejectReason, string> = {
  missing_name: 'No name',
  missing_phone: 'No phone number',
  invalid_phone: 'The phone number is not valid',
  invalid_email: 'The email address is not valid',
  invalid_vin: 'The VIN is not 17 valid characters',
  invalid_consent: 'The consent column must be yes or no',
  too_long: 'A value is too long',
  malformed_row: 'The row could not be read (quotes or columns)',
};

export interface Vehicle { label: string; vin?: string }

export interface ImportCustomer {
  /** The data row number in the file (1 = first row under the header). */
  row: number;
  name: string;
  phone: string;
  email: string | null;
  vehicles: Vehicle[];
  notes: string | null;
  consent: boolean;
  /** Other rows of the file merged into this one (same phone). */
  mergedRows: number[];
  /** The shop already has a customer with this phone (they are merged on import, keeping the existing name). */
  existing: boolean;
}

export interface Rejected {
  row: number;
  reason: RejectReason;
  message: string;
  /** What the row said, for the report. */
  values: Record<string, string>;
}

export interface Normalised {
  customers: ImportCustomer[];
  rejected: Rejected[];
  /** Rows merged into an earlier row of the file: `{ row, into }`. */
  merged: { row: number; into: number }[];
  total: number;
}

const YES = /^(y|yes|true|1|x|✓|ok|opt[\s_-]*in|opted[\s_-]*in|subscribed|agreed|si|sí|oui|ja)$/i;
const NO = /^(n|no|false|0|opt[\s_-]*out|opted[\s_-]*out|unsubscribed|non|nein|-)?$/i;
const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const VIN_RE = /^[A-HJ-NPR-Z0-9]{17}$/;

export function consentValue(raw: string): boolean | null {
  const v = raw.trim();
  if (YES.test(v)) return true;
  if (NO.test(v)) return false;
  return null;
}

/** E.164 for what people type or spreadsheets export ("(312) 555-0101", "312.555.0101", "+44 20 7946 0958"). */
export function normalisePhone(raw: string, defaultCountry: string | null): string | null {
  const v = raw.trim();
  if (!v || /e\+?\d/i.test(v)) return null; // 3.12555E+09: a spreadsheet already destroyed the number
  const p = parsePhoneNumberFromString(v.replace(/\.0$/, ''), ((defaultCountry || 'US').toUpperCase()) as CountryCode);
  return p && p.isValid() ? p.number : null;
}

/**
 * Every record → a customer to import or a rejection with its reason; duplicates (same E.164 phone) merged into the
 * first row that has it (its name kept, vehicles collected, email/notes filled, consent if any row says yes).
 */
export function normaliseRecords(
  parsed: ParsedCsv,
  mapping: Target[],
  opts: { defaultCountry: string | null; existingPhones?: ReadonlySet<string> },
): Normalised {
  const col = (t: Target) => mapping.indexOf(t);
  const idx = { name: col('name'), first: col('first_name'), last: col('last_name'), phone: col('phone'), email: col('email'), vehicle: col('vehicle'), vin: col('vin'), notes: col('notes'), consent: col('consent') };
  const badRows = new Set(parsed.problems.map((p) => p.row));
  const byPhone = new Map<string, ImportCustomer>();
  const customers: ImportCustomer[] = [];
  const rejected: Rejected[] = [];
  const merged: { row: number; into: number }[] = [];

  parsed.records.forEach((rec, i) => {
    const row = i + 1;
    const get = (k: number) => (k >= 0 ? (rec[k] ?? '').trim() : '');
    const values: Record<string, string> = {};
    parsed.headers.forEach((h, k) => { if (rec[k]) values[h || `Column ${k + 1}`] = rec[k]!; });
    const reject = (reason: RejectReason) => rejected.push({ row, reason, message: REJECT_MESSAGES[reason], values });

    if (badRows.has(row)) return reject('malformed_row');
    const name = (idx.name >= 0 ? get(idx.name) : [get(idx.first), get(idx.last)].filter(Boolean).join(' ')).replace(/\s+/g, ' ').trim();
    const rawPhone = get(idx.phone);
    if (!name) return reject('missing_name');
    if (!rawPhone) return reject('missing_phone');
    const phone = normalisePhone(rawPhone, opts.defaultCountry);
    if (!phone) return reject('invalid_phone');
    const email = get(idx.email).toLowerCase() || null;
    if (email && !EMAIL_RE.test(email)) return reject('invalid_email');
    const vin = get(idx.vin).toUpperCase().replace(/[\s-]/g, '') || null;
    if (vin && !VIN_RE.test(vin)) return reject('invalid_vin');
    const consent = idx.consent >= 0 ? consentValue(get(idx.consent)) : false;
    if (consent === null) return reject('invalid_consent');
    const vehicleLabel = get(idx.vehicle).replace(/\s+/g, ' ');
    const notes = get(idx.notes) || null;
    if (name.length > 200 || vehicleLabel.length > 200 || (notes?.length ?? 0) > 5000 || (email?.length ?? 0) > 254) return reject('too_long');
    const vehicle: Vehicle | null = vehicleLabel || vin ? { label: vehicleLabel || vin!, ...(vin ? { vin } : {}) } : null;

    const first = byPhone.get(phone);
    if (first) {
      merged.push({ row, into: first.row });
      first.mergedRows.push(row);
      if (vehicle && !first.vehicles.some((v) => sameVehicle(v, vehicle))) first.vehicles.push(vehicle);
      first.email ??= email;
      first.notes ??= notes;
      first.consent ||= consent;
      return;
    }
    const c: ImportCustomer = {
      row, name, phone, email, vehicles: vehicle ? [vehicle] : [], notes, consent, mergedRows: [],
      existing: opts.existingPhones?.has(phone) ?? false,
    };
    byPhone.set(phone, c);
    customers.push(c);
  });
  return { customers, rejected, merged, total: parsed.records.length };
}

function sameVehicle(a: Vehicle, b: Vehicle): boolean {
  if (a.vin && b.vin) return a.vin === b.vin;
  return a.label.toLowerCase() === b.label.toLowerCase();
}

/** The `import_customers` rows of one customer: one per vehicle (the RPC merges them), the first carrying the rest. */
export interface RpcRow { row: number; name: string; phone: string; email?: string; vehicle?: string; vin?: string; notes?: string; consent: boolean }

export function toRpcRows(c: ImportCustomer): RpcRow[] {
  const base: RpcRow = { row: c.row, name: c.name, phone: c.phone, consent: c.consent };
  if (c.email) base.email = c.email;
  if (c.notes) base.notes = c.notes;
  const vehicles = c.vehicles.length ? c.vehicles : [null];
  // Oldest first, so the server's newest-first list ends with the file's first vehicle on top.
  return vehicles.slice().reverse().map((v, i) => ({
    ...(i === 0 ? base : { row: c.row, name: c.name, phone: c.phone, consent: false }),
    ...(v ? { vehicle: v.label, ...(v.vin ? { vin: v.vin } : {}) } : {}),
  }));
}

export function chunk<T>(items: readonly T[], size = CHUNK_SIZE): T[][] {
  if (size < 1) throw new RangeError('chunk size must be positive');
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Batches of RPC rows that never split one customer across calls. */
export function rpcBatches(customers: readonly ImportCustomer[], size = CHUNK_SIZE): RpcRow[][] {
  const batches: RpcRow[][] = [];
  let current: RpcRow[] = [];
  for (const c of customers) {
    const rows = toRpcRows(c);
    if (current.length && current.length + rows.length > size) {
      batches.push(current);
      current = [];
    }
    current.push(...rows);
  }
  if (current.length) batches.push(current);
  return batches;
}

/** A CSV of the rejected rows (row number, reason, then the original columns) for the technician to fix. */
export function rejectedCsv(headers: string[], rejected: Rejected[]): string {
  return Papa.unparse({
    fields: ['Row', 'Reason', ...headers],
    data: rejected.map((r) => [String(r.row), r.message, ...headers.map((h) => r.values[h] ?? '')]),
  });
}
