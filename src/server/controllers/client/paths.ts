// URL paths of the Kubernetes API for a ResourceRef (apiserver's layout: /api/v1 for the core
// group, /apis/<group>/<version> for the others, /namespaces/<ns> before namespaced resources).
import type { ResourceRef } from '../types.ts';

export function resourcePath(ref: ResourceRef, name?: string, subresource?: string): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  const obj = name !== undefined ? `/${encodeURIComponent(name)}` : '';
  const sub = subresource ? `/${subresource}` : '';
  return `${base}${ns}/${ref.resource}${obj}${sub}`;
}

export function withQuery(path: string, query: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
