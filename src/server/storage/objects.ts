/**
 * Objects as the store holds them: JSON with every field except metadata.resourceVersion, which
 * is always the key's modRevision (as in Kubernetes' etcd3 storage). Served versions that share
 * storage are converted at this edge (convert.ts).
 */
import type { KeyValue } from '../../store/types.ts';
import type { KubeObject } from './types.ts';
import type { ResourceInfo } from '../registry/index.ts';
import { groupVersion } from '../registry/index.ts';
import { convertsForm, fromStorage, toStorage } from './convert.ts';

export function meta(obj: KubeObject): Record<string, unknown> {
  if (!obj.metadata || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) obj.metadata = {};
  return obj.metadata;
}

export function metaString(obj: KubeObject, field: string): string {
  const v = obj.metadata?.[field];
  return typeof v === 'string' ? v : '';
}

export function labelsOf(obj: KubeObject): Record<string, string> {
  const l = obj.metadata?.labels;
  return l && typeof l === 'object' ? (l as Record<string, string>) : {};
}

export function finalizersOf(obj: KubeObject): string[] {
  const f = obj.metadata?.finalizers;
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The object for the API: parsed, converted to the served version, resourceVersion set as the
 * first field of metadata — the place stored-json.ts splices it into the stored bytes, so both
 * paths serve the same JSON.
 */
export function decodeStored(r: ResourceInfo, kv: KeyValue): KubeObject {
  const obj = fromStorage(r, JSON.parse(kv.value.toString('utf8')) as KubeObject);
  obj.apiVersion = groupVersion(r.group, r.version);
  obj.kind = r.kind;
  const { resourceVersion: _stored, ...rest } = meta(obj);
  obj.metadata = { resourceVersion: String(kv.modRevision), ...rest };
  return obj;
}

/**
 * The stored JSON: no metadata.resourceVersion (the key's modRevision is), and apiVersion, kind,
 * metadata first whatever order the client sent — the order Kubernetes serializes in, and the
 * prefix stored-json.ts serves the bytes by.
 */
export function encodeForStore(r: ResourceInfo, obj: KubeObject): Buffer {
  // A conversion may change the object in place, so it works on a copy; without one, nothing here
  // changes `obj` (a deep copy of every written object was 2% of a create's CPU).
  const { apiVersion, kind, metadata, ...rest } = convertsForm(r) ? toStorage(r, structuredClone(obj)) : obj;
  let stored = metadata;
  if (metadata && 'resourceVersion' in metadata) {
    const { resourceVersion: _rv, ...others } = metadata;
    stored = others;
  }
  return Buffer.from(JSON.stringify({ apiVersion, kind, metadata: stored, ...rest }), 'utf8');
}

