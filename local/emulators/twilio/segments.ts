/**
 * SMS segment counting as carriers (and Twilio's `num_segments`) do it: GSM-7 when every character is in the
 * GSM 03.38 basic or extension table (extension characters cost two septets), UCS-2 otherwise.
 * Single segment: 160 septets / 70 UTF-16 units; concatenated: 153 / 67 per segment (6-byte UDH), and an
 * escape pair or a surrogate pair is never split across two segments.
 */
const GSM_BASIC = new Set(
  Array.from('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'),
);
const GSM_EXTENSION = new Set(Array.from('^{}\\[~]|€\f'));

export type Encoding = 'GSM-7' | 'UCS-2';

export function smsEncoding(body: string): Encoding {
  for (const ch of body) if (!GSM_BASIC.has(ch) && !GSM_EXTENSION.has(ch)) return 'UCS-2';
  return 'GSM-7';
}

export function countSegments(body: string): { encoding: Encoding; segments: number; units: number } {
  const encoding = smsEncoding(body);
  // Each element: the cost of one indivisible character in septets (GSM-7) or UTF-16 units (UCS-2).
  const costs: number[] = [];
  for (const ch of body) {
    if (encoding === 'GSM-7') costs.push(GSM_EXTENSION.has(ch) ? 2 : 1);
    else costs.push(ch.length);
  }
  const units = costs.reduce((a, b) => a + b, 0);
  const single = encoding === 'GSM-7' ? 160 : 70;
  const multi = encoding === 'GSM-7' ? 153 : 67;
  if (units <= single) return { encoding, segments: 1, units };
  let segments = 1;
  let used = 0;
  for (const c of costs) {
    if (used + c > multi) { segments++; used = 0; }
    used += c;
  }
  return { encoding, segments, units };
}
