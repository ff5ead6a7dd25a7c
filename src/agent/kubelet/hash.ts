import { createHash } from 'node:crypto';
import type { Container } from 'kubernetes-types/core/v1';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined && x !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => [k, canonical(x)]));
  }
  return v;
}

/**
 * The container spec hash the kubelet stores in io.kubernetes.container.hash: a restarted agent
 * compares it to the cached spec to know whether a running container is still the one the spec
 * asks for. Key order and absent-vs-null do not change it. Resources are left out, as the kubelet
 * does since in-place resize (a resize must not restart the container).
 */
export function containerHash(c: Container): string {
  const { resources: _resources, ...rest } = c;
  return createHash('sha256').update(JSON.stringify(canonical(rest))).digest('hex').slice(0, 16);
}
