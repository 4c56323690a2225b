/**
 * The emulator's deterministic phone-number inventory. For every valid North American area code it offers the
 * 100 fictional numbers NPA-555-0100 … NPA-555-0199 (555-01XX is reserved for fiction, so nothing real is ever
 * texted); toll-free offers the same block in 800/833/844/855/866/877/888. A purchased number leaves the
 * inventory until it is released; an area code can be emptied to test "no numbers available".
 */
export interface AreaInfo { region: string; locality: string; rateCenter: string; lata: string; postal: string; lat: string; lon: string; country: 'US' | 'CA' }

/** Area codes the emulator knows a place for (others still work, with a generic place). */
const AREAS: Record<string, AreaInfo> = {
  '206': { region: 'WA', locality: 'Seattle', rateCenter: 'SEATTLE', lata: '674', postal: '98101', lat: '47.606200', lon: '-122.332100', country: 'US' },
  '212': { region: 'NY', locality: 'New York', rateCenter: 'NWYRCYZN01', lata: '132', postal: '10001', lat: '40.712800', lon: '-74.006000', country: 'US' },
  '303': { region: 'CO', locality: 'Denver', rateCenter: 'DENVER', lata: '656', postal: '80202', lat: '39.739200', lon: '-104.990300', country: 'US' },
  '305': { region: 'FL', locality: 'Miami', rateCenter: 'MIAMI', lata: '460', postal: '33101', lat: '25.761700', lon: '-80.191800', country: 'US' },
  '312': { region: 'IL', locality: 'Chicago', rateCenter: 'CHICAGO', lata: '358', postal: '60601', lat: '41.878100', lon: '-87.629800', country: 'US' },
  '404': { region: 'GA', locality: 'Atlanta', rateCenter: 'ATLANTA', lata: '438', postal: '30301', lat: '33.749000', lon: '-84.388000', country: 'US' },
  '415': { region: 'CA', locality: 'San Francisco', rateCenter: 'SNFC CNTRL', lata: '722', postal: '94103', lat: '37.774900', lon: '-122.419400', country: 'US' },
  '512': { region: 'TX', locality: 'Austin', rateCenter: 'AUSTIN', lata: '558', postal: '78701', lat: '30.267200', lon: '-97.743100', country: 'US' },
  '617': { region: 'MA', locality: 'Boston', rateCenter: 'BOSTON', lata: '128', postal: '02108', lat: '42.360100', lon: '-71.058900', country: 'US' },
  '713': { region: 'TX', locality: 'Houston', rateCenter: 'HOUSTON', lata: '560', postal: '77002', lat: '29.760400', lon: '-95.369800', country: 'US' },
  '416': { region: 'ON', locality: 'Toronto', rateCenter: 'TORONTO', lata: '888', postal: 'M5H', lat: '43.653200', lon: '-79.383200', country: 'CA' },
  '604': { region: 'BC', locality: 'Vancouver', rateCenter: 'VANCOUVER', lata: '888', postal: 'V6B', lat: '49.282700', lon: '-123.120700', country: 'CA' },
};
const CA_AREA_CODES = new Set(['204', '236', '249', '250', '289', '306', '343', '365', '403', '416', '418', '431', '437', '438', '450', '506', '514', '519', '548', '579', '581', '587', '604', '613', '639', '647', '672', '705', '709', '778', '780', '782', '807', '819', '825', '867', '873', '902', '905']);
export const TOLL_FREE_AREA_CODES = ['800', '833', '844', '855', '866', '877', '888'];

export function isValidAreaCode(ac: string): boolean {
  return /^[2-9]\d\d$/.test(ac) && !/^[2-9]11$/.test(ac) && ac[1] !== '9' && !TOLL_FREE_AREA_CODES.includes(ac);
}

export function countryOfAreaCode(ac: string): 'US' | 'CA' {
  return CA_AREA_CODES.has(ac) ? 'CA' : 'US';
}

export function areaInfo(ac: string): AreaInfo {
  return AREAS[ac] ?? {
    region: countryOfAreaCode(ac) === 'CA' ? 'ON' : 'US', locality: `Area ${ac}`, rateCenter: `RC${ac}`, lata: '000',
    postal: '00000', lat: '0.000000', lon: '0.000000', country: countryOfAreaCode(ac),
  };
}

/** Area codes searched when no AreaCode is given (for a region: those of the table in that region). */
export function defaultAreaCodes(country: 'US' | 'CA', region?: string): string[] {
  return Object.entries(AREAS)
    .filter(([, a]) => a.country === country && (!region || a.region.toUpperCase() === region.toUpperCase()))
    .map(([ac]) => ac);
}

export function inventoryFor(ac: string): string[] {
  const out: string[] = [];
  for (let i = 100; i < 200; i++) out.push(`+1${ac}5550${String(i).padStart(3, '0')}`);
  return out;
}

/** True when the number belongs to the emulator's inventory (and so can be bought when nobody owns it). */
export function inInventory(e164: string): boolean {
  return /^\+1[2-9]\d\d5550(1\d\d)$/.test(e164);
}

export function friendlyName(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164;
}

/** E.164 with, for +1, the North American numbering plan's structure (NPA and NXX start with 2-9). */
export function isE164(s: string): boolean {
  if (!/^\+[1-9]\d{6,14}$/.test(s)) return false;
  if (s.startsWith('+1')) return /^\+1[2-9]\d\d[2-9]\d{6}$/.test(s);
  return true;
}

/** Twilio's `Contains` pattern: digits, letters (phone keypad) and `*` for any one digit. */
export function containsPattern(pattern: string): RegExp | null {
  const keypad: Record<string, string> = { abc: '2', def: '3', ghi: '4', jkl: '5', mno: '6', pqrs: '7', tuv: '8', wxyz: '9' };
  let src = '';
  for (const ch of pattern.replace(/^\+/, '')) {
    if (/\d/.test(ch)) src += ch;
    else if (ch === '*') src += '\\d';
    else if (/[a-z]/i.test(ch)) src += Object.entries(keypad).find(([k]) => k.includes(ch.toLowerCase()))![1];
    else return null;
  }
  return src.length >= 2 ? new RegExp(src) : null;
}
