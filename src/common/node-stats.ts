/**
 * The contract between the API's metrics.k8s.io (src/server/api/subresources/metrics.ts), which
 * reads nodes' resource usage, and the server end of the link (src/server/link/node-stats.ts),
 * which asks the agents for it on demand. Like NodeTunnel (tunnel.ts) it lives here so the API
 * depends on a contract, not on the link.
 */
import type { NodeStatsReport } from './link/protocol.ts';

export interface NodeStatsSample extends NodeStatsReport {
  readonly nodeName: string;
  /** When the server received it (ms since epoch); the cache's age is judged by this clock. */
  readonly receivedAt: number;
}

export interface NodeStatsSource {
  /** Samples of all linked nodes that answered, by node name. */
  all(): Promise<NodeStatsSample[]>;
  /** The node's sample, or undefined when it has none (not linked, failed, too slow). */
  get(node: string): Promise<NodeStatsSample | undefined>;
}
