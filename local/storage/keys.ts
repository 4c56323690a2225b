/**
 * Object keys and bucket names: storage's validity rules (`src/storage/limits.ts`) plus what a disk backend
 * needs on top, so that no key can ever address a file outside the bucket's folder.
 */
import path from 'node:path';
import { ERRORS } from './errors.ts';

// S3-safe characters, as storage's isValidKey / isValidBucketName.
const KEY_RE = /^(\w|\/|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$/;
const BUCKET_RE = /^(\w|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$/;
const MAX_SEGMENT_BYTES = 255;

export function isValidBucketName(name: string): boolean {
  return name.length > 0 && BUCKET_RE.test(name) && name !== '.' && name !== '..';
}

export function mustBeValidBucketName(name: string | undefined): asserts name is string {
  if (!name || !isValidBucketName(name)) throw ERRORS.InvalidBucketName();
}

/**
 * Storage's rule, and refused as well (a disk can't keep them apart or they would leave the bucket):
 * absolute keys, empty segments (`a//b`, trailing `/`), `.` and `..` segments, NUL, over-long segments.
 */
export function mustBeValidKey(key: string | undefined): asserts key is string {
  if (!key || !KEY_RE.test(key)) throw ERRORS.InvalidKey(key ?? '');
  for (const seg of key.split('/')) {
    if (seg === '' || seg === '.' || seg === '..' || Buffer.byteLength(seg) > MAX_SEGMENT_BYTES) {
      throw ERRORS.InvalidKey(key);
    }
  }
}

/**
 * Where the bytes of one version of an object live: `<dataDir>/<bucket>/<name segments>/#<version>`.
 * `#` never occurs in a valid key segment, so a version file can't collide with a nested object's folder
 * ("a" and "a/b" both exist fine). Versioned files make replacing an object atomic: the new version is
 * written beside the old one, the row switches versions in one commit, the old file is removed after.
 */
export function objectFilePath(dataDir: string, bucket: string, name: string, version: string | null): string {
  mustBeValidBucketName(bucket);
  mustBeValidKey(name);
  const root = path.resolve(dataDir);
  const file = path.resolve(root, bucket, ...name.split('/'), `#${version ?? ''}`);
  if (!file.startsWith(root + path.sep)) throw ERRORS.InvalidKey(name); // belt and braces
  return file;
}

/** Temp files live in a folder no valid bucket name can reach (`#` is not a bucket-name character). */
export function tempDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), '#tmp');
}
