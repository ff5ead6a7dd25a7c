/**
 * The shape all workload controllers share (client-go's informer + workqueue pattern): wire event
 * handlers that turn changes into queue keys, wait for the informers to sync, then let workers
 * call `sync(key)` until stopped. Syncs are level-triggered: each reads the cache and converges, so
 * a restart simply re-lists and syncs every key again.
 */
import { controllerFromRun } from '../lifecycle.ts';
import type { Controller, ControllerContext, WorkQueue } from '../types.ts';
import { createWorkQueue } from '../work-queue.ts';

export interface QueueControllerSpec {
  readonly name: string;
  /** Add informer handlers that feed `queue`; returns their unsubscribe functions. */
  wire(queue: WorkQueue): (() => void)[];
  /** Converge one object; throwing requeues the key with backoff. */
  sync(key: string, queue: WorkQueue): Promise<void>;
}

export function queueController(ctx: ControllerContext, spec: QueueControllerSpec): Controller {
  return controllerFromRun(spec.name, async (signal, ready) => {
    const queue = createWorkQueue(ctx.log);
    const unsubscribe = spec.wire(queue);
    try {
      await ctx.informers.waitForSync(signal);
      ready();
      await queue.run((key) => spec.sync(key, queue), { workers: ctx.options.workers, signal });
    } finally {
      for (const u of unsubscribe) u();
    }
  });
}
