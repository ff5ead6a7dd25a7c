/**
 * A pool's workload as the PoolSet controller reads it: the revision it was written with (two
 * annotations the controller sets on each write), and from its status whether all replicas are
 * ready, updated, and rolled out — as `kubectl rollout status` judges a Deployment or StatefulSet.
 */
import type { KubeObject } from '../types.ts';
import { parseTime } from '../workloads/timestamps.ts';

/** The hash of the rendered workload (template plus the pool's tweaks) last written. */
export const REVISION_ANNOTATION = 'apps.edgeos.io/revision';
/** When it was written: a pool's progress deadline counts from here. */
export const REVISION_TIME_ANNOTATION = 'apps.edgeos.io/revision-time';

export interface WorkloadCounts {
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
}

const int = (v: unknown): number => (typeof v === 'number' ? v : 0);

export function writtenRevision(w: KubeObject): string | undefined {
  return w.metadata.annotations?.[REVISION_ANNOTATION];
}

export function writtenAt(w: KubeObject): number | undefined {
  return parseTime(w.metadata.annotations?.[REVISION_TIME_ANNOTATION]);
}

export function desiredReplicas(w: KubeObject): number {
  const r = (w.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof r === 'number' ? r : 1;
}

export function countsOf(w: KubeObject): WorkloadCounts {
  const s = (w.status ?? {}) as Record<string, unknown>;
  return { replicas: desiredReplicas(w), readyReplicas: int(s.readyReplicas), updatedReplicas: int(s.updatedReplicas) };
}

function observed(w: KubeObject): boolean {
  return int((w.status as { observedGeneration?: unknown } | undefined)?.observedGeneration) >= (w.metadata.generation ?? 0);
}

/** Every desired replica is ready (whatever template it runs). */
export function workloadReady(w: KubeObject): boolean {
  return observed(w) && int((w.status as Record<string, unknown> | undefined)?.readyReplicas) >= desiredReplicas(w);
}

/** The rollout of its current spec is over: exactly the desired replicas, all updated, ready (and available for a Deployment). */
export function workloadRolledOut(w: KubeObject, kind: 'Deployment' | 'StatefulSet'): boolean {
  const s = (w.status ?? {}) as Record<string, unknown>;
  const want = desiredReplicas(w);
  if (!observed(w) || int(s.replicas) !== want || int(s.updatedReplicas) !== want || int(s.readyReplicas) < want) return false;
  return kind === 'StatefulSet' || int(s.availableReplicas) >= want;
}
