// Resource usage for `kubectl top`, piece by piece: the agent's CPU rates, report and on-demand
// collector, the server's cache of samples per node, and the metrics.k8s.io quantities.
import { describe, expect, it } from 'vitest';
import { StatsCollector, buildReport, countersOf, cpuNanoCores, pickBaseline } from '../../src/agent/kubelet/stats.ts';
import type { RuntimeReading } from '../../src/agent/kubelet/stats.ts';
import type { StatusSink, UsageSampler } from '../../src/agent/types.ts';
import type { NodeStatsReport } from '../../src/common/link/protocol.ts';
import { silentLogger } from '../../src/common/log.ts';
import type { ContainerRuntime, ContainerStats, NodeStats, PodSandbox } from '../../src/runtime/types.ts';
import { cpuQuantity, goDuration, memoryQuantity, nodeMetrics, podMetrics } from '../../src/server/api/subresources/metrics.ts';
import { LinkError } from '../../src/common/link/errors.ts';
import { NodeStatsCache } from '../../src/server/link/node-stats.ts';

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
  const sandboxes = [sandbox('s1', 'web', 'u1'), sandbox('s2', 'idle', 'u2')];
  const reading = (at: number, nodeCpu: number, containers: ContainerStats[]): RuntimeReading => ({ node: node(at, nodeCpu), containers, sandboxes, now: at });

  it('groups containers by pod and computes rates against the kept reading', () => {
    const base = countersOf(reading(0, 0, [container('c1', 's1', 'nginx', 0, 0), container('c9', 's1', 'gone', 0, 0)]));
    const r = buildReport(reading(15_000, 15e9, [container('c2', 's1', 'sidecar', 15_000, 3e9), container('c1', 's1', 'nginx', 15_000, 1.5e9)]), base);
    expect(r).toEqual({
      timestamp: 15_000,
      windowMs: 15_000,
      node: { cpuNanoCores: 1e9, memoryBytes: 512 * 2 ** 20 },
      // The idle pod has no running container: it is not reported.
      pods: [{ namespace: 'default', name: 'web', uid: 'u1', containers: [
        { name: 'nginx', cpuNanoCores: 100_000_000, memoryBytes: 12_345 * 1024 },
        { name: 'sidecar', cpuNanoCores: 0, memoryBytes: 12_345 * 1024 }, // c2 started after the kept reading: the runtime's rate
      ] }],
    });
  });

  it('rates against the newest reading at least the minimum window old, else the oldest usable one', () => {
    const at = (t: number) => countersOf(reading(t, 0, []));
    const kept = [at(0), at(15_000)];
    expect(pickBaseline(kept, 21_000, 5000, 60_000)?.at).toBe(15_000); // 6 s window
    expect(pickBaseline(kept, 17_000, 5000, 60_000)?.at).toBe(0); // 2 s would be too short: 17 s
    expect(pickBaseline([at(15_000)], 17_000, 5000, 60_000)?.at).toBe(15_000); // the only one
    expect(pickBaseline(kept, 100_000, 5000, 60_000)).toBeUndefined(); // both too old
    expect(pickBaseline([], 1000, 5000, 60_000)).toBeUndefined();
    expect(pickBaseline([at(1000)], 1000, 5000, 60_000)).toBeUndefined(); // no time passed
  });
});

describe('the agent’s collector', () => {
  // A runtime whose counters the test moves; every read is counted.
  function counting() {
    const r = { cumulative: 0, at: 1_000_000, reads: 0, sandboxReads: 0 };
    const runtime = {
      nodeStats: async () => (r.reads++, node(r.at, r.cumulative)),
      containerStats: async () => [container('c1', 's1', 'app', r.at, r.cumulative / 2, 42)],
      listPodSandboxes: async () => (r.sandboxReads++, [sandbox('s1', 'web', 'u1')]),
    } as unknown as ContainerRuntime;
    return { r, runtime };
  }
  const sinkWith = (serve?: (s: UsageSampler) => void): StatusSink => ({ podStatus: () => undefined, nodeStatus: () => undefined, event: () => undefined, ...(serve ? { serveStats: serve } : {}) });

  it('reads the runtime locally, sends nothing by itself, and answers a request with rates since a kept reading', async () => {
    const { r, runtime } = counting();
    let sampler: UsageSampler | undefined;
    const c = new StatsCollector({ runtime, sink: sinkWith((s) => (sampler = s)), log: silentLogger(), now: () => r.at, intervalMs: 60_000, minWindowMs: 5000 });
    c.start();
    try {
      await waitUntil(() => r.reads === 1);
      await new Promise((res) => setTimeout(res, 10)); // the reading is kept once both answers are in
      expect(r.sandboxReads).toBe(0); // a local reading needs only the counters
      r.cumulative = 12e9; // two cores for 6 s
      r.at += 6000;
      const report = await sampler!();
      expect(report.windowMs).toBe(6000);
      expect(report.node.cpuNanoCores).toBe(2e9);
      expect(report.pods[0]!.containers[0]!.cpuNanoCores).toBe(1e9);
      // A second request a moment later still rates over the kept reading, not over the moment.
      r.cumulative = 13e9;
      r.at += 500;
      const again = await sampler!();
      expect(again.windowMs).toBe(6500);
      expect(again.node.cpuNanoCores).toBe(2e9);
      // Concurrent requests share one reading of the runtime.
      const before = r.reads;
      const [a, b] = await Promise.all([sampler!(), sampler!()]);
      expect(a).toBe(b);
      expect(r.reads).toBe(before + 1);
    } finally {
      c.stop();
    }
  });

  it('reads twice a moment apart when it has no usable reading yet', async () => {
    const { r, runtime } = counting();
    // The runtime fails at first, so the collector keeps no reading.
    const failing = { ...runtime, nodeStats: async () => Promise.reject(new Error('containerd is starting')) } as unknown as ContainerRuntime;
    let sampler: UsageSampler | undefined;
    let clock = r.at;
    const c = new StatsCollector({ runtime: failing, sink: sinkWith((s) => (sampler = s)), log: silentLogger(), now: () => clock, intervalMs: 60_000, firstWindowMs: 50 });
    c.start();
    try {
      await expect(sampler!()).rejects.toThrow(/containerd is starting/);
      Object.assign(failing, { nodeStats: async () => { r.reads++; clock += 1000; r.cumulative += 0.5e9; return node(clock, r.cumulative); } });
      const report = await sampler!();
      expect(r.reads).toBe(2);
      expect(report.windowMs).toBe(1000);
      expect(report.node.cpuNanoCores).toBe(0.5e9);
    } finally {
      c.stop();
    }
  });

  it('a sink without serveStats (a link that cannot answer) gets nothing and nothing is read', async () => {
    const { r, runtime } = counting();
    const quiet = new StatsCollector({ runtime, sink: sinkWith(), log: silentLogger(), now: Date.now });
    quiet.start();
    await new Promise((res) => setTimeout(res, 20));
    quiet.stop();
    expect(r.reads).toBe(0);
  });
});

describe('the server’s cache of samples', () => {
  const report = (cpu: number): NodeStatsReport => ({ timestamp: 1000, windowMs: 15_000, node: { cpuNanoCores: cpu, memoryBytes: 1024 }, pods: [{ namespace: 'default', name: 'web', uid: 'u1', containers: [{ name: 'app', cpuNanoCores: cpu, memoryBytes: 2048 }] }] });

  function cache(answer: (node: string) => Promise<NodeStatsReport>) {
    const t = { now: 0, asked: [] as string[], linked: ['b', 'a'] };
    const c = new NodeStatsCache({
      fetch: (n) => (t.asked.push(n), answer(n)),
      linked: () => [...t.linked],
      log: silentLogger(),
      now: () => t.now,
      maxAgeMs: 10_000,
    });
    return { c, t };
  }

  it('asks a node only when read, reuses its sample while young, and shares a request in flight', async () => {
    let cpu = 1;
    const { c, t } = cache(async () => report(cpu++));
    expect(t.asked).toEqual([]);
    const [x, y] = await Promise.all([c.get('a'), c.get('a')]);
    expect(x).toBe(y);
    expect(x).toMatchObject({ nodeName: 'a', receivedAt: 0, node: { cpuNanoCores: 1 } });
    t.now = 9_999;
    expect((await c.get('a'))?.node.cpuNanoCores).toBe(1);
    expect(t.asked).toEqual(['a']);
    t.now = 10_000;
    expect((await c.get('a'))?.node.cpuNanoCores).toBe(2);
    expect((await c.all()).map((s) => [s.nodeName, s.node.cpuNanoCores])).toEqual([['a', 2], ['b', 3]]);
    expect(t.asked).toEqual(['a', 'a', 'b']);
    c.forget('a');
    expect((await c.get('a'))?.node.cpuNanoCores).toBe(4);
    // A node without a link is not asked at all.
    expect(await c.get('offline')).toBeUndefined();
    expect(t.asked).not.toContain('offline');
  });

  it('leaves out a node that is too slow and remembers that for a while; a refusal is not remembered', async () => {
    const { c, t } = cache(async (n) => {
      if (n === 'b') throw new LinkError('STATS_TIMEOUT', 'no answer in 5000 ms');
      if (n === 'c') throw new LinkError('STATS_UNAVAILABLE', 'no runtime');
      return report(7);
    });
    t.linked.push('c');
    expect((await c.all()).map((s) => s.nodeName)).toEqual(['a']);
    const askedOf = (n: string) => t.asked.filter((x) => x === n).length;
    expect(await c.get('b')).toBeUndefined();
    expect(askedOf('b')).toBe(1);
    expect(await c.get('c')).toBeUndefined();
    expect(askedOf('c')).toBe(2);
    t.now = 10_000;
    expect(await c.get('b')).toBeUndefined();
    expect(askedOf('b')).toBe(2);
  });

  it('sanitizes what comes off the wire', async () => {
    const { c } = cache(async () => ({ timestamp: 5, windowMs: -1, node: { cpuNanoCores: Number.NaN, memoryBytes: 'x' }, pods: [
      { namespace: 'default', name: 'ok', uid: 'u', containers: [{ name: 'c', cpuNanoCores: 10, memoryBytes: 20 }, { cpuNanoCores: 1 }] },
      { name: 'no-namespace', containers: [] },
      null,
    ] }) as unknown as NodeStatsReport);
    const got = (await c.get('a'))!;
    expect(got.node).toEqual({ cpuNanoCores: 0, memoryBytes: 0 });
    expect(got.windowMs).toBe(0);
    expect(got.pods).toEqual([{ namespace: 'default', name: 'ok', uid: 'u', containers: [{ name: 'c', cpuNanoCores: 10, memoryBytes: 20 }] }]);
  });
});

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition not reached');
}

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
