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
 * validates; else with the unique one- or two-character swap of look-alike glyphs that validates; else
 * the cleaned reading marked `invalid` (non-North-American VINs need not carry a check digit).
 */
export function repairVin(raw: string): VinRepair | null {
  const s = raw.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (s.length !== 17) return null;
  if (isValidVin(s)) return { vin: s, how: 'valid' };
  const mapped = s.replace(/[OIQ]/g, (c) => ALWAYS[c]);
  if (isValidVin(mapped)) return { vin: mapped, how: 'iqo' };
  // The last five characters are the plant's sequence number and numeric (49 CFR 565.15: positions 13–17
  // for makers of 1000+ vehicles a year, 15–17 always): letters read there are look-alike digits.
  const digitsTail = mapped.slice(0, 12) + mapped.slice(12).replace(/[SBZGTDL]/g, (c) => TO_DIGIT[c]);
  if (digitsTail !== mapped && isValidVin(digitsTail)) return { vin: digitsTail, how: 'swapped' };
  const chars = mapped.split('');
  const options = chars.map((c, i) => (i === 8 && c === 'X' ? [] : AMBIGUOUS[c] ?? []));
  // Fewest changes first: a unique single swap wins; two swaps only when no single one validates.
  const singles = new Set<string>();
  const doubles = new Set<string>();
  for (let i = 0; i < 17; i++) {
    for (const a of options[i]) {
      const one = [...chars];
      one[i] = a;
      if (isValidVin(one.join(''))) singles.add(one.join(''));
      for (let j = i + 1; j < 17; j++) {
        for (const b of options[j]) {
          const two = [...one];
          two[j] = b;
          if (isValidVin(two.join(''))) doubles.add(two.join(''));
        }
      }
    }
  }
  if (singles.size === 1) return { vin: [...singles][0], how: 'swapped' };
  if (singles.size === 0 && doubles.size === 1) return { vin: [...doubles][0], how: 'swapped' };
  return { vin: mapped, how: 'invalid' };
}
