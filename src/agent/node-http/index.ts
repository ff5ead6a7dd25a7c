/**
 * The node's own HTTP endpoints, what a kubelet serves on port 10250 and monitoring reads through
 * the API server's `/api/v1/nodes/<n>/proxy/<path>`. An edge node only dials out, so these are
 * answered over the link's tunnel (docs/tunnel.md, "Node proxy"), on demand: nothing is sampled
 * for them in the background.
 *
 * | Path | Answer |
 * |---|---|
 * | `healthz` | `ok` |
 * | `pods` | the PodList of pods bound to this node, from the agent's cache (the kubelet's pod manager) |
 * | `stats/summary` | the Summary API (stats/v1alpha1): node and pods' CPU and memory |
 * | `metrics` | the agent process, its kubelet (running pods and containers, runtime operations, PLEG, pod syncs) and its link |
 * | `metrics/resource` | the kubelet's resource metrics (what metrics-server scrapes) |
 * | `metrics/cadvisor` | cAdvisor's container metrics, the subset containerd's stats give |
 *
 * Routes are a table (`NodeHttpRoute`) so another component can add its own path.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import type { NodeHttpHead, NodeHttpRequest } from '../../common/tunnel.ts';
import type { NodeStatsReport } from '../../common/link/protocol.ts';
import type { Container, ContainerRuntime, ContainerStats, NodeStats, PodSandbox } from '../../runtime/types.ts';
import type { KubeJson } from '../types.ts';
import type { AgentMetrics, LinkState } from './agent-metrics.ts';
import { exposition, PROMETHEUS_CONTENT_TYPE } from './prometheus.ts';
import type { Family, Sample } from './prometheus.ts';

export interface NodeHttpDeps {
  readonly nodeName: string;
  readonly runtime: ContainerRuntime;
  /** Pods bound to this node as the agent knows them. */
  readonly pods: () => Promise<readonly KubeJson[]>;
  /** The kubelet's CPU rates (shared with metrics.k8s.io's sampling), undefined before it runs. */
  readonly sample: () => Promise<NodeStatsReport> | undefined;
  /** When the node's agent started (ms since epoch): the Summary's node startTime. */
  readonly startedAt: number;
  /** The agent's runtime, kubelet and link counters (agent-metrics.ts), when it keeps them. */
  readonly metrics?: AgentMetrics;
  /** The link's state now (undefined before the link exists). */
  readonly link?: () => LinkState | undefined;
  readonly now?: () => number;
}

export interface NodeHttpResponse extends NodeHttpHead {
  readonly body: string;
}

export type NodeHttpRoute = (deps: NodeHttpDeps, query: URLSearchParams) => Promise<NodeHttpResponse>;

const JSON_TYPE = 'application/json';
const json = (body: unknown): NodeHttpResponse => ({ status: 200, contentType: JSON_TYPE, body: JSON.stringify(body) });
const text = (status: number, body: string): NodeHttpResponse => ({ status, contentType: 'text/plain; charset=utf-8', body });
const metrics = (families: readonly Family[]): NodeHttpResponse => ({ status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: exposition(families) });
const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** One reading of the runtime: the pods' sandboxes, their containers and cumulative usage. */
interface Reading {
  readonly at: number;
  readonly node: NodeStats;
  readonly sandboxes: ReadonlyMap<string, PodSandbox>;
  readonly containers: ReadonlyMap<string, Container>;
  readonly stats: readonly ContainerStats[];
}

async function read(d: NodeHttpDeps): Promise<Reading> {
  const [node, sandboxes, containers, stats] = await Promise.all([
    d.runtime.nodeStats(),
    d.runtime.listPodSandboxes({ state: 'ready' }),
    d.runtime.listContainers({ state: 'running' }),
    d.runtime.containerStats(),
  ]);
  return {
    at: (d.now ?? Date.now)(),
    node,
    sandboxes: new Map(sandboxes.filter((s) => s.metadata.uid && s.metadata.name).map((s) => [s.id, s])),
    containers: new Map(containers.map((c) => [c.id, c])),
    stats: stats.filter((s) => sandboxes.some((b) => b.id === s.podSandboxId)),
  };
}

const podLabels = (s: PodSandbox): Record<string, string> => ({ namespace: s.metadata.namespace, pod: s.metadata.name });
const seconds = (coreNanos: number): number => coreNanos / 1e9;

async function summary(d: NodeHttpDeps): Promise<NodeHttpResponse> {
  const [r, rates] = await Promise.all([read(d), d.sample()?.catch(() => undefined)]);
  const rateOf = (ns: string, pod: string, container: string): number | undefined =>
    rates?.pods.find((p) => p.namespace === ns && p.name === pod)?.containers.find((c) => c.name === container)?.cpuNanoCores;
  const time = rfc3339(r.at);
  const byPod = new Map<string, ContainerStats[]>();
  for (const s of r.stats) byPod.set(s.podSandboxId, [...(byPod.get(s.podSandboxId) ?? []), s]);
  const pods = [...r.sandboxes.values()].map((sb) => {
    const cs = (byPod.get(sb.id) ?? []).sort((a, b) => a.name.localeCompare(b.name));
    const containers = cs.map((s) => {
      const rate = rateOf(sb.metadata.namespace, sb.metadata.name, s.name) ?? s.cpuUsageNanoCores;
      return {
        name: s.name,
        startTime: rfc3339(r.containers.get(s.containerId)?.createdAtMs ?? sb.createdAtMs),
        cpu: { time, usageNanoCores: rate, usageCoreNanoSeconds: s.cpuUsageCoreNanoSeconds },
        memory: { time, usageBytes: s.memoryUsageBytes, workingSetBytes: s.memoryWorkingSetBytes },
        rootfs: { time, usedBytes: s.writableLayerBytes },
      };
    });
    const sum = (f: (c: (typeof containers)[number]) => number): number => containers.reduce((a, c) => a + f(c), 0);
    return {
      podRef: { name: sb.metadata.name, namespace: sb.metadata.namespace, uid: sb.metadata.uid },
      startTime: rfc3339(sb.createdAtMs),
      containers,
      cpu: { time, usageNanoCores: sum((c) => c.cpu.usageNanoCores), usageCoreNanoSeconds: sum((c) => c.cpu.usageCoreNanoSeconds) },
      memory: { time, usageBytes: sum((c) => c.memory.usageBytes), workingSetBytes: sum((c) => c.memory.workingSetBytes) },
    };
  });
  const n = r.node;
  return json({
    node: {
      nodeName: d.nodeName,
      startTime: rfc3339(d.startedAt),
      cpu: { time, usageNanoCores: rates?.node.cpuNanoCores ?? n.cpuUsageNanoCores, usageCoreNanoSeconds: n.cpuUsageCoreNanoSeconds },
      memory: { time, availableBytes: n.memoryAvailableBytes, workingSetBytes: n.memoryWorkingSetBytes },
      runtime: { imageFs: { time, capacityBytes: n.imageFsCapacityBytes, usedBytes: n.imageFsUsedBytes, availableBytes: Math.max(0, n.imageFsCapacityBytes - n.imageFsUsedBytes) } },
    },
    pods,
  });
}

/** The kubelet's /metrics/resource families, from one reading. */
async function resourceMetrics(d: NodeHttpDeps): Promise<NodeHttpResponse> {
  const r = await read(d);
  const ts = r.at;
  const containerCpu: Sample[] = [];
  const containerMem: Sample[] = [];
  const podCpu = new Map<string, number>();
  const podMem = new Map<string, number>();
  for (const s of r.stats) {
    const sb = r.sandboxes.get(s.podSandboxId);
    if (!sb) continue;
    const labels = { container: s.name, ...podLabels(sb) };
    containerCpu.push({ labels, value: seconds(s.cpuUsageCoreNanoSeconds), timestampMs: s.timestampMs });
    containerMem.push({ labels, value: s.memoryWorkingSetBytes, timestampMs: s.timestampMs });
    podCpu.set(sb.id, (podCpu.get(sb.id) ?? 0) + s.cpuUsageCoreNanoSeconds);
    podMem.set(sb.id, (podMem.get(sb.id) ?? 0) + s.memoryWorkingSetBytes);
  }
  const perPod = (m: Map<string, number>, f: (v: number) => number): Sample[] =>
    [...m].flatMap(([id, v]) => {
      const sb = r.sandboxes.get(id);
      return sb ? [{ labels: podLabels(sb), value: f(v), timestampMs: ts }] : [];
    });
  return metrics([
    { name: 'container_cpu_usage_seconds_total', help: 'Cumulative cpu time consumed by the container in core-seconds', type: 'counter', samples: containerCpu },
    { name: 'container_memory_working_set_bytes', help: 'Current working set of the container in bytes', type: 'gauge', samples: containerMem },
    { name: 'node_cpu_usage_seconds_total', help: 'Cumulative cpu time consumed by the node in core-seconds', type: 'counter', samples: [{ value: seconds(r.node.cpuUsageCoreNanoSeconds), timestampMs: r.node.timestampMs }] },
    { name: 'node_memory_working_set_bytes', help: 'Current working set of the node in bytes', type: 'gauge', samples: [{ value: r.node.memoryWorkingSetBytes, timestampMs: r.node.timestampMs }] },
    { name: 'pod_cpu_usage_seconds_total', help: 'Cumulative cpu time consumed by the pod in core-seconds', type: 'counter', samples: perPod(podCpu, seconds) },
    { name: 'pod_memory_working_set_bytes', help: 'Current working set of the pod in bytes', type: 'gauge', samples: perPod(podMem, (v) => v) },
    { name: 'scrape_error', help: '1 if there was an error while getting container metrics, 0 otherwise', type: 'gauge', samples: [{ value: 0 }] },
  ]);
}

/** cAdvisor's container families that containerd's stats give (no network or disk I/O counters). */
async function cadvisorMetrics(d: NodeHttpDeps): Promise<NodeHttpResponse> {
  const r = await read(d);
  const cpu: Sample[] = [];
  const ws: Sample[] = [];
  const usage: Sample[] = [];
  const fs: Sample[] = [];
  for (const s of r.stats) {
    const sb = r.sandboxes.get(s.podSandboxId);
    const c = r.containers.get(s.containerId);
    if (!sb) continue;
    const labels = { container: s.name, id: s.containerId, image: c?.image ?? '', name: s.containerId, ...podLabels(sb) };
    cpu.push({ labels, value: seconds(s.cpuUsageCoreNanoSeconds), timestampMs: s.timestampMs });
    ws.push({ labels, value: s.memoryWorkingSetBytes, timestampMs: s.timestampMs });
    usage.push({ labels, value: s.memoryUsageBytes, timestampMs: s.timestampMs });
    fs.push({ labels, value: s.writableLayerBytes, timestampMs: s.timestampMs });
  }
  return metrics([
    { name: 'container_cpu_usage_seconds_total', help: 'Cumulative cpu time consumed in seconds.', type: 'counter', samples: cpu },
    { name: 'container_memory_working_set_bytes', help: 'Current working set in bytes.', type: 'gauge', samples: ws },
    { name: 'container_memory_usage_bytes', help: 'Current memory usage in bytes, including all memory regardless of when it was accessed', type: 'gauge', samples: usage },
    { name: 'container_fs_usage_bytes', help: 'Number of bytes that are consumed by the container on this filesystem.', type: 'gauge', samples: fs },
    { name: 'machine_memory_bytes', help: 'Amount of memory installed on the machine.', type: 'gauge', samples: [{ value: r.node.memoryTotalBytes }] },
  ]);
}

/** The agent process itself and what its kubelet runs. */
async function agentMetrics(d: NodeHttpDeps): Promise<NodeHttpResponse> {
  const [sandboxes, containers] = await Promise.all([d.runtime.listPodSandboxes({ state: 'ready' }), d.runtime.listContainers()]);
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const byState = new Map<string, number>();
  for (const c of containers) byState.set(c.state, (byState.get(c.state) ?? 0) + 1);
  return metrics([
    { name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', type: 'counter', samples: [{ value: (cpu.user + cpu.system) / 1e6 }] },
    { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', type: 'gauge', samples: [{ value: mem.rss }] },
    { name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', type: 'gauge', samples: [{ value: Math.round(d.startedAt / 1000) }] },
    { name: 'nodejs_heap_size_used_bytes', help: 'Process heap size used from Node.js in bytes.', type: 'gauge', samples: [{ value: mem.heapUsed }] },
    { name: 'nodejs_heap_size_total_bytes', help: 'Process heap size from Node.js in bytes.', type: 'gauge', samples: [{ value: mem.heapTotal }] },
    { name: 'nodejs_external_memory_bytes', help: 'Node.js external memory size in bytes.', type: 'gauge', samples: [{ value: mem.external }] },
    // prom-client's names: where V8's part of the resident memory is (docs/arm64.md, "Memory").
    ...heapSpaceFamilies(),
    { name: 'kubelet_node_name', help: "The node's name. The count is always 1.", type: 'gauge', samples: [{ labels: { node: d.nodeName }, value: 1 }] },
    { name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox', type: 'gauge', samples: [{ value: sandboxes.length }] },
    { name: 'kubelet_running_containers', help: 'Number of containers currently running', type: 'gauge', samples: [...byState].map(([state, n]) => ({ labels: { container_state: state }, value: n })) },
    ...(d.metrics?.families(d.link?.()) ?? []),
  ]);
}

/** V8's heap by space (new, old, code, large objects, …): committed, used and available bytes. */
function heapSpaceFamilies(): Family[] {
  const spaces = getHeapSpaceStatistics();
  const family = (what: string, help: string, value: (s: (typeof spaces)[number]) => number): Family => ({
    name: `nodejs_heap_space_size_${what}_bytes`, help, type: 'gauge',
    samples: spaces.map((s) => ({ labels: { space: s.space_name.replace(/_space$/, '') }, value: value(s) })),
  });
  return [
    family('total', 'Process heap space size total from Node.js in bytes.', (s) => s.space_size),
    family('used', 'Process heap space size used from Node.js in bytes.', (s) => s.space_used_size),
    family('available', 'Process heap space size available from Node.js in bytes.', (s) => s.space_available_size),
  ];
}

export const NODE_HTTP_ROUTES: Readonly<Record<string, NodeHttpRoute>> = {
  healthz: async () => text(200, 'ok'),
  pods: async (d) => json({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: await d.pods() }),
  'stats/summary': summary,
  metrics: agentMetrics,
  'metrics/resource': resourceMetrics,
  'metrics/cadvisor': cadvisorMetrics,
};

/** Answers one node-http request: a route's answer, or 404 as the kubelet's mux answers. */
export async function serveNodeHttp(d: NodeHttpDeps, req: NodeHttpRequest, routes: Readonly<Record<string, NodeHttpRoute>> = NODE_HTTP_ROUTES): Promise<NodeHttpResponse> {
  const path = req.path.replace(/^\/+|\/+$/g, '');
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (!route) return text(404, '404 page not found\n');
  return route(d, new URLSearchParams(req.query));
}
