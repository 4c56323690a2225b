import { describe, expect, it } from 'vitest';
import exifr from 'exifr';
import { checkImage, imageDimensions, sniffImage, stripExif } from '../../supabase/functions/_shared/image/index.ts';
import { HttpError } from '../../supabase/functions/_shared/http.ts';
import {
  encodedImage, heicWithExif, jpegDeclaring, jpegWithMetadata, pngWithMetadata, webpWithMetadata,
} from '../fixtures/repair-orders/tools/craft-images.ts';

const text = (s: string) => new TextEncoder().encode(s);

function rejection(fn: () => unknown): { status: number; code: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    const h = e as HttpError;
    return { status: h.status, code: h.code, message: h.message };
  }
  throw new Error('expected a rejection');
}

/** Same bytes, in order, as `sub` inside `whole`? */
function contains(whole: Uint8Array, sub: Uint8Array): boolean {
  outer: for (let i = 0; i + sub.length <= whole.length; i++) {
    for (let j = 0; j < sub.length; j++) if (whole[i + j] !== sub[j]) continue outer;
    return true;
  }
  return false;
}

function webpChunks(b: Uint8Array): { type: string; data: Uint8Array }[] {
  const out: { type: string; data: Uint8Array }[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let o = 12; o + 8 <= b.length;) {
    const size = dv.getUint32(o + 4, true);
    out.push({ type: String.fromCharCode(...b.subarray(o, o + 4)), data: b.subarray(o + 8, o + 8 + size) });
    o += 8 + size + (size & 1);
  }
  return out;
}

describe('sniffImage: the type by magic number', () => {
  it('recognises JPEG, PNG, WebP and HEIC', () => {
    expect(sniffImage(encodedImage('jpeg'))).toEqual({ type: 'jpeg' });
    expect(sniffImage(encodedImage('png'))).toEqual({ type: 'png' });
    expect(sniffImage(encodedImage('webp'))).toEqual({ type: 'webp' });
    expect(sniffImage(heicWithExif().bytes)).toEqual({ type: 'heic' });
  });

  it('refuses renamed PDF, HTML, SVG, GIF, AVIF, BMP, empty and truncated files', () => {
    const avif = new Uint8Array([0, 0, 0, 24, ...text('ftypavif'), 0, 0, 0, 0, ...text('mif1avif')]);
    for (const b of [
      text('%PDF-1.7\n%âãÏÓ\n1 0 obj'),
      text('<!DOCTYPE html><html><body>hi</body></html>'),
      text('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
      text('<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
      text('GIF89a\x01\x00\x01\x00'),
      avif,
      text('BM6\x00\x00\x00'),
      new Uint8Array(0),
      new Uint8Array([0xff, 0xd8]),
      text('RIFF\x10\x00\x00\x00WAVEfmt '),
    ]) expect(sniffImage(b)).toBeNull();
  });
});

describe('imageDimensions: from headers, without decoding', () => {
  it('reads JPEG SOF, PNG IHDR, WebP VP8/VP8L/VP8X and HEIC ispe', () => {
    expect(imageDimensions(encodedImage('jpeg', 123, 45))).toEqual({ width: 123, height: 45 });
    expect(imageDimensions(encodedImage('png', 77, 300))).toEqual({ width: 77, height: 300 });
    expect(imageDimensions(encodedImage('webp', 201, 99))).toEqual({ width: 201, height: 99 });
    expect(imageDimensions(webpWithMetadata().bytes)).toEqual({ width: 64, height: 48 });
    expect(imageDimensions(heicWithExif(4032, 3024).bytes)).toEqual({ width: 4032, height: 3024 });
    // A JPEG with EXIF and XMP in front of its frame header (the SOF walk skips them).
    expect(imageDimensions(jpegWithMetadata().bytes)).toEqual({ width: 64, height: 48 });
  });

  it('reads the VP8L (lossless) header too', () => {
    // RIFF/WEBP + VP8L chunk: signature 0x2f, then 14 bits width-1 and 14 bits height-1 (little-endian).
    const w = 300 - 1, h = 200 - 1;
    const bits = (w | (h << 14)) >>> 0;
    const vp8l = new Uint8Array([...text('RIFF'), 30, 0, 0, 0, ...text('WEBPVP8L'), 10, 0, 0, 0, 0x2f,
      bits & 255, (bits >> 8) & 255, (bits >> 16) & 255, (bits >>> 24) & 255, 0, 0, 0, 0, 0]);
    expect(imageDimensions(vp8l)).toEqual({ width: 300, height: 200 });
  });

  it('answers null for a JPEG cut before its frame header', () => {
    const j = jpegWithMetadata().bytes;
    expect(imageDimensions(j.subarray(0, 40))).toBeNull();
  });
});

describe('checkImage: the upload gate', () => {
  it('accepts a normal phone photo and reports type and size', () => {
    expect(checkImage(encodedImage('jpeg', 1500, 2000))).toEqual({ type: 'jpeg', width: 1500, height: 2000 });
  });

  it('413 file_too_large above 10 MB, before looking at the content', () => {
    const big = new Uint8Array(10 * 1024 * 1024 + 1);
    big.set(encodedImage('jpeg'));
    expect(rejection(() => checkImage(big))).toMatchObject({ status: 413, code: 'file_too_large' });
    // exactly at the limit is fine
    const atLimit = new Uint8Array(10 * 1024 * 1024);
    atLimit.set(encodedImage('jpeg'));
    expect(checkImage(atLimit).type).toBe('jpeg');
  });

  it('415 unsupported_media_type for a renamed PDF, HTML or SVG', () => {
    for (const s of ['%PDF-1.4', '<html><script>alert(1)</script></html>', '<svg xmlns="http://www.w3.org/2000/svg"/>']) {
      const r = rejection(() => checkImage(text(s)));
      expect(r).toMatchObject({ status: 415, code: 'unsupported_media_type' });
      expect(r.message).toMatch(/JPEG, PNG, WebP or HEIC/);
    }
  });

  it('413 image_too_large for a decompression bomb (huge declared dimensions), without decoding it', () => {
    const bomb = jpegDeclaring(65000, 65000); // 4.2 gigapixels declared in a ~1 KB file
    expect(bomb.length).toBeLessThan(5000);
    expect(rejection(() => checkImage(bomb))).toMatchObject({ status: 413, code: 'image_too_large' });
    expect(rejection(() => checkImage(heicWithExif(20000, 20000).bytes))).toMatchObject({ status: 413, code: 'image_too_large' });
    // 40 MP exactly passes, one row more does not
    expect(checkImage(jpegDeclaring(8000, 5000)).width).toBe(8000);
    expect(rejection(() => checkImage(jpegDeclaring(8000, 5001)))).toMatchObject({ code: 'image_too_large' });
  });

  it('422 unreadable_image for a known type whose size cannot be read', () => {
    const cut = jpegWithMetadata().bytes.subarray(0, 60);
    expect(rejection(() => checkImage(cut))).toMatchObject({ status: 422, code: 'unreadable_image' });
  });
});

describe('stripExif: lossless metadata removal', () => {
  it('JPEG: removes EXIF with GPS, XMP, IPTC, MPF and the trailing image; keeps every other byte', async () => {
    const { bytes, clean } = jpegWithMetadata(6);
    const before = await exifr.parse(bytes, { gps: true, xmp: true });
    expect(before.latitude).toBeCloseTo(33.449, 2);
    expect(before.Make).toBe('Pixel');

    const r = stripExif(bytes);
    expect(r.orientation).toBe(6);
    expect(r.removed).toEqual(expect.arrayContaining(['APP1 Exif', 'APP1 XMP', 'APP13 IPTC/Photoshop', 'APP2 MPF']));
    expect(r.removed.some((x) => x.startsWith('trailing'))).toBe(true);
    // What is left is exactly the encoder's JPEG (JFIF, tables, scan): nothing re-encoded.
    expect(Buffer.from(r.bytes).equals(Buffer.from(clean))).toBe(true);
    const after = await exifr.parse(r.bytes, { gps: true, xmp: true, iptc: true, tiff: true }).catch(() => undefined);
    expect(after?.latitude).toBeUndefined();
    expect(after?.GPSLatitude).toBeUndefined();
    expect(after?.Make).toBeUndefined();
    expect(contains(r.bytes, text('Exif\0\0'))).toBe(false);
    expect(contains(r.bytes, text('GPSLatitude'))).toBe(false);
    // Idempotent, and the original is untouched.
    expect(stripExif(r.bytes).removed).toEqual([]);
    expect((await exifr.parse(bytes, { gps: true })).latitude).toBeCloseTo(33.449, 2);
  });

  it('JPEG without metadata comes back as the very same bytes', () => {
    const clean = encodedImage('jpeg');
    const r = stripExif(clean);
    expect(r.removed).toEqual([]);
    expect(r.bytes).toBe(clean);
    expect(r.orientation).toBeNull();
  });

  it('PNG: drops eXIf and the XMP text chunk; the rest is byte-identical', async () => {
    const { bytes, clean } = pngWithMetadata(8);
    expect((await exifr.parse(bytes, { gps: true })).latitude).toBeCloseTo(33.449, 2);
    const r = stripExif(bytes);
    expect(r.orientation).toBe(8);
    expect(r.removed).toEqual(['eXIf', 'iTXt XML:com.adobe.xmp']);
    expect(Buffer.from(r.bytes).equals(Buffer.from(clean))).toBe(true);
    expect(imageDimensions(r.bytes)).toEqual({ width: 64, height: 48 });
  });

  it('WebP: drops EXIF and XMP chunks, clears the VP8X flags, fixes the RIFF size', async () => {
    const { bytes, clean } = webpWithMetadata(3);
    // exifr does not read WebP containers: parse the EXIF chunk's TIFF payload itself.
    const exifChunk = webpChunks(bytes).find((c) => c.type === 'EXIF');
    expect((await exifr.parse(exifChunk!.data, { gps: true })).latitude).toBeCloseTo(33.449, 2);
    const r = stripExif(bytes);
    expect(r.orientation).toBe(3);
    expect(r.removed).toEqual(['EXIF chunk', 'XMP chunk']);
    const dv = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
    expect(dv.getUint32(4, true)).toBe(r.bytes.length - 8);
    expect(r.bytes[20] & 0x0c).toBe(0); // VP8X flags: no EXIF, no XMP
    const coded = webpChunks(clean).filter((c) => c.type !== 'VP8X');
    for (const c of coded) expect(contains(r.bytes, c.data)).toBe(true); // the coded bitstream, untouched
    expect(imageDimensions(r.bytes)).toEqual({ width: 64, height: 48 });
    expect(webpChunks(r.bytes).map((c) => c.type)).toEqual(['VP8X', ...coded.map((c) => c.type)]);
    expect(contains(r.bytes, text('MM\0*'))).toBe(false); // no TIFF header left anywhere
  });

  it('HEIC: zeroes the Exif item in place; coded image and box layout unchanged', async () => {
    const h = heicWithExif();
    expect((await exifr.parse(h.bytes, { gps: true })).latitude).toBeCloseTo(33.449, 2);
    const r = stripExif(h.bytes);
    expect(r.removed).toEqual(['Exif item']);
    expect(r.bytes.length).toBe(h.bytes.length);
    expect(r.bytes.subarray(h.exifAt, h.exifAt + h.exifLen).every((x) => x === 0)).toBe(true);
    expect(Buffer.from(r.bytes.subarray(h.codedAt, h.codedAt + h.codedLen)).equals(Buffer.from(h.bytes.subarray(h.codedAt, h.codedAt + h.codedLen)))).toBe(true);
    expect(Buffer.from(r.bytes.subarray(0, h.codedAt)).equals(Buffer.from(h.bytes.subarray(0, h.codedAt)))).toBe(true);
    const after = await exifr.parse(r.bytes, { gps: true }).catch(() => undefined);
    expect(after?.latitude).toBeUndefined();
    expect(h.bytes.subarray(h.exifAt, h.exifAt + 4).some((x) => x !== 0)).toBe(true); // input not modified
  });

  it('leaves non-images alone', () => {
    const pdf = text('%PDF-1.4');
    expect(stripExif(pdf)).toEqual({ bytes: pdf, removed: [], orientation: null });
  });
});
