/**
 * Lossless metadata removal: EXIF (GPS, device serial, an un-cropped thumbnail), XMP and IPTC are cut
 * out of the container without touching the coded image, so the pixels are byte-for-byte the ones
 * uploaded and no decode/re-encode runs inside the edge function's CPU budget.
 *
 * - JPEG: drops APP1 (Exif, XMP, extended XMP), APP13 (Photoshop IRB/IPTC) and the APP2 MPF index, and
 *   everything after the main image's EOI (the MPF secondary images — gain maps, depth — carry their own
 *   EXIF). JFIF (APP0), ICC (APP2 ICC_PROFILE), Adobe (APP14), tables and scans are kept as they are.
 * - PNG: drops eXIf and the text chunks that carry XMP/EXIF/IPTC (`XML:com.adobe.xmp`,
 *   `Raw profile type exif|APP1|iptc|xmp`).
 * - WebP: drops EXIF and XMP chunks, clears their VP8X flags and fixes the RIFF size.
 * - HEIC: overwrites the Exif item and XMP (`mime` application/rdf+xml) item payloads with zeros in
 *   place (removing them would shift every `iloc` offset); box structure and coded image untouched.
 *
 * `orientation` is the EXIF Orientation (1..8) found before removal (null if none; always null for HEIC,
 * whose rotation lives in `irot`), so the caller can still turn the page upright for OCR.
 */
import { readBoxes, sniffImage } from './sniff.ts';

export interface StripResult {
  bytes: Uint8Array;
  /** What was removed, e.g. `APP1 Exif`, `eXIf`, `EXIF chunk`, `trailing 12345 bytes`. Empty: nothing found. */
  removed: string[];
  orientation: number | null;
}

function ascii(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len && off + i < b.length; i++) s += String.fromCharCode(b[off + i]);
  return s;
}
const u16be = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32be = (b: Uint8Array, o: number) => ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
const u32le = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** The Orientation tag (0x0112) of IFD0 in a TIFF structure starting at `t`, or null. */
export function tiffOrientation(b: Uint8Array, t: number, end = b.length): number | null {
  if (t + 8 > end) return null;
  const order = ascii(b, t, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const r16 = (o: number) => (le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1]);
  const r32 = (o: number) => (le ? u32le(b, o) : u32be(b, o));
  if (r16(t + 2) !== 42) return null;
  const ifd = t + r32(t + 4);
  if (ifd + 2 > end) return null;
  const n = r16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > end) return null;
    if (r16(e) === 0x0112) {
      const v = r16(e + 8);
      return v >= 1 && v <= 8 ? v : null;
    }
  }
  return null;
}

function stripJpeg(b: Uint8Array): StripResult {
  const parts: Uint8Array[] = [b.subarray(0, 2)];
  const removed: string[] = [];
  let orientation: number | null = null;
  let o = 2;
  let inScan = false;
  const dropSegment = (marker: number, start: number, len: number): string | null => {
    const id = ascii(b, start + 4, Math.min(35, len - 2));
    if (marker === 0xe1) {
      if (id.startsWith('Exif\0')) {
        orientation ??= tiffOrientation(b, start + 10, start + 2 + len);
        return 'APP1 Exif';
      }
      if (id.startsWith('http://ns.adobe.com/xap/1.0/')) return 'APP1 XMP';
      if (id.startsWith('http://ns.adobe.com/xmp/extension/')) return 'APP1 XMP extension';
      return 'APP1';
    }
    if (marker === 0xed) return 'APP13 IPTC/Photoshop';
    if (marker === 0xe2 && id.startsWith('MPF\0')) return 'APP2 MPF';
    return null;
  };
  while (o < b.length) {
    if (inScan) {
      // Entropy-coded data: FF 00 is a stuffed byte, FF D0..D7 restart markers; anything else ends the scan.
      let i = o;
      while (i + 1 < b.length && !(b[i] === 0xff && b[i + 1] !== 0x00 && !(b[i + 1] >= 0xd0 && b[i + 1] <= 0xd7) && b[i + 1] !== 0xff)) i++;
      if (i + 1 >= b.length) { parts.push(b.subarray(o)); o = b.length; break; } // truncated: keep what there is
      parts.push(b.subarray(o, i));
      o = i;
      inScan = false;
      continue;
    }
    if (b[o] !== 0xff) { parts.push(b.subarray(o)); break; } // not a marker: keep the rest untouched
    const marker = b[o + 1];
    if (marker === 0xff) { parts.push(b.subarray(o, o + 1)); o += 1; continue; } // fill byte
    if (marker === 0xd9) {
      parts.push(b.subarray(o, o + 2));
      if (o + 2 < b.length) removed.push(`trailing ${b.length - o - 2} bytes after EOI`);
      o = b.length;
      break;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { parts.push(b.subarray(o, o + 2)); o += 2; continue; }
    if (o + 4 > b.length) { parts.push(b.subarray(o)); break; }
    const len = u16be(b, o + 2);
    const end = Math.min(b.length, o + 2 + len);
    const what = dropSegment(marker, o, len);
    if (what) removed.push(what);
    else parts.push(b.subarray(o, end));
    o = end;
    if (marker === 0xda) inScan = true;
  }
  return { bytes: removed.length ? concat(parts) : b, removed, orientation };
}

const PNG_META_KEYWORDS = new Set([
  'XML:com.adobe.xmp', 'Raw profile type exif', 'Raw profile type APP1', 'Raw profile type iptc', 'Raw profile type xmp',
]);

function stripPng(b: Uint8Array): StripResult {
  const parts: Uint8Array[] = [b.subarray(0, 8)];
  const removed: string[] = [];
  let orientation: number | null = null;
  let o = 8;
  while (o + 12 <= b.length) {
    const len = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    const end = o + 12 + len;
    if (end > b.length) { parts.push(b.subarray(o)); o = b.length; break; }
    let drop = false;
    if (type === 'eXIf') {
      drop = true;
      const d = o + 8;
      orientation ??= tiffOrientation(b, ascii(b, d, 4) === 'Exif' ? d + 6 : d, d + len);
    } else if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') {
      let k = o + 8;
      while (k < o + 8 + len && b[k] !== 0) k++;
      if (PNG_META_KEYWORDS.has(ascii(b, o + 8, k - (o + 8)))) drop = true;
    }
    if (drop) removed.push(type === 'eXIf' ? 'eXIf' : `${type} ${ascii(b, o + 8, 24).split('\0')[0]}`);
    else parts.push(b.subarray(o, end));
    o = end;
    if (type === 'IEND') break;
  }
  if (o < b.length) removed.push(`trailing ${b.length - o} bytes after IEND`);
  return { bytes: removed.length ? concat(parts) : b, removed, orientation };
}

function stripWebp(b: Uint8Array): StripResult {
  const removed: string[] = [];
  let orientation: number | null = null;
  const parts: Uint8Array[] = [];
  const riffEnd = Math.min(b.length, 8 + u32le(b, 4));
  let o = 12;
  let vp8xAt = -1;
  let outLen = 12;
  while (o + 8 <= riffEnd) {
    const type = ascii(b, o, 4);
    const size = u32le(b, o + 4);
    const end = Math.min(riffEnd, o + 8 + size + (size & 1));
    if (type === 'EXIF' || type === 'XMP ') {
      if (type === 'EXIF') {
        const d = o + 8;
        orientation ??= tiffOrientation(b, ascii(b, d, 4) === 'Exif' ? d + 6 : d, d + size);
      }
      removed.push(`${type.trim()} chunk`);
    } else {
      if (type === 'VP8X') vp8xAt = outLen;
      parts.push(b.subarray(o, end));
      outLen += end - o;
    }
    o = end;
  }
  if (riffEnd < b.length) removed.push(`trailing ${b.length - riffEnd} bytes after RIFF`);
  if (!removed.length) return { bytes: b, removed, orientation };
  const out = concat([b.subarray(0, 12), ...parts]);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(4, out.length - 8, true);
  if (vp8xAt >= 0) out[vp8xAt + 8] &= ~(0x08 | 0x04); // EXIF and XMP presence flags
  return { bytes: out, removed, orientation };
}

function stripHeic(input: Uint8Array): StripResult {
  const removed: string[] = [];
  const meta = readBoxes(input, 0, input.length).find((x) => x.type === 'meta');
  if (!meta) return { bytes: input, removed, orientation: null };
  const kids = readBoxes(input, meta.payload + 4, meta.end);
  const iinf = kids.find((x) => x.type === 'iinf');
  const iloc = kids.find((x) => x.type === 'iloc');
  const idat = kids.find((x) => x.type === 'idat');
  if (!iinf || !iloc) return { bytes: input, removed, orientation: null };
  const b = input;
  // Items whose payload is metadata.
  const targets = new Map<number, string>();
  const iv = b[iinf.payload];
  const first = iinf.payload + 4 + (iv === 0 ? 2 : 4);
  for (const infe of readBoxes(b, first, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const v = b[infe.payload];
    if (v < 2) continue;
    let p = infe.payload + 4;
    const id = v === 2 ? u16be(b, p) : u32be(b, p);
    p += (v === 2 ? 2 : 4) + 2;
    const itemType = ascii(b, p, 4);
    p += 4;
    while (p < infe.end && b[p] !== 0) p++; // item_name
    p++;
    if (itemType === 'Exif') targets.set(id, 'Exif item');
    else if (itemType === 'mime') {
      let q = p;
      while (q < infe.end && b[q] !== 0) q++;
      if (ascii(b, p, q - p).includes('rdf+xml')) targets.set(id, 'XMP item');
    }
  }
  if (!targets.size) return { bytes: input, removed, orientation: null };
  const out = new Uint8Array(input); // copy: zeroing happens in place
  const v = b[iloc.payload];
  let p = iloc.payload + 4;
  const offSize = b[p] >> 4, lenSize = b[p] & 15, baseSize = b[p + 1] >> 4, idxSize = v >= 1 ? b[p + 1] & 15 : 0;
  p += 2;
  const readN = (n: number) => {
    let x = 0;
    for (let i = 0; i < n; i++) x = x * 256 + b[p + i];
    p += n;
    return x;
  };
  const count = v < 2 ? readN(2) : readN(4);
  for (let i = 0; i < count && p < iloc.end; i++) {
    const id = v < 2 ? readN(2) : readN(4);
    const method = v >= 1 ? readN(2) & 15 : 0;
    readN(2); // data_reference_index
    const base = readN(baseSize);
    const extents = readN(2);
    for (let e = 0; e < extents; e++) {
      if (idxSize) readN(idxSize);
      const off = readN(offSize);
      const len = readN(lenSize);
      const what = targets.get(id);
      if (!what || method > 1) continue;
      const start = method === 0 ? base + off : (idat ? idat.payload + base + off : -1);
      if (start < 0 || start + len > out.length) continue;
      out.fill(0, start, start + len);
      removed.push(what);
    }
  }
  return { bytes: removed.length ? out : input, removed, orientation: null };
}

/** The photo with its EXIF/XMP/IPTC removed losslessly (see the file header); the input is never modified. */
export function stripExif(bytes: Uint8Array): StripResult {
  const s = sniffImage(bytes);
  if (!s) return { bytes, removed: [], orientation: null };
  switch (s.type) {
    case 'jpeg': return stripJpeg(bytes);
    case 'png': return stripPng(bytes);
    case 'webp': return stripWebp(bytes);
    case 'heic': return stripHeic(bytes);
  }
}
