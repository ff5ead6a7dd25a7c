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

  it('does nothing without a gc function', async () => {
    const c = heapCompactor({ log: silentLogger() });
    await c.start(new AbortController().signal);
    c.check();
    await c.stop();
    expect(c.stats().available).toBe((globalThis as { gc?: unknown }).gc !== undefined);
  });
});
