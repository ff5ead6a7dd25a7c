import { InvalidKeyError, StoreError, ValueTooLargeError } from './errors.ts';
import type { TxnOp } from './types.ts';

/** etcd's default request limit, which Kubernetes objects are sized against. */
export const MAX_VALUE_BYTES = 1.5 * 1024 * 1024;
export const MAX_KEY_BYTES = 2048;

/**
 * Keys are printable ASCII paths starting with "/" (e.g. /registry/pods/default/web). Restricting
 * them to 0x21–0x7e makes prefix ranges exact: every key under P sorts in [P, P + "\x7f").
 */
const keyRe = /^\/[\x21-\x7e]*$/;

export function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'empty key');
  if (key.length > MAX_KEY_BYTES) throw new InvalidKeyError(key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (!keyRe.test(key)) {
    throw new InvalidKeyError(key, 'keys start with "/" and contain only printable ASCII without spaces');
  }
}

export function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  checkKey(prefix);
}

export function checkValue(key: string, value: Buffer): void {
  if (!Buffer.isBuffer(value)) throw new InvalidKeyError(key, 'value must be a Buffer');
  if (value.length > MAX_VALUE_BYTES) throw new ValueTooLargeError(key, value.length, MAX_VALUE_BYTES);
}

/** The exclusive upper bound of the key range that starts with `prefix`. */
export function prefixEnd(prefix: string): string {
  return prefix + '\x7f';
}

export function checkTtl(key: string, ttlSeconds: number | undefined): number | undefined {
  if (ttlSeconds === undefined) return undefined;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new InvalidKeyError(key, `ttlSeconds must be a positive number, got ${ttlSeconds}`);
  }
  return ttlSeconds;
}

/** Every key, value and TTL of a transaction, checked before anything is written. */
export function checkOps(ops: readonly TxnOp[]): void {
  for (const o of ops) {
    checkKey(o.key);
    if (o.op !== 'delete') {
      checkValue(o.key, o.value);
      checkTtl(o.key, o.ttlSeconds);
    }
  }
}

export function checkRevision(revision: number): number {
  if (!Number.isInteger(revision) || revision < 0) throw new StoreError('STORE_INVALID_REVISION', `invalid revision ${revision}`);
  return revision;
}
