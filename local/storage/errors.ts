/**
 * Storage's error contract (supabase/storage `src/internal/errors/codes.ts`, `storage-error.ts`,
 * `src/storage/database/errors.ts`, `src/http/error-handler.ts`):
 * every error body is `{statusCode: "<http code as string>", code, error, message}` and the HTTP status is
 * 400 for everything but internal errors (500). storage-js reads `statusCode` and `message` from the body.
 * `error` is the legacy name ("not_found", "Duplicate", "Unauthorized", ...) or the code when there is none,
 * as hosted Storage answers today.
 */
import { DatabaseError } from 'pg';

export class StorageError extends Error {
  constructor(
    readonly code: string,
    readonly httpStatusCode: number,
    message: string,
    readonly legacyError?: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'StorageError';
  }

  /** The status the HTTP response gets: 500 for internal errors, else 400 (storage's `userStatusCode`). */
  get userStatusCode(): number {
    return this.httpStatusCode >= 500 ? 500 : 400;
  }

  render() {
    return {
      statusCode: String(this.httpStatusCode),
      code: this.code,
      error: this.legacyError ?? this.code,
      message: this.message,
    };
  }
}

const e = (code: string, status: number, message: string, legacy?: string, cause?: unknown) =>
  new StorageError(code, status, message, legacy, cause);

export const ERRORS = {
  NoSuchBucket: (_bucket: string) => e('NoSuchBucket', 404, 'Bucket not found', 'Bucket not found'),
  NoSuchKey: (_key: string) => e('NoSuchKey', 404, 'Object not found', 'not_found'),
  /** The bytes of an existing row are missing on disk (storage's renderer answer for a backend 404). */
  ObjectBytesMissing: () => e('NoSuchKey', 404, 'The resource was not found', 'Not found'),
  InvalidJWT: (message?: string) => e('InvalidJWT', 400, message || 'Invalid JWT'),
  InvalidSignature: () => e('InvalidSignature', 400, 'Invalid signature'),
  ExpiredSignature: () => e('ExpiredToken', 400, 'The provided token has expired.'),
  AccessDenied: (message?: string, cause?: unknown) =>
    e('AccessDenied', 403, message || 'Access denied', 'Unauthorized', cause),
  ResourceAlreadyExists: (cause?: unknown) =>
    e('ResourceAlreadyExists', 409, 'The resource already exists', 'Duplicate', cause),
  KeyAlreadyExists: (cause?: unknown) => e('KeyAlreadyExists', 409, 'The resource already exists', 'Duplicate', cause),
  BucketAlreadyExists: (cause?: unknown) =>
    e('BucketAlreadyExists', 409, 'The resource already exists', 'Duplicate', cause),
  BucketNotEmpty: () => e('ResourceNotEmpty', 409, 'The bucket you tried to delete is not empty'),
  InvalidKey: (key: string) => e('InvalidKey', 400, `Invalid key: ${key}`),
  InvalidBucketName: () => e('InvalidBucketName', 400, 'Bucket name invalid', 'Invalid Input'),
  InvalidMimeType: (mimeType: string) =>
    e('InvalidMimeType', 415, `mime type ${mimeType} is not supported`, 'invalid_mime_type'),
  InvalidFileSizeLimit: () =>
    e('InvalidRequest', 400, 'Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B'),
  InvalidRange: () => e('InvalidRange', 400, 'invalid range provided', 'invalid_range'),
  EntityTooLarge: (entity = 'object') =>
    e('EntityTooLarge', 413, `The ${entity} exceeded the maximum allowed size`, 'Payload too large'),
  NoContentProvided: (message?: string) => e('InvalidRequest', 400, message || 'No content provided'),
  MissingParameter: (name: string) => e('MissingParameter', 400, `Missing Required Parameter ${name}`),
  RelatedResourceNotFound: () => e('InvalidRequest', 404, 'The related resource does not exist'),
  ResourceLocked: () => e('ResourceLocked', 423, 'The resource is locked'),
  DatabaseTimeout: () => e('DatabaseTimeout', 544, 'The connection to the database timed out'),
  DatabaseError: (message: string, cause?: unknown) => e('DatabaseError', 500, message, undefined, cause),
  InternalError: (cause?: unknown) => e('InternalError', 500, 'Internal server error', 'Internal', cause),
};

/** Fastify-style request validation error (schema mismatch), rendered as storage's error handler does. */
export function validationError(message: string): StorageError {
  return new StorageError('InvalidRequest', 400, message, 'Bad Request');
}

/** Maps a Postgres error to storage's error, as `DBError.fromDBError` does. */
export function fromPgError(err: DatabaseError): StorageError {
  switch (err.code) {
    case '42501':
      return ERRORS.AccessDenied(
        err.message.includes('row-level security') ? 'new row violates row-level security policy' : err.message,
        err,
      );
    case '23505':
      return ERRORS.ResourceAlreadyExists(err);
    case '23503':
      return ERRORS.RelatedResourceNotFound();
    case '55P03':
      return ERRORS.ResourceLocked();
    case '57014':
      return ERRORS.DatabaseTimeout();
    case '22P02':
      return e('InvalidParameter', 400, err.message || 'Invalid value format or type conversion failed');
    default:
      return ERRORS.DatabaseError(`database error, code: ${err.code}`, err);
  }
}

export function toStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  if (err instanceof DatabaseError) return fromPgError(err);
  return ERRORS.InternalError(err);
}

export function errorResponse(err: StorageError, extraHeaders?: Record<string, string>): Response {
  return new Response(JSON.stringify(err.render()), {
    status: err.userStatusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...extraHeaders },
  });
}
