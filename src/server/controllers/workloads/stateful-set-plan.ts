/**
 * What one StatefulSet sync should do (pkg/controller/statefulset/stateful_set_control.go
 * updateStatefulSet), as a pure function of the set, its pods and its two revisions:
 *  - replicas are the ordinals [start, start+replicas); with OrderedReady each waits for every
 *    lower one to be Running and Ready (Parallel does not wait), failed pods are recreated;
 *  - pods beyond are condemned and go from the highest ordinal, one at a time unless Parallel;
 *  - a RollingUpdate replaces the highest pod not at the update revision, one at a time, down to
 *    the partition, waiting for each replacement to be healthy;
 *  - status counts (replicas, ready, available, current, updated) and revisions.
 */
import type { KubeObject } from '../types.ts';
import { REVISION_LABEL } from './controller-revisions.ts';
import { isPodAvailable, isPodReady, podPhase } from './pods.ts';

export interface StatefulSetStatus {
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
}

export interface StatefulSetPlan {
  /** Ordinals to create now, with the revision name each pod must carry. */
  readonly create: { ordinal: number; revision: string }[];
  readonly remove: KubeObject[];
  readonly status: StatefulSetStatus;
}

interface SetSpec {
  replicas?: number;
  minReadySeconds?: number;
  podManagementPolicy?: string;
  ordinals?: { start?: number };
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
}

/** The ordinal in a pod name `<set>-<n>`, or undefined when the name is not one of ours. */
export function ordinalOf(setName: string, podName: string): number | undefined {
  const prefix = `${setName}-`;
  if (!podName.startsWith(prefix)) return undefined;
  const rest = podName.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

const revisionOf = (p: KubeObject): string => p.metadata.labels?.[REVISION_LABEL] ?? '';
const terminating = (p: KubeObject): boolean => Boolean(p.metadata.deletionTimestamp);
/** isRunningAndReady: what OrderedReady waits for. */
const healthy = (p: KubeObject): boolean => !terminating(p) && podPhase(p) === 'Running' && isPodReady(p);

export function planStatefulSet(set: KubeObject, pods: readonly KubeObject[], current: string, update: string, now: number): StatefulSetPlan {
  const spec = (set.spec ?? {}) as SetSpec;
  const name = set.metadata.name ?? '';
  const start = spec.ordinals?.start ?? 0;
  const replicas = spec.replicas ?? 1;
  const parallel = spec.podManagementPolicy === 'Parallel';
  const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;

  const byOrdinal = new Map<number, KubeObject>();
  const condemned: { ordinal: number; pod: KubeObject }[] = [];
  for (const p of pods) {
    const ord = ordinalOf(name, p.metadata.name ?? '');
    if (ord === undefined) continue;
    if (ord >= start && ord < start + replicas) byOrdinal.set(ord, p);
    else condemned.push({ ordinal: ord, pod: p });
  }
  condemned.sort((a, b) => b.ordinal - a.ordinal);

  const status = statefulSetStatus(set, pods, current, update, now);
  const create: StatefulSetPlan['create'] = [];
  const remove: KubeObject[] = [];
  const done = (): StatefulSetPlan => ({ create, remove, status });

  for (let ord = start; ord < start + replicas; ord++) {
    const p = byOrdinal.get(ord);
    if (!p) {
      // newVersionedStatefulSetPod: below the partition pods stay at the current revision.
      create.push({ ordinal: ord, revision: rolling && ord < start + partition ? current : update });
      if (!parallel) return done();
      continue;
    }
    const phase = podPhase(p);
    if ((phase === 'Failed' || phase === 'Succeeded') && !terminating(p)) {
      remove.push(p);
      if (!parallel) return done();
      continue;
    }
    if (!healthy(p) && !parallel) return done();
  }
  if (create.length || remove.length) return done();

  // Condemned pods: all at once when Parallel, else the highest one, once everything is healthy.
  if (condemned.length) {
    if (!parallel && [...byOrdinal.values(), ...condemned.map((c) => c.pod)].some((p) => !healthy(p) && !terminating(p))) return done();
    for (const { pod } of condemned) {
      if (terminating(pod)) {
        if (!parallel) return done();
        continue;
      }
      remove.push(pod);
      if (!parallel) return done();
    }
    return done();
  }

  if (!rolling) return done();
  for (let ord = start + replicas - 1; ord >= start + partition; ord--) {
    const p = byOrdinal.get(ord);
    if (!p) return done();
    if (revisionOf(p) !== update && !terminating(p)) {
      remove.push(p);
      return done();
    }
    if (!healthy(p)) return done();
  }
  return done();
}

/** computeReplicaStatus plus completeRollingUpdate. */
export function statefulSetStatus(set: KubeObject, pods: readonly KubeObject[], current: string, update: string, now: number): StatefulSetStatus {
  const spec = (set.spec ?? {}) as SetSpec;
  const minReady = spec.minReadySeconds ?? 0;
  const live = pods.filter((p) => !terminating(p));
  const s: StatefulSetStatus = {
    observedGeneration: set.metadata.generation ?? 0,
    replicas: pods.length,
    readyReplicas: pods.filter((p) => podPhase(p) === 'Running' && isPodReady(p)).length,
    availableReplicas: pods.filter((p) => podPhase(p) === 'Running' && isPodAvailable(p, minReady, now)).length,
    currentReplicas: live.filter((p) => revisionOf(p) === current).length,
    updatedReplicas: live.filter((p) => revisionOf(p) === update).length,
    currentRevision: current,
    updateRevision: update,
    collisionCount: (set.status as { collisionCount?: number } | undefined)?.collisionCount ?? 0,
  };
  const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  if (rolling && s.updatedReplicas === s.replicas && s.readyReplicas === s.replicas) {
    s.currentReplicas = s.updatedReplicas;
    s.currentRevision = update;
  }
  return s;
}
