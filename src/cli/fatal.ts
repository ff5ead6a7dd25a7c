import { EdgeosError } from '../common/errors.ts';

/** Prints a top-level failure for a person (no stack for expected errors) and returns the exit code. */
export function reportFatal(err: unknown): number {
  if (err instanceof EdgeosError) {
    console.error(`edgeos: ${err.message}`);
    return 1;
  }
  if (err && typeof err === 'object' && 'code' in err && String((err as { code: unknown }).code).startsWith('commander.')) {
    return (err as { exitCode?: number }).exitCode ?? 1; // commander already printed its message
  }
  console.error('edgeos: unexpected error:', err);
  return 70;
}
