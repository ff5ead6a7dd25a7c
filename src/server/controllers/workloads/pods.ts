/**
 * Pod predicates every workload controller shares (pkg/controller/controller_utils.go and
 * pkg/api/v1/pod): which pods count as active, ready and available, and the order in which a
 * controller prefers to delete them when scaling down.
 */
import { map, maps, num, str } from '../../kinds/access.ts';
import type { KubeObject } from '../../kinds/types.ts';

export function podPhase(pod: KubeObject): string {
  return str(map(pod.status)?.phase) ?? '';
}

export function isTerminating(obj: KubeObject): boolean {
  return typeof map(obj.metadata)?.deletionTimestamp === 'string';
}

/** IsPodActive: not finished and not being deleted — what counts toward a replica count. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return phase !== 'Succeeded' && phase !== 'Failed' && !isTerminating(pod);
}

function readyCondition(pod: KubeObject): Record<string, unknown> | undefined {
  return maps(map(pod.status)?.conditions).find((c) => c.type === 'Ready');
}

/** IsPodReady: the Ready condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became Ready (ms since epoch), undefined when it is not ready. */
export function readySince(pod: KubeObject): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True') return undefined;
  const t = Date.parse(str(c.lastTransitionTime) ?? '');
  return Number.isNaN(t) ? undefined : t;
}

/**
 * IsPodAvailable: ready for at least minReadySeconds. A ready pod without a transition time counts
 * as available only when minReadySeconds is 0, as upstream.
 */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = readySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/** How long until a ready pod becomes available (ms), for requeueing; undefined when not applicable. */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, now: number): number | undefined {
  const since = readySince(pod);
  if (since === undefined || minReadySeconds <= 0) return undefined;
  const left = since + minReadySeconds * 1000 - now;
  return left > 0 ? left : undefined;
}

function restarts(pod: KubeObject): number {
  return maps(map(pod.status)?.containerStatuses).reduce((n, c) => Math.max(n, num(c.restartCount) ?? 0), 0);
}

function created(obj: KubeObject): number {
  const t = Date.parse(str(map(obj.metadata)?.creationTimestamp) ?? '');
  return Number.isNaN(t) ? 0 : t;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * controller.ActivePods Less: the pod to delete first sorts first — unscheduled before scheduled,
 * Pending < Unknown < Running, not ready before ready, ready for less time first, more restarts
 * first, then newer before older.
 */
export function deletionOrder(a: KubeObject, b: KubeObject): number {
  const nodeA = str(map(a.spec)?.nodeName) ?? '';
  const nodeB = str(map(b.spec)?.nodeName) ?? '';
  if ((nodeA === '') !== (nodeB === '')) return nodeA === '' ? -1 : 1;
  const phaseA = PHASE_RANK[podPhase(a)] ?? 1;
  const phaseB = PHASE_RANK[podPhase(b)] ?? 1;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(a);
  const readyB = isPodReady(b);
  if (readyA !== readyB) return readyA ? 1 : -1;
  if (readyA && readyB) {
    const sa = readySince(a) ?? 0;
    const sb = readySince(b) ?? 0;
    if (sa !== sb) return sb - sa;
  }
  const ra = restarts(a);
  const rb = restarts(b);
  if (ra !== rb) return rb - ra;
  return created(b) - created(a);
}

export function creationTime(obj: KubeObject): number {
  return created(obj);
}
