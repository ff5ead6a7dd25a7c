// Turns one long-running function into the Controller lifecycle (start/ready/done/stop), so each
// controller writes only `run`: wire handlers, call `ready()`, then work until the signal aborts.
import type { Controller } from './types.ts';

export type ControllerRun = (signal: AbortSignal, ready: () => void) => Promise<void>;

export function controllerFromRun(name: string, run: ControllerRun): Controller {
  const abort = new AbortController();
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let started: Promise<void> | undefined;
  let done: Promise<void> = Promise.resolve();
  let resolveDone: (p: Promise<void>) => void = () => {};
  const donePromise = new Promise<void>((resolve) => (resolveDone = resolve));
  // Observed by the manager; marked handled here so a controller used alone cannot crash the process.
  donePromise.catch(() => {});
  return {
    name,
    ready,
    get done() {
      return donePromise;
    },
    start(signal: AbortSignal): Promise<void> {
      if (started) return started;
      if (signal.aborted) abort.abort();
      else signal.addEventListener('abort', () => abort.abort(), { once: true });
      done = run(abort.signal, () => markReady());
      resolveDone(done);
      // start settles when the controller says it runs, or when run ends (either way) before that.
      started = Promise.race([ready, done]);
      return started;
    },
    async stop(): Promise<void> {
      abort.abort();
      await done.catch(() => {});
    },
  };
}
