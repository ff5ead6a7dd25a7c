/** Reading one object from the store: decoded with apiserver's errors, or raw for the authorizers. */
import type { Logger } from '../../common/log.ts';
import type { KeyValue, Store } from '../../store/types.ts';
import { notFound } from './status.ts';
import { objectKey } from '../registry/index.ts';
import type { ResourceInfo } from '../registry/index.ts';
import { decodeStored } from './objects.ts';
import { translateStoreError } from './store-errors.ts';
import type { Current } from './types.ts';

/** The stored key-value of one object, undecoded. */
export async function readStored(store: Store, r: ResourceInfo, namespace: string, name: string, revision?: number): Promise<KeyValue | undefined> {
  try {
    return await store.get(objectKey(r, namespace, name), revision ? { revision } : undefined);
  } catch (e) {
    throw translateStoreError(e, r, name);
  }
}

export async function readCurrent(store: Store, r: ResourceInfo, namespace: string, name: string, revision?: number): Promise<Current | undefined> {
  const kv = await readStored(store, r, namespace, name, revision);
  return kv ? { obj: decodeStored(r, kv), kv } : undefined;
}

export async function mustRead(store: Store, r: ResourceInfo, namespace: string, name: string): Promise<Current> {
  const cur = await readCurrent(store, r, namespace, name);
  if (!cur) throw notFound(r, name);
  return cur;
}

/**
 * Reads a stored object for an authorization decision. A value that is not JSON is logged and
 * treated as absent: a damaged object must deny, never crash the request.
 */
export async function readStoredJson<T>(store: Store, log: Logger, key: string): Promise<T | undefined> {
  const kv = await store.get(key);
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value.toString('utf8')) as T;
  } catch (err) {
    log.error({ key, err }, 'ignoring a stored object that is not JSON');
    return undefined;
  }
}
