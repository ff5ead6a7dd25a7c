import type { Logger } from '../../common/log.ts';
import type { PodIpKeeper } from '../../runtime/cni/pod-ip-keeper.ts';
import type { ContainerRuntime, DnsConfig } from '../../runtime/types.ts';
import type { AgentCache, StatusSink } from '../types.ts';
import type { Backoff } from './backoff.ts';
import type { ClusterDns } from './dns.ts';
import type { EventRecorder } from './events.ts';
import type { DownwardContext } from './field-ref.ts';
import type { ImageManager } from './images.ts';
import type { PodRuntimeCache } from './pod-runtime-cache.ts';
import type { QosCgroups } from './qos-cgroups.ts';
import type { ClaimSource, ObjectSource } from './objects.ts';
import type { ServiceForEnv } from './service-env.ts';
import type { StartGate } from './start-gate.ts';
import type { TokenSource } from './volumes.ts';

/** What every pod worker shares: the node's settings, the runtime, the cache and the reporters. */
export interface KubeletContext {
  readonly nodeName: string;
  readonly runtime: ContainerRuntime;
  readonly cache: AgentCache;
  readonly objects: ObjectSource;
  readonly claims: ClaimSource;
  readonly status: StatusSink;
  readonly events: EventRecorder;
  readonly log: Logger;
  readonly rootDir: string;
  readonly podLogDir: string | undefined;
  readonly now: () => number;
  readonly crashBackoff: Backoff;
  readonly images: ImageManager;
  /** Read at each pod start: the cluster network can arrive from the server after the kubelet started. */
  readonly clusterDns: () => ClusterDns;
  readonly hostDns: () => Promise<DnsConfig>;
  /** The node's InternalIP and allocatable, for status, env and the downward API. */
  readonly node: () => Pick<DownwardContext, 'hostIP' | 'allocatable'> & { memoryCapacityBytes: number };
  readonly tokenSource: TokenSource | undefined;
  /** The cluster's Services (service-env.ts). */
  readonly services: () => Iterable<ServiceForEnv>;
  /** How often a pod worker syncs when neither the cache, the PLEG nor a probe woke it. */
  readonly resyncMs: number;
  /** Each pod's runtime state as its worker last saw it, kept current by the PLEG (none: always inspect). */
  readonly podRuntime?: PodRuntimeCache;
  /** Gives a recreated sandbox its pod's previous IP when free (none: whatever the IPAM hands out). */
  readonly podIps?: PodIpKeeper;
  /** The pods' QoS cgroup tree (none: containerd's default cgroups). */
  readonly qos?: QosCgroups;
  /** Bounds how many sandbox and container starts run at once (none: unbounded). */
  readonly starts?: StartGate;
  /** How long each pass of a pod worker took (kubelet_pod_worker_duration_seconds). */
  readonly observePodSync?: (seconds: number) => void;
}
