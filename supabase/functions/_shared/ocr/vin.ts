/**
 * VINs (ISO 3779 / 49 CFR 565): 17 characters from A–Z and 0–9 without I, O, Q; position 9 is a check
 * digit (0–9 or X) computed from transliterated values and position weights. OCR confusions are fixed
 * only when the repaired VIN then validates.
 */

const VALUES: Record<string, number> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
  0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9,
};
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/** The check digit ('0'..'9' or 'X') the first 17 characters call for, or null if a character is not allowed. */
export function vinCheckDigit(vin: string): string | null {
  if (vin.length !== 17) return null;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = VALUES[vin[i]];
    if (v === undefined) return null;
    sum += v * WEIGHTS[i];
  }
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

export function isValidVin(vin: string): boolean {
  return /^[A-HJ-NPR-Z0-9]{17}$/.test(vin) && vinCheckDigit(vin) === vin[8];
}

/** Characters OCR mixes up, each with what it may really be. I/O/Q can never be in a VIN. */
const ALWAYS: Record<string, string> = { O: '0', I: '1', Q: '0' };
const AMBIGUOUS: Record<string, string[]> = {
  0: ['D'], D: ['0'], 1: ['L', 'T'], L: ['1'], 5: ['S'], S: ['5'], 8: ['B'], B: ['8'], 2: ['Z'], Z: ['2'],
  6: ['G'], G: ['6'], U: ['V'], V: ['U'], 7: ['T'], T: ['7'],
};

const TO_DIGIT: Record<string, string> = { S: '5', B: '8', Z: '2', G: '6', T: '7', D: '0', L: '1' };

export interface VinRepair {
  vin: string;
  /** valid as read; repaired by I/O/Q mapping; repaired by one or two ambiguous-glyph swaps; or invalid */
  how: 'valid' | 'iqo' | 'swapped' | 'invalid';
}

/**
 * The VIN in a 17-character OCR reading: as read when it validates; else with O→0, I→1, Q→0 when that
 * validates; else with digits forced in the numeric serial tail; else (North American check-digit regions
 * only) the unique single look-alike swap that validates; else
 * the cleaned reading marked `invalid` (non-North-American VINs need not carry a check digit).
 */
export function repairVin(raw: string): VinRepair | null {
  const s = raw.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (s.length !== 17) return null;
  if (isValidVin(s)) return { vin: s, how: 'valid' };
  const mapped = s.replace(/[OIQ]/g, (c) => ALWAYS[c]);
  if (isValidVin(mapped)) return { vin: mapped, how: 'iqo' };
  // O may also be a D that lost its corner ("WODBY…" is WDDBY…): try the alternatives of each I/O/Q.
  const letterPos = [...s].map((c, i) => (c in ALWAYS ? i : -1)).filter((i) => i >= 0);
  if (letterPos.length > 0 && letterPos.length <= 6) {
    const found = new Set<string>();
    for (let m = 0; m < 1 << letterPos.length; m++) {
      const chars = mapped.split('');
      letterPos.forEach((p, k) => { if (m & (1 << k)) chars[p] = s[p] === 'O' ? 'D' : s[p] === 'I' ? 'L' : '0'; });
      if (isValidVin(chars.join(''))) found.add(chars.join(''));
    }
    if (found.size === 1) return { vin: [...found][0], how: 'iqo' };
  }
  // The last five characters are the plant's sequence number and numeric (49 CFR 565.15: positions 13–17
  // for makers of 1000+ vehicles a year, 15–17 always): letters read there are look-alike digits.
  const digitsTail = mapped.slice(0, 12) + mapped.slice(12).replace(/[SBZGTDL]/g, (c) => TO_DIGIT[c]);
  if (digitsTail !== mapped && isValidVin(digitsTail)) return { vin: digitsTail, how: 'swapped' };
  // One look-alike swap, only for VINs whose region requires the check digit (North America, and
  // Japan/Korea-built cars sold there) and only when exactly one swap validates: elsewhere (Europe)
  // the 9th character is not a check digit and "repairing" it would invent a VIN.
  // A leading S/Z/B read for 5/2/8 turns a North American VIN into a European-looking one.
  const lead = mapped[0] in TO_DIGIT ? TO_DIGIT[mapped[0]] + mapped.slice(1) : null;
  if (lead && /^[1-5]/.test(lead) && isValidVin(lead)) return { vin: lead, how: 'swapped' };
  if (!/^[1-5JK]/.test(mapped)) return { vin: mapped, how: 'invalid' };
  const chars = mapped.split('');
  const singles = new Set<string>();
  for (let i = 0; i < 17; i++) {
    if (i === 8 && chars[i] === 'X') continue;
    for (const a of AMBIGUOUS[chars[i]] ?? []) {
      const one = [...chars];
      one[i] = a;
      if (isValidVin(one.join(''))) singles.add(one.join(''));
    }
  }
  if (singles.size === 1) return { vin: [...singles][0], how: 'swapped' };
  return { vin: mapped, how: 'invalid' };
}
