/**
 * A streaming multipart/form-data reader for uploads (storage-js sends FormData with the fields `cacheControl`
 * and `metadata` and the file under the name ''). Field values are collected (bounded), the first file part is
 * streamed to a sink chunk by chunk, so an upload never sits in memory whole. Later file parts are drained and
 * ignored, as storage's `request.file()` with `files: 1` does.
 */
import { ERRORS } from './errors.ts';

export interface FilePartInfo {
  fieldName: string;
  fileName: string | undefined;
  contentType: string | undefined;
}

export interface FileSink {
  write(chunk: Uint8Array): Promise<void>;
}

export interface MultipartHandlers {
  onField(name: string, value: string): void;
  /** Called for the first file part; the returned sink receives its bytes. */
  onFile(info: FilePartInfo): FileSink;
}

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_FIELD_BYTES = 1024 * 1024 + 1024; // storage caps user metadata at 1 MiB
const MAX_FIELDS = 10;

export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const b = (m?.[1] ?? m?.[2])?.trim();
  return b && b.length <= 200 ? b : undefined;
}

function indexOf(hay: Buffer, needle: Buffer, from: number): number {
  return hay.indexOf(needle, from);
}

function parseHeaders(block: string) {
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return headers;
}

function dispositionParam(disposition: string, param: string): string | undefined {
  // name="x"; filename="y" (quoted or token); filename*=UTF-8''... is preferred when present
  const star = new RegExp(`(?:^|;)\\s*${param}\\*=([^;]*)`, 'i').exec(disposition);
  if (star) {
    const v = star[1].trim();
    const i = v.indexOf("''");
    try { return decodeURIComponent(i >= 0 ? v.slice(i + 2) : v); } catch { /* fall through */ }
  }
  const m = new RegExp(`(?:^|;)\\s*${param}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i').exec(disposition);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2].trim();
}

/**
 * Reads the whole multipart body. Throws StorageError NoContentProvided on malformed input or when no file
 * part is present. Errors thrown by the sink (size limits) propagate unchanged.
 */
export async function readMultipart(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  handlers: MultipartHandlers,
): Promise<void> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // Prepending CRLF lets the first boundary (which may start the body) match the same delimiter.
  let buf: Buffer = Buffer.from('\r\n');
  type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'done';
  let state = 'preamble' as State;
  let fields = 0;
  let sawFile = false;
  let part: { kind: 'field'; name: string; chunks: Buffer[]; size: number } | { kind: 'file'; sink: FileSink } | {
    kind: 'skip';
  } | undefined;

  const finishPart = () => {
    if (part?.kind === 'field') handlers.onField(part.name, Buffer.concat(part.chunks).toString('utf8'));
    part = undefined;
  };
  const feedPart = async (data: Buffer) => {
    if (!data.length || !part) return;
    if (part.kind === 'file') await part.sink.write(data);
    else if (part.kind === 'field') {
      part.size += data.length;
      if (part.size > MAX_FIELD_BYTES) throw ERRORS.EntityTooLarge('user_metadata');
      part.chunks.push(data);
    }
  };

  const step = async (final: boolean): Promise<boolean> => {
    switch (state) {
      case 'preamble': {
        const i = indexOf(buf, delimiter, 0);
        if (i < 0) {
          // keep a tail that could be the start of the delimiter
          if (buf.length > delimiter.length) buf = buf.subarray(buf.length - delimiter.length);
          return false;
        }
        buf = buf.subarray(i + delimiter.length);
        state = 'afterDelimiter';
        return true;
      }
      case 'afterDelimiter': {
        if (buf.length < 2) return false;
        if (buf[0] === 0x2d && buf[1] === 0x2d) { state = 'done'; return false; } // "--": closing boundary
        // transport padding then CRLF
        const nl = buf.indexOf('\r\n');
        if (nl < 0) {
          if (buf.length > 256) throw ERRORS.NoContentProvided('Malformed multipart body');
          return false;
        }
        buf = buf.subarray(nl + 2);
        state = 'headers';
        return true;
      }
      case 'headers': {
        const end = buf.indexOf('\r\n\r\n');
        const emptyHeaders = buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a;
        if (end < 0 && !emptyHeaders) {
          if (buf.length > MAX_HEADER_BYTES) throw ERRORS.NoContentProvided('Malformed multipart body');
          return false;
        }
        const headerBlock = emptyHeaders ? '' : buf.subarray(0, end).toString('utf8');
        buf = buf.subarray(emptyHeaders ? 2 : end + 4);
        const headers = parseHeaders(headerBlock);
        const disposition = headers.get('content-disposition') ?? '';
        const name = dispositionParam(disposition, 'name') ?? '';
        const fileName = dispositionParam(disposition, 'filename');
        if (fileName !== undefined) {
          if (!sawFile) {
            sawFile = true;
            part = { kind: 'file', sink: handlers.onFile({ fieldName: name, fileName, contentType: headers.get('content-type') }) };
          } else part = { kind: 'skip' };
        } else if (fields < MAX_FIELDS) {
          fields++;
          part = { kind: 'field', name, chunks: [], size: 0 };
        } else part = { kind: 'skip' };
        state = 'body';
        return true;
      }
      case 'body': {
        const i = indexOf(buf, delimiter, 0);
        if (i >= 0) {
          await feedPart(buf.subarray(0, i));
          finishPart();
          buf = buf.subarray(i + delimiter.length);
          state = 'afterDelimiter';
          return true;
        }
        const keep = final ? 0 : delimiter.length - 1;
        if (buf.length > keep) {
          await feedPart(buf.subarray(0, buf.length - keep));
          buf = buf.subarray(buf.length - keep);
        }
        return false;
      }
      case 'done':
        return false;
    }
  };

  for await (const chunk of body) {
    if (state === 'done') continue; // epilogue
    buf = buf.length ? Buffer.concat([buf, Buffer.from(chunk)]) : Buffer.from(chunk);
    while (await step(false)) { /* advance */ }
  }
  if (state !== 'done') throw ERRORS.NoContentProvided('Malformed multipart body: missing closing boundary');
  if (!sawFile) throw ERRORS.NoContentProvided();
}
