/**
 * What an uploaded photo really is, from its bytes (never from its name or Content-Type), and how big
 * it claims to be, read from its headers without decoding a single pixel — so a decompression bomb
 * is refused before anything allocates its pixels (OWASP file upload; ASVS 5.2.6).
 *
 * Pure code over `Uint8Array`: runs unchanged in Deno (edge functions) and Node (vitest).
 */
import { HttpError } from '../http.ts';

export type ImageType = 'jpeg' | 'png' | 'webp' | 'heic';

export interface ImageInfo {
  type: ImageType;
  width: number;
  height: number;
}

export interface ImageLimits {
  /** Largest accepted file, in bytes (default 10 MB). */
  maxBytes: number;
  /** Largest accepted width × height (default 40 megapixels). */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
});

export const IMAGE_MIME: Readonly<Record<ImageType, string>> = Object.freeze({
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  heic: 'image/heic',
});

/** HEIF brands that mean HEVC-coded stills (HEIC). AVIF (`avif`, `avis`) is deliberately not here. */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);

function ascii(b: Uint8Array, off: number, len: number): string {
  if (off + len > b.length) return '';
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[off + i]);
  return s;
}

function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}
function u24le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
}

/**
 * The image type by magic number, or null for anything else (PDF, HTML, SVG, GIF, AVIF, BMP, text...).
 * JPEG `FF D8 FF`; PNG `89 50 4E 47 0D 0A 1A 0A`; WebP `RIFF....WEBP`; HEIC `....ftyp` with a HEVC brand.
 */
export function sniffImage(bytes: Uint8Array): { type: ImageType } | null {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { type: 'jpeg' };
  if (
    b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 &&
    b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a
  ) return { type: 'png' };
  if (b.length >= 16 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { type: 'webp' };
  if (b.length >= 16 && ascii(b, 4, 4) === 'ftyp') {
    const size = u32be(b, 0);
    if (size < 16 || size > b.length) return null;
    const major = ascii(b, 8, 4);
    if (HEIC_BRANDS.has(major)) return { type: 'heic' };
    // Generic HEIF major brands (mif1/msf1) are HEIC only when a HEVC brand is listed as compatible.
    if (major === 'mif1' || major === 'msf1') {
      for (let o = 16; o + 4 <= size; o += 4) if (HEIC_BRANDS.has(ascii(b, o, 4))) return { type: 'heic' };
    }
  }
  return null;
}

/** JPEG: the first SOFn marker's frame header (height then width), walking segments up to SOS. */
function jpegDimensions(b: Uint8Array): { width: number; height: number } | null {
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return null;
    let marker = b[o + 1];
    while (marker === 0xff && o + 2 < b.length) { o++; marker = b[o + 1]; } // fill bytes
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { o += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) return null; // EOI/SOS before any frame header
    const len = u16be(b, o + 2);
    if (len < 2 || o + 2 + len > b.length) return null;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (len < 7) return null;
      return { height: u16be(b, o + 5), width: u16be(b, o + 7) };
    }
    o += 2 + len;
  }
  return null;
}

function pngDimensions(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return null;
  return { width: u32be(b, 16), height: u32be(b, 20) };
}

function webpDimensions(b: Uint8Array): { width: number; height: number } | null {
  const kind = ascii(b, 12, 4);
  if (kind === 'VP8X' && b.length >= 30) {
    return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  }
  if (kind === 'VP8 ' && b.length >= 30) {
    // Frame tag (3 bytes) then the key-frame start code 9D 01 2A, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
    return { width: (b[26] | (b[27] << 8)) & 0x3fff, height: (b[28] | (b[29] << 8)) & 0x3fff };
  }
  if (kind === 'VP8L' && b.length >= 25) {
    if (b[20] !== 0x2f) return null;
    const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  return null;
}

/** An ISO-BMFF box: its type, where its payload starts and where the box ends. */
export interface Box { type: string; start: number; payload: number; end: number }

/** The boxes laid out in `[from, to)`; stops at the first malformed header. */
export function readBoxes(b: Uint8Array, from: number, to: number): Box[] {
  const out: Box[] = [];
  let o = from;
  while (o + 8 <= to) {
    let size = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    let payload = o + 8;
    if (size === 1) {
      if (o + 16 > to) break;
      const hi = u32be(b, o + 8);
      if (hi !== 0) break; // > 4 GB: not a photo we take
      size = u32be(b, o + 12);
      payload = o + 16;
    } else if (size === 0) {
      size = to - o;
    }
    if (size < payload - o || o + size > to) break;
    out.push({ type, start: o, payload, end: o + size });
    o += size;
  }
  return out;
}

/** HEIC: the largest `ispe` (image spatial extents) property in meta/iprp/ipco — the primary image or its grid. */
function heicDimensions(b: Uint8Array): { width: number; height: number } | null {
  const meta = readBoxes(b, 0, b.length).find((x) => x.type === 'meta');
  if (!meta) return null;
  const iprp = readBoxes(b, meta.payload + 4, meta.end).find((x) => x.type === 'iprp');
  if (!iprp) return null;
  const ipco = readBoxes(b, iprp.payload, iprp.end).find((x) => x.type === 'ipco');
  if (!ipco) return null;
  let best: { width: number; height: number } | null = null;
  for (const p of readBoxes(b, ipco.payload, ipco.end)) {
    if (p.type !== 'ispe' || p.payload + 12 > p.end) continue;
    const width = u32be(b, p.payload + 4);
    const height = u32be(b, p.payload + 8);
    if (!best || width * height > best.width * best.height) best = { width, height };
  }
  return best;
}

/**
 * Width and height as the file's headers declare them (JPEG SOFn, PNG IHDR, WebP VP8/VP8L/VP8X,
 * HEIC ispe), or null when the type is not one of ours or the header is unreadable.
 * EXIF orientation is not applied: 90° rotations swap the two but never change the pixel count.
 */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number } | null {
  const s = sniffImage(bytes);
  if (!s) return null;
  switch (s.type) {
    case 'jpeg': return jpegDimensions(bytes);
    case 'png': return pngDimensions(bytes);
    case 'webp': return webpDimensions(bytes);
    case 'heic': return heicDimensions(bytes);
  }
}

/**
 * The upload gate of `ro-ocr`: size first (cheapest), then the magic number, then the declared pixel
 * count. Throws `HttpError`:
 * - 413 `file_too_large`   more than `maxBytes`
 * - 415 `unsupported_media_type`  not JPEG/PNG/WebP/HEIC by magic number (renamed PDF, HTML, SVG, GIF...)
 * - 422 `unreadable_image` a known type whose header declares no usable size (truncated/corrupt)
 * - 413 `image_too_large`  more than `maxPixels` declared (decompression bomb) — refused before decoding
 */
export function checkImage(bytes: Uint8Array, limits: Partial<ImageLimits> = {}): ImageInfo {
  const { maxBytes, maxPixels } = { ...DEFAULT_IMAGE_LIMITS, ...limits };
  if (bytes.length > maxBytes) {
    throw new HttpError(413, 'file_too_large',
      `The photo is ${(bytes.length / 1048576).toFixed(1)} MB; the limit is ${(maxBytes / 1048576).toFixed(0)} MB.`);
  }
  if (bytes.length === 0) throw new HttpError(415, 'unsupported_media_type', 'The file is empty.');
  const s = sniffImage(bytes);
  if (!s) {
    throw new HttpError(415, 'unsupported_media_type',
      'The file is not a JPEG, PNG, WebP or HEIC image (checked by its content, not its name).');
  }
  const d = imageDimensions(bytes);
  if (!d || d.width <= 0 || d.height <= 0) {
    throw new HttpError(422, 'unreadable_image', `The ${s.type.toUpperCase()} header is damaged or incomplete; its size cannot be read.`);
  }
  if (d.width * d.height > maxPixels) {
    throw new HttpError(413, 'image_too_large',
      `The photo declares ${d.width}×${d.height} pixels (${((d.width * d.height) / 1e6).toFixed(1)} MP); the limit is ${(maxPixels / 1e6).toFixed(0)} MP.`);
  }
  return { type: s.type, width: d.width, height: d.height };
}
