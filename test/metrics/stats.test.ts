// Resource usage for `kubectl top`, piece by piece: the agent's CPU rates and report, the
// server's store of the latest report per node, and the metrics.k8s.io quantities.
import { describe, expect, it } from 'vitest';
import { StatsCollector, buildReport, cpuNanoCores } from '../../src/agent/kubelet/stats.ts';
import type { StatusSink } from '../../src/agent/types.ts';
import type { NodeStatsReport } from '../../src/common/link/protocol.ts';
import { silentLogger } from '../../src/common/log.ts';
import type { ContainerRuntime, ContainerStats, NodeStats, PodSandbox } from '../../src/runtime/types.ts';
import { cpuQuantity, goDuration, memoryQuantity, nodeMetrics, podMetrics } from '../../src/server/api/subresources/metrics.ts';
import { NodeStatsStore } from '../../src/server/link/node-stats.ts';

const node = (at: number, cumulative: number): NodeStats => ({
  timestampMs: at, cpuUsageCoreNanoSeconds: cumulative, cpuUsageNanoCores: 7, memoryWorkingSetBytes: 512 * 2 ** 20,
  memoryAvailableBytes: 0, memoryTotalBytes: 0, imageFsUsedBytes: 0, imageFsCapacityBytes: 0,
});
const container = (id: string, sandbox: string, name: string, at: number, cumulative: number, reported = 0): ContainerStats => ({
  containerId: id, podSandboxId: sandbox, name, timestampMs: at, cpuUsageCoreNanoSeconds: cumulative, cpuUsageNanoCores: reported,
  memoryWorkingSetBytes: 12_345 * 1024, memoryUsageBytes: 0, writableLayerBytes: 0,
});
const sandbox = (id: string, name: string, uid: string): PodSandbox => ({
  id, metadata: { name, namespace: 'default', uid, attempt: 0 }, state: 'ready', createdAtMs: 0, labels: {}, annotations: {},
});

describe('CPU rates', () => {
  it('is the cumulative usage over the elapsed time, in nanocores', () => {
    // 0.25 s of CPU in 1 s = a quarter core.
    expect(cpuNanoCores({ cumulative: 1e9, at: 10_000 }, { cumulative: 1.25e9, at: 11_000 }, 0)).toBe(250_000_000);
    // Two cores busy for 15 s.
    expect(cpuNanoCores({ cumulative: 0, at: 0 }, { cumulative: 30e9, at: 15_000 }, 0)).toBe(2e9);
  });
  it('falls back to the runtime’s rate without a usable previous sample', () => {
    expect(cpuNanoCores(undefined, { cumulative: 5e9, at: 1000 }, 1234)).toBe(1234);
    expect(cpuNanoCores({ cumulative: 9e9, at: 0 }, { cumulative: 1e9, at: 1000 }, 55)).toBe(55); // the container restarted
    expect(cpuNanoCores({ cumulative: 1e9, at: 1000 }, { cumulative: 2e9, at: 1000 }, 0)).toBe(0); // no time passed
  });
});

describe('the agent’s report', () => {
  it('groups containers by pod, computes rates against the previous sample and forgets gone containers', () => {
    const prev = new Map<string, { cumulative: number; at: number }>();
    const sandboxes = [sandbox('s1', 'web', 'u1'), sandbox('s2', 'idle', 'u2')];
    const first = buildReport({ node: node(0, 0), containers: [container('c1', 's1', 'nginx', 0, 0, 99), container('c9', 's1', 'gone', 0, 0)], sandboxes, now: 0, lastAt: undefined, intervalMs: 15_000 }, prev);
    expect(first.windowMs).toBe(15_000);
    expect(first.pods[0]!.containers.find((c) => c.name === 'nginx')!.cpuNanoCores).toBe(99);
    const r = buildReport({
      node: node(15_000, 15e9),
      containers: [container('c2', 's1', 'sidecar', 15_000, 3e9), container('c1', 's1', 'nginx', 15_000, 1.5e9)],
      sandboxes, now: 15_000, lastAt: 0, intervalMs: 15_000,
    }, prev);
    expect(r).toEqual({
      timestamp: 15_000,
      windowMs: 15_000,
      node: { cpuNanoCores: 1e9, memoryBytes: 512 * 2 ** 20 },
      // The idle pod has no running container: it is not reported.
      pods: [{ namespace: 'default', name: 'web', uid: 'u1', containers: [
        { name: 'nginx', cpuNanoCores: 100_000_000, memoryBytes: 12_345 * 1024 },
        { name: 'sidecar', cpuNanoCores: 0, memoryBytes: 12_345 * 1024 }, // first sample of c2: the runtime's rate
      ] }],
    });
    expect([...prev.keys()].sort()).toEqual(['c1', 'c2', 'node']);
  });

  it('the collector primes at start, reports shortly after and sends only to a sink with stats', async () => {
    let cumulative = 0;
    let at = 1_000_000;
    const runtime = {
      nodeStats: async () => node(at, cumulative),
      containerStats: async () => [container('c1', 's1', 'app', at, cumulative / 2)],
      listPodSandboxes: async () => [sandbox('s1', 'web', 'u1')],
    } as unknown as ContainerRuntime;
    const sent: NodeStatsReport[] = [];
    const sink: StatusSink = { podStatus: () => undefined, nodeStatus: () => undefined, event: () => undefined, stats: (r) => sent.push(r) };
    const c = new StatsCollector({ runtime, sink, log: silentLogger(), now: () => at, firstMs: 50, intervalMs: 60_000 });
    c.start();
    await new Promise((r) => setTimeout(r, 10));
    expect(sent).toHaveLength(0); // the priming sample is not sent
    cumulative = 2e9;
    at += 1000;
    await new Promise((r) => setTimeout(r, 100));
    c.stop();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.windowMs).toBe(1000);
    expect(sent[0]!.node.cpuNanoCores).toBe(2e9);
    expect(sent[0]!.pods[0]!.containers[0]!.cpuNanoCores).toBe(1e9);
    // A sink without stats (an older link) gets nothing and the runtime is not even sampled.
    let sampled = 0;
    const quiet = new StatsCollector({ runtime: { ...runtime, nodeStats: async () => { sampled++; return node(0, 0); } } as unknown as ContainerRuntime, sink: { podStatus: () => undefined, nodeStatus: () => undefined, event: () => undefined }, log: silentLogger(), now: Date.now, firstMs: 1 });
    quiet.start();
    await new Promise((r) => setTimeout(r, 20));
    quiet.stop();
    expect(sampled).toBe(0);
  });
});

describe('the server’s store of samples', () => {
  const report = (cpu: number): NodeStatsReport => ({ timestamp: 1000, windowMs: 15_000, node: { cpuNanoCores: cpu, memoryBytes: 1024 }, pods: [{ namespace: 'default', name: 'web', uid: 'u1', containers: [{ name: 'app', cpuNanoCores: cpu, memoryBytes: 2048 }] }] });

  it('keeps the latest report per node and forgets it on request or when stale', () => {
    let now = 0;
    const s = new NodeStatsStore({ now: () => now, staleMs: 120_000 });
    s.put('a', report(1));
    s.put('a', report(2));
    s.put('b', report(3));
    expect(s.all().map((x) => [x.nodeName, x.node.cpuNanoCores])).toEqual([['a', 2], ['b', 3]]);
    s.forget('b');
    expect(s.get('b')).toBeUndefined();
    now = 120_001;
    expect(s.get('a')).toBeUndefined();
    expect(s.all()).toEqual([]);
  });

  it('sanitizes what comes off the wire', () => {
    const s = new NodeStatsStore();
    s.put('a', { timestamp: 5, windowMs: -1, node: { cpuNanoCores: Number.NaN, memoryBytes: 'x' }, pods: [
      { namespace: 'default', name: 'ok', uid: 'u', containers: [{ name: 'c', cpuNanoCores: 10, memoryBytes: 20 }, { cpuNanoCores: 1 }] },
      { name: 'no-namespace', containers: [] },
      null,
    ] } as unknown as NodeStatsReport);
    const got = s.get('a')!;
    expect(got.node).toEqual({ cpuNanoCores: 0, memoryBytes: 0 });
    expect(got.windowMs).toBe(0);
    expect(got.pods).toEqual([{ namespace: 'default', name: 'ok', uid: 'u', containers: [{ name: 'c', cpuNanoCores: 10, memoryBytes: 20 }] }]);
  });
});

describe('metrics.k8s.io quantities and objects', () => {
  it('writes CPU like metrics-server', () => {
    expect(cpuQuantity(0)).toBe('0');
    expect(cpuQuantity(1234567)).toBe('1234567n');
    expect(cpuQuantity(12_000_000)).toBe('12m');
    expect(cpuQuantity(1_500_000_000)).toBe('1500m');
    expect(cpuQuantity(2e9)).toBe('2');
    expect(cpuQuantity(5000)).toBe('5u');
    expect(cpuQuantity(-3)).toBe('0');
  });
  it('writes memory as binary-SI quantities', () => {
    expect(memoryQuantity(0)).toBe('0');
    expect(memoryQuantity(12_345 * 1024)).toBe('12345Ki');
    expect(memoryQuantity(512 * 2 ** 20)).toBe('512Mi');
    expect(memoryQuantity(1000)).toBe('1000');
  });
  it('writes the window as a Go duration', () => {
    expect(goDuration(15_000)).toBe('15s');
    expect(goDuration(14_987)).toBe('14.987s');
    expect(goDuration(60_500)).toBe('1m0.5s');
    expect(goDuration(500)).toBe('500ms');
    expect(goDuration(0)).toBe('0s');
  });
  it('builds PodMetrics and NodeMetrics in the v1beta1 shape', () => {
    const s = { ...{ timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 678), windowMs: 15_000, node: { cpuNanoCores: 250_000_000, memoryBytes: 2 ** 30 }, pods: [] }, nodeName: 'n1', receivedAt: 0 };
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 9));
    expect(podMetrics(s, { namespace: 'default', name: 'web', uid: 'u', containers: [{ name: 'app', cpuNanoCores: 1234567, memoryBytes: 12_345 * 1024 }] }, { app: 'web' }, now)).toEqual({
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-02T03:04:09Z', labels: { app: 'web' } },
      timestamp: '2026-01-02T03:04:05Z',
      window: '15s',
      containers: [{ name: 'app', usage: { cpu: '1234567n', memory: '12345Ki' } }],
    });
    expect(nodeMetrics(s, {}, now)).toEqual({
      kind: 'NodeMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'n1', creationTimestamp: '2026-01-02T03:04:09Z' },
      timestamp: '2026-01-02T03:04:05Z',
      window: '15s',
      usage: { cpu: '250m', memory: '1Gi' },
    });
  });
});
