/**
 * Object bytes on local disk. Uploads stream into a temp file (size-limited, MD5 computed on the way), are
 * renamed into their versioned place (see keys.ts objectFilePath) only once complete, and are removed again
 * when the metadata row does not commit. Readers only ever see complete files.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ERRORS } from './errors.ts';
import { tempDir } from './keys.ts';

export interface TempFile {
  path: string;
  write(chunk: Uint8Array): Promise<void>;
  /** Closes the file; returns its size and quoted MD5 ETag (as storage's file backend with md5 ETags). */
  finish(): Promise<{ size: number; eTag: string }>;
  discard(): Promise<void>;
}

export async function createTempFile(dataDir: string, limitBytes: number): Promise<TempFile> {
  const dir = tempDir(dataDir);
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${crypto.randomUUID()}.part`);
  const handle = await fsp.open(file, 'wx', 0o600);
  const md5 = crypto.createHash('md5');
  let size = 0;
  let closed = false;
  const close = async () => {
    if (!closed) { closed = true; await handle.close(); }
  };
  return {
    path: file,
    async write(chunk) {
      size += chunk.byteLength;
      if (size > limitBytes) throw ERRORS.EntityTooLarge();
      md5.update(chunk);
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
    },
    async finish() {
      await handle.sync();
      await close();
      return { size, eTag: `"${md5.digest('hex')}"` };
    },
    async discard() {
      await close().catch(() => undefined);
      await removeQuiet(file);
    },
  };
}

/** Moves a finished temp file to its final place (creating folders; retried if a prune raced us). */
export async function installFile(tempPath: string, finalPath: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await fsp.mkdir(path.dirname(finalPath), { recursive: true });
    try {
      await fsp.rename(tempPath, finalPath);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

/** Copies one stored version to a new versioned place atomically (temp copy, then rename). */
export async function copyFileAtomic(dataDir: string, src: string, dst: string): Promise<void> {
  const dir = tempDir(dataDir);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `${crypto.randomUUID()}.part`);
  try {
    await fsp.copyFile(src, tmp);
    await installFile(tmp, dst);
  } catch (err) {
    await removeQuiet(tmp);
    throw err;
  }
}

/**
 * Removes a file if present, then prunes the now-empty folders above it up to (not including) `stopAt`.
 */
export async function removeQuiet(file: string, stopAt?: string): Promise<void> {
  try {
    await fsp.unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!stopAt) return;
  const root = path.resolve(stopAt);
  let dir = path.dirname(file);
  while (dir.startsWith(root + path.sep)) {
    try {
      await fsp.rmdir(dir);
    } catch {
      return; // not empty (or gone): stop pruning
    }
    dir = path.dirname(dir);
  }
}

/** Removes temp files a crashed process left behind. */
export async function sweepTemp(dataDir: string): Promise<void> {
  await fsp.rm(tempDir(dataDir), { recursive: true, force: true });
  await fsp.mkdir(tempDir(dataDir), { recursive: true });
}

export function openRead(file: string, range?: { start: number; end: number }): fs.ReadStream {
  return fs.createReadStream(file, range ? { start: range.start, end: range.end } : undefined);
}

export async function statFile(file: string): Promise<fs.Stats | undefined> {
  try {
    return await fsp.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return undefined;
    }
    throw err;
  }
}
