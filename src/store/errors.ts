import type { AreaCode } from '../common/error-codes.ts';
import { EdgeosError } from '../common/errors.ts';

/** Base of every store error; `code` (STORE_*) is stable and mapped to HTTP status by the API server. */
export class StoreError extends EdgeosError {
  constructor(code: AreaCode<'STORE'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** create() of a key that exists (API: 409 AlreadyExists). */
export class KeyExistsError extends StoreError {
  readonly key: string;
  constructor(key: string) {
    super('STORE_KEY_EXISTS', `key ${key} already exists`);
    this.key = key;
  }
}

/** get/update/delete of a key that does not exist (API: 404 NotFound). */
export class NotFoundError extends StoreError {
  readonly key: string;
  constructor(key: string) {
    super('STORE_NOT_FOUND', `key ${key} not found`);
    this.key = key;
  }
}

/** Compare-and-swap mismatch (API: 409 Conflict, "the object has been modified"). */
export class ConflictError extends StoreError {
  readonly key: string;
  readonly expected: number;
  readonly actual: number;
  constructor(key: string, expected: number, actual: number) {
    super('STORE_CONFLICT', `key ${key} was modified: expected revision ${expected}, found ${actual}`);
    this.key = key;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A read or watch at a revision that compaction removed (API: 410 Gone / Expired). */
export class CompactedError extends StoreError {
  readonly requested: number;
  readonly compacted: number;
  constructor(requested: number, compacted: number) {
    super(
      'STORE_COMPACTED',
      `revision ${requested} has been compacted (history starts after ${compacted}); re-list and watch from the current revision`,
    );
    this.requested = requested;
    this.compacted = compacted;
  }
}

/** A revision in the future (API: 504 Timeout "Too large resource version" in Kubernetes). */
export class FutureRevisionError extends StoreError {
  readonly requested: number;
  readonly current: number;
  constructor(requested: number, current: number) {
    super('STORE_FUTURE_REVISION', `revision ${requested} is newer than the current revision ${current}`);
    this.requested = requested;
    this.current = current;
  }
}

/** A malformed key or an oversized value (API: 400/413/422). */
export class InvalidKeyError extends StoreError {
  constructor(key: string, why: string) {
    super('STORE_INVALID_KEY', `invalid key ${JSON.stringify(key.slice(0, 200))}: ${why}`);
  }
}

export class ValueTooLargeError extends StoreError {
  readonly key: string;
  readonly size: number;
  readonly limit: number;
  constructor(key: string, size: number, limit: number) {
    super('STORE_VALUE_TOO_LARGE', `value for ${key} is ${size} bytes, over the ${limit}-byte limit`);
    this.key = key;
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The database cannot be used: a file that is corrupt, locked by another process, read-only, or
 * from an unknown schema; a PostgreSQL server that cannot be reached or refuses us
 * (STORE_UNAVAILABLE). The message names the file or the server (never a password) and what to do.
 */
export class DatabaseError extends StoreError {
  /** The database file, or the PostgreSQL server as describeEndpoint() names it. */
  readonly file: string;
  constructor(
    code: Extract<AreaCode<'STORE'>, 'STORE_CORRUPT' | 'STORE_LOCKED' | 'STORE_READONLY' | 'STORE_OPEN_FAILED' | 'STORE_SCHEMA' | 'STORE_UNAVAILABLE'>,
    file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.file = file;
  }
}

/** The store was closed (during shutdown); the operation did not happen. */
export class ClosedError extends StoreError {
  constructor() {
    super('STORE_CLOSED', 'the store is closed');
  }
}
