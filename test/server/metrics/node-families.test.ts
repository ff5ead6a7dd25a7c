// The per-node families written without prom-client (src/server/metrics/link-metrics.ts).
import { describe, expect, it } from 'vitest';
import { renderNodeFamilies } from '../../../src/server/metrics/link-metrics.ts';
import type { LinkNodeTraffic, LinkTraffic } from '../../../src/server/link/types.ts';

const traffic = (nodes: Record<string, LinkNodeTraffic>): LinkTraffic => ({
  connects: 0,
  disconnects: 0,
  connectedAgents: () => 0,
  nodes: () => new Map(Object.entries(nodes)),
});

describe('per-node families', () => {
  it('writes HELP, TYPE and one sample per node for each family', () => {
    const text = renderNodeFamilies(traffic({ 'edge-1': { bytesIn: 10, bytesOut: 20, lastSeenMs: 1_700_000_000_500, connects: 1, disconnects: 0, events: [] }, 'edge-2': { bytesIn: 0, bytesOut: 0, lastSeenMs: 0, connects: 1, disconnects: 0, events: [] } }));
    expect(text.split('\n')).toEqual([
      "# HELP edgeos_link_receive_bytes_total Link message payload bytes received from the node's agent since the server started.",
      '# TYPE edgeos_link_receive_bytes_total counter',
      'edgeos_link_receive_bytes_total{node="edge-1"} 10',
      'edgeos_link_receive_bytes_total{node="edge-2"} 0',
      "# HELP edgeos_link_transmit_bytes_total Link message payload bytes sent to the node's agent since the server started.",
      '# TYPE edgeos_link_transmit_bytes_total counter',
      'edgeos_link_transmit_bytes_total{node="edge-1"} 20',
      'edgeos_link_transmit_bytes_total{node="edge-2"} 0',
      "# HELP edgeos_node_last_seen_timestamp_seconds When the node's agent was last heard on its link (any message, ping or pong), in seconds since the epoch.",
      '# TYPE edgeos_node_last_seen_timestamp_seconds gauge',
      'edgeos_node_last_seen_timestamp_seconds{node="edge-1"} 1700000000.5',
      'edgeos_node_last_seen_timestamp_seconds{node="edge-2"} 0',
      '',
    ]);
  });

  it('declares the families before any node linked, and escapes label values', () => {
    expect(renderNodeFamilies(undefined)).toMatch(/^# TYPE edgeos_node_last_seen_timestamp_seconds gauge$/m);
    expect(renderNodeFamilies(traffic({ 'a"b\\c\nd': { bytesIn: 1, bytesOut: 1, lastSeenMs: 1000, connects: 1, disconnects: 0, events: [] } }))).toContain('edgeos_link_receive_bytes_total{node="a\\"b\\\\c\\nd"} 1\n');
  });
});
