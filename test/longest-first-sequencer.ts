/**
 * The suite's file order: the longest files first, so that with two workers the last file to start
 * is a short one and the run does not end with one worker idle while the other runs a long file
 * (longest-processing-time-first scheduling). Vitest orders by the durations in its own results
 * cache, which a fresh checkout (CI) does not have: it then falls back to file size, which puts the
 * long end-to-end files anywhere in the middle. So the files known to be long carry their measured
 * wall time here; the rest follow, by vitest's cached duration when it has one, then larger first.
 */
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

/**
 * Wall seconds of a file on this 2-core machine (where each figure comes from: its note).
 * Only the order matters: re-measure when a file changes much, and add any file that grows past
 * about 30 s. Files not listed count as short.
 */
export const KNOWN_SECONDS: Readonly<Record<string, number>> = {
  // Emulated arm64 boots (TCG): 803 s alone at load 10-20 (2026-12-07); the whole suite waits on it.
  'test/arm64/gateway.test.ts': 803,
  // Alone, at load 10-18 (2026-12-07); inside the full suite they took 1.3-1.8 times as long.
  'test/e2e/daily-commands.test.ts': 114,
  'test/e2e/storage.test.ts': 109,
  // The run's shared amd64 SEA build (sharedSea) included: the first of its users builds it.
  'test/bundle/bundle-create.test.ts': 96,
  // Measured at load ~28 together, scaled by daily-commands' ratio between that load and 10-18.
  'test/bundle/offline-install.test.ts': 75,
  'test/installer/install-e2e.test.ts': 45,
  // From the last full run (per-file figures of the suite, not measured alone).
  'test/console/console.test.ts': 87,
  'test/link/fleet.test.ts': 80,
  'test/e2e/podnet-sites.test.ts': 80,
};

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (f: TestSpecification): number => {
      const rel = relative(root, f.moduleId);
      const known = KNOWN_SECONDS[rel];
      if (known !== undefined) return known;
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${rel}`);
      return cached ? cached.duration / 1000 : 0;
    };
    const size = (f: TestSpecification): number => {
      try {
        return statSync(f.moduleId).size;
      } catch {
        return 0;
      }
    };
    const keyed = files.map((f) => ({ f, s: seconds(f), b: size(f) }));
    keyed.sort((a, b) => b.s - a.s || b.b - a.b);
    return keyed.map((k) => k.f);
  }
}
