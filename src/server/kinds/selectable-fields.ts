/**
 * Field-selector values, as each kind's GetAttrs / field label conversion computes them in
 * Kubernetes (pkg/registry/<group>/<kind>/strategy.go): most fields are plain dotted paths, a few
 * are computed (a pod's status.podIPs, a core Event's legacy `source`).
 */
import type { KubeObject, SelectableFields } from './types.ts';

/** The string value a field selector compares for a dotted path (booleans and numbers as text, anything else ""). */
export function fieldValue(obj: Record<string, unknown>, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return '';
}

/** Fields read by their dotted path. */
export function pathFields(...paths: string[]): Record<string, (obj: KubeObject) => string> {
  return Object.fromEntries(paths.map((p) => [p, (obj: KubeObject) => fieldValue(obj, p)]));
}

/** A boolean field that reads "false" when unset (Go's zero value). */
export function boolField(path: string): (obj: KubeObject) => string {
  return (obj) => fieldValue(obj, path) || 'false';
}

/** The fields every kind supports, plus the kind's own. */
export function selectableFields(own: SelectableFields | undefined): SelectableFields {
  return { ...pathFields('metadata.name', 'metadata.namespace'), ...own };
}
