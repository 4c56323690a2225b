/** What a vehicle or a device looks like in text: makes (with common spellings) and device families. */

/** Canonical make → spellings seen on forms (lowercase, compared after normalising OCR noise). */
export const MAKES: Record<string, string[]> = {
  Acura: ['acura'], 'Alfa Romeo': ['alfa romeo', 'alfa'], Audi: ['audi'], BMW: ['bmw'], Buick: ['buick'],
  Cadillac: ['cadillac'], Chevrolet: ['chevrolet', 'chevy'], Chrysler: ['chrysler'], Dodge: ['dodge'],
  Fiat: ['fiat'], Ford: ['ford'], Genesis: ['genesis'], GMC: ['gmc'], Honda: ['honda'], Hyundai: ['hyundai'],
  Infiniti: ['infiniti'], Jaguar: ['jaguar'], Jeep: ['jeep'], Kia: ['kia'], 'Land Rover': ['land rover'],
  Lexus: ['lexus'], Lincoln: ['lincoln'], Mazda: ['mazda'], 'Mercedes-Benz': ['mercedes-benz', 'mercedes benz', 'mercedes'],
  Mini: ['mini'], Mitsubishi: ['mitsubishi'], Nissan: ['nissan'], Polestar: ['polestar'], Porsche: ['porsche'],
  Ram: ['ram'], Rivian: ['rivian'], Saturn: ['saturn'], Scion: ['scion'], Subaru: ['subaru'], Tesla: ['tesla'],
  Toyota: ['toyota'], Volkswagen: ['volkswagen', 'vw'], Volvo: ['volvo'], Pontiac: ['pontiac'], Hummer: ['hummer'],
  Harley: ['harley-davidson', 'harley'], Yamaha: ['yamaha'], Kawasaki: ['kawasaki'], Suzuki: ['suzuki'],
  Isuzu: ['isuzu'], Freightliner: ['freightliner'], International: ['international'],
};

const MAKE_WORDS = new Map<string, string>();
for (const [canon, spellings] of Object.entries(MAKES)) for (const s of spellings) MAKE_WORDS.set(s, canon);

/** The make spelled at the start of `s` (case-insensitive), with how many characters it used. */
export function makeAt(s: string): { make: string; length: number } | null {
  const low = s.toLowerCase();
  let best: { make: string; length: number } | null = null;
  for (const [spelling, canon] of MAKE_WORDS) {
    if (low.startsWith(spelling) && (low.length === spelling.length || /[^a-z]/.test(low[spelling.length]))) {
      if (!best || spelling.length > best.length) best = { make: canon, length: spelling.length };
    }
  }
  return best;
}

/** Device families: phones, tablets, laptops, consoles, watches. Anchored at the family word. */
export const DEVICE_RE = new RegExp(
  '\\b(' + [
    'iPhone(?:\\s+(?:\\d{1,2}|X[SR]?|SE))?(?:\\s+(?:Pro\\s+Max|Pro|Plus|Max|mini|Mini|e))?',
    'iPad(?:\\s+(?:Pro|Air|mini|Mini))?(?:\\s+\\d{1,2}(?:\\.\\d)?)?',
    'MacBook(?:\\s+(?:Pro|Air))?(?:\\s+(?:M\\d|\\d{2}))?',
    'iMac(?:\\s+\\d{2})?', 'Mac\\s+mini', 'Apple\\s+Watch(?:\\s+(?:Series\\s+\\d+|SE|Ultra\\s*\\d?))?', 'AirPods(?:\\s+Pro)?',
    'Pixel\\s+\\d[a-z]?(?:\\s+(?:Pro|XL|Fold|a))?', 'Galaxy\\s+(?:[SAZN]\\d{1,2}|Tab\\s+\\S+|Note\\s*\\d+|Z\\s+(?:Flip|Fold)\\s*\\d?)(?:\\s*(?:Ultra|Plus|\\+|FE|5G))?',
    'Surface(?:\\s+(?:Pro|Laptop|Go|Book))?(?:\\s+\\d+)?', 'ThinkPad(?:\\s+[A-Z]\\d+[a-z]?)?(?:\\s+(?:Carbon|Yoga))?',
    'Dell\\s+(?:XPS|Inspiron|Latitude)\\s*\\d*', 'HP\\s+(?:Spectre|Envy|Pavilion|EliteBook)(?:\\s+\\S+)?',
    'Nintendo\\s+Switch(?:\\s+(?:OLED|Lite))?', 'PlayStation\\s*\\d', 'PS[45]', 'Xbox(?:\\s+(?:One|Series\\s+[XS]))?',
    'OnePlus\\s+\\d+[a-zA-Z]?(?:\\s+Pro)?', 'Moto\\s+[A-Za-z]\\S*(?:\\s+(?:Power|Play|Stylus|Plus))?', 'Chromebook(?:\\s+\\S+)?',
    'Kindle(?:\\s+\\S+)?',
  ].join('|') + ')',
  'i',
);

/** Fix OCR noise inside a model year: 2O19, 2Ol9, 2019. Null unless a plausible year. */
export function readYear(tok: string, now = new Date().getUTCFullYear()): number | null {
  const t = tok.replace(/[Oo]/g, '0').replace(/[Il|]/g, '1').replace(/[Ss]/g, '5').replace(/B/g, '8').replace(/^'/, '');
  if (/^\d{4}$/.test(t)) {
    const y = Number(t);
    return y >= 1950 && y <= now + 2 ? y : null;
  }
  if (/^\d{2}$/.test(t) && tok.startsWith("'")) return Number(t) + (Number(t) > (now % 100) + 2 ? 1900 : 2000);
  return null;
}
