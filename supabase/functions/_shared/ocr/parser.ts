/**
 * From OCR text to the repair order's customer fields, using the form's structure rather than regexes
 * over the whole page:
 *
 * 1. Each line is cut into cells at wide gaps (two-column forms, table rows) and each cell into
 *    `label: value` segments with a label lexicon that tolerates OCR noise (`Custorner:`, `pate:`).
 * 2. A line holding only labels ("CUSTOMER NAME   PHONE") takes its values from the next line, matched
 *    by column; a label alone on its line ("Bill To") takes the line below.
 * 3. Candidates per field are scored by how they were found — label kind, validation (libphonenumber,
 *   VIN check digit, known make/device), OCR line confidence — and the best one wins.
 *
 * Distractors are excluded by construction: values under staff labels (Advisor, Writer, Tech...) are never
 * names; phones under shop labels (Shop, Store, Office, Fax) or in the shop's header block (above the
 * first form field, or on the address line) are never the customer's.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { DEVICE_RE, makeAt, readYear } from './vehicles.ts';
import { repairVin } from './vin.ts';
import type { FieldName, OcrLine, ParsedRepairOrder } from './types.ts';

type Role =
  | 'name' | 'phone' | 'vehicle' | 'device' | 'model' | 'year' | 'make' | 'vin' | 'ro'
  | 'staff' | 'shop' | 'address' | 'other';

interface LabelDef { words: string[]; role: Role; strength: number; text: string }

/** Label lexicon. Multi-word labels win over their prefixes ("Customer Signature" is not a name). */
const LEXICON: [Role, number, string[]][] = [
  ['name', 0.97, ['customer name', 'cust name', 'cust. name', 'customer', 'cust', 'cust.', 'owner', 'client', 'client name',
    'bill to', 'sold to', 'customer/owner', 'guest', 'customer information', 'customer info', 'owner name', 'contact name']],
  ['name', 0.88, ['name']],
  ['phone', 0.95, ['cell', 'mobile', 'cell phone', 'mobile phone', 'mobile #', 'cell #', 'contact #', 'contact no', 'contact number',
    'customer phone', 'cust phone', 'home', 'home phone', 'work', 'work phone', 'day phone', 'best #', 'text', 'callback', 'contact']],
  ['phone', 0.85, ['phone', 'phone #', 'phone no', 'phone number', 'tel', 'tel.', 'telephone', 'ph', 'ph.', 'ph #', 'ph#']],
  ['vehicle', 0.95, ['vehicle', 'year/make/model', 'year make model', 'ymm', 'veh', 'veh.', 'car', 'vehicle info', 'auto', 'truck',
    'vehicle description', 'yr/make/model', 'year/make/model/color']],
  ['device', 0.93, ['device', 'unit', 'item', 'equipment', 'product', 'device model', 'make/model', 'make & model']],
  ['model', 0.85, ['model']],
  ['year', 0.9, ['year', 'yr', 'yr.']],
  ['make', 0.9, ['make']],
  ['vin', 0.97, ['vin', 'vin #', 'vin#', 'v.i.n.', 'v.i.n', 'vin no', 'vin number']],
  ['ro', 0.95, ['ro', 'ro #', 'r.o.', 'r.o. no.', 'r.o. no', 'r.o. #', 'ro no', 'ro no.', 'ro number', 'repair order', 'repair order #', 'repair order no',
    'service order', 'work order', 'work order no', 'work order no.', 'work order #', 'wo', 'wo #', 'w.o.', 'ticket', 'ticket #', 'ticket no',
    'repair ticket', 'claim ticket', 'service ticket', 'job', 'job #', 'job no', 'job no.', 'job sheet', 'job sheet no', 'job sheet no.', 'invoice',
    'invoice #', 'invoice no', 'inv #', 'order #', 'order no', 'order no.', 'order number', 'detail work order', 'ro#', 'wo#', 'invoice/ro']],
  ['ro', 0.8, ['order', 'no.', '#']],
  ['staff', 1, ['advisor', 'service advisor', 'writer', 'service writer', 'tech', 'tech.', 'technician', 'mechanic', 'detailer', 'crew',
    'crew lead', 'received by', 'taken by', 'written by', 'salesperson', 'estimator', 'manager', 'assigned to', 'installer', 'cashier', 'tech name',
    'advisor name', 'service consultant', 'consultant', 'team lead', 'cleaner', 'operator']],
  ['shop', 1, ['shop', 'store', 'office', 'fax', 'main', 'dept', 'shop phone', 'store phone', 'main office', 'location', 'toll free', 'web', 'www']],
  ['address', 1, ['address', 'addr', 'street', 'city', 'zip', 'email', 'e-mail']],
  ['other', 1, ['date', 'date in', 'date out', 'mileage', 'odometer', 'miles', 'miles in', 'miles out', 'serial', 'serial #', 's/n', 'imei', 'passcode',
    'password', 'plate', 'license', 'license plate', 'lic', 'lic #', 'tag', 'concern', 'issue', 'problem', 'service', 'services', 'signature',
    'customer signature', 'cust signature', 'owner signature', 'description', 'amount', 'total', 'subtotal', 'tax', 'due', 'paid', 'notes',
    'note', 'payment', 'estimate', 'time', 'time in', 'promised', 'drop-off', 'drop off', 'pick-up', 'pickup', 'color', 'engine', 'trim',
    'labor', 'parts', 'qty', 'price', 'warranty', 'deposit', 'balance', 'condition', 'accessories', 'package', 'frequency', 'property', 'lot',
    'customer concern', 'customer complaint', 'complaint', 'authorized', 'hours', 'rate', 'in', 'out']],
];

const norm = (s: string) => s.toLowerCase().replace(/rn/g, 'm').replace(/[’`]/g, "'");

const LABELS: LabelDef[] = [];
for (const [role, strength, list] of LEXICON) {
  for (const text of list) LABELS.push({ words: norm(text).split(' '), role, strength, text });
}
LABELS.sort((a, b) => b.words.length - a.words.length || b.text.length - a.text.length);
const FIRST_WORDS = new Map<string, LabelDef[]>();
for (const l of LABELS) {
  const k = l.words[0];
  if (!FIRST_WORDS.has(k)) FIRST_WORDS.set(k, []);
  FIRST_WORDS.get(k)!.push(l);
}

function editDistance1(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0, j = 0, edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { i++; j++; continue; }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else { i++; j++; }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}

interface Token { raw: string; core: string; colon: boolean; start: number; end: number }

/** Tokenise a cell: the core is lowercased, trailing ':' removed (remembered), OCR "rn"→"m". */
function tokenize(cell: string, offset: number): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(cell))) {
    const raw = m[0];
    const colon = /[:;]$/.test(raw) || /^[:;]$/.test(raw);
    const core = norm(raw.replace(/[:;]+$/, ''));
    out.push({ raw, core, colon, start: offset + m.index, end: offset + m.index + raw.length });
  }
  return out;
}

/** The longest label starting at token i (fuzzy by one edit for words ≥ 4 chars when a colon marks a label). */
function matchLabel(toks: Token[], i: number): { def: LabelDef; n: number; colon: boolean } | null {
  const t = toks[i];
  const candidates: LabelDef[] = [];
  const exact = FIRST_WORDS.get(t.core);
  if (exact) candidates.push(...exact);
  if (t.core.length >= 4) {
    for (const [w, defs] of FIRST_WORDS) if (w !== t.core && w.length >= 4 && editDistance1(w, t.core)) candidates.push(...defs);
  }
  // tokens like "RO#", "VIN#" and "#:" are handled by the lexicon; "No." "#" alone only right after a label
  let best: { def: LabelDef; n: number; colon: boolean } | null = null;
  for (const def of candidates) {
    const n = def.words.length;
    if (i + n > toks.length) continue;
    let ok = true;
    for (let k = 1; k < n; k++) {
      const tk = toks[i + k];
      if (tk.core !== def.words[k] && !(def.words[k].length >= 5 && editDistance1(def.words[k], tk.core))) { ok = false; break; }
      if (toks[i + k - 1].colon) { ok = false; break; } // a colon ends a label
    }
    if (!ok) continue;
    const exactFirst = t.core === def.words[0];
    const last = toks[i + n - 1];
    const colon = last.colon || (i + n < toks.length && /^[:;#]+$/.test(toks[i + n].raw));
    if (!exactFirst && !colon && n === 1) continue; // fuzzy single words need the colon
    if (!best || n > best.n || (n === best.n && exactFirst)) best = { def, n, colon };
  }
  return best;
}

interface Segment {
  role: Role | null;
  strength: number;
  label: string;
  value: string;
  /** column where the segment starts (characters, or pixels when words have boxes) */
  x: number;
  line: number;
  colon: boolean;
}

interface Line { idx: number; text: string; conf: number | null; segments: Segment[]; labelOnly: boolean }

const ADDRESS_RE = /\b\d{1,6}\s+(?:[NSEW]\.?\s+)?[A-Za-z][\w.'-]*(?:\s+[\w.'-]+){0,3}\s+(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Pkwy|Parkway|Dr|Drive|Ln|Lane|Way|Hwy|Highway|Ct|Court|Pl|Place|Ste|Suite|Cir|Ter|Trl)\b\.?|\b[A-Z][a-zA-Z.]+(?:\s+[A-Z][a-zA-Z.]+)*,\s*[A-Z]{2}\s+\d{5}\b/;

/** OCR sometimes glues the next column's label to a value: "Santa FeMiles In:" → "Santa Fe Miles In:". */
const GLUED_LABEL = /([a-z0-9])((?:Miles In|Miles|Mileage|Date|Phone|Cell|Mobile|Tech|Technician|Advisor|Odometer|VIN|Plate|Mechanic|Writer|Detailer|Color)\s*[:#])/g;

/** Cut a line into cells at wide gaps and table rules, then into label/value segments. */
function segmentLine(text: string, idx: number): Segment[] {
  const segs: Segment[] = [];
  // Attach-split: "RO#12345" → "RO# 12345", "Phone:602" → "Phone: 602"
  const t = text.replace(/([#:])(?=[A-Za-z0-9(+])/g, '$1 ').replace(/\s+\/\s+/g, '/').replace(GLUED_LABEL, '$1 $2');
  const cellRe = /[^|]+?(?=\s{3,}|\s*\|\s*|$)/g;
  let m: RegExpExecArray | null;
  while ((m = cellRe.exec(t))) {
    const cellText = m[0];
    if (!cellText.trim()) { if (cellRe.lastIndex === m.index) cellRe.lastIndex++; continue; }
    const toks = tokenize(cellText, m.index);
    const marks: { i: number; n: number; def: LabelDef; colon: boolean }[] = [];
    for (let i = 0; i < toks.length; i++) {
      const lm = matchLabel(toks, i);
      if (!lm) continue;
      const atStart = i === 0;
      // Inside a cell, a label needs its colon (or "#" for numbers): "Vehicle: 2021 Tesla Model 3" keeps "Model".
      if (!atStart && !lm.colon) continue;
      if (lm.def.text === '#' || lm.def.text === 'no.') { if (!atStart) continue; }
      marks.push({ i, n: lm.n, def: lm.def, colon: lm.colon });
      i += lm.n - 1;
    }
    const cellStart = toks.length ? toks[0].start : m.index;
    if (!marks.length || marks[0].i > 0) {
      const upto = marks.length ? marks[0].i : toks.length;
      const value = toks.slice(0, upto).map((x) => x.raw).join(' ');
      segs.push({ role: null, strength: 0, label: '', value, x: cellStart, line: idx, colon: false });
    }
    for (let k = 0; k < marks.length; k++) {
      const mk = marks[k];
      const end = k + 1 < marks.length ? marks[k + 1].i : toks.length;
      let value = toks.slice(mk.i + mk.n, end).map((x) => x.raw).join(' ');
      value = value.replace(/^[:;#\s]+/, '').trim();
      segs.push({ role: mk.def.role, strength: mk.def.strength, label: toks.slice(mk.i, mk.i + mk.n).map((x) => x.raw).join(' '), value, x: toks[mk.i].start, line: idx, colon: mk.colon });
    }
    if (cellRe.lastIndex === m.index) cellRe.lastIndex++;
  }
  return segs;
}

// ------------------------------------------------------------------ field readers

/** Lowercase name particles: "Van der Berg", "de la Cruz", "bin Said". */
const PARTICLES = new Set(['van', 'der', 'den', 'de', 'la', 'le', 'del', 'da', 'di', 'dos', 'das', 'von', 'bin', 'binti', 'al', 'el', 'du', 'ter', 'ten', 'y']);

const NAME_WORD = /^[\p{L}][\p{L}'’.-]*$/u;
const NOT_NAMES = new Set(['signature', 'customer', 'name', 'phone', 'date', 'owner', 'client', 'n/a', 'na', 'none', 'tbd', 'walk-in', 'walk', 'in', 'cash']);

function titleCase(s: string): string {
  return s.toLowerCase().replace(/(^|[\s'’-])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase())
    .replace(/\bMc(\p{L})/gu, (_m, c: string) => 'Mc' + c.toUpperCase());
}

/** A person's name out of a labelled value, or null. Returns how complete it looks (0..1). */
export function cleanName(value: string): { name: string; quality: number } | null {
  let v = value.replace(/[“”"_=~*<>{}[\]\\]/g, ' ').replace(/\s+/g, ' ').trim();
  v = v.replace(/^[^\p{L}]+/u, '').replace(/[^\p{L}.]+$/u, '');
  if (!v) return null;
  // "ROSSI, EMMA" → "EMMA ROSSI"
  const comma = v.match(/^([\p{L}'’ -]+?)\s*,\s*([\p{L}'’.-]+(?:\s+[\p{L}'’.-]+)?)$/u);
  if (comma) v = `${comma[2]} ${comma[1]}`;
  const words: string[] = [];
  for (const w of v.split(' ')) {
    const x = w.replace(/[,;:]+$/, '');
    if (!NAME_WORD.test(x)) break;
    words.push(x);
    if (words.length === 5) break;
  }
  while (words.length && /^[.'’-]+$/.test(words[words.length - 1])) words.pop();
  if (!words.length) return null;
  if (words.every((w) => NOT_NAMES.has(w.toLowerCase()))) return null;
  let name = words.join(' ').replace(/\.$/, '');
  const letters = name.replace(/[^\p{L}]/gu, '');
  if (letters.length < 2) return null;
  if (letters === letters.toUpperCase() && letters.length > 3) name = titleCase(name);
  else if (letters === letters.toLowerCase()) name = titleCase(name);
  const quality = words.length >= 2 && words.length <= 4 ? 1 : words.length === 1 ? 0.5 : 0.7;
  return { name, quality };
}

const PHONE_RUN = /[(+]?[\dOoIlSB|][\dOoIlSB|()+.\-\s]{8,}[\dOoIlSB|]/g;
const PHONE_RE = /(?<![\d])(?:\+?\s?1[\s.-]{0,2})?(?:\(\s?\d{3}\s?\)|\d{3})[\s.-]{0,2}\d{3}[\s.-]{0,2}\d{4}(?![\d])/g;

/** Digit look-alikes fixed inside runs that are mostly digits (OCR: O→0, l→1, S→5, B→8). */
function fixDigitRuns(s: string): string {
  return s.replace(PHONE_RUN, (run) => {
    const digits = (run.match(/\d/g) ?? []).length;
    if (digits < 7) return run;
    return run.replace(/[Oo]/g, '0').replace(/[Il|]/g, '1').replace(/S/g, '5').replace(/B/g, '8');
  });
}

/** Phone numbers in a string: E.164, validity, and where each sits. */
export function findPhones(s: string, region: 'US' = 'US'): { e164: string; valid: boolean; start: number; end: number }[] {
  const fixed = fixDigitRuns(s);
  const out: { e164: string; valid: boolean; start: number; end: number }[] = [];
  let m: RegExpExecArray | null;
  PHONE_RE.lastIndex = 0;
  while ((m = PHONE_RE.exec(fixed))) {
    const p = parsePhoneNumberFromString(m[0], region);
    if (!p || !p.isPossible()) continue;
    out.push({ e164: p.number, valid: p.isValid(), start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** "2019 Toyota Camry", a device, or a bare model string, tidied; with how sure we are it is one. */
export function cleanVehicle(value: string): { vehicle: string; quality: number } | null {
  let v = value.replace(/[“”"_|=~*<>{}[\]\\]/g, ' ').replace(/\s+/g, ' ').trim().replace(/^[^\p{L}\d']+/u, '').replace(/[^\p{L}\d)+]+$/u, '');
  if (!v || v.length < 2) return null;
  const toks = v.split(' ');
  // year make model...
  const y = readYear(toks[0]);
  if (y !== null && toks.length >= 2) {
    const rest = toks.slice(1).join(' ');
    const mk = makeAt(rest);
    const modelToks = (mk ? rest.slice(mk.length) : rest).trim().split(' ').filter(Boolean);
    const model: string[] = [];
    for (const t of modelToks) {
      if (/^\d{5,}$/.test(t.replace(/,/g, '')) || /^[A-HJ-NPR-Z0-9]{17}$/i.test(t)) break; // mileage, VIN
      model.push(t);
      if (model.length === 4) break;
    }
    const vehicle = [String(y), mk ? rest.slice(0, mk.length) : null, ...model].filter(Boolean).join(' ');
    return { vehicle, quality: mk ? (model.length ? 1 : 0.8) : 0.7 };
  }
  // model numbers read with letters for digits: "Galaxy AS4" → "Galaxy A54", "Pixel B" stays
  const fixedModel = v.replace(/\b(Galaxy\s+[SAZN]|Pixel\s+|iPhone\s+|OnePlus\s+|Series\s+)([\dSOlIB]{1,3})\b/gi,
    (_m, a: string, d: string) => a + (/\d/.test(d) ? d.replace(/S/g, '5').replace(/O/g, '0').replace(/[lI]/g, '1').replace(/B/g, '8') : d));
  const dev = fixedModel.replace(/\bi\s+(Phone|Pad|Mac)\b/g, 'i$1').match(DEVICE_RE);
  if (dev) return { vehicle: dev[0].replace(/\s+/g, ' '), quality: dev.index === 0 ? 1 : 0.85 };
  const mk = makeAt(v);
  if (mk) return { vehicle: toks.slice(0, 5).join(' '), quality: 0.8 };
  // anything else must still look like a product: letters, and a digit or two words; not a phone, date or label
  if (toks.length > 6 || !/\p{L}{2}/u.test(v) || findPhones(v).length || /\d{1,2}\/\d{1,2}\/\d{2,4}/.test(v)) return null;
  if (toks.length === 1 && !/\d/.test(v)) return null;
  if (FIRST_WORDS.has(norm(toks[0]).replace(/[:#]+$/, '')) && toks.length <= 2) return null;
  return { vehicle: v, quality: 0.6 };
}

/** The RO identifier in a labelled value: "#76510" → 76510, "No. A-35609" → A-35609. */
export function cleanRo(value: string): string | null {
  const toks = value.replace(/[:]/g, ' ').split(/\s+/).filter(Boolean);
  for (let t of toks.slice(0, 4)) {
    t = t.replace(/^[#№]+/, '').replace(/[.,;)]+$/, '');
    if (/^(no\.?|number|num|#)$/i.test(t) || t === '') continue;
    if (/^[Hh#]\d{3,10}$/.test(t)) t = t.slice(1);
    if (/^\d{3,10}$/.test(t)) return t;
    if (/^[A-Z]{1,3}-\d{3,10}$/i.test(t)) return t.toUpperCase();
    if (/^\d{1,4}-\d{2,8}$/.test(t)) return t;
    if (/^[A-Za-z]/.test(t) && !/\d/.test(t)) continue; // a word between label and number ("Order No")
    break;
  }
  return null;
}

// ------------------------------------------------------------------ the parser

interface Candidate<T> { value: T; score: number; line: number; how: string }

function best<T>(cands: Candidate<T>[]): Candidate<T> | null {
  let b: Candidate<T> | null = null;
  for (const c of cands) if (!b || c.score > b.score) b = c;
  return b;
}

/** OCR confidence (0..100) → multiplier: 95 → ~0.99, 60 → ~0.88; unknown → 0.9. */
function ocrFactor(conf: number | null): number {
  if (conf === null || Number.isNaN(conf)) return 0.9;
  return Math.max(0.5, Math.min(1, 0.7 + 0.3 * (conf / 100)));
}

/** Rebuild a line's text from word boxes so wide gaps become 3+ spaces (column breaks). */
function lineTextFromWords(l: OcrLine): string {
  const words = l.words ?? [];
  if (!words.length || /\S\s{3,}\S/.test(l.text)) return l.text; // gaps already kept (preserve_interword_spaces)
  for (let i = 1; i < words.length; i++) if (words[i].bbox.x0 < words[i - 1].bbox.x1 - 2) return l.text; // boxes not left-to-right
  const h = Math.max(1, ...words.map((w) => w.bbox.y1 - w.bbox.y0));
  let s = '';
  for (let i = 0; i < words.length; i++) {
    if (i > 0) {
      const gap = words[i].bbox.x0 - words[i - 1].bbox.x1;
      s += gap > h * 1.6 ? '    ' : ' ';
    }
    s += words[i].text;
  }
  return s;
}

export interface ParseOptions {
  /** Default region for numbers without a country code. Only 'US' (NANP) today. */
  region?: 'US';
}

/**
 * Parse OCR output into repair-order fields. `lines` (with word boxes and confidences) makes it better:
 * columns come from real gaps and each field's confidence includes the OCR line confidence.
 */
export function parseRepairOrderText(text: string, lines?: OcrLine[], opts: ParseOptions = {}): ParsedRepairOrder {
  const region = opts.region ?? 'US';
  const src: { text: string; conf: number | null }[] = lines?.length
    ? lines.map((l) => ({ text: lineTextFromWords(l), conf: l.confidence }))
    : text.split(/\r?\n/).map((t) => ({ text: t, conf: null }));
  const L: Line[] = [];
  for (const s of src) {
    const t = s.text.replace(/[\u2010-\u2015]/g, '-').replace(/\t/g, '    ').replace(/\s+$/, '');
    if (!t.trim()) continue;
    const idx = L.length;
    const segments = segmentLine(t, idx);
    const labelOnly = segments.length > 0 && segments.every((g) => g.role !== null && g.value.replace(/[^\p{L}\d]/gu, '') === '');
    L.push({ idx, text: t, conf: s.conf, segments, labelOnly });
  }

  // Values for label-only lines come from the line below, by column, if the value fits the label's kind
  // (OCR may drop a label or reorder boxed cells, so a phone never becomes a vehicle or a name).
  const fits = (role: Role | null, v: string) => {
    const hasPhone = findPhones(v).length > 0;
    switch (role) {
      case 'name': case 'staff': return !hasPhone && !/\d/.test(v) && /\p{L}{2}/u.test(v);
      case 'phone': return hasPhone;
      case 'vehicle': case 'device': case 'model': return !hasPhone && cleanVehicle(v) !== null;
      case 'vin': return /[A-Z0-9]{6}/i.test(v.replace(/\s/g, '')) && !hasPhone;
      case 'ro': return cleanRo(v) !== null;
      default: return true;
    }
  };
  for (let i = 0; i < L.length - 1; i++) {
    const empty = L[i].segments.filter((g) => g.role && g.role !== 'other' && g.role !== 'address' && !g.value.replace(/[^\p{L}\d]/gu, ''));
    if (!empty.length) continue;
    // the next line or, when that one holds no free value (OCR reordered a cell), the one after it
    for (const j of [i + 1, i + 2]) {
      const next = L[j];
      if (!next || next.labelOnly) break;
      const free = next.segments.filter((g) => g.role === null && g.value.trim());
      if (!free.length) continue;
      const taken = new Set<Segment>();
      if (free.length === empty.length && L[i].labelOnly) {
        empty.forEach((g, k) => { if (fits(g.role, free[k].value)) { g.value = free[k].value; g.line = next.idx; taken.add(free[k]); } });
      } else {
        // by column: the free cell starting nearest to the label (values sit under their labels)
        for (const g of empty) {
          let bestF: Segment | null = null;
          for (const f of free) if (!taken.has(f) && fits(g.role, f.value) && (!bestF || Math.abs(f.x - g.x) < Math.abs(bestF.x - g.x))) bestF = f;
          if (bestF && (empty.length === 1 || Math.abs(bestF.x - g.x) < 40)) { g.value = bestF.value; g.line = next.idx; taken.add(bestF); }
        }
      }
      if (taken.size) break;
    }
  }

  // Where the shop's own header ends: the first line (after the shop name) with a form label or the
  // RO title below the address. Phones above it are the shop's unless labelled as the customer's.
  const isAddressLine = (l: Line) => ADDRESS_RE.test(l.text);
  const firstAddress = L.findIndex((l, i) => i < 6 && isAddressLine(l));
  let zoneEnd = L.length;
  for (const l of L) {
    if (l.idx === 0) continue;
    const hit = (l.labelOnly && l.segments.some((g) => g.role !== 'shop' && g.role !== 'address')) || l.segments.some((g) =>
      (g.role && ['name', 'vehicle', 'device', 'model', 'year', 'make', 'vin', 'staff', 'other'].includes(g.role)) ||
      (g.role === 'ro' && (firstAddress < 0 ? l.idx >= 1 : l.idx > firstAddress)) ||
      (g.role === 'phone' && g.strength >= 0.95));
    if (hit) { zoneEnd = l.idx; break; }
  }

  // ...and it ends at the latest where the top block of shop lines (name, address, phones, RO title) does.
  for (let i = 1; i < Math.min(zoneEnd, L.length); i++) {
    const l = L[i];
    const phoneOnly = findPhones(l.text).length > 0 && l.segments.every((g) => g.role === null || g.role === 'phone' || g.role === 'shop' || g.role === 'address');
    const shopish = isAddressLine(l) || phoneOnly || l.segments.some((g) => g.role === 'shop' || g.role === 'ro' || (g.role === 'phone' && g.strength < 0.95)) ||
      /\b(www\.|https?:|@|\.com\b)/i.test(l.text);
    if (!shopish) { zoneEnd = i; break; }
  }

  // Sections opened by label-only lines of staff/shop ("SERVICE ADVISOR" / "Name: Karen").
  const section: (Role | null)[] = [];
  let cur: Role | null = null;
  for (const l of L) {
    if (l.labelOnly && l.segments.length === 1) cur = l.segments[0].role;
    section[l.idx] = cur;
  }

  const conf = (line: number) => ocrFactor(L[line]?.conf ?? null);
  const nameC: Candidate<string>[] = [];
  const phoneC: Candidate<string>[] = [];
  const vehC: Candidate<string>[] = [];
  const vinC: Candidate<string>[] = [];
  const roC: Candidate<string>[] = [];
  const ymm: { year?: { v: string; line: number }; make?: { v: string; line: number }; model?: { v: string; line: number } } = {};
  const staffValues = new Set<string>();

  for (const l of L) {
    for (const g of l.segments) {
      if (!g.role || !g.value) continue;
      const sec = section[l.idx];
      switch (g.role) {
        case 'name': {
          if (sec === 'staff' || sec === 'shop') break;
          const n = cleanName(g.value);
          if (n) nameC.push({ value: n.name, score: g.strength * n.quality * conf(g.line), line: g.line, how: `label ${g.label}` });
          break;
        }
        case 'staff': {
          const n = cleanName(g.value);
          if (n) staffValues.add(n.name.toLowerCase());
          break;
        }
        case 'vehicle':
        case 'device': {
          const v = cleanVehicle(g.value);
          if (v) vehC.push({ value: v.vehicle, score: g.strength * v.quality * conf(g.line), line: g.line, how: `label ${g.label}` });
          break;
        }
        case 'model': ymm.model ??= { v: g.value, line: g.line }; break;
        case 'year': ymm.year ??= { v: g.value, line: g.line }; break;
        case 'make': ymm.make ??= { v: g.value, line: g.line }; break;
        case 'vin': {
          const compact = g.value.replace(/\)/g, 'J').replace(/[\s-]/g, '').replace(/[^A-Za-z0-9]/g, '');
          const r = repairVin(compact.slice(0, 17));
          if (r) {
            const q = r.how === 'valid' ? 1 : r.how === 'iqo' ? 0.9 : r.how === 'swapped' ? 0.75 : 0.4;
            vinC.push({ value: r.vin, score: g.strength * q * conf(g.line), line: g.line, how: `label ${r.how}` });
          }
          break;
        }
        case 'ro': {
          const ro = cleanRo(g.value);
          if (ro) roC.push({ value: ro, score: g.strength * conf(g.line) * (l.idx < 3 || g.line === l.idx ? 1 : 0.9), line: g.line, how: `label ${g.label}` });
          break;
        }
      }
    }
  }

  // Year / Make / Model in separate fields.
  if (ymm.year && ymm.make) {
    const y = readYear(ymm.year.v.split(/\s+/)[0] ?? '');
    const make = ymm.make.v.split(/\s+/).slice(0, 2).join(' ').replace(/[^\p{L}\d -]/gu, '');
    const mk = makeAt(make);
    const model = (ymm.model?.v ?? '').split(/\s+/).slice(0, 3).join(' ').replace(/[^\p{L}\d +-]/gu, '').trim();
    if (y) {
      const makeText = mk ? make.slice(0, mk.length) : make.split(' ')[0];
      vehC.push({ value: [String(y), makeText, model].filter(Boolean).join(' '), score: 0.93 * (mk ? 1 : 0.8) * conf(ymm.year.line), line: ymm.year.line, how: 'year/make/model fields' });
    }
  } else if (ymm.model) {
    const v = cleanVehicle(ymm.model.v);
    if (v) vehC.push({ value: v.vehicle, score: 0.85 * v.quality * conf(ymm.model.line), line: ymm.model.line, how: 'label Model' });
  }

  // Phones: every number on the page, judged by its label and place.
  const segsOnLine: Segment[][] = L.map(() => []);
  for (const l of L) for (const g of l.segments) if (g.role && g.line !== l.idx) segsOnLine[g.line].push(g);
  for (const l of L) segsOnLine[l.idx].push(...l.segments);
  const nameLine = best(nameC)?.line ?? -1;
  for (const l of L) {
    const phones = findPhones(l.text, region);
    if (!phones.length) continue;
    const address = isAddressLine(l);
    for (const p of phones) {
      // the segment holding the number: a label adopted from the line above first, then this line's own
      const t = l.text;
      let seg: Segment | null = null;
      const digits = p.e164.slice(-10);
      for (const g of segsOnLine[l.idx]) if (g.value && phoneDigitsIn(g.value).includes(digits)) { seg = g; break; }
      const role = seg?.role ?? null;
      const before = t.slice(0, p.start).toLowerCase();
      if (role === 'shop' || role === 'staff' || role === 'other' || role === 'address' || role === 'vin' || role === 'ro') continue;
      if (/\b(shop|store|office|fax|main|toll[- ]free)\b[^0-9]*$/.test(before)) continue;
      let score: number;
      let how: string;
      const inHeader = l.idx < zoneEnd;
      if (role === 'phone') {
        const specific = (seg?.strength ?? 0) >= 0.95;
        if (inHeader && !specific) continue; // "Phone:"/"Tel:" in the shop's header
        if (address && !specific) continue;
        score = seg!.strength;
        how = `label ${seg!.label}`;
      } else if (role === 'name') {
        if (inHeader) continue;
        score = 0.8;
        how = 'next to the name';
      } else {
        if (inHeader || address || section[l.idx] === 'shop' || section[l.idx] === 'staff') continue;
        score = 0.5;
        how = 'unlabelled';
      }
      if (section[l.idx] === 'shop' || section[l.idx] === 'staff') score *= 0.3;
      if (!p.valid) score *= 0.6;
      if (nameLine >= 0) score *= 1 - Math.min(0.15, Math.abs(l.idx - nameLine) * 0.01);
      phoneC.push({ value: p.e164, score: score * conf(l.idx), line: l.idx, how });
    }
  }

  // Unlabelled vehicle / device / VIN anywhere below the header.
  for (const l of L) {
    if (l.idx < Math.min(zoneEnd, 2)) continue;
    if (!vehC.length) {
      for (const g of l.segments) {
        if (g.role && g.role !== 'other') continue;
        const m = g.value.match(/\b((?:19|20)[\dOo]{2})\s+([A-Za-z][\w-]*(?:\s+[\w-]+){1,3})/);
        if (m && makeAt(m[2])) {
          const v = cleanVehicle(`${m[1]} ${m[2]}`);
          if (v) vehC.push({ value: v.vehicle, score: 0.7 * v.quality * conf(l.idx), line: l.idx, how: 'year+make unlabelled' });
        }
        const d = g.value.match(DEVICE_RE);
        if (d && !g.role) vehC.push({ value: d[0], score: 0.6 * conf(l.idx), line: l.idx, how: 'device unlabelled' });
      }
    }
    if (!vinC.length) {
      const compact = l.text.toUpperCase().replace(/[^A-Z0-9 ]/g, ' ');
      for (const m of compact.matchAll(/\b[A-Z0-9]{17}\b/g)) {
        const r = repairVin(m[0]);
        if (r && r.how !== 'invalid' && /\d/.test(r.vin) && /[A-Z]/.test(r.vin)) {
          vinC.push({ value: r.vin, score: (r.how === 'valid' ? 0.85 : 0.65) * conf(l.idx), line: l.idx, how: `unlabelled ${r.how}` });
        }
      }
    }
  }

  // No labelled name: a lone person-like line below the header (2–4 capitalised words, no digits, not a
  // label, make, device or staff member), nearest to the customer's phone. Low confidence by design.
  if (!nameC.length) {
    const phoneLine = best(phoneC)?.line ?? -1;
    const used = new Set<number>();
    for (const l of L) for (const g of l.segments) if (g.role && g.value) used.add(g.line);
    for (const l of L) {
      if (l.idx < zoneEnd || used.has(l.idx)) continue;
      const free = l.segments.filter((g) => g.role === null && /\p{L}/u.test(g.value));
      if (free.length !== 1) continue;
      const v = free[0].value.replace(/^[|\s]+|[|\s]+$/g, '').trim();
      const words = v.split(/\s+/);
      if (words.length < 2 || words.length > 5 || /\d/.test(v)) continue;
      if (!words.every((w) => /^[\p{Lu}][\p{L}'’.-]*$/u.test(w) || PARTICLES.has(w.toLowerCase()))) continue;
      if (!/^[\p{Lu}]/u.test(words[0])) continue;
      if (makeAt(v) || DEVICE_RE.test(v) || staffValues.has(v.toLowerCase())) continue;
      if (words.some((w) => FIRST_WORDS.has(norm(w)))) continue;
      const n = cleanName(v);
      if (!n) continue;
      const near = phoneLine >= 0 ? Math.max(0.6, 1 - Math.abs(l.idx - phoneLine) * 0.1) : 0.8;
      nameC.push({ value: n.name, score: 0.5 * near * n.quality * conf(l.idx), line: l.idx, how: 'unlabelled' });
    }
  }

  // A name that is also a staff member's (e.g. "Name:" under a Technician block) loses.
  for (const c of nameC) if (staffValues.has(c.value.toLowerCase())) c.score *= 0.3;

  const pick = {
    name: best(nameC), phone: best(phoneC), vehicle: best(vehC), vin: best(vinC), ro_number: best(roC),
  };
  const round = (x: number) => Math.round(Math.max(0, Math.min(1, x)) * 100) / 100;
  const confidence = Object.fromEntries(
    (Object.keys(pick) as FieldName[]).map((k) => [k, round(pick[k]?.score ?? 0)]),
  ) as Record<FieldName, number>;
  return {
    name: pick.name?.value ?? null,
    phone: pick.phone?.value ?? null,
    vehicle: pick.vehicle?.value ?? null,
    vin: pick.vin?.value ?? null,
    ro_number: pick.ro_number?.value ?? null,
    confidence,
  };
}

function phoneDigitsIn(s: string): string {
  return fixDigitRuns(s).replace(/\D/g, '');
}
