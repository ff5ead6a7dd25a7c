// The CRI decoder's garbage, bounded: the agent decodes a list of every sandbox and container once
// a second (the PLEG) and each pod worker's inspection besides, and what decoding allocates beyond
// the objects it returns was a large share of the agent's garbage while pods start
// (bench/agent/README.md, "Garbage per apply"). Counted in a node of its own whose young
// generation is large enough that no GC runs while counting, so the figure is exact, not timed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('CRI decode allocation', () => {
  it('a 50-pod ListContainers + ListPodSandbox answer allocates under 3.5 times its wire bytes', () => {
    const r = spawnSync(process.execPath, ['--max-semi-space-size=64', '--min-semi-space-size=64', join(import.meta.dirname, 'cri-decode-alloc.ts')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { bytesPerDecode, wireBytes } = JSON.parse(r.stdout) as { bytesPerDecode: number; wireBytes: number };
    // Measured 2.6 x (the returned objects and their strings); the decoder with a Reader per field
    // and a BigInt per varint byte allocated 5.2 x.
    expect(bytesPerDecode).toBeGreaterThan(wireBytes); // it did count: the result alone is larger
    expect(bytesPerDecode).toBeLessThan(3.5 * wireBytes);
  });
});
