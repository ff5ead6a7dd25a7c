// The agent's own metrics without a server: the histogram exposition (cumulative buckets, +Inf
// equal to the count), runtime calls timed by the kubelet's operation_type names with errors
// counted and rethrown, and link bytes counted both ways by the dialer wrapper. The scrape through
// the server and the link is test/e2e/daily-commands.test.ts.
import { describe, expect, it } from 'vitest';
import type { LinkTransport, LinkTransportHandlers } from '../../src/common/link/transport.ts';
import { AgentMetrics, countingDialer, instrumentRuntime } from '../../src/agent/node-http/agent-metrics.ts';
import { serveNodeHttp } from '../../src/agent/node-http/index.ts';
import { exposition, Histogram } from '../../src/agent/node-http/prometheus.ts';
import { FakeRuntime } from '../../src/runtime/fake-runtime.ts';

const render = (m: AgentMetrics, link?: Parameters<AgentMetrics['families']>[0]): string => exposition(m.families(link));
const value = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
};

describe('agent metrics', () => {
  it('renders a histogram with cumulative buckets, +Inf equal to the count, and the sum', () => {
    const h = new Histogram([0.1, 1]);
    for (const v of [0.05, 0.5, 0.7, 3]) h.observe(v);
    const text = exposition([{ name: 'x_seconds', help: 'h', type: 'histogram', samples: h.samples({ op: 'a' }) }]);
    expect(text).toBe([
      '# HELP x_seconds h', '# TYPE x_seconds histogram',
      'x_seconds_bucket{op="a",le="0.1"} 1', 'x_seconds_bucket{op="a",le="1"} 3', 'x_seconds_bucket{op="a",le="+Inf"} 4',
      'x_seconds_sum{op="a"} 4.25', 'x_seconds_count{op="a"} 4', '',
    ].join('\n'));
  });

  it('exports the pod network relay\'s counters only while the relay exists', () => {
    const m = new AgentMetrics();
    const relay: { counters?: { sent: number; received: number; dropped: number } } = {};
    m.podRelay = () => relay.counters;
    expect(render(m)).not.toContain('edgeos_agent_pod_relay');
    relay.counters = { sent: 5, received: 7, dropped: 2 };
    const text = render(m);
    expect(value(text, 'edgeos_agent_pod_relay_packets_total{direction="sent"}')).toBe(5);
    expect(value(text, 'edgeos_agent_pod_relay_packets_total{direction="received"}')).toBe(7);
    expect(value(text, 'edgeos_agent_pod_relay_dropped_packets_total')).toBe(2);
  });

  it('exports the malloc trimmer\'s figures only while its addon is loaded', () => {
    const m = new AgentMetrics();
    const stats = { available: false, trims: 0, trimSeconds: 0, releasedBytes: 0, holeBytes: 0, arenaBytes: 0 };
    m.malloc = () => stats;
    expect(render(m)).not.toContain('edgeos_malloc');
    Object.assign(stats, { available: true, trims: 3, trimSeconds: 0.0006, releasedBytes: 4_194_304, holeBytes: 2_000_000, arenaBytes: 8_000_000 });
    const text = render(m);
    expect(value(text, 'edgeos_malloc_trims_total')).toBe(3);
    expect(value(text, 'edgeos_malloc_trim_cpu_seconds_total')).toBe(0.0006);
    expect(value(text, 'edgeos_malloc_trim_released_bytes_total')).toBe(4_194_304);
    expect(value(text, 'edgeos_malloc_free_bytes')).toBe(2_000_000);
    expect(value(text, 'edgeos_malloc_heap_bytes')).toBe(8_000_000);
  });

  it('times runtime calls by the kubelet\'s operation types and counts the failed ones', async () => {
    const m = new AgentMetrics();
    const rt = instrumentRuntime(new FakeRuntime(), m);
    await rt.listPodSandboxes();
    await rt.listPodSandboxes();
    await expect(rt.containerStatus('no-such-container')).rejects.toThrow(/not found/);
    const text = render(m);
    expect(value(text, 'kubelet_runtime_operations_total{operation_type="list_podsandbox"}')).toBe(2);
    expect(value(text, 'kubelet_runtime_operations_errors_total{operation_type="list_podsandbox"}')).toBe(0);
    expect(value(text, 'kubelet_runtime_operations_total{operation_type="container_status"}')).toBe(1);
    expect(value(text, 'kubelet_runtime_operations_errors_total{operation_type="container_status"}')).toBe(1);
    expect(value(text, 'kubelet_runtime_operations_duration_seconds_count{operation_type="list_podsandbox"}')).toBe(2);
    expect(value(text, 'kubelet_runtime_operations_duration_seconds_bucket{operation_type="list_podsandbox",le="+Inf"}')).toBe(2);
    // Calls outside the table (logs, lifecycle) pass through untimed.
    expect(text).not.toContain('operation_type="read_logs"');
  });

  it('counts the link\'s payload bytes each way and shows its state', async () => {
    const m = new AgentMetrics();
    let handlers: LinkTransportHandlers | undefined;
    const sent: string[] = [];
    const transport: LinkTransport = {
      attach: (h) => { handlers = h; },
      open: true,
      bufferedBytes: 0,
      sendText: (d) => { sent.push(d); },
      sendBinary: () => {},
      ping: () => {},
      close: () => {},
      terminate: () => {},
    };
    const t = await countingDialer(async () => transport, m)('https://server:6443', AbortSignal.timeout(1000));
    const received: string[] = [];
    t.attach({ text: (d) => received.push(d), binary: () => {}, heard: () => {}, closed: () => {} });
    handlers!.text('{"type":"hello"}');
    handlers!.binary(Buffer.alloc(100));
    t.sendText('héllo');
    t.sendBinary(Buffer.alloc(7));
    expect(received).toEqual(['{"type":"hello"}']);
    expect(sent).toEqual(['héllo']);
    const text = render(m, { connected: true, stats: { connects: 3, disconnects: 2 } });
    expect(value(text, 'edgeos_agent_link_receive_bytes_total')).toBe(16 + 100);
    expect(value(text, 'edgeos_agent_link_transmit_bytes_total')).toBe(6 + 7);
    expect(value(text, 'edgeos_agent_link_connected')).toBe(1);
    expect(value(text, 'edgeos_agent_link_connects_total')).toBe(3);
    expect(value(text, 'edgeos_agent_link_disconnects_total')).toBe(2);
  });

  it('shows the process\'s V8 heap by space: what part of its resident memory is V8\'s', async () => {
    const r = await serveNodeHttp({
      nodeName: 'n', runtime: new FakeRuntime(), pods: async () => [], sample: () => undefined, startedAt: 0,
    }, { kind: 'node-http', path: 'metrics', query: '' });
    const body = r.body;
    const old = value(body, 'nodejs_heap_space_size_total_bytes{space="old"}');
    expect(old).toBeGreaterThan(0);
    expect(value(body, 'nodejs_heap_space_size_used_bytes{space="old"}')).toBeLessThanOrEqual(old);
    expect(value(body, 'nodejs_heap_space_size_total_bytes{space="new"}')).toBeGreaterThan(0);
    expect(value(body, 'nodejs_heap_space_size_available_bytes{space="new"}')).toBeGreaterThanOrEqual(0);
    expect(value(body, 'nodejs_heap_size_total_bytes')).toBeGreaterThanOrEqual(old);
    expect(value(body, 'nodejs_external_memory_bytes')).toBeGreaterThan(0);
  });
});
