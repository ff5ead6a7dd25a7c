// The node's pod-start slots (src/agent/kubelet/start-gate.ts): at most `limit` sandbox and
// container starts run at once, in order of arrival, a failed start frees its slot; and a kubelet
// starting a burst of pods on the FakeRuntime keeps its runtime's starts within the limit (and,
// unbounded, does not: the check can fail).
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAgentCache } from '../../../src/agent/cache/index.ts';
import { createKubelet } from '../../../src/agent/kubelet/index.ts';
import { StartGate, defaultPodStartConcurrency } from '../../../src/agent/kubelet/start-gate.ts';
import { silentLogger } from '../../../src/common/log.ts';
import { FakeRuntime } from '../../../src/runtime/fake-runtime.ts';
import { makePod, podJson, RecordingSink, until } from './helpers.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('StartGate', () => {
  it('runs at most `limit` at once, the rest in order of arrival, and frees a failed start\'s slot', async () => {
    const gate = new StartGate(2);
    let now = 0;
    let most = 0;
    const order: number[] = [];
    const job = (i: number, fail = false) => gate.run(async () => {
      now++;
      most = Math.max(most, now);
      order.push(i);
      await tick();
      now--;
      if (fail) throw new Error(`job ${i}`);
      return i;
    });
    const results = await Promise.allSettled([job(0), job(1, true), job(2), job(3, true), job(4), job(5)]);
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(gate.waiting).toBe(0);
    // All slots free again: `limit` new jobs start at once.
    const started: number[] = [];
    const a = gate.run(async () => { started.push(1); await tick(); });
    const b = gate.run(async () => { started.push(2); await tick(); });
    expect(started).toEqual([1, 2]);
    await Promise.all([a, b]);
  });

  it('defaults to the CPUs (at least 2); EDGEOS_POD_START_CONCURRENCY sets it, 0 is unbounded, anything else is refused', () => {
    expect(defaultPodStartConcurrency({})).toBeGreaterThanOrEqual(2);
    expect(defaultPodStartConcurrency({ EDGEOS_POD_START_CONCURRENCY: '' })).toBe(defaultPodStartConcurrency({}));
    expect(defaultPodStartConcurrency({ EDGEOS_POD_START_CONCURRENCY: '3' })).toBe(3);
    expect(defaultPodStartConcurrency({ EDGEOS_POD_START_CONCURRENCY: '0' })).toBe(Infinity);
    expect(() => defaultPodStartConcurrency({ EDGEOS_POD_START_CONCURRENCY: 'lots' })).toThrow('EDGEOS_POD_START_CONCURRENCY: "lots" is not accepted (0 = unbounded, or a positive integer)');
  });
});

/** A FakeRuntime whose starts take a while, counting how many ran at once. */
class SlowStarts extends FakeRuntime {
  now = 0;
  most = 0;
  private async slow<T>(f: () => Promise<T>): Promise<T> {
    this.now++;
    this.most = Math.max(this.most, this.now);
    try {
      await new Promise((r) => setTimeout(r, 30));
      return await f();
    } finally {
      this.now--;
    }
  }
  override runPodSandbox(...a: Parameters<FakeRuntime['runPodSandbox']>) { return this.slow(() => super.runPodSandbox(...a)); }
  override createContainer(...a: Parameters<FakeRuntime['createContainer']>) { return this.slow(() => super.createContainer(...a)); }
  override startContainer(...a: Parameters<FakeRuntime['startContainer']>) { return this.slow(() => super.startContainer(...a)); }
}

async function burst(podStartConcurrency: number): Promise<number> {
  const dir = mkdtempSync('/tmp/eos-kl-gate-');
  const rt = new SlowStarts();
  rt.images.set('sha256:local', { id: 'sha256:local', repoTags: ['example.com/app:latest'], repoDigests: [], sizeBytes: 1, pinned: false });
  const cache = await openAgentCache({ file: join(dir, 'cache.db'), log: silentLogger() });
  const sink = new RecordingSink();
  const kubelet = createKubelet({ nodeName: 'n1', runtime: rt, cache, status: sink, log: silentLogger(), rootDir: join(dir, 'kubelet'), relistMs: 100, resyncMs: 500, podStartConcurrency });
  try {
    await kubelet.start(new AbortController().signal);
    const pods = Array.from({ length: 8 }, (_, i) => makePod(`p${i}`, 'n1', { containers: [{ name: 'c', image: 'example.com/app:latest', imagePullPolicy: 'IfNotPresent' }] }));
    for (const p of pods) await cache.put('Pod', podJson(p));
    await until('8 pods running', () => pods.every((p) => sink.latest(p.metadata!.uid!)?.containerStatuses?.[0]?.state?.running), 20_000);
    return rt.most;
  } finally {
    await kubelet.stop();
    await cache.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a burst of pods', () => {
  it('starts them all with at most podStartConcurrency runtime starts at once', async () => {
    expect(await burst(2)).toBe(2);
    expect(await burst(Infinity)).toBeGreaterThan(2);
  });
});
