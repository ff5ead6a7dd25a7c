/**
 * Pieces shared by the apps/v1 and batch/v1 controllers' kinds: the immutable selector rule of
 * apps/v1 (ValidateDeploymentUpdate, ValidateReplicaSetUpdate, … — selectors became immutable in
 * apps/v1) and the status-count cells of their tables.
 */
import { jsonEqual, map, num } from './access.ts';
import { invalidRendered, FIELD_IMMUTABLE } from './field-errors.ts';
import { goLabelSelector } from './label-selector.ts';
import type { FieldError, KubeObject } from './types.ts';

export function selectorImmutable(obj: KubeObject, old: KubeObject, path = 'spec.selector'): FieldError[] {
  const now = map(obj.spec)?.selector;
  const before = map(old.spec)?.selector;
  return jsonEqual(now, before) ? [] : [invalidRendered(path, goLabelSelector(now), FIELD_IMMUTABLE)];
}

export function specOf(obj: KubeObject): Record<string, unknown> {
  return map(obj.spec) ?? {};
}

export function statusOf(obj: KubeObject): Record<string, unknown> {
  return map(obj.status) ?? {};
}

/** An int32 field printed as a number, 0 when unset (Go zero value). */
export function count(v: unknown): number {
  return num(v) ?? 0;
}
