/**
 * Photo → OCR-ready grayscale page, in pure JavaScript (jpeg-js decoder; no native code, so it runs in
 * Deno edge functions as in Node):
 *
 * - grayscale (luma), so colour noise and tints stop mattering;
 * - scale so the long edge is ~2000 px: phone uploads of 800–1200 px carry text with an x-height of
 *   7–9 px, below what Tesseract reads reliably; very large photos are brought down to bound the work;
 * - optional illumination flattening: divide by a smooth estimate of the paper's brightness, which
 *   removes shadows and vignetting before Tesseract's global (Otsu) threshold.
 *
 * The result is a binary PGM (P5) that Tesseract's Leptonica reads directly. Only JPEG is decoded here;
 * other types are passed to the engine untouched.
 */
import jpeg from 'jpeg-js';

export interface GrayImage { width: number; height: number; data: Uint8Array }

export interface PreprocessOptions {
  /** Target long edge in pixels (default 2000). */
  longEdge?: number;
  /** Only rescale when the long edge is outside [minLong, maxLong] (defaults 1600, 2600). */
  minLong?: number;
  maxLong?: number;
  /** Flatten uneven lighting (default true). */
  flatten?: boolean;
  /** Refuse to decode above this many megapixels (default 40; the upload gate already checked). */
  maxMegapixels?: number;
}

export function decodeJpegGray(bytes: Uint8Array, maxMegapixels = 40): GrayImage {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxMegapixels, maxMemoryUsageInMB: 1024 });
  const { width, height, data } = img;
  const out = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < out.length; i++, j += 4) out[i] = (data[j] * 77 + data[j + 1] * 150 + data[j + 2] * 29) >> 8;
  return { width, height, data: out };
}

/** Bilinear resize (with box pre-averaging when shrinking by 2× or more). */
export function resizeGray(src: GrayImage, width: number, height: number): GrayImage {
  let s = src;
  while (s.width >= width * 2 && s.height >= height * 2) {
    const w = s.width >> 1, h = s.height >> 1, d = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = 2 * y * s.width + 2 * x;
      d[y * w + x] = (s.data[i] + s.data[i + 1] + s.data[i + s.width] + s.data[i + s.width + 1] + 2) >> 2;
    }
    s = { width: w, height: h, data: d };
  }
  if (s.width === width && s.height === height) return s;
  const out = new Uint8Array(width * height);
  const sx = s.width / width, sy = s.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(s.height - 1, Math.floor(fy)), y1 = Math.min(s.height - 1, y0 + 1), wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(s.width - 1, Math.floor(fx)), x1 = Math.min(s.width - 1, x0 + 1), wx = fx - x0;
      const a = s.data[y0 * s.width + x0], b = s.data[y0 * s.width + x1];
      const c = s.data[y1 * s.width + x0], d = s.data[y1 * s.width + x1];
      out[y * width + x] = (a * (1 - wx) + b * wx) * (1 - wy) + (c * (1 - wx) + d * wx) * wy + 0.5;
    }
  }
  return { width, height, data: out };
}

/**
 * Divide out the paper's brightness: per 32-px tile take a high percentile (the paper, not the ink),
 * smooth the tile grid, interpolate it back and scale each pixel to it. Shadows and vignetting vanish;
 * ink stays dark.
 */
export function flattenIllumination(img: GrayImage, tile = 32): GrayImage {
  const { width: W, height: H, data } = img;
  const tw = Math.ceil(W / tile), th = Math.ceil(H / tile);
  const bg = new Float32Array(tw * th);
  const hist = new Uint32Array(256);
  for (let ty = 0; ty < th; ty++) for (let tx = 0; tx < tw; tx++) {
    hist.fill(0);
    let n = 0;
    for (let y = ty * tile; y < Math.min(H, (ty + 1) * tile); y++) for (let x = tx * tile; x < Math.min(W, (tx + 1) * tile); x++) { hist[data[y * W + x]]++; n++; }
    let acc = 0, v = 255;
    for (let k = 255; k >= 0; k--) { acc += hist[k]; if (acc >= n * 0.1) { v = k; break; } }
    bg[ty * tw + tx] = v;
  }
  // 3×3 max then mean smoothing of the tile grid, so tiles full of ink borrow their neighbours' paper
  const mx = new Float32Array(bg.length);
  for (let ty = 0; ty < th; ty++) for (let tx = 0; tx < tw; tx++) {
    let m = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const yy = ty + dy, xx = tx + dx;
      if (yy >= 0 && yy < th && xx >= 0 && xx < tw) m = Math.max(m, bg[yy * tw + xx]);
    }
    mx[ty * tw + tx] = m;
  }
  const sm = new Float32Array(bg.length);
  for (let ty = 0; ty < th; ty++) for (let tx = 0; tx < tw; tx++) {
    let s = 0, n = 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const yy = ty + dy, xx = tx + dx;
      if (yy >= 0 && yy < th && xx >= 0 && xx < tw) { s += mx[yy * tw + xx]; n++; }
    }
    sm[ty * tw + tx] = Math.max(16, s / n);
  }
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    const gy = Math.min(th - 1, Math.max(0, (y + 0.5) / tile - 0.5));
    const y0 = Math.floor(gy), y1 = Math.min(th - 1, y0 + 1), wy = gy - y0;
    for (let x = 0; x < W; x++) {
      const gx = Math.min(tw - 1, Math.max(0, (x + 0.5) / tile - 0.5));
      const x0 = Math.floor(gx), x1 = Math.min(tw - 1, x0 + 1), wx = gx - x0;
      const b = (sm[y0 * tw + x0] * (1 - wx) + sm[y0 * tw + x1] * wx) * (1 - wy) + (sm[y1 * tw + x0] * (1 - wx) + sm[y1 * tw + x1] * wx) * wy;
      const v = (data[y * W + x] / b) * 255;
      out[y * W + x] = v > 255 ? 255 : v;
    }
  }
  return { width: W, height: H, data: out };
}

export function encodePgm(img: GrayImage): Uint8Array {
  const head = new TextEncoder().encode(`P5\n${img.width} ${img.height}\n255\n`);
  const out = new Uint8Array(head.length + img.data.length);
  out.set(head);
  out.set(img.data, head.length);
  return out;
}

/** The JPEG as an OCR-ready grayscale page (see the file header), with what was done; non-JPEG input → null. */
export function prepareGray(bytes: Uint8Array, opts: PreprocessOptions = {}): { gray: GrayImage; steps: string[] } | null {
  if (!(bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)) return null;
  const target = opts.longEdge ?? 2000, minLong = opts.minLong ?? 1600, maxLong = opts.maxLong ?? 2600;
  let g = decodeJpegGray(bytes, opts.maxMegapixels ?? 40);
  const steps = ['gray'];
  const long = Math.max(g.width, g.height);
  if (long < minLong || long > maxLong) {
    const k = target / long;
    g = resizeGray(g, Math.round(g.width * k), Math.round(g.height * k));
    steps.push(`scale ${k.toFixed(2)}`);
  }
  if (opts.flatten ?? true) { g = flattenIllumination(g); steps.push('flatten'); }
  return { gray: g, steps };
}

/** The JPEG as an OCR-ready PGM; non-JPEG input → null. */
export function preprocessForOcr(bytes: Uint8Array, opts: PreprocessOptions = {}): { image: Uint8Array; steps: string[]; width: number; height: number } | null {
  const p = prepareGray(bytes, opts);
  return p && { image: encodePgm(p.gray), steps: p.steps, width: p.gray.width, height: p.gray.height };
}

/** The image turned by quarter turns clockwise (1 = 90° CW, 2 = 180°, 3 = 90° CCW). */
export function rotateGray(img: GrayImage, quarterTurns: number): GrayImage {
  const q = ((quarterTurns % 4) + 4) % 4;
  if (q === 0) return img;
  const { width: W, height: H, data } = img;
  if (q === 2) {
    const out = new Uint8Array(W * H);
    for (let i = 0, n = W * H; i < n; i++) out[i] = data[n - 1 - i];
    return { width: W, height: H, data: out };
  }
  const out = new Uint8Array(W * H);
  // new width = H, new height = W
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = data[y * W + x];
    if (q === 1) out[x * H + (H - 1 - y)] = v; // (x,y) → (H-1-y, x)
    else out[(W - 1 - x) * H + y] = v; // (x,y) → (y, W-1-x)
  }
  return { width: H, height: W, data: out };
}

/**
 * Are the text lines horizontal or vertical? Ink pixels of a small copy are projected onto axes at
 * −14°..14° around 0° and around 90°; text lines give the sharpest profile (many short runs of ink and
 * gap) along the axis perpendicular to them. Returns the winning family and its angle.
 */
export function textOrientation(img: GrayImage): { sideways: boolean; angle: number; ratio: number } {
  const k = Math.max(1, Math.max(img.width, img.height) / 700);
  const small = k > 1 ? resizeGray(img, Math.round(img.width / k), Math.round(img.height / k)) : img;
  const flat = flattenIllumination(small, 24);
  const { width: W, height: H, data } = flat;
  // Ink mask without long strokes: page edges, table rules and shadows' borders are long straight runs
  // and would outweigh the text; letters are made of short runs.
  const ink = new Uint8Array(W * H);
  for (let i = 0; i < W * H; i++) ink[i] = data[i] < 170 ? 1 : 0;
  const maxRun = 20;
  const keep = new Uint8Array(ink);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W;) {
      if (!ink[y * W + x]) { x++; continue; }
      let e = x;
      while (e < W && ink[y * W + e]) e++;
      if (e - x > maxRun) for (let k = x; k < e; k++) keep[y * W + k] = 0;
      x = e;
    }
  }
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H;) {
      if (!ink[y * W + x]) { y++; continue; }
      let e = y;
      while (e < H && ink[e * W + x]) e++;
      if (e - y > maxRun) for (let k = y; k < e; k++) keep[k * W + x] = 0;
      y = e;
    }
  }
  const xs: number[] = [], ys: number[] = [];
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (keep[y * W + x]) { xs.push(x); ys.push(y); }
  if (xs.length < 50) return { sideways: false, angle: 0, ratio: 1 };
  const size = Math.ceil(Math.hypot(W, H)) + 2;
  const hist = new Float64Array(size);
  const sharpness = (deg: number) => {
    const a = (deg * Math.PI) / 180, c = Math.cos(a), s = Math.sin(a);
    hist.fill(0);
    const off = size / 2;
    for (let i = 0; i < xs.length; i++) {
      const p = (ys[i] - H / 2) * c - (xs[i] - W / 2) * s + off;
      hist[p | 0]++;
    }
    // band-pass energy of the profile: lightly smoothed (strokes) minus heavily smoothed (page layout)
    // leaves the line-scale alternation of ink and gap that text lines produce across them
    const cum = new Float64Array(size + 1);
    for (let i = 0; i < size; i++) cum[i + 1] = cum[i] + hist[i];
    const box = (i: number, r: number) => (cum[Math.min(size, i + r + 1)] - cum[Math.max(0, i - r)]) / (2 * r + 1);
    let m = 0;
    for (let i = 0; i < size; i++) {
      const d = box(i, 1) - box(i, 40);
      m += d * d;
    }
    return m;
  };
  let bestH = { v: -1, a: 0 }, bestV = { v: -1, a: 0 };
  for (let d = -14; d <= 14; d += 1) {
    const h = sharpness(d), v = sharpness(d + 90);
    if (h > bestH.v) bestH = { v: h, a: d };
    if (v > bestV.v) bestV = { v: v, a: d };
  }
  const ratio = bestH.v / Math.max(1, bestV.v);
  return ratio >= 1 ? { sideways: false, angle: bestH.a, ratio } : { sideways: true, angle: bestV.a, ratio };
}

/**
 * The image turned by `deg` degrees so that text lines sloping by `deg` (as `textOrientation` reports)
 * become horizontal; bilinear, new corners filled white, same size.
 */
export function deskewGray(img: GrayImage, deg: number): GrayImage {
  if (Math.abs(deg) < 0.05) return img;
  const { width: W, height: H, data } = img;
  const a = (deg * Math.PI) / 180, c = Math.cos(a), s = Math.sin(a);
  const cx = W / 2, cy = H / 2;
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    const dy = y - cy;
    for (let x = 0; x < W; x++) {
      const dx = x - cx;
      const sx = dx * c - dy * s + cx, sy = dx * s + dy * c + cy;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      if (x0 < 0 || y0 < 0 || x0 >= W - 1 || y0 >= H - 1) { out[y * W + x] = 255; continue; }
      const fx = sx - x0, fy = sy - y0, i = y0 * W + x0;
      out[y * W + x] = (data[i] * (1 - fx) + data[i + 1] * fx) * (1 - fy) + (data[i + W] * (1 - fx) + data[i + W + 1] * fx) * fy + 0.5;
    }
  }
  return { width: W, height: H, data: out };
}

/**
 * Erase ruling lines (table borders, boxes, signature lines): dark runs longer than `minRun` pixels
 * horizontally or vertically become paper. Boxed forms otherwise split into cells that Tesseract's
 * layout analysis reads out of order or drops, and underlines glue to the text above them.
 */
export function removeRules(img: GrayImage, threshold = 140): GrayImage {
  const { width: W, height: H, data } = img;
  const long = Math.max(W, H);
  const minRunH = Math.round(long * 0.06), minRunV = Math.round(long * 0.04); // letters are shorter than both
  const out = new Uint8Array(data);
  // dark if this pixel or its neighbour across the rule is: a slightly tilted rule steps by one pixel
  // every few dozen pixels and would otherwise break into short runs
  const darkH = new Uint8Array(W * H), darkV = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const i = y * W + x;
    darkH[i] = data[i] < threshold || (y > 0 && data[i - W] < threshold) || (y + 1 < H && data[i + W] < threshold) ? 1 : 0;
    darkV[i] = data[i] < threshold || (x > 0 && data[i - 1] < threshold) || (x + 1 < W && data[i + 1] < threshold) ? 1 : 0;
  }
  const erase = (i: number) => { out[i] = 255; };
  // A rule is thin across its length; a run through a line of text (letters touching) is not.
  const thin = (from: number, to: number, at: number, horizontal: boolean): boolean => {
    let thinCount = 0, n = 0;
    for (let k = from; k < to; k += 3) {
      let ext = 0;
      for (let d = -10; d <= 10; d++) {
        const yy = horizontal ? at + d : k, xx = horizontal ? k : at + d;
        if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
        if (data[yy * W + xx] < threshold) ext++;
      }
      n++;
      if (ext <= 7) thinCount++;
    }
    return thinCount >= n * 0.6;
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W;) {
      if (!darkH[y * W + x]) { x++; continue; }
      let e = x;
      while (e < W && (darkH[y * W + e] || (e + 1 < W && darkH[y * W + e + 1]))) e++; // bridge 1-px gaps
      if (e - x >= minRunH && thin(x, e, y, true)) for (let k = x; k < e; k++) for (let d = -2; d <= 2; d++) { const yy = y + d; if (yy >= 0 && yy < H && data[yy * W + k] < 200) erase(yy * W + k); }
      x = e + 1;
    }
  }
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H;) {
      if (!darkV[y * W + x]) { y++; continue; }
      let e = y;
      while (e < H && (darkV[e * W + x] || (e + 1 < H && darkV[(e + 1) * W + x]))) e++;
      if (e - y >= minRunV && thin(y, e, x, false)) for (let k = y; k < e; k++) for (let d = -2; d <= 2; d++) { const xx = x + d; if (xx >= 0 && xx < W && data[k * W + xx] < 200) erase(k * W + xx); }
      y = e + 1;
    }
  }
  return { width: W, height: H, data: out };
}
