/**
 * Resource usage for metrics.k8s.io (`kubectl top`), the kubelet's Summary API on demand. The
 * collector reads the runtime's cumulative CPU counters every 15 s and keeps the last two
 * readings on the device (nothing is sent); when the server asks (StatusSink.serveStats), it
 * reads the runtime again and answers with CPU rates — nanocores, the cumulative usage between a
 * kept reading and now — and the working-set memory of now, as metrics-server reports them. The
 * kept reading is the newest one at least MIN_WINDOW_MS old, so the window is 5–20 s (metrics-
 * server's own window is its 15 s scrape interval) and a request never moves it: two callers a
 * second apart both get rates over a real window, not over the second between them. Computing
 * from cumulative counters also keeps other callers of containerStats (which move the runtime's
 * own rate window) from skewing it. Right after start, with no reading yet, a request reads twice
 * FIRST_WINDOW_MS apart.
 */
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { ContainerUsage, NodeStatsReport } from '../../common/link/protocol.ts';
import type { ContainerRuntime, ContainerStats, NodeStats, PodSandbox } from '../../runtime/types.ts';
import type { StatusSink } from '../types.ts';

/** The local readings' period (nothing leaves the device). */
export const STATS_INTERVAL_MS = 15_000;
/** A request's rates span at least this long when a reading that old is kept. */
export const MIN_WINDOW_MS = 5_000;
/** Without a usable reading (just started, runtime was down), a request reads twice this far apart. */
export const FIRST_WINDOW_MS = 1_000;
/** Readings this many intervals old are not used (the runtime did not answer meanwhile). */
const MAX_READING_AGE_INTERVALS = 4;

interface Counter {
  readonly cumulative: number;
  readonly at: number;
}

/** The cumulative CPU counters of one reading of the runtime. */
export interface Counters {
  /** When it was read (the collector's clock, ms). */
  readonly at: number;
  readonly node: Counter;
  /** By container id. */
  readonly containers: ReadonlyMap<string, Counter>;
}

/** What the runtime answered at `now`. */
export interface RuntimeReading {
  readonly node: NodeStats;
  readonly containers: readonly ContainerStats[];
  readonly sandboxes: readonly PodSandbox[];
  readonly now: number;
}

/**
 * Average nanocores between two cumulative samples (core-nanoseconds at ms timestamps). Without a
 * usable previous sample (the container started after it, or restarted and its counter went back)
 * it is the runtime's own rate, `fallback`.
 */
export function cpuNanoCores(prev: Counter | undefined, cur: Counter, fallback: number): number {
  if (!prev || cur.at <= prev.at || cur.cumulative < prev.cumulative) return Math.max(0, Math.round(fallback));
  return Math.round(((cur.cumulative - prev.cumulative) * 1000) / (cur.at - prev.at));
}

export function countersOf(r: RuntimeReading): Counters {
  return {
    at: r.now,
    node: { cumulative: r.node.cpuUsageCoreNanoSeconds, at: r.node.timestampMs },
    containers: new Map(r.containers.map((c) => [c.containerId, { cumulative: c.cpuUsageCoreNanoSeconds, at: c.timestampMs }])),
  };
}

/** The kept reading to rate against: the newest at least `minWindowMs` old, else the oldest usable one. */
export function pickBaseline(kept: readonly Counters[], now: number, minWindowMs: number, maxAgeMs: number): Counters | undefined {
  const usable = kept.filter((k) => k.at < now && now - k.at <= maxAgeMs).sort((a, b) => a.at - b.at);
  return usable.findLast((k) => now - k.at >= minWindowMs) ?? usable[0];
}

/** The report of `cur`: containers grouped by their pod sandbox (only pods' sandboxes), CPU rates against `base`. */
export function buildReport(cur: RuntimeReading, base: Counters): NodeStatsReport {
  const node = {
    cpuNanoCores: cpuNanoCores(base.node, { cumulative: cur.node.cpuUsageCoreNanoSeconds, at: cur.node.timestampMs }, cur.node.cpuUsageNanoCores),
    memoryBytes: cur.node.memoryWorkingSetBytes,
  };
  const byPod = new Map<string, ContainerUsage[]>();
  for (const c of cur.containers) {
    const usage: ContainerUsage = {
      name: c.name,
      cpuNanoCores: cpuNanoCores(base.containers.get(c.containerId), { cumulative: c.cpuUsageCoreNanoSeconds, at: c.timestampMs }, c.cpuUsageNanoCores),
      memoryBytes: c.memoryWorkingSetBytes,
    };
    const list = byPod.get(c.podSandboxId);
    if (list) list.push(usage);
    else byPod.set(c.podSandboxId, [usage]);
  }
  const pods: NodeStatsReport['pods'][number][] = [];
  for (const s of cur.sandboxes) {
    const containers = byPod.get(s.id);
    if (!containers?.length || !s.metadata.uid || !s.metadata.name) continue;
    containers.sort((a, b) => a.name.localeCompare(b.name));
    pods.push({ namespace: s.metadata.namespace, name: s.metadata.name, uid: s.metadata.uid, containers });
  }
  return { timestamp: cur.now, windowMs: cur.now - base.at, node, pods };
}

export interface StatsCollectorOptions {
  readonly runtime: ContainerRuntime;
  readonly sink: StatusSink;
  readonly log: Logger;
  readonly now: () => number;
  readonly intervalMs?: number;
  readonly minWindowMs?: number;
  readonly firstWindowMs?: number;
}

export class StatsCollector {
  private readonly o: StatsCollectorOptions;
  /** The last two readings, oldest first. */
  private kept: Counters[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight: Promise<NodeStatsReport> | undefined;

  constructor(o: StatsCollectorOptions) {
    this.o = o;
  }

  private get intervalMs(): number {
    return this.o.intervalMs ?? STATS_INTERVAL_MS;
  }

  /** Hands `sample` to the sink and reads the runtime now and every intervalMs. A sink without `serveStats` gets nothing and nothing is read. */
  start(): void {
    if (!this.o.sink.serveStats) return;
    this.o.sink.serveStats(() => this.sample());
    const tick = (): void => {
      void this.keepReading().finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(tick, this.intervalMs);
        this.timer.unref();
      });
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Usage now, CPU as rates over the window since a kept reading; concurrent callers share one. */
  sample(): Promise<NodeStatsReport> {
    this.inFlight ??= this.take().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async take(): Promise<NodeStatsReport> {
    if (this.stopped) throw new Error('the kubelet is stopping');
    let cur = await this.read();
    let base = pickBaseline(this.kept, cur.now, this.o.minWindowMs ?? MIN_WINDOW_MS, MAX_READING_AGE_INTERVALS * this.intervalMs);
    if (!base) {
      base = countersOf(cur);
      this.keep(base);
      await new Promise((r) => setTimeout(r, this.o.firstWindowMs ?? FIRST_WINDOW_MS));
      cur = await this.read();
    }
    return buildReport(cur, base);
  }

  private async read(): Promise<RuntimeReading> {
    const [node, containers, sandboxes] = await Promise.all([
      this.o.runtime.nodeStats(),
      this.o.runtime.containerStats(),
      this.o.runtime.listPodSandboxes({ state: 'ready' }),
    ]);
    return { node, containers, sandboxes, now: this.o.now() };
  }

  private async keepReading(): Promise<void> {
    try {
      const [node, containers] = await Promise.all([this.o.runtime.nodeStats(), this.o.runtime.containerStats()]);
      this.keep(countersOf({ node, containers, sandboxes: [], now: this.o.now() }));
    } catch (err) {
      this.o.log.debug({ err: errorMessage(err) }, 'cannot read resource usage');
    }
  }

  private keep(c: Counters): void {
    this.kept = [...this.kept, c].sort((a, b) => a.at - b.at).slice(-2);
  }
}
