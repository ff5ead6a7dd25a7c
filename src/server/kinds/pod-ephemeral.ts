/**
 * pods/ephemeralcontainers (`kubectl debug`), validated as ValidatePodEphemeralContainersUpdate
 * and validateEphemeralContainers do: containers may only be added, never changed or removed; a
 * name is unique across all of the pod's containers; an image is required; ports, probes,
 * lifecycle and resources cannot be set; `targetContainerName` names a container of the pod.
 */
import { jsonEqual, list, map, maps, str, type JsonMap } from './access.ts';
import { duplicate, forbidden, notFound, required } from './field-errors.ts';
import type { FieldError, KubeObject } from './types.ts';

const NOT_ALLOWED = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resizePolicy', 'restartPolicy'] as const;

const names = (v: unknown): string[] => maps(v).map((c) => str(c.name) ?? '');

export function validateEphemeralContainersUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = map(pod.spec) ?? {};
  const oldList = maps(map(old.spec)?.ephemeralContainers);
  const newList = maps(spec.ephemeralContainers);
  const byName = new Map(newList.map((c) => [str(c.name) ?? '', c]));
  for (const o of oldList) {
    const name = str(o.name) ?? '';
    const n = byName.get(name);
    if (!n) errs.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers "${name}" may not be removed`));
    else if (!jsonEqual(n, o)) errs.push(forbidden(`spec.ephemeralContainers[${newList.indexOf(n)}]`, `existing ephemeral containers "${name}" may not be changed`));
  }
  const regular = [...names(spec.containers), ...names(spec.initContainers)];
  const seen = new Set<string>(regular);
  newList.forEach((c: JsonMap, i) => {
    const path = `spec.ephemeralContainers[${i}]`;
    const name = str(c.name) ?? '';
    if (!name) errs.push(required(`${path}.name`));
    else if (seen.has(name)) errs.push(duplicate(`${path}.name`, name));
    seen.add(name);
    if (!str(c.image)) errs.push(required(`${path}.image`));
    for (const f of NOT_ALLOWED) if (c[f] !== undefined && c[f] !== null) errs.push(forbidden(`${path}.${f}`, 'cannot be set for an Ephemeral Container'));
    const res = map(c.resources);
    if (res && (Object.keys(map(res.limits) ?? {}).length || Object.keys(map(res.requests) ?? {}).length)) errs.push(forbidden(`${path}.resources`, 'cannot be set for an Ephemeral Container'));
    const target = str(c.targetContainerName);
    if (target && !regular.includes(target)) errs.push(notFound(`${path}.targetContainerName`, target));
  });
  if (list(spec.ephemeralContainers).length !== newList.length) errs.push(required('spec.ephemeralContainers'));
  return errs;
}
