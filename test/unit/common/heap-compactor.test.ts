// The V8 heap compactor (src/common/heap-compactor.ts): with real garbage left on sparse old-space
// pages, a check runs a memory-reducing GC that releases them (committed old space falls), at most
// once per interval, and not while old space holds less free than the threshold.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { heapCompactor, oldSpace } from '../../../src/common/heap-compactor.ts';
import { silentLogger } from '../../../src/common/log.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (o?: object) => void;

describe('heap compactor', () => {
  it('compacts sparse old space once per interval, and only above the threshold', async () => {
    let calls = 0;
    const counted = (o?: object) => { calls++; gc(o); };
    // Fill old space, then keep one object in ten: a plain full GC leaves the pages committed.
    const keep: object[] = [];
    for (let i = 0; i < 300_000; i++) { const o = { a: i, b: `x${i}`, c: [i] }; if (i % 10 === 0) keep.push(o); }
    gc();
    gc();
    const before = oldSpace();
    expect(before.committed - before.used).toBeGreaterThanOrEqual(1024 * 1024);
    const c = heapCompactor({ log: silentLogger(), gc: counted, thresholdBytes: 1024 * 1024, intervalMs: 60_000 });
    await c.start(new AbortController().signal);
    c.check();
    c.check();
    await c.stop();
    expect(calls).toBe(1);
    const s = c.stats();
    expect(s.available).toBe(true);
    expect(s.compactions).toBe(calls);
    expect(oldSpace().committed).toBeLessThan(before.committed);
    expect(s.releasedBytes).toBeGreaterThan(0);
    const high = heapCompactor({ log: silentLogger(), gc: counted, thresholdBytes: 1024 ** 4 });
    await high.start(new AbortController().signal);
    high.check();
    await high.stop();
    expect(high.stats().compactions).toBe(0);
    expect(keep.length).toBe(30_000);
    keep.length = 0;
  });

  it('compacts when old space used grew by the growth bound over its floor: promoted garbage', async () => {
    let calls = 0;
    const counted = (o?: object) => { calls++; gc(o); };
    gc();
    // The sparse-page trigger out of the way: only growth can ask.
    const c = heapCompactor({ log: silentLogger(), gc: counted, thresholdBytes: 1024 ** 4, growthBytes: 2 * 1024 * 1024, intervalMs: 0 });
    await c.start(new AbortController().signal);
    c.check();
    expect(calls).toBe(0);
    // Objects that live through two scavenges move to old space; dropped, they are garbage there
    // until a full GC — what a burst of pod starts leaves behind.
    let burst: object[] | undefined = [];
    for (let i = 0; i < 100_000; i++) burst.push({ a: i, b: `y${i}`, c: [i] });
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    burst = undefined;
    expect(burst).toBeUndefined();
    c.check();
    expect(calls).toBe(1);
    // Right after its own compaction the floor is the live data again: no second one.
    c.check();
    expect(calls).toBe(1);
    await c.stop();
  });

  it('does nothing without a gc function', async () => {
    const c = heapCompactor({ log: silentLogger() });
    await c.start(new AbortController().signal);
    c.check();
    await c.stop();
    expect(c.stats().available).toBe((globalThis as { gc?: unknown }).gc !== undefined);
  });
});
