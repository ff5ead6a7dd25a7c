// edgeos's malloc addon (native/malloc.c) outside the single executable: built as the SEA build does
// (scripts/native-addon.ts), loaded through EDGEOS_MALLOC_ADDON, and the agent's trimmer
// (src/common/malloc.ts) over it. The embedded copy is covered by sea-amd64/sea-arm64.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMallocAddon, hostNodeInclude } from '../../scripts/native-addon.ts';
import { silentLogger } from '../../src/common/log.ts';
import { loadMallocAddon, mallocTrimmer } from '../../src/common/malloc.ts';
import type { MallocAddon } from '../../src/common/malloc.ts';
import { elfMachine } from './sea-harness.ts';

const hostArch = process.arch === 'arm64' ? 'arm64' : 'amd64';

describe.runIf(process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64'))('the malloc addon', () => {
  let tmp: string;
  let file: string;
  let addon: MallocAddon;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'edgeos-malloc-'));
    file = join(tmp, 'edgeos_malloc.node');
    buildMallocAddon(hostArch, file, hostNodeInclude());
    process.env.EDGEOS_MALLOC_ADDON = file;
    const r = loadMallocAddon();
    expect(r.why).toBe(file);
    addon = r.addon!;
  });

  afterAll(() => {
    delete process.env.EDGEOS_MALLOC_ADDON;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('compiles to the same bytes twice (the build stays reproducible)', () => {
    const again = join(tmp, 'again.node');
    buildMallocAddon(hostArch, again, hostNodeInclude());
    expect(readFileSync(again).equals(readFileSync(file))).toBe(true);
  });

  it.runIf(process.arch === 'x64' && spawnSync('aarch64-linux-gnu-gcc', ['--version']).status === 0)('cross-compiles an aarch64 addon', () => {
    const arm = join(tmp, 'arm64.node');
    buildMallocAddon('arm64', arm, hostNodeInclude());
    expect(elfMachine(arm)).toBe(0xb7);
  });

  it('reads mallinfo2 in bytes, which follow an allocation', () => {
    const before = addon.info();
    expect(before.arena).toBeGreaterThan(0);
    expect(before.uordblks + before.fordblks).toBe(before.arena);
    expect(before.keepcost).toBeLessThanOrEqual(before.fordblks);
    // 64 KiB blocks stay in the heap below glibc's default mmap threshold (128 KiB).
    const held = Array.from({ length: 32 }, () => Buffer.allocUnsafeSlow(64 * 1024));
    const after = addon.info();
    // The worker's other threads may free a little meanwhile (2 KiB short was seen once in the full
    // suite); 30 of the 32 blocks still tell bytes from kilobytes (which would read 2,048).
    expect(after.uordblks + after.hblkhd - (before.uordblks + before.hblkhd)).toBeGreaterThanOrEqual(30 * 64 * 1024);
    expect(held).toHaveLength(32);
  });

  it('returns the holes between live chunks to the kernel, which free() alone keeps', () => {
    // A fresh process: every other 64 KiB block freed leaves ~12 MB of holes below live ones.
    const script = `
      const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(file)});
      const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]);
      let bufs = Array.from({ length: 400 }, () => Buffer.allocUnsafeSlow(64 * 1024).fill(1));
      bufs = bufs.filter((_, i) => i % 2 === 1);
      // V8 frees array buffers' memory after a GC, on a later task: a second GC a tick later sees it done.
      gc();
      setTimeout(() => { gc(); setTimeout(() => {
        const info = m.exports.info();
        const holes = info.fordblks - info.keepcost;
        const before = anon();
        const trimmed = m.exports.trim();
        console.log(JSON.stringify({ holes, before, after: anon(), trimmed, kept: bufs.length }));
      }, 100); }, 100);`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', env: { ...process.env, GLIBC_TUNABLES: '' } });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { holes: number; before: number; after: number; trimmed: boolean; kept: number };
    expect(out.holes).toBeGreaterThan(10 * 1024 * 1024);
    expect(out.trimmed).toBe(true);
    // RssAnon in kB: at least 8 of the ~12.5 MB of holes went back.
    expect(out.before - out.after).toBeGreaterThan(8 * 1024);
  });

  it('trims after work freed a lot (at most every burst interval), else once per idle interval above the threshold', async () => {
    // The real addon, with the free bytes it reports set by the test (the policy is what is tested).
    let free = 0;
    let trims = 0;
    const scripted: MallocAddon = { info: () => ({ ...addon.info(), fordblks: free, keepcost: 0 }), trim: () => { trims++; return addon.trim(); } };
    const never = 1e12;
    const burst = mallocTrimmer({ log: silentLogger(), addon: scripted, checkEveryMs: never, burstBytes: 100, burstIntervalMs: 0, thresholdBytes: never, idleIntervalMs: never });
    await burst.start(new AbortController().signal);
    const after = (f: number): number => { free = f; burst.check(); return trims; };
    expect(after(1000)).toBe(1); // grew from nothing
    expect(after(1000)).toBe(1);
    expect(after(1050)).toBe(1); // +50 < 100
    expect(after(900)).toBe(1); // reused: the baseline drops to 900
    expect(after(1000)).toBe(2); // +100 over the baseline
    await burst.stop();
    expect(burst.stats()).toMatchObject({ available: true, trims: 2, holeBytes: 1000 });
    expect(burst.stats().arenaBytes).toBeGreaterThan(0);
    expect(burst.stats().trimSeconds).toBeGreaterThanOrEqual(0);

    trims = 0;
    const limited = mallocTrimmer({ log: silentLogger(), addon: scripted, checkEveryMs: never, burstBytes: 100, burstIntervalMs: 60_000, thresholdBytes: never, idleIntervalMs: never });
    await limited.start(new AbortController().signal);
    for (const f of [1000, 5000, 50_000]) { free = f; limited.check(); }
    await limited.stop();
    expect(trims).toBe(1);

    trims = 0;
    const idle = mallocTrimmer({ log: silentLogger(), addon: scripted, checkEveryMs: never, burstBytes: never, thresholdBytes: 500, idleIntervalMs: 0 });
    await idle.start(new AbortController().signal);
    for (const f of [400, 400, 600, 600]) { free = f; idle.check(); }
    await idle.stop();
    expect(trims).toBe(2);
  });

  it('checks on its own timer once started', async () => {
    const t = mallocTrimmer({ log: silentLogger(), addon, checkEveryMs: 20, burstBytes: 0, burstIntervalMs: 60_000 });
    await t.start(new AbortController().signal);
    await new Promise((r) => setTimeout(r, 200));
    await t.stop();
    expect(t.stats()).toMatchObject({ available: true, trims: 1 });
  });

  it('is off with EDGEOS_MALLOC_TRIM=off, and says so', async () => {
    const lines: string[] = [];
    const log = { child: () => log, info: (...a: unknown[]) => lines.push(String(a.at(-1))), debug: () => undefined };
    process.env.EDGEOS_MALLOC_TRIM = 'off';
    try {
      const t = mallocTrimmer({ log: log as never, addon, checkEveryMs: 10, thresholdBytes: 0 });
      await t.start(new AbortController().signal);
      await new Promise((r) => setTimeout(r, 50));
      await t.stop();
      expect(t.stats()).toMatchObject({ available: false, trims: 0 });
      expect(lines).toEqual(['malloc_trim switched off (EDGEOS_MALLOC_TRIM=off)']);
    } finally {
      delete process.env.EDGEOS_MALLOC_TRIM;
    }
  });

  it('without a loadable addon the process runs on and says why once', () => {
    const script = `
      process.env.EDGEOS_MALLOC_ADDON = ${JSON.stringify(join(tmp, 'missing.node'))};
      const { mallocTrimmer } = await import(${JSON.stringify(join(import.meta.dirname, '../../src/common/malloc.ts'))});
      const lines = [];
      const log = { child: () => log, info: (o, m) => lines.push([m, o.reason]), debug: () => {} };
      const t = mallocTrimmer({ log, checkEveryMs: 10 });
      await t.start(new AbortController().signal);
      await new Promise((r) => setTimeout(r, 50));
      await t.stop();
      console.log(JSON.stringify({ lines, stats: t.stats() }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { lines: [string, string][]; stats: { available: boolean } };
    expect(out.stats.available).toBe(false);
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]![0]).toMatch(/malloc addon not loaded/);
    expect(out.lines[0]![1]).toContain('missing.node');
  });
});
