/**
 * The latest resource usage each linked node reported (`stats` messages), in memory only: what
 * metrics.k8s.io serves (`kubectl top`). A node's sample is dropped when its link closes or when
 * it is older than STATS_STALE_MS (an agent that stopped sampling, e.g. its runtime is down).
 */
import type { ContainerUsage, NodeStatsReport } from '../../common/link/protocol.ts';

/** Samples older than this are not served (the agent reports every 15 s). */
export const STATS_STALE_MS = 120_000;

export interface NodeStatsSample extends NodeStatsReport {
  readonly nodeName: string;
  /** When the server received it (ms since epoch); staleness is judged by this clock. */
  readonly receivedAt: number;
}

/** What the API reads (src/server/api/subresources/metrics.ts). */
export interface NodeStatsSource {
  /** Fresh samples of all nodes, by node name. */
  all(): NodeStatsSample[];
  get(node: string): NodeStatsSample | undefined;
}

export class NodeStatsStore implements NodeStatsSource {
  private readonly samples = new Map<string, NodeStatsSample>();
  private readonly now: () => number;
  private readonly staleMs: number;

  constructor(opts: { now?: () => number; staleMs?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.staleMs = opts.staleMs ?? STATS_STALE_MS;
  }

  /** Keeps only the latest report of `node`; malformed parts of a report are left out. */
  put(nodeName: string, r: NodeStatsReport): void {
    this.samples.set(nodeName, { ...sanitize(r), nodeName, receivedAt: this.now() });
  }

  forget(nodeName: string): void {
    this.samples.delete(nodeName);
  }

  get(nodeName: string): NodeStatsSample | undefined {
    const s = this.samples.get(nodeName);
    if (!s) return undefined;
    if (this.now() - s.receivedAt > this.staleMs) {
      this.samples.delete(nodeName);
      return undefined;
    }
    return s;
  }

  all(): NodeStatsSample[] {
    return [...this.samples.keys()].sort().flatMap((n) => this.get(n) ?? []);
  }
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The message comes from the wire: keep what has the right shape, zero what has not. */
function sanitize(r: NodeStatsReport): NodeStatsReport {
  const pods = Array.isArray(r.pods) ? r.pods : [];
  return {
    timestamp: num(r.timestamp),
    windowMs: num(r.windowMs),
    node: { cpuNanoCores: num(r.node?.cpuNanoCores), memoryBytes: num(r.node?.memoryBytes) },
    pods: pods
      .filter((p) => p && str(p.namespace) && str(p.name))
      .map((p) => ({
        namespace: p.namespace,
        name: p.name,
        uid: str(p.uid),
        containers: (Array.isArray(p.containers) ? (p.containers as readonly ContainerUsage[]) : [])
          .filter((c) => c && str(c.name))
          .map((c) => ({ name: c.name, cpuNanoCores: num(c.cpuNanoCores), memoryBytes: num(c.memoryBytes) })),
      })),
  };
}
