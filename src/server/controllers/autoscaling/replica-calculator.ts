/**
 * The replica count a resource metric asks for, as upstream's ReplicaCalculator computes it
 * (pkg/controller/podautoscaler/replica_calculator.go, GetResourceReplicas and
 * GetRawResourceReplicas): pods are grouped into ready, unready (pending, or CPU not yet
 * trustworthy after a start), missing (no metrics) and ignored (deleted, failed); within the
 * tolerance nothing changes; missing pods count as 100% of their request on a scale-down and 0%
 * on a scale-up, unready pods as 0% on a scale-up; a correction that would flip the direction is
 * dropped.
 */

export const TOLERANCE = 0.1;
/** Pods started less than this long ago have their CPU ignored while they are unready. */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** A pod's first readiness change within this long of its start counts as its initial one. */
export const DELAY_OF_INITIAL_READINESS_STATUS_MS = 30_000;

export interface PodInfo {
  readonly name: string;
  readonly phase: string;
  readonly deleting: boolean;
  /** ms since epoch, undefined before the kubelet reported it. */
  readonly startTime: number | undefined;
  readonly ready: { readonly status: boolean; readonly lastTransitionTime: number } | undefined;
  /** The sum of its containers' requests for the resource (milli-units for CPU, bytes for memory); undefined when a container has none. */
  readonly request: number | undefined;
  /** The container without a request, for the error. */
  readonly missingRequestContainer?: string;
}

export interface PodMetric {
  /** Same unit as PodInfo.request. */
  readonly value: number;
  /** When it was sampled, and over which window (ms). */
  readonly timestamp: number;
  readonly windowMs: number;
}

export interface ResourceTarget {
  readonly resource: string;
  /** averageUtilization (percent of requests) or averageValue (units per pod). */
  readonly utilization?: number;
  readonly averageValue?: number;
}

export interface ReplicaProposal {
  readonly replicas: number;
  /** averageUtilization (percent) when the target is a utilization. */
  readonly utilization?: number;
  /** Average per pod over the pods with metrics (same unit as the metric). */
  readonly averageValue: number;
}

export class ReplicaCalculationError extends Error {}

interface Grouped {
  readonly ready: number;
  readonly unready: Set<string>;
  readonly missing: Set<string>;
  readonly ignored: Set<string>;
}

function groupPods(pods: readonly PodInfo[], metrics: ReadonlyMap<string, PodMetric>, resource: string, now: number): Grouped {
  let ready = 0;
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    if (pod.deleting || pod.phase === 'Failed') {
      ignored.add(pod.name);
      continue;
    }
    if (pod.phase === 'Pending') {
      unready.add(pod.name);
      continue;
    }
    const metric = metrics.get(pod.name);
    if (!metric) {
      missing.add(pod.name);
      continue;
    }
    if (resource === 'cpu') {
      let isUnready: boolean;
      if (!pod.ready || pod.startTime === undefined) isUnready = true;
      else if (pod.startTime + CPU_INITIALIZATION_PERIOD_MS > now) {
        // Within the initialization period: unready, or its sample began before it became ready.
        isUnready = !pod.ready.status || metric.timestamp < pod.ready.lastTransitionTime + metric.windowMs;
      } else {
        // After it: unready only if it never became ready after its initial readiness window.
        isUnready = !pod.ready.status && pod.startTime + DELAY_OF_INITIAL_READINESS_STATUS_MS > pod.ready.lastTransitionTime;
      }
      if (isUnready) {
        unready.add(pod.name);
        continue;
      }
    }
    ready++;
  }
  return { ready, unready, missing, ignored };
}

/** Average over pods as a ratio to the target: utilization (percent of the summed requests) or value. */
function usageRatio(metrics: ReadonlyMap<string, number>, requests: ReadonlyMap<string, number>, target: ResourceTarget): { ratio: number; utilization?: number; average: number } {
  let used = 0;
  let requested = 0;
  let n = 0;
  for (const [pod, v] of metrics) {
    if (target.utilization !== undefined) {
      // Only pods whose request is known count (GetResourceUtilizationRatio).
      const r = requests.get(pod);
      if (r === undefined) continue;
      requested += r;
    }
    used += v;
    n++;
  }
  const average = n ? used / n : 0;
  if (target.utilization !== undefined) {
    if (requested === 0) throw new ReplicaCalculationError('no metrics returned matched known pods');
    const utilization = Math.trunc((used * 100) / requested);
    return { ratio: utilization / target.utilization, utilization, average };
  }
  const targetValue = target.averageValue ?? 0;
  return { ratio: targetValue > 0 ? average / targetValue : 0, average };
}

export function resourceReplicas(currentReplicas: number, target: ResourceTarget, pods: readonly PodInfo[], podMetrics: ReadonlyMap<string, PodMetric>, now: number): ReplicaProposal {
  if (pods.length === 0) throw new ReplicaCalculationError('no pods returned by selector while calculating replica count');
  const g = groupPods(pods, podMetrics, target.resource, now);
  const metrics = new Map<string, number>();
  for (const [name, m] of podMetrics) {
    if (!g.ignored.has(name) && !g.unready.has(name) && pods.some((p) => p.name === name)) metrics.set(name, m.value);
  }
  if (metrics.size === 0) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const requests = new Map<string, number>();
  if (target.utilization !== undefined) {
    for (const p of pods) {
      if (p.request === undefined) throw new ReplicaCalculationError(`missing request for ${target.resource} in container ${p.missingRequestContainer ?? ''} of Pod ${p.name}`);
      requests.set(p.name, p.request);
    }
  }
  const first = usageRatio(metrics, requests, target);
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1;
  const proposal = (replicas: number): ReplicaProposal => ({ replicas, averageValue: first.average, ...(first.utilization !== undefined ? { utilization: first.utilization } : {}) });
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= TOLERANCE) return proposal(currentReplicas);
    return proposal(Math.ceil(first.ratio * g.ready));
  }
  if (g.missing.size > 0) {
    if (first.ratio < 1) {
      // Scale-down: missing pods use 100% of their request (or the target, if higher).
      const fallback = Math.max(100, target.utilization ?? 100);
      for (const name of g.missing) {
        const r = requests.get(name);
        metrics.set(name, target.utilization !== undefined ? ((r ?? 0) * fallback) / 100 : (target.averageValue ?? 0));
      }
    } else if (first.ratio > 1) {
      for (const name of g.missing) metrics.set(name, 0);
    }
  }
  if (scaleUpWithUnready) for (const name of g.unready) metrics.set(name, 0);
  const second = usageRatio(metrics, requests, target);
  if (Math.abs(1 - second.ratio) <= TOLERANCE || (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1)) return proposal(currentReplicas);
  const replicas = Math.ceil(second.ratio * metrics.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas)) return proposal(currentReplicas);
  return proposal(replicas);
}
