/**
 * Conversion between a served version and the stored form. Custom resources use the "None"
 * strategy (only apiVersion changes); a built-in kind whose served form differs from what is stored
 * says how in its descriptor's `conversion` (events.k8s.io/v1 Events are stored as core/v1 Events,
 * autoscaling/v1 HorizontalPodAutoscalers as v2, as in Kubernetes).
 */
import { present } from '../kinds/types.ts';
import type { KubeObject, StorageConversion } from '../kinds/types.ts';
import type { ResourceInfo } from '../registry/index.ts';

function conversionOf(r: ResourceInfo): StorageConversion | undefined {
  const c = r.builtin && present(r.builtin.conversion);
  return c && c.storedVersion !== r.version ? c : undefined;
}

export function toStorage(r: ResourceInfo, obj: KubeObject): KubeObject {
  const c = conversionOf(r);
  return c ? c.toStorage(obj) : obj;
}

export function fromStorage(r: ResourceInfo, obj: KubeObject): KubeObject {
  const c = conversionOf(r);
  return c ? c.fromStorage(obj) : obj;
}

/** True when a served version's objects differ in shape from the stored form. */
export function convertsForm(r: ResourceInfo): boolean {
  return conversionOf(r) !== undefined;
}

/**
 * The kind strategies (src/server/kinds) are written against the stored form (core/v1 Event), as
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
