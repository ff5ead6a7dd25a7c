/**
 * Field paths as sigs.k8s.io/structured-merge-diff names them. A path is a list of elements, each
 * encoded the way FieldsV1 keys are: `f:<field or map key>`, `k:<JSON object of an associative list
 * item's key fields, sorted by name>`, `v:<JSON of a set item>`, `i:<index>`. A whole path is the
 * elements joined by NUL, which no JSON encoding or real field name contains, so sets of paths are
 * plain string sets.
 */
import { isObject } from './json-value.ts';

export type PathElement = string;
export type FieldPath = string;

const separator = '\u0000';

export function fieldElement(name: string): PathElement {
  return `f:${name}`;
}

/** `k:{"containerPort":80,"protocol":"TCP"}`: key fields in name order, compact JSON. */
export function keyElement(key: Readonly<Record<string, unknown>>): PathElement {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(key).sort()) sorted[k] = key[k];
  return `k:${JSON.stringify(sorted)}`;
}

export function valueElement(value: unknown): PathElement {
  return `v:${JSON.stringify(value)}`;
}

export function joinPath(parent: FieldPath | undefined, element: PathElement): FieldPath {
  return parent === undefined || parent === '' ? element : `${parent}${separator}${element}`;
}

export function splitPath(path: FieldPath): PathElement[] {
  return path === '' ? [] : path.split(separator);
}

/** True when `path` is `ancestor` or lies below it. */
export function isWithin(path: FieldPath, ancestor: FieldPath): boolean {
  return path === ancestor || path.startsWith(`${ancestor}${separator}`);
}

/**
 * The path as SSA conflict messages print it (fieldpath.Path.String()): `.spec.replicas`,
 * `.spec.template.spec.containers[name="web"].image`, `.metadata.finalizers[="x"]`, `.list[0]`.
 */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const e of splitPath(path)) {
    const payload = e.slice(2);
    if (e.startsWith('f:')) out += `.${payload}`;
    else if (e.startsWith('i:')) out += `[${payload}]`;
    else if (e.startsWith('v:')) out += `[=${payload}]`;
    else if (e.startsWith('k:')) {
      const key: unknown = JSON.parse(payload);
      const parts = isObject(key) ? Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`) : [];
      out += `[${parts.join(',')}]`;
    }
  }
  return out;
}
