import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector } from 'kubernetes-types/core/v1';
import { bytes, milliCpu, parseQuantity } from './quantity.ts';

/** What the downward API can report besides the spec: the pod's and node's addresses and the node's allocatable. */
export interface DownwardContext {
  podIP: string;
  hostIP: string;
  allocatable: { cpuMilli: number; memoryBytes: number; ephemeralBytes: number };
}

const quote = (v: string): string => JSON.stringify(v);

/** labels/annotations as the downward API formats a whole map: key="value" lines, sorted. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${quote(m![k]!)}`).join('\n');
}

/** kubelet's podFieldSelectorRuntimeValue + fieldpath.ExtractFieldPathAsString. */
export function fieldRefValue(pod: Pod, ref: ObjectFieldSelector, ctx: DownwardContext): string {
  const m = pod.metadata ?? {};
  const path = ref.fieldPath;
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (sub) return (sub[1] === 'labels' ? m.labels : m.annotations)?.[sub[2]!] ?? '';
  switch (path) {
    case 'metadata.name': return m.name ?? '';
    case 'metadata.namespace': return m.namespace ?? '';
    case 'metadata.uid': return m.uid ?? '';
    case 'metadata.labels': return formatMap(m.labels);
    case 'metadata.annotations': return formatMap(m.annotations);
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP': return ctx.podIP;
    case 'status.podIPs': return ctx.podIP;
    case 'status.hostIP': return ctx.hostIP;
    case 'status.hostIPs': return ctx.hostIP;
    default: throw new Error(`unsupported fieldRef fieldPath "${path}"`);
  }
}

/**
 * kubelet's ExtractContainerResourceValue: the limit (or request) divided by the divisor, rounded
 * up; an unset limit reports the node's allocatable (MergeContainerResourceLimits).
 */
export function resourceFieldValue(container: Container, ref: ResourceFieldSelector, ctx: DownwardContext): string {
  const r = container.resources ?? {};
  const divisor = ref.divisor !== undefined ? parseQuantity(ref.divisor) : 1;
  const [kind, resource] = ref.resource.split('.') as [string, string | undefined];
  const from = kind === 'limits' ? r.limits : r.requests;
  const set = from?.[resource ?? ''];
  let value: number;
  switch (resource) {
    case 'cpu': value = (set !== undefined ? milliCpu(set) : kind === 'limits' ? ctx.allocatable.cpuMilli : 0) / 1000; break;
    case 'memory': value = set !== undefined ? bytes(set) : kind === 'limits' ? ctx.allocatable.memoryBytes : 0; break;
    case 'ephemeral-storage': value = set !== undefined ? bytes(set) : kind === 'limits' ? ctx.allocatable.ephemeralBytes : 0; break;
    default: throw new Error(`unsupported resourceFieldRef resource "${ref.resource}"`);
  }
  return String(Math.ceil(value / (divisor || 1) - 1e-9));
}
