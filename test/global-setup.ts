/**
 * Once per vitest run, in the main process, before the workers start: a scratch directory shared
 * by the run's test files, removed when the run ends. In it:
 * - the run's shared SEA builds (test/build/sea-harness.ts, sharedSea);
 * - Node's compile cache (NODE_COMPILE_CACHE, inherited by the workers and by every process they
 *   start): each `node src/cli/main.ts server|agent|join …` the tests start strips the types of
 *   and compiles the same ~400 modules and dependencies; with the cache only the first start of
 *   each does: a server start and stop took 2.0 s of CPU instead of 1.3 s (6.0 vs 3.9 s for three,
 *   niced, load ~25). Node checks each entry against the source's hash, so an edited file is
 *   compiled afresh. NODE_DISABLE_COMPILE_CACHE=1 turns it off for a comparison.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    testRunDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'edgeos-test-run-'));
  project.provide('testRunDir', dir);
  process.env.NODE_COMPILE_CACHE ??= join(dir, 'node-compile-cache');
  return () => rmSync(dir, { recursive: true, force: true });
}
