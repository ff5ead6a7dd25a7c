/**
 * Once per vitest run, in the main process: a scratch directory shared by the run's test files
 * (test/build/sea-harness.ts keeps the run's shared SEA builds there), removed when the run ends.
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
  return () => rmSync(dir, { recursive: true, force: true });
}
