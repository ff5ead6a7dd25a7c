/**
 * The agent's own metrics, kubelet-style, answered at `/metrics` of the node proxy: runtime
 * operations by the kubelet's `operation_type` names (counts, errors, latency histograms), PLEG
 * relist and pod sync durations, and the link (connected, connects, disconnects, bytes each way).
 * Plain numbers updated where things happen; the exposition is built only when scraped.
 */
import type { HeapCompactStats } from '../../common/heap-compactor.ts';
import type { MallocTrimStats } from '../../common/malloc.ts';
import { tapTransport, type LinkDialer } from '../../common/link/transport.ts';
import type { ContainerRuntime } from '../../runtime/types.ts';
import { DEFAULT_BUCKETS, exponentialBuckets, Histogram } from './prometheus.ts';
import type { Family, Sample } from './prometheus.ts';

/** The kubelet's operation_type for each ContainerRuntime call (pkg/kubelet/kuberuntime/instrumented_services.go). */
const OPERATION_TYPES: Readonly<Partial<Record<keyof ContainerRuntime, string>>> = {
  version: 'version',
  status: 'status',
  runPodSandbox: 'run_podsandbox',
  stopPodSandbox: 'stop_podsandbox',
  removePodSandbox: 'remove_podsandbox',
  podSandboxStatus: 'podsandbox_status',
  listPodSandboxes: 'list_podsandbox',
  createContainer: 'create_container',
  startContainer: 'start_container',
  stopContainer: 'stop_container',
  removeContainer: 'remove_container',
  containerStatus: 'container_status',
  listContainers: 'list_containers',
  execSync: 'exec_sync',
  exec: 'exec',
  attach: 'attach',
  portForward: 'port_forward',
  containerStats: 'list_container_stats',
  imageStatus: 'image_status',
  listImages: 'list_images',
  pullImage: 'pull_image',
  removeImage: 'remove_image',
};

/** kubelet_runtime_operations_duration_seconds' buckets: 5 ms × 2.5^n, 14 of them (up to ~3 h, for pulls). */
const RUNTIME_BUCKETS = exponentialBuckets(0.005, 2.5, 14);

interface Operation {
  total: number;
  errors: number;
  readonly duration: Histogram;
}

/** What the link client tells about itself (LinkClient.connected and .stats). */
export interface LinkState {
  readonly connected: boolean;
  readonly stats: { readonly connects: number; readonly disconnects: number };
}

/** What the pod network relay carried (src/agent/podnet/relay.ts RelayCounters). */
export interface PodRelayCounters {
  readonly sent: number;
  readonly received: number;
  readonly dropped: number;
}

export class AgentMetrics {
  /** The pod network relay's counters (undefined while the node has no peer: no relay). */
  podRelay: (() => PodRelayCounters | undefined) | undefined;
  /** The process's malloc trimmer (src/common/malloc.ts); shown while its addon is loaded. */
  malloc: (() => MallocTrimStats) | undefined;
  /** The process's V8 heap compactor (src/common/heap-compactor.ts); shown while it runs. */
  heapCompact: (() => HeapCompactStats) | undefined;
  readonly #operations = new Map<string, Operation>();
  readonly #plegRelist = new Histogram(DEFAULT_BUCKETS);
  readonly #podSync = new Histogram(DEFAULT_BUCKETS);
  #bytesIn = 0;
  #bytesOut = 0;

  runtimeOperation(type: string, seconds: number, failed: boolean): void {
    let op = this.#operations.get(type);
    if (!op) {
      op = { total: 0, errors: 0, duration: new Histogram(RUNTIME_BUCKETS) };
      this.#operations.set(type, op);
    }
    op.total++;
    if (failed) op.errors++;
    op.duration.observe(seconds);
  }

  plegRelist(seconds: number): void {
    this.#plegRelist.observe(seconds);
  }

  podSync(seconds: number): void {
    this.#podSync.observe(seconds);
  }

  linkReceived(bytes: number): void {
    this.#bytesIn += bytes;
  }

  linkSent(bytes: number): void {
    this.#bytesOut += bytes;
  }

  families(link: LinkState | undefined): Family[] {
    const ops = [...this.#operations].sort(([a], [b]) => a.localeCompare(b));
    const per = (f: (o: Operation) => number): Sample[] => ops.map(([t, o]) => ({ labels: { operation_type: t }, value: f(o) }));
    const families: Family[] = [
      { name: 'kubelet_runtime_operations_total', help: 'Cumulative number of runtime operations by operation type.', type: 'counter', samples: per((o) => o.total) },
      { name: 'kubelet_runtime_operations_errors_total', help: 'Cumulative number of runtime operation errors by operation type.', type: 'counter', samples: per((o) => o.errors) },
      {
        name: 'kubelet_runtime_operations_duration_seconds', help: 'Duration in seconds of runtime operations. Broken down by operation type.', type: 'histogram',
        samples: ops.flatMap(([t, o]) => o.duration.samples({ operation_type: t })),
      },
      { name: 'kubelet_pleg_relist_duration_seconds', help: 'Duration in seconds for relisting pods in PLEG.', type: 'histogram', samples: this.#plegRelist.samples() },
      {
        name: 'kubelet_pod_worker_duration_seconds', help: 'Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync', type: 'histogram',
        samples: this.#podSync.samples({ operation_type: 'sync' }),
      },
      { name: 'edgeos_agent_link_receive_bytes_total', help: "The link's message payload bytes received from the server.", type: 'counter', samples: [{ value: this.#bytesIn }] },
      { name: 'edgeos_agent_link_transmit_bytes_total', help: "The link's message payload bytes sent to the server.", type: 'counter', samples: [{ value: this.#bytesOut }] },
    ];
    const relay = this.podRelay?.();
    if (relay) {
      families.push(
        {
          name: 'edgeos_agent_pod_relay_packets_total', help: 'Pod packets this node sent to the server\'s relay and received from it (docs/podnet.md).', type: 'counter',
          samples: [{ labels: { direction: 'sent' }, value: relay.sent }, { labels: { direction: 'received' }, value: relay.received }],
        },
        { name: 'edgeos_agent_pod_relay_dropped_packets_total', help: 'Relay packets dropped on this node: its link was down or backed up, or a packet from the server was not for its pods.', type: 'counter', samples: [{ value: relay.dropped }] },
      );
    }
    const malloc = this.malloc?.();
    if (malloc?.available) {
      families.push(
        { name: 'edgeos_malloc_trims_total', help: 'malloc_trim(0) calls that gave glibc\'s free pages back to the kernel.', type: 'counter', samples: [{ value: malloc.trims }] },
        { name: 'edgeos_malloc_trim_cpu_seconds_total', help: 'CPU time of the main thread spent in malloc_trim.', type: 'counter', samples: [{ value: malloc.trimSeconds }] },
        { name: 'edgeos_malloc_trim_released_bytes_total', help: 'Private resident bytes the trims gave back to the kernel (measured around each call).', type: 'counter', samples: [{ value: malloc.releasedBytes }] },
        { name: 'edgeos_malloc_free_bytes', help: 'Free bytes inside glibc\'s heap below its top (mallinfo2 fordblks - keepcost) at the last check; a trim returns their whole pages but they stay free.', type: 'gauge', samples: [{ value: malloc.holeBytes }] },
        { name: 'edgeos_malloc_heap_bytes', help: 'Bytes glibc took from the kernel for its heap and mmapped chunks (mallinfo2 arena + hblkhd) at the last check.', type: 'gauge', samples: [{ value: malloc.arenaBytes }] },
      );
    }
    const compact = this.heapCompact?.();
    if (compact?.available) {
      families.push(
        { name: 'edgeos_heap_compactions_total', help: 'Memory-reducing V8 GCs run because old space held 3 MiB more than it used.', type: 'counter', samples: [{ value: compact.compactions }] },
        { name: 'edgeos_heap_compaction_cpu_seconds_total', help: 'CPU time of the main thread spent in them.', type: 'counter', samples: [{ value: compact.cpuSeconds }] },
        { name: 'edgeos_heap_compaction_released_bytes_total', help: 'Old-space bytes committed before minus after each.', type: 'counter', samples: [{ value: compact.releasedBytes }] },
      );
    }
    if (link) {
      families.push(
        { name: 'edgeos_agent_link_connected', help: '1 while the link to a server is up, 0 otherwise.', type: 'gauge', samples: [{ value: link.connected ? 1 : 0 }] },
        { name: 'edgeos_agent_link_connects_total', help: 'Links to a server whose hello was accepted.', type: 'counter', samples: [{ value: link.stats.connects }] },
        { name: 'edgeos_agent_link_disconnects_total', help: 'Connection attempts that failed and links that dropped.', type: 'counter', samples: [{ value: link.stats.disconnects }] },
      );
    }
    return families;
  }
}

/**
 * The runtime with every call of the table timed into `metrics` (the kubelet's
 * instrumentedRuntimeService). Everything else (start, stop, ready, readLogs) passes through.
 */
export function instrumentRuntime<T extends ContainerRuntime>(runtime: T, metrics: AgentMetrics): T {
  return new Proxy(runtime, {
    get(target, prop, _receiver) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const type = OPERATION_TYPES[prop as keyof ContainerRuntime];
      const fn = value as (...args: unknown[]) => unknown;
      if (!type) return fn.bind(target);
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          const r = await fn.apply(target, args);
          metrics.runtimeOperation(type, (performance.now() - started) / 1000, false);
          return r;
        } catch (err) {
          metrics.runtimeOperation(type, (performance.now() - started) / 1000, true);
          throw err;
        }
      };
    },
  });
}

/** A dialer whose transports count the payload bytes that cross them (text and binary frames), as the server counts its side. */
export function countingDialer(dial: LinkDialer, metrics: AgentMetrics): LinkDialer {
  return async (server, signal) =>
    tapTransport(await dial(server, signal), {
      received: (bytes) => metrics.linkReceived(bytes),
      sent: (bytes) => metrics.linkSent(bytes),
    });
}
