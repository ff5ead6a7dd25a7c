/**
 * ReplicaSet status (pkg/controller/replicaset/replica_set_utils.go calculateStatus): counts over
 * the active pods the ReplicaSet controls. Kept pure so the arithmetic is table-tested.
 */
import type { KubeObject } from '../types.ts';
import { isPodAvailable, isPodReady } from './pods.ts';

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  observedGeneration: number;
  conditions?: Record<string, unknown>[];
}

/** A pod is "fully labeled" when it carries every label of the template with the same value. */
function fullyLabeled(pod: KubeObject, templateLabels: Record<string, string>): boolean {
  const labels = pod.metadata.labels ?? {};
  return Object.entries(templateLabels).every(([k, v]) => labels[k] === v);
}

export function replicaSetStatus(rs: KubeObject, activePods: readonly KubeObject[], now: number): ReplicaSetStatus {
  const spec = (rs.spec ?? {}) as { minReadySeconds?: number; template?: { metadata?: { labels?: Record<string, string> } } };
  const templateLabels = spec.template?.metadata?.labels ?? {};
  const minReady = spec.minReadySeconds ?? 0;
  const status: ReplicaSetStatus = {
    replicas: activePods.length,
    fullyLabeledReplicas: activePods.filter((p) => fullyLabeled(p, templateLabels)).length,
    readyReplicas: activePods.filter(isPodReady).length,
    availableReplicas: activePods.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata.generation ?? 0,
  };
  return status;
}

/**
 * The ReplicaFailure condition upstream sets when creating or deleting pods failed (reason
 * FailedCreate / FailedDelete) and removes once a sync succeeds.
 */
export function withReplicaFailure(status: ReplicaSetStatus, previous: readonly Record<string, unknown>[] | undefined, failure: { reason: string; message: string } | undefined, now: string): ReplicaSetStatus {
  const others = (previous ?? []).filter((c) => c.type !== 'ReplicaFailure');
  const old = (previous ?? []).find((c) => c.type === 'ReplicaFailure');
  if (!failure) return others.length ? { ...status, conditions: others } : status;
  const cond = { type: 'ReplicaFailure', status: 'True', lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : now, reason: failure.reason, message: failure.message };
  return { ...status, conditions: [...others, cond] };
}
