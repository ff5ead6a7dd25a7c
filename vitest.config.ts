import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/longest-first-sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Integration tests start real processes (containerd, the server, kubectl); two cores only.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The long end-to-end files start first: the run does not end on one of them alone.
    sequence: { sequencer: LongestFirstSequencer },
    // The run's scratch directory (shared builds): test/global-setup.ts.
    globalSetup: ['./test/global-setup.ts'],
    reporters: ['default', './test/closing-line-reporter.ts'],
  },
});
