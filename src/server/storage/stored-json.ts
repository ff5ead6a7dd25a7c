/**
 * Serving objects as the store holds them. A stored value is the object's JSON without
 * metadata.resourceVersion (objects.ts). When it is already in the served form — the resource
 * converts nothing, and the value starts with the served apiVersion, kind and an object metadata —
 * the JSON of the object is those bytes with `"resourceVersion":"<modRevision>"` spliced in as the
 * first field of metadata: exactly what `JSON.stringify(decodeStored(r, kv))` produces, without
 * parsing and re-serialising the object (apiserver's watch cache keeps cached serializations for
 * the same reason). Any other value takes the decoding path. test/server/storage/stored-json.test.ts
 * compares the two byte for byte.
 */
import type { KeyValue } from '../../store/types.ts';
import type { KubeObject } from '../kinds/types.ts';
import { groupVersion } from '../registry/index.ts';
import type { ResourceInfo } from '../registry/index.ts';
import { convertsForm } from './convert.ts';
import { decodeStored } from './objects.ts';
import type { ListMetaOut, ListedObject } from './types.ts';

/** `{"apiVersion":…,"kind":…,"metadata":{` of a resource, or null when its objects are converted. */
const servedPrefixes = new WeakMap<ResourceInfo, Buffer | null>();

function servedPrefix(r: ResourceInfo): Buffer | null {
  let p = servedPrefixes.get(r);
  if (p === undefined) {
    p = convertsForm(r)
      ? null
      : Buffer.from(`{"apiVersion":${JSON.stringify(groupVersion(r.group, r.version))},"kind":${JSON.stringify(r.kind)},"metadata":{`, 'utf8');
    servedPrefixes.set(r, p);
  }
  return p;
}

const RESOURCE_VERSION = Buffer.from('"resourceVersion"', 'utf8');
const CLOSE_BRACE = 0x7d;

/**
 * The served JSON of a stored object as pieces to concatenate, or undefined when the value must be
 * decoded. A value that names a resourceVersion anywhere (Events and EndpointSlices carry object
 * references with one) is decoded too: the store never keeps metadata.resourceVersion, and a
 * splice next to a stored one would send the field twice.
 */
export function servedParts(r: ResourceInfo, kv: KeyValue): Buffer[] | undefined {
  const prefix = servedPrefix(r);
  const v = kv.value;
  if (prefix === null || v.length <= prefix.length || v.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) return undefined;
  if (v.indexOf(RESOURCE_VERSION, prefix.length) !== -1) return undefined;
  const emptyMetadata = v[prefix.length] === CLOSE_BRACE;
  const rv = Buffer.from(`"resourceVersion":"${kv.modRevision}"${emptyMetadata ? '' : ','}`, 'utf8');
  return [v.subarray(0, prefix.length), rv, v.subarray(prefix.length)];
}

export function listedObject(r: ResourceInfo, item: ListedObject): KubeObject {
  return item.obj ?? decodeStored(r, item.kv);
}

/** The served JSON of one object as pieces: the stored bytes when they can be, else its encoding. */
function servedItem(r: ResourceInfo, item: ListedObject): Buffer[] {
  return servedParts(r, item.kv) ?? [Buffer.from(JSON.stringify(listedObject(r, item)), 'utf8')];
}

/** The JSON of one stored object as served. */
export function servedJson(r: ResourceInfo, kv: KeyValue): Buffer {
  return Buffer.concat(servedItem(r, { kv }));
}

/**
 * `{"kind":"<List>","apiVersion":…,"metadata":{…},"items":[…]}` — the bytes JSON.stringify gives
 * for the decoded list, with each item served from its stored bytes where it can be.
 */
export function servedListJson(r: ResourceInfo, listMeta: ListMetaOut, items: readonly ListedObject[]): Buffer {
  const empty = JSON.stringify({ kind: r.listKind, apiVersion: groupVersion(r.group, r.version), metadata: listMeta, items: [] });
  // The envelope without its closing `]}`; items follow, comma-separated.
  const parts: Buffer[] = [Buffer.from(empty.slice(0, -2), 'utf8')];
  const comma = Buffer.from(',', 'utf8');
  items.forEach((item, i) => {
    if (i > 0) parts.push(comma);
    parts.push(...servedItem(r, item));
  });
  parts.push(Buffer.from(']}', 'utf8'));
  return Buffer.concat(parts);
}
