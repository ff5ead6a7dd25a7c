/**
 * Resource usage of linked nodes, asked for on demand (metrics.k8s.io, `kubectl top`): nothing
 * crosses the link until someone reads metrics. A node's sample is fetched with a `stats-request`
 * and reused while younger than STATS_MAX_AGE_MS; concurrent reads of a node share one request.
 * A node that is not linked, cannot sample, or does not answer within STATS_TIMEOUT_MS has no
 * sample — metrics.k8s.io leaves it out, as metrics-server leaves out a node whose kubelet it
 * could not scrape. A timeout is remembered for STATS_MAX_AGE_MS, so a slow node does not make
 * every `kubectl top` wait; a refusal came fast and is not. A node's entry is dropped when its
 * link comes or goes. In memory only.
 */
import { EdgeosError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { LinkErrorCode } from '../../common/link/errors.ts';
import type { ContainerUsage, NodeStatsReport } from '../../common/link/protocol.ts';
import type { NodeStatsSample, NodeStatsSource } from './types.ts';

/** A sample (or its absence) is reused this long: about metrics-server's 15 s resolution. */
export const STATS_MAX_AGE_MS = 10_000;
/** A metrics read waits at most this long for an agent. */
export const STATS_TIMEOUT_MS = 5_000;

export interface NodeStatsCacheOptions {
  /** Asks the node's agent for a sample; rejects when it cannot (not linked, refused). */
  readonly fetch: (node: string, timeoutMs: number) => Promise<NodeStatsReport>;
  /** Nodes with a live link. */
  readonly linked: () => string[];
  readonly log: Logger;
  readonly now?: () => number;
  readonly maxAgeMs?: number;
  readonly timeoutMs?: number;
}

interface Entry {
  /** When the outcome arrived; undefined while the request is in flight. */
  at?: number;
  sample?: NodeStatsSample;
  inFlight?: Promise<NodeStatsSample | undefined>;
}

export class NodeStatsCache implements NodeStatsSource {
  private readonly entries = new Map<string, Entry>();
  private readonly o: NodeStatsCacheOptions;
  private readonly now: () => number;

  constructor(o: NodeStatsCacheOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  get(node: string): Promise<NodeStatsSample | undefined> {
    if (!this.o.linked().includes(node)) return Promise.resolve(undefined);
    const e = this.entries.get(node);
    if (e?.inFlight) return e.inFlight;
    if (e?.at !== undefined && this.now() - e.at < (this.o.maxAgeMs ?? STATS_MAX_AGE_MS)) return Promise.resolve(e.sample);
    // An entry forgotten meanwhile (the link came or went) serves only the reads already waiting.
    const entry: Entry = {};
    let remember = true;
    entry.inFlight = this.o.fetch(node, this.o.timeoutMs ?? STATS_TIMEOUT_MS).then(
      (report): NodeStatsSample | undefined => ({ ...sanitize(report), nodeName: node, receivedAt: this.now() }),
      (err: unknown) => {
        remember = err instanceof EdgeosError && err.code === LinkErrorCode.STATS_TIMEOUT;
        this.o.log.info({ node, err: errorMessage(err) }, 'no resource usage from the node: left out of metrics.k8s.io');
        return undefined;
      },
    ).then((sample) => {
      entry.at = this.now();
      entry.sample = sample;
      delete entry.inFlight;
      if (!remember && this.entries.get(node) === entry) this.entries.delete(node);
      return sample;
    });
    this.entries.set(node, entry);
    return entry.inFlight;
  }

  async all(): Promise<NodeStatsSample[]> {
    const samples = await Promise.all(this.o.linked().sort().map((n) => this.get(n)));
    return samples.filter((s): s is NodeStatsSample => s !== undefined);
  }

  /** Drops what is known of the node (its link connected or closed). */
  forget(node: string): void {
    this.entries.delete(node);
  }
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The answer comes from the wire: keep what has the right shape, zero what has not. */
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
