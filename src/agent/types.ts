/**
 * The agent's contracts. The kubelet (src/agent/kubelet) converges containers on the desired state
 * it reads from the AgentCache, and reports through the StatusSink. The link (src/agent/link)
 * fills the cache from the server while connected and drains the StatusSink to it; while the
 * server is unreachable the cache is what keeps pods running and brings them back after an agent
 * restart or a reboot (edge autonomy). Objects are plain Kubernetes JSON.
 */
import type { NodeStatsReport } from '../common/link/protocol.ts';
import type { KubeJson } from './kube-json.ts';

export type { KubeJson };

/** What the agent caches, as Kubernetes kinds. */
export type CachedKind = 'Pod' | 'ConfigMap' | 'Secret' | 'ServiceAccount' | 'Node' | 'PersistentVolumeClaim' | 'PersistentVolume' | 'Service' | 'EndpointSlice';

export interface CacheChange {
  readonly kind: CachedKind;
  readonly namespace: string;
  readonly name: string;
  /** The new object, or undefined when it was deleted. */
  readonly object: KubeJson | undefined;
}

/** One object of the node's desired state to store, or to remove (`object` undefined). */
export interface CacheWrite {
  readonly kind: CachedKind;
  readonly namespace: string;
  readonly name: string;
  readonly object?: KubeJson;
}

/** What one link message brings: its objects and the revision they bring the cache to. */
export interface CacheUpdate {
  /** The revision of the node's desired state after this update (the link resumes from it). */
  readonly revision: string;
  /** Applied in order; a key written twice ends with the last write. */
  readonly writes: readonly CacheWrite[];
  /** A snapshot: every cached object that `writes` does not mention is removed. */
  readonly replace?: boolean;
}

/**
 * The node's desired state, persisted on the device (SQLite) so that it survives agent restarts
 * and reboots without the server. Writes come from the link; reads and change notifications
 * serve the kubelet.
 */
export interface AgentCache {
  put(kind: CachedKind, object: KubeJson): Promise<void>;
  delete(kind: CachedKind, namespace: string, name: string): Promise<void>;
  /**
   * Applies one link message in one transaction: its writes and its revision commit together, so
   * after a crash the cache holds the state before the message or after it, never a mix.
   */
  apply(update: CacheUpdate): Promise<void>;
  get(kind: CachedKind, namespace: string, name: string): Promise<KubeJson | undefined>;
  list(kind: CachedKind): Promise<KubeJson[]>;
  /** The revision of the last applied update, from which the link resumes its watch after a reconnect. */
  resumeRevision(): Promise<string | undefined>;
  /** Called after every committed change; returns an unsubscribe function. */
  subscribe(listener: (change: CacheChange) => void): () => void;
  close(): Promise<void>;
}

/** A core/v1 Event as the kubelet reports it. */
export interface AgentEvent {
  readonly involvedObject: { kind: string; namespace: string; name: string; uid: string; fieldPath?: string };
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  /** When it happened (ms since epoch); events that happen offline are reported later with their time. */
  readonly at: number;
}

/**
 * Where the kubelet's reports go. Implementations queue while the server is unreachable and
 * deliver the latest pod statuses (not every intermediate one) when the link returns.
 */
export interface StatusSink {
  /** The pod's full `status` object (phase, conditions, containerStatuses, podIP, hostIP, …). */
  podStatus(pod: { namespace: string; name: string; uid: string }, status: KubeJson): void;
  /** The node's `status` object (conditions, addresses, capacity, allocatable, nodeInfo, images). */
  nodeStatus(status: KubeJson): void;
  event(e: AgentEvent): void;
  /**
   * Optional: a pod with a deletionTimestamp has no running container left (its final status was
   * reported first). Like the kubelet's status manager, the link then deletes the pod on the server
   * with gracePeriodSeconds 0 and a uid precondition, which completes the graceful deletion.
   */
  podTerminated?(pod: { namespace: string; name: string; uid: string }): void;
  /**
   * Optional: the kubelet hands over its usage sampler; the link answers the server's stats
   * requests (metrics.k8s.io, `kubectl top`) with it. Nothing is sent unless the server asks.
   */
  serveStats?(sample: UsageSampler): void;
}

/** Samples the node's and its pods' resource usage now (the kubelet's StatsCollector). */
export type UsageSampler = () => Promise<NodeStatsReport>;
