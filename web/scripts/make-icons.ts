/**
 * Draws ServicePro's app icons as real PNG files with nothing but Node (zlib for the PNG's deflate stream).
 *
 *   npx tsx web/scripts/make-icons.ts          writes web/public/icons/*.png
 *   npx tsx web/scripts/make-icons.ts --check  exits 1 when a committed icon differs from what this script draws
 *
 * The glyph is a wrench on the brand blue. "any" icons have rounded corners with transparent edges; maskable icons
 * fill the whole square and keep the glyph inside the central 80 % safe zone (W3C "maskable" icon rules), so the
 * platform can crop them to a circle or squircle without cutting the wrench.
 */
import { deflateSync } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');

type RGBA = [number, number, number, number];
const BRAND: RGBA = [15, 76, 129, 255]; // #0f4c81, the manifest's theme colour
const GLYPH: RGBA = [255, 255, 255, 255];

// ---- PNG encoding -------------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes straight (non-premultiplied) RGBA pixels, 8 bits per channel, filter type 0 on every row. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== width * height * 4) throw new Error('pixel buffer does not match the size');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0;
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

// ---- Shapes as signed distance functions (negative inside), in a unit square [-1, 1]² --------------------------------

const circle = (x: number, y: number, cx: number, cy: number, r: number) => Math.hypot(x - cx, y - cy) - r;

function box(x: number, y: number, cx: number, cy: number, hw: number, hh: number): number {
  const dx = Math.abs(x - cx) - hw;
  const dy = Math.abs(y - cy) - hh;
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
}

function capsule(x: number, y: number, ax: number, ay: number, bx: number, by: number, r: number): number {
  const px = x - ax, py = y - ay, vx = bx - ax, vy = by - ay;
  const h = Math.min(1, Math.max(0, (px * vx + py * vy) / (vx * vx + vy * vy)));
  return Math.hypot(px - vx * h, py - vy * h) - r;
}

/** The wrench, upright, roughly filling a circle of radius 1; negative inside. */
function wrench(x: number, y: number): number {
  const head = circle(x, y, 0, -0.5, 0.42);
  const jaw = box(x, y, 0, -0.86, 0.15, 0.36); // the open end
  const handle = capsule(x, y, 0, -0.3, 0, 0.78, 0.16);
  const hole = circle(x, y, 0, 0.72, 0.06);
  return Math.max(Math.min(Math.max(head, -jaw), handle), -hole);
}

function drawIcon(size: number, kind: 'any' | 'maskable'): Uint8Array {
  const px = new Uint8Array(size * size * 4);
  const SS = 4; // supersampling per axis for smooth edges
  // The glyph's radius as a share of half the icon: inside the 80 % safe circle for maskable icons.
  const glyphScale = kind === 'maskable' ? 0.62 : 0.74;
  const corner = 0.36; // rounded-square corner radius for "any" icons, in unit coordinates
  const angle = Math.PI / 4; // lean the wrench 45°
  const cos = Math.cos(angle), sin = Math.sin(angle);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let bgCover = 0, glyphCover = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const ux = ((i + (sx + 0.5) / SS) / size) * 2 - 1;
          const uy = ((j + (sy + 0.5) / SS) / size) * 2 - 1;
          const inBg = kind === 'maskable' || box(ux, uy, 0, 0, 1 - corner, 1 - corner) - corner <= 0;
          if (!inBg) continue;
          bgCover++;
          const gx = (ux * cos + uy * sin) / glyphScale;
          const gy = (-ux * sin + uy * cos) / glyphScale;
          if (wrench(gx, gy) <= 0) glyphCover++;
        }
      }
      const n = SS * SS;
      const a = bgCover / n;
      const g = bgCover ? glyphCover / bgCover : 0;
      const o = (j * size + i) * 4;
      for (let c = 0; c < 3; c++) px[o + c] = Math.round(BRAND[c]! * (1 - g) + GLYPH[c]! * g);
      px[o + 3] = Math.round(255 * a);
    }
  }
  return px;
}

const ICONS: { file: string; size: number; kind: 'any' | 'maskable' }[] = [
  { file: 'icon-192.png', size: 192, kind: 'any' },
  { file: 'icon-512.png', size: 512, kind: 'any' },
  { file: 'maskable-192.png', size: 192, kind: 'maskable' },
  { file: 'maskable-512.png', size: 512, kind: 'maskable' },
  { file: 'apple-touch-icon-180.png', size: 180, kind: 'maskable' },
  { file: 'favicon-32.png', size: 32, kind: 'any' },
];

function main(): void {
  const check = process.argv.includes('--check');
  mkdirSync(OUT_DIR, { recursive: true });
  let stale = 0;
  for (const icon of ICONS) {
    const png = encodePng(icon.size, icon.size, drawIcon(icon.size, icon.kind));
    const target = path.join(OUT_DIR, icon.file);
    if (check) {
      if (!existsSync(target) || !readFileSync(target).equals(png)) {
        console.error(`stale: ${path.relative(process.cwd(), target)}`);
        stale++;
      }
    } else {
      writeFileSync(target, png);
      console.log(`wrote ${path.relative(process.cwd(), target)} (${icon.size}×${icon.size}, ${png.length} bytes)`);
    }
  }
  if (stale) {
    console.error('Run: npx tsx web/scripts/make-icons.ts');
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
