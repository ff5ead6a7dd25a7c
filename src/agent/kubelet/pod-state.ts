import type { Pod, PodStatus } from 'kubernetes-types/core/v1';
import type { PodProbes } from './probes.ts';
import type { Waiting } from './pod-status.ts';

/** What a pod worker remembers between syncs; everything else is re-read from cache and runtime. */
export interface PodState {
  readonly uid: string;
  /** The desired pod from the cache; undefined once it is gone. */
  pod: Pod | undefined;
  /** The last pod seen, kept for a graceful stop after it left the cache. */
  lastPod: Pod | undefined;
  /** Why containers are not running, from this pass (CrashLoopBackOff, ErrImagePull, …). */
  readonly waiting: Map<string, Waiting>;
  readonly probes: PodProbes;
  /** The last status handed to the StatusSink. */
  lastStatus: PodStatus | undefined;
  startTimeMs: number | undefined;
  /** The sandbox the managed /etc/hosts was written for, and its file. */
  hosts: { sandboxId: string; file: string } | undefined;
  /** Containers whose spec hash differs for a reason other than the image (logged once each). */
  readonly hashWarned: Set<string>;
  /** Volumes the pod's fsGroup was applied to (once per pod, as the kubelet mounts once). */
  readonly ownedVolumes: Set<string>;
  terminatedReported: boolean;
}

export const podRef = (pod: Pod): { namespace: string; name: string; uid: string } => ({
  namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '',
});

/** kubelet's format_pod: name_namespace(uid). */
export const podDesc = (pod: Pod): string => `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;

/** Go's time.Duration formatting for whole seconds ("10s", "1m20s", "5m0s"), as kubelet messages print it. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}
