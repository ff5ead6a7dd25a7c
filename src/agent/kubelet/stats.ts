/**
 * Resource usage for metrics.k8s.io (`kubectl top`), the kubelet's Summary API in one message:
 * every 15 s (and once shortly after start) the node's and each running container's CPU and
 * memory go to `StatusSink.stats`, which the link sends only while connected. CPU is a rate
 * computed here from the runtime's cumulative usage between this collector's own samples, so
 * other callers of containerStats (which move the runtime's own rate window) do not skew it;
 * memory is the working set, as metrics-server reports it.
 */
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { ContainerUsage, NodeStatsReport } from '../../common/link/protocol.ts';
import type { ContainerRuntime, ContainerStats, NodeStats, PodSandbox } from '../../runtime/types.ts';
import type { StatusSink } from '../types.ts';

export const STATS_INTERVAL_MS = 15_000;
/** The first report follows start by this much (a rate needs two samples). */
export const STATS_FIRST_MS = 2_000;

interface Sample {
  readonly cumulative: number;
  readonly at: number;
}

/**
 * Average nanocores between two cumulative samples (core-nanoseconds at ms timestamps). Without a
 * usable previous sample (the first, a restarted container whose counter went back) it is the
 * runtime's own rate, `fallback`.
 */
export function cpuNanoCores(prev: Sample | undefined, cur: Sample, fallback: number): number {
  if (!prev || cur.at <= prev.at || cur.cumulative < prev.cumulative) return Math.max(0, Math.round(fallback));
  return Math.round(((cur.cumulative - prev.cumulative) * 1000) / (cur.at - prev.at));
}

/**
 * One report from the runtime's answers: containers grouped by their pod sandbox (only sandboxes
 * of pods, i.e. with the pod's metadata), CPU rates against `prev`, which is updated in place
 * (and forgets containers that are gone).
 */
export function buildReport(
  input: { node: NodeStats; containers: readonly ContainerStats[]; sandboxes: readonly PodSandbox[]; now: number; lastAt: number | undefined; intervalMs: number },
  prev: Map<string, Sample>,
): NodeStatsReport {
  const seen = new Set<string>();
  const rate = (key: string, cumulative: number, at: number, fallback: number): number => {
    seen.add(key);
    const cur = { cumulative, at };
    const r = cpuNanoCores(prev.get(key), cur, fallback);
    prev.set(key, cur);
    return r;
  };
  const node = {
    cpuNanoCores: rate('node', input.node.cpuUsageCoreNanoSeconds, input.node.timestampMs, input.node.cpuUsageNanoCores),
    memoryBytes: input.node.memoryWorkingSetBytes,
  };
  const byPod = new Map<string, ContainerUsage[]>();
  for (const c of input.containers) {
    const usage: ContainerUsage = {
      name: c.name,
      cpuNanoCores: rate(c.containerId, c.cpuUsageCoreNanoSeconds, c.timestampMs, c.cpuUsageNanoCores),
      memoryBytes: c.memoryWorkingSetBytes,
    };
    const list = byPod.get(c.podSandboxId);
    if (list) list.push(usage);
    else byPod.set(c.podSandboxId, [usage]);
  }
  for (const key of [...prev.keys()]) if (!seen.has(key)) prev.delete(key);
  const pods: NodeStatsReport['pods'][number][] = [];
  for (const s of input.sandboxes) {
    const containers = byPod.get(s.id);
    if (!containers?.length || !s.metadata.uid || !s.metadata.name) continue;
    containers.sort((a, b) => a.name.localeCompare(b.name));
    pods.push({ namespace: s.metadata.namespace, name: s.metadata.name, uid: s.metadata.uid, containers });
  }
  return { timestamp: input.now, windowMs: input.lastAt !== undefined ? input.now - input.lastAt : input.intervalMs, node, pods };
}

export interface StatsCollectorOptions {
  readonly runtime: ContainerRuntime;
  readonly sink: StatusSink;
  readonly log: Logger;
  readonly now: () => number;
  readonly intervalMs?: number;
  readonly firstMs?: number;
}

export class StatsCollector {
  private readonly o: StatsCollectorOptions;
  private readonly prev = new Map<string, Sample>();
  private lastAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private busy = false;

  constructor(o: StatsCollectorOptions) {
    this.o = o;
  }

  /** Primes the rates now, reports after firstMs and then every intervalMs. A sink without `stats` gets nothing. */
  start(): void {
    if (!this.o.sink.stats) return;
    void this.tick(false);
    const next = (ms: number) => {
      this.timer = setTimeout(() => {
        void this.tick(true).finally(() => { if (!this.stopped) next(this.o.intervalMs ?? STATS_INTERVAL_MS); });
      }, ms);
      this.timer.unref();
    };
    next(this.o.firstMs ?? STATS_FIRST_MS);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Samples the runtime; sends the report when `send`. Failures are logged and skipped. */
  async tick(send: boolean): Promise<NodeStatsReport | undefined> {
    if (this.busy || this.stopped) return undefined;
    this.busy = true;
    try {
      const [node, containers, sandboxes] = await Promise.all([
        this.o.runtime.nodeStats(),
        this.o.runtime.containerStats(),
        this.o.runtime.listPodSandboxes({ state: 'ready' }),
      ]);
      const now = this.o.now();
      const report = buildReport({ node, containers, sandboxes, now, lastAt: this.lastAt, intervalMs: this.o.intervalMs ?? STATS_INTERVAL_MS }, this.prev);
      this.lastAt = now;
      if (send && !this.stopped) this.o.sink.stats?.(report);
      return report;
    } catch (err) {
      this.o.log.debug({ err: errorMessage(err) }, 'cannot sample resource usage');
      return undefined;
    } finally {
      this.busy = false;
    }
  }
}
