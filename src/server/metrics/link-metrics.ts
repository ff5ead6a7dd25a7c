/**
 * The edge's metrics, from what the link server counts (link/link-traffic.ts), computed when
 * scraped: agents connected now, link connects and disconnects, and per node the link's bytes each
 * way and when its agent was last heard — `time() - edgeos_node_last_seen_timestamp_seconds` is
 * how long a site has been offline.
 *
 * The per-node families are written here, not through prom-client: with 10,000 nodes prom-client
 * took ~40 ms to fill one labelled family and ~400 ms to render it (its per-series label handling),
 * over a second for the three, against the 200 ms a scrape may take (issue 19). Each is one loop
 * over the nodes writing lines of the same text format; the test parses them like the others.
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
  // The pod network relay (docs/podnet.md): node pairs without a direct path whose pods talk through this server.
  new Gauge({
    name: 'edgeos_link_relays',
    help: 'Node pairs (one direction each) whose pod traffic this server relayed in the last 10 s (docs/podnet.md).',
    registers: [registry],
    collect() {
      this.set(links()?.relay().pairs ?? 0);
    },
  });
  total('edgeos_link_relay_packets_total', 'Pod packets this server relayed between nodes.', (l) => l.relay().packets);
  total('edgeos_link_relay_bytes_total', 'Bytes of pod packets this server relayed between nodes.', (l) => l.relay().bytes);
  total('edgeos_link_relay_refused_packets_total', "Relay packets dropped: not from the sending node's pod CIDR, or not to another node's.", (l) => l.relay().refused);
  total('edgeos_link_relay_undeliverable_packets_total', 'Relay packets dropped: the destination node is not linked to this server, or its link is backed up.', (l) => l.relay().undeliverable);
  total('edgeos_link_connects_total', 'Agent links opened since the server started.', (l) => l.connects);
  total('edgeos_link_disconnects_total', 'Agent links closed since the server started.', (l) => l.disconnects);
}

const NODE_FAMILIES: readonly { name: string; type: 'counter' | 'gauge'; help: string; value: (t: LinkNodeTraffic) => number }[] = [
  { name: 'edgeos_link_receive_bytes_total', type: 'counter', help: "Link message payload bytes received from the node's agent since the server started.", value: (t) => t.bytesIn },
  { name: 'edgeos_link_transmit_bytes_total', type: 'counter', help: "Link message payload bytes sent to the node's agent since the server started.", value: (t) => t.bytesOut },
  {
    name: 'edgeos_node_last_seen_timestamp_seconds',
    type: 'gauge',
    help: "When the node's agent was last heard on its link (any message, ping or pong), in seconds since the epoch.",
    value: (t) => t.lastSeenMs / 1000,
  },
];

// The text format's label value escaping (node names, being DNS subdomains, never need it).
const labelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** The per-node families in the Prometheus text format (HELP and TYPE even when no node ever linked). */
export function renderNodeFamilies(links: LinkTraffic | undefined): string {
  const nodes = [...(links?.nodes() ?? [])].map(([node, t]) => [`{node="${labelValue(node)}"} `, t] as const);
  const out: string[] = [];
  for (const f of NODE_FAMILIES) {
    out.push(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`);
    for (const [labels, t] of nodes) out.push(`${f.name}${labels}${f.value(t)}\n`);
  }
  return out.join('');
}
