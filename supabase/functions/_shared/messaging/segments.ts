/**
 * SMS segment counting as carriers and Twilio (`num_segments`) do it, and the one-click "fix" that swaps
 * look-alike Unicode for GSM-7 characters (Twilio's Smart Encoding does the same on its side).
 *
 * GSM-7: every character in the GSM 03.38 basic table (1 septet) or extension table (escape + char = 2 septets);
 * 160 septets in one segment, 153 per segment when concatenated (6-byte UDH). UCS-2 otherwise: 70 UTF-16 code
 * units, 67 per concatenated segment. An escape pair or a surrogate pair (emoji) is never split across segments.
 * Pure TypeScript: used by edge functions (Deno), tests (Node) and the PWA's live meter.
 */
const GSM_BASIC = new Set(
  Array.from('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'),
);
const GSM_EXTENSION = new Set(Array.from('^{}\\[~]|€\f'));

export type Encoding = 'GSM-7' | 'UCS-2';

export interface SegmentInfo {
  encoding: Encoding;
  segments: number;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  /** Units still free in the last segment. */
  remaining: number;
  /** Characters that force UCS-2 (deduplicated, in order of appearance). */
  nonGsm: string[];
}

/** The longest body we accept (Twilio refuses more with 21617). */
export const MAX_BODY_CHARS = 1600;

export function isGsmChar(ch: string): boolean {
  return GSM_BASIC.has(ch) || GSM_EXTENSION.has(ch);
}

export function countSegments(body: string): SegmentInfo {
  const nonGsm: string[] = [];
  for (const ch of body) if (!isGsmChar(ch) && !nonGsm.includes(ch)) nonGsm.push(ch);
  const encoding: Encoding = nonGsm.length ? 'UCS-2' : 'GSM-7';
  const costs: number[] = [];
  for (const ch of body) costs.push(encoding === 'GSM-7' ? (GSM_EXTENSION.has(ch) ? 2 : 1) : ch.length);
  const units = costs.reduce((a, b) => a + b, 0);
  const single = encoding === 'GSM-7' ? 160 : 70;
  const multi = encoding === 'GSM-7' ? 153 : 67;
  if (units <= single) return { encoding, segments: 1, units, remaining: single - units, nonGsm };
  let segments = 1;
  let used = 0;
  for (const c of costs) {
    if (used + c > multi) { segments++; used = 0; }
    used += c;
  }
  return { encoding, segments, units, remaining: multi - used, nonGsm };
}

/** Look-alikes with a GSM-7 equivalent (smart quotes, dashes, ellipsis, odd spaces, bullets, primes). */
const REPLACEMENTS: Record<string, string> = {
  '\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u2032': "'", '\u00B4': "'", '\u0060': "'",
  '\u201C': '"', '\u201D': '"', '\u201E': '"', '\u201F': '"', '\u2033': '"', '\u00AB': '"', '\u00BB': '"',
  '\u2013': '-', '\u2014': '-', '\u2015': '-', '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2212': '-',
  '\u2026': '...', '\u00A0': ' ', '\u2002': ' ', '\u2003': ' ', '\u2009': ' ', '\u200A': ' ', '\u202F': ' ',
  '\u205F': ' ', '\u3000': ' ', '\u200B': '', '\uFEFF': '', '\u2022': '-', '\u00B7': '-', '\u2044': '/',
  '\u00D7': 'x', '\u02C6': '^', '\u02DC': '~', '\u2039': '<', '\u203A': '>', '\u00A9': '(c)', '\u00AE': '(R)',
  '\u2122': 'TM', '\u00E1': 'a', '\u00ED': 'i', '\u00F3': 'o', '\u00FA': 'u', '\u00E2': 'a', '\u00EA': 'e',
  '\u00EE': 'i', '\u00F4': 'o', '\u00FB': 'u', '\u00E7': 'c', '\u00EB': 'e', '\u00EF': 'i', '\u00E3': 'a',
  '\u00F5': 'o', '\u00C1': 'A', '\u00CD': 'I', '\u00D3': 'O', '\u00DA': 'U',
};

/** The body with look-alikes replaced by GSM-7 characters; what cannot be replaced (emoji) stays. */
export function fixToGsm(body: string): string {
  let out = '';
  for (const ch of body) out += isGsmChar(ch) ? ch : (REPLACEMENTS[ch] ?? ch);
  return out;
}

/** True when `fixToGsm` would change something. */
export function canFix(body: string): boolean {
  return fixToGsm(body) !== body;
}
