// The work queue's contract: dedup while waiting, one worker per key, re-run when added during
// processing, per-key exponential backoff reset on success.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { createWorkQueue } from '../../../src/server/controllers/work-queue.ts';

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('work queue', () => {
  it('queues a waiting key once', async () => {
    const q = createWorkQueue(silentLogger());
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
    const seen: string[] = [];
    const abort = new AbortController();
    const run = q.run(async (k) => void seen.push(k), { workers: 2, signal: abort.signal });
    await until(() => seen.length === 2, 'two keys');
    abort.abort();
    await run;
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('never gives one key to two workers, and runs it again when added meanwhile', async () => {
    const q = createWorkQueue(silentLogger());
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release: () => void = () => {};
    const abort = new AbortController();
    const run = q.run(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      if (runs === 1) await new Promise<void>((r) => (release = r));
      active--;
    }, { workers: 4, signal: abort.signal });
    q.add('k');
    await until(() => runs === 1, 'first run');
    q.add('k');
    q.add('k');
    expect(q.len()).toBe(0);
    release();
    await until(() => runs === 2, 'second run');
    abort.abort();
    await run;
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('backs a failing key off exponentially and forgets it after a success', async () => {
    const q = createWorkQueue(silentLogger());
    const times: number[] = [];
    const abort = new AbortController();
    const run = q.run(async () => {
      times.push(Date.now());
      if (times.length < 5) throw new Error('not yet');
    }, { workers: 1, signal: abort.signal });
    q.add('x');
    await until(() => times.length === 5, 'five attempts');
    expect(q.numRequeues('x')).toBe(0);
    abort.abort();
    await run;
    // 5, 10, 20, 40 ms: the whole sequence takes at least 75 ms.
    expect((times[4] as number) - (times[0] as number)).toBeGreaterThanOrEqual(70);
  });

  it('counts requeues while a key keeps failing', () => {
    const q = createWorkQueue(silentLogger());
    q.addRateLimited('y');
    q.addRateLimited('y');
    expect(q.numRequeues('y')).toBe(2);
    q.forget('y');
    expect(q.numRequeues('y')).toBe(0);
  });
});
