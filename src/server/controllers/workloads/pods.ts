/**
 * Pod predicates every workload controller shares (pkg/controller/controller_utils.go and
 * pkg/api/v1/pod): which pods count as active, ready and available, and the order in which a
 * controller prefers to delete them when scaling down.
 */
import { map, maps, num, str } from '../../kinds/access.ts';
import type { KubeObject } from '../types.ts';

export function podPhase(pod: KubeObject): string {
  return str(map(pod.status)?.phase) ?? '';
}

export function isTerminating(obj: KubeObject): boolean {
  return typeof obj.metadata.deletionTimestamp === 'string';
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
  const t = Date.parse(obj.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** controller.kubernetes.io/pod-deletion-cost (0 when absent or not an int32). */
function deletionCost(pod: KubeObject): number {
  const v = pod.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : 0;
}

/** logarithmicRankDiff: compare ages in powers-of-two buckets of seconds (LogarithmicScaleDown). */
function logRank(t: number, now: number): number {
  const d = (now - t) / 1000;
  return d <= 0 ? -1 : Math.floor(Math.log2(d));
}

/** The "random" tie-breaker upstream uses: the pods' uids. */
function byUid(a: KubeObject, b: KubeObject): number {
  const ua = a.metadata.uid ?? '';
  const ub = b.metadata.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * ActivePodsWithRanks.Less: the pod to delete first sorts first — unscheduled before scheduled,
 * Pending < Unknown < Running, not ready before ready, lower pod-deletion-cost first, more pods of
 * the same owner on its node (rank) first, ready for less time first, more restarts first, newer
 * first; times compare in logarithmic buckets (LogarithmicScaleDown) with the uid as tie-breaker.
 */
export function deletionComparator(now: number, rankOf: (pod: KubeObject) => number = () => 0): (a: KubeObject, b: KubeObject) => number {
  return (a, b) => {
    const nodeA = str(map(a.spec)?.nodeName) ?? '';
    const nodeB = str(map(b.spec)?.nodeName) ?? '';
    if ((nodeA === '') !== (nodeB === '')) return nodeA === '' ? -1 : 1;
    const phaseA = PHASE_RANK[podPhase(a)] ?? 1;
    const phaseB = PHASE_RANK[podPhase(b)] ?? 1;
    if (phaseA !== phaseB) return phaseA - phaseB;
    const readyA = isPodReady(a);
    const readyB = isPodReady(b);
    if (readyA !== readyB) return readyA ? 1 : -1;
    const costA = deletionCost(a);
    const costB = deletionCost(b);
    if (costA !== costB) return costA - costB;
    const rankA = rankOf(a);
    const rankB = rankOf(b);
    if (rankA !== rankB) return rankB - rankA;
    if (readyA && readyB) {
      const sa = readySince(a);
      const sb = readySince(b);
      if (sa !== sb) {
        // A ready pod without a transition time counts as ready for no time at all (afterOrZero).
        if (sa === undefined || sb === undefined) return sa === undefined ? -1 : 1;
        const diff = logRank(sa, now) - logRank(sb, now);
        return diff !== 0 ? diff : byUid(a, b);
      }
    }
    const ra = restarts(a);
    const rb = restarts(b);
    if (ra !== rb) return rb - ra;
    const ca = created(a);
    const cb = created(b);
    if (ca !== cb) {
      const diff = logRank(ca, now) - logRank(cb, now);
      return diff !== 0 ? diff : byUid(a, b);
    }
    return byUid(a, b);
  };
}

/**
 * getPodsRankedByRelatedPodsOnSameNode: each pod's rank is how many of the given pods share its
 * node, so scale-down thins out doubled-up nodes first.
 */
export function sameNodeRanks(pods: readonly KubeObject[]): (pod: KubeObject) => number {
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const node = str(map(p.spec)?.nodeName) ?? '';
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  return (pod) => {
    const node = str(map(pod.spec)?.nodeName) ?? '';
    return node ? (perNode.get(node) ?? 0) : 0;
  };
}

export function creationTime(obj: KubeObject): number {
  return created(obj);
}
