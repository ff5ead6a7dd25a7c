/**
 * Conversion between versions that share storage. Custom resources use the "None" strategy
 * (only apiVersion changes). events.k8s.io/v1 Events are stored as core/v1 Events, as in
 * Kubernetes, and mapped field by field (k8s.io/kubernetes pkg/apis/events/v1 conversion).
 */
import type { KubeObject } from '../kinds/types.ts';
import type { ResourceInfo } from '../registry/index.ts';

type Json = Record<string, unknown>;

// [events.k8s.io/v1 field, core/v1 field]
const EVENT_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function isEventsGroup(r: ResourceInfo): boolean {
  return r.group === 'events.k8s.io' && r.kind === 'Event';
}

function rename(obj: Json, pairs: ReadonlyArray<readonly [string, string]>, fromIndex: 0 | 1): Json {
  const toIndex = fromIndex === 0 ? 1 : 0;
  for (const pair of pairs) {
    const from = pair[fromIndex];
    const to = pair[toIndex];
    if (from in obj) {
      obj[to] = obj[from];
      delete obj[from];
    }
  }
  return obj;
}

export function toStorage(r: ResourceInfo, obj: KubeObject): KubeObject {
  if (!isEventsGroup(r)) return obj;
  const out = rename(obj, EVENT_FIELDS, 0) as KubeObject;
  out.apiVersion = 'v1';
  return out;
}

export function fromStorage(r: ResourceInfo, obj: KubeObject): KubeObject {
  if (!isEventsGroup(r)) return obj;
  return rename(obj, EVENT_FIELDS, 1) as KubeObject;
}

/** True when a served version's objects differ in shape from the stored (core) form. */
export function convertsForm(r: ResourceInfo): boolean {
  return isEventsGroup(r);
}

/**
 * The kind behaviours (src/server/kinds) are written against the stored form (core/v1 Event), as
 * Kubernetes' strategies work on the internal type; these map a served object to that form and back.
 */
export function toBehaviorForm(r: ResourceInfo, obj: KubeObject): KubeObject {
  return convertsForm(r) ? toStorage(r, structuredClone(obj)) : obj;
}

export function fromBehaviorForm(r: ResourceInfo, obj: KubeObject, apiVersion: string | undefined): KubeObject {
  if (!convertsForm(r)) return obj;
  const out = fromStorage(r, obj);
  if (apiVersion !== undefined) out.apiVersion = apiVersion;
  return out;
}
