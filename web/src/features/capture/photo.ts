/**
 * On-device photo preparation: decode with the EXIF orientation applied, downscale to ≤ 2000 px on the long edge,
 * re-encode as JPEG. Drawing through a canvas keeps only pixels, so EXIF (GPS position, camera, thumbnail) never
 * leaves the phone; ro-ocr strips any metadata again on the server for uploads that bypass this.
 */
import { fitWithin, JPEG_QUALITY, MAX_EDGE } from './model.ts';

export class PhotoError extends Error {
  constructor(readonly code: 'unsupported_photo' | 'not_an_image', message: string) {
    super(message);
    this.name = 'PhotoError';
  }
}

type Drawable = ImageBitmap | HTMLImageElement;

async function decode(file: Blob): Promise<Drawable> {
  if (typeof createImageBitmap === 'function') {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {
      // Older Safari rejects the options bag: fall back to <img>, which applies EXIF orientation itself.
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    await img.decode();
    return img;
  } catch {
    throw new PhotoError('unsupported_photo', 'This photo could not be opened on this device. Take it with the camera, or save it as JPEG first.');
  } finally {
    URL.revokeObjectURL(url);
  }
}

function sizeOf(d: Drawable): { width: number; height: number } {
  return d instanceof HTMLImageElement ? { width: d.naturalWidth, height: d.naturalHeight } : { width: d.width, height: d.height };
}

/** The upload-ready JPEG for a picked or shot photo. */
export async function preparePhoto(file: Blob, maxEdge = MAX_EDGE): Promise<Blob> {
  if (file.type && !file.type.startsWith('image/')) {
    throw new PhotoError('not_an_image', 'That file is not a photo. Choose a picture of the repair order.');
  }
  const source = await decode(file);
  try {
    const { width, height } = fitWithin(sizeOf(source).width, sizeOf(source).height, maxEdge);
    if (typeof OffscreenCanvas !== 'undefined') {
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d');
      if (ctx) {
        ctx.drawImage(source, 0, 0, width, height);
        return await canvas.convertToBlob({ type: 'image/jpeg', quality: JPEG_QUALITY });
      }
    }
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new PhotoError('unsupported_photo', 'This device cannot prepare photos (no canvas).');
    ctx.drawImage(source, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) => {
      canvas.toBlob((b) => (b ? resolve(b) : reject(new PhotoError('unsupported_photo', 'The photo could not be compressed.'))), 'image/jpeg', JPEG_QUALITY);
    });
  } finally {
    if ('close' in source) source.close();
  }
}
