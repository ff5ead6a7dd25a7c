/** Reading one object from the store with apiserver's errors. */
import type { KeyValue } from '../../store/types.ts';
import type { KubeObject } from '../kinds/types.ts';
import { objectKey } from '../registry/index.ts';
import type { ResourceInfo } from '../registry/index.ts';
import type { ApiDeps } from './context.ts';
import { decodeStored } from './objects.ts';
import { notFound } from './status.ts';
import { translateStoreError } from './store-errors.ts';

export interface Current {
  readonly obj: KubeObject;
  readonly kv: KeyValue;
}

/** The stored key-value of one object, undecoded. */
export async function readStored(d: ApiDeps, r: ResourceInfo, namespace: string, name: string, revision?: number): Promise<KeyValue | undefined> {
  try {
    return await d.store.get(objectKey(r, namespace, name), revision ? { revision } : undefined);
  } catch (e) {
    throw translateStoreError(e, r, name);
  }
}

export async function readCurrent(d: ApiDeps, r: ResourceInfo, namespace: string, name: string, revision?: number): Promise<Current | undefined> {
  const kv = await readStored(d, r, namespace, name, revision);
  return kv ? { obj: decodeStored(r, kv), kv } : undefined;
}

export async function mustRead(d: ApiDeps, r: ResourceInfo, namespace: string, name: string): Promise<Current> {
  const cur = await readCurrent(d, r, namespace, name);
  if (!cur) throw notFound(r, name);
  return cur;
}
