// The lifecycle the memory reclaimers share (src/common/periodic-check.ts): the check runs on a
// timer only after a successful prepare, never when switched off by its environment variable,
// and no more after stop; threadCpuSeconds counts the calling thread's CPU time of the work.
import { afterEach, describe, expect, it } from 'vitest';
import { onOff } from '../../../src/common/env-settings.ts';
import { silentLogger } from '../../../src/common/log.ts';
import { periodicCheck, threadCpuSeconds } from '../../../src/common/periodic-check.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ENV = 'EDGEOS_TEST_PERIODIC_CHECK';

describe('periodicCheck', () => {
  afterEach(() => { delete process.env[ENV]; });

  const counting = (prepared: boolean) => {
    const n = { prepares: 0, checks: 0 };
    const c = periodicCheck({
      name: 't', log: silentLogger(), everyMs: 5, off: onOff(ENV), offMessage: 'off',
      prepare: () => { n.prepares++; return prepared; },
      check: () => { n.checks++; },
    });
    return { c, n };
  };

  it('checks periodically once prepared, and stops checking after stop', async () => {
    const { c, n } = counting(true);
    await c.start(new AbortController().signal);
    await sleep(60);
    await c.stop();
    expect(n.prepares).toBe(1);
    expect(n.checks).toBeGreaterThanOrEqual(2);
    const after = n.checks;
    await sleep(30);
    expect(n.checks).toBe(after);
  });

  it('never checks when prepare finds nothing, nor when switched off (then it does not even prepare)', async () => {
    const missing = counting(false);
    await missing.c.start(new AbortController().signal);
    await sleep(30);
    await missing.c.stop();
    expect(missing.n).toEqual({ prepares: 1, checks: 0 });
    process.env[ENV] = 'off';
    const off = counting(true);
    await off.c.start(new AbortController().signal);
    await sleep(30);
    await off.c.stop();
    expect(off.n).toEqual({ prepares: 0, checks: 0 });
  });

  it('threadCpuSeconds counts the CPU time of busy work in seconds, not of waiting', () => {
    // Spins until the thread has used 20 ms of CPU (however long that takes on a loaded machine).
    const busy = threadCpuSeconds(() => { const s = process.threadCpuUsage(); while (process.threadCpuUsage(s).user < 20_000) { /* spin */ } });
    expect(busy).toBeGreaterThanOrEqual(0.02);
    expect(busy).toBeLessThan(5);
    const idle = threadCpuSeconds(() => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30); });
    expect(idle).toBeLessThan(0.01);
  });
});
