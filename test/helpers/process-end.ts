/**
 * What a test or bench process started must end with it, also when it does not reach its own
 * `finally`: a process stopped by SIGTERM, SIGHUP or SIGINT that nothing else handles (the default
 * action kills it before any `finally` runs: `kill -- -<pgid>`, `timeout`, a closed terminal) and
 * one that calls process.exit(). Without this, the servers' directories on /dev/shm
 * (bench/fleet's `--server-dir` default) stayed behind in memory after every run stopped that way,
 * and a server whose parent died alone ran on as an orphan.
 *
 * A signal that the process handles itself (bench/fleet's SIGINT, which ends the run and cleans up
 * in its `finally`) is left to it. SIGKILL cannot be caught: only the next run's owner can see
 * such a leftover.
 */
const cleanups = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // the others still run: a process on its way out has no one to report to
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    const onSignal = () => {
      // Another listener means the process handles this signal and owns its shutdown.
      if (process.listenerCount(sig) > 1) return;
      runAll();
      // Then the signal's default action, as if no one had listened: the process dies of it.
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** Runs `cleanup` (synchronously) when the process ends; the returned function cancels that once the owner cleaned up itself. */
export function onProcessEnd(cleanup: () => void): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Whether a process of that pid still exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
