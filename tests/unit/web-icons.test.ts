/**
 * The committed PWA icons are real PNGs of the sizes the manifest promises, and exactly what
 * web/scripts/make-icons.ts draws (so nobody hand-edits one and forgets the others).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from '../../web/scripts/make-icons.ts';

const ICONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/public/icons');

function readPng(file: string) {
  const buf = readFileSync(path.join(ICONS, file));
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let off = 8;
  let width = 0, height = 0, colorType = -1;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      colorType = data[9]!;
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const px = (x: number, y: number) => {
    const o = y * (width * 4 + 1) + 1 + x * 4;
    return [raw[o]!, raw[o + 1]!, raw[o + 2]!, raw[o + 3]!];
  };
  return { width, height, colorType, raw, px };
}

describe('PWA icons', () => {
  it.each([
    ['icon-192.png', 192],
    ['icon-512.png', 512],
    ['maskable-192.png', 192],
    ['maskable-512.png', 512],
    ['apple-touch-icon-180.png', 180],
    ['favicon-32.png', 32],
  ])('%s is a %i px RGBA PNG', (file, size) => {
    const png = readPng(file);
    expect([png.width, png.height, png.colorType]).toEqual([size, size, 6]);
    expect(png.raw.length).toBe((size * 4 + 1) * size);
  });

  it('maskable icons are opaque to the edges; "any" icons have transparent rounded corners', () => {
    const m = readPng('maskable-512.png');
    expect(m.px(0, 0)).toEqual([15, 76, 129, 255]);
    const a = readPng('icon-512.png');
    expect(a.px(0, 0)[3]).toBe(0);
    expect(a.px(256, 4)[3]).toBe(255);
  });

  it('the encoder writes what the decoder reads back', () => {
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 20, 30, 40]);
    const png = encodePng(2, 2, rgba);
    const idat = png.subarray(8 + 25 + 8, png.length - 12 - 4);
    const raw = inflateSync(idat);
    expect([...raw]).toEqual([0, ...rgba.subarray(0, 8), 0, ...rgba.subarray(8)]);
  });
});
