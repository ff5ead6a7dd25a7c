/**
 * The edge's metrics, from what the link server counts (link/link-traffic.ts), computed when
 * scraped: agents connected now, link connects and disconnects, and per node the link's bytes each
 * way and when its agent was last heard — `time() - edgeos_node_last_seen_timestamp_seconds` is
 * how long a site has been offline.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { LinkNodeTraffic, LinkTraffic } from '../link/types.ts';

export function linkMetrics(registry: Registry, links: () => LinkTraffic | undefined): void {
  new Gauge({
    name: 'edgeos_link_connected_agents',
    help: 'Agents with a live link to this server.',
    registers: [registry],
    collect() {
      this.set(links()?.connectedAgents() ?? 0);
    },
  });
  // Counters computed from totals: reset, then set to the total (prom-client has no counter.set).
  const total = (name: string, help: string, read: (l: LinkTraffic) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const l = links();
        if (l) this.inc(read(l));
      },
    });
  total('edgeos_link_connects_total', 'Agent links opened since the server started.', (l) => l.connects);
  total('edgeos_link_disconnects_total', 'Agent links closed since the server started.', (l) => l.disconnects);
  const perNode = (name: string, help: string, read: (t: LinkNodeTraffic) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['node'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [node, t] of links()?.nodes() ?? []) this.inc({ node }, read(t));
      },
    });
  perNode('edgeos_link_receive_bytes_total', "Link message payload bytes received from the node's agent since the server started.", (t) => t.bytesIn);
  perNode('edgeos_link_transmit_bytes_total', "Link message payload bytes sent to the node's agent since the server started.", (t) => t.bytesOut);
  new Gauge({
    name: 'edgeos_node_last_seen_timestamp_seconds',
    help: "When the node's agent was last heard on its link (any message, ping or pong), in seconds since the epoch.",
    labelNames: ['node'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [node, t] of links()?.nodes() ?? []) this.set({ node }, t.lastSeenMs / 1000);
    },
  });
}
