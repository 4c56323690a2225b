/** Upload checks for photos: type by magic number, declared size, limits, lossless metadata removal. */
export {
  checkImage, DEFAULT_IMAGE_LIMITS, IMAGE_MIME, imageDimensions, sniffImage,
  type ImageInfo, type ImageLimits, type ImageType,
} from './sniff.ts';
export { stripExif, tiffOrientation, type StripResult } from './exif.ts';
