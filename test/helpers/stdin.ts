/**
 * Hands a child process its stdin and closes it. A command that exits without reading its stdin
 * (most kubectl commands) closes the pipe first, and the write then fails with EPIPE on the stdin
 * stream, an error event that nobody awaits: left unhandled it fails the whole test run. The
 * child's exit code and output decide the result, so that error is dropped here.
 */
import type { ChildProcess } from 'node:child_process';

export function endStdin(child: ChildProcess, input?: string): void {
  child.stdin?.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  child.stdin?.end(input ?? '');
}
