/**
 * The TTL-after-finished controller (pkg/controller/ttlafterfinished): a Job with
 * ttlSecondsAfterFinished is deleted (with its pods, foreground) that long after it finished —
 * measured from completionTime, or the Failed condition's transition time.
 */
import { objectKey, splitKey } from '../keys.ts';
import type { Controller, ControllerContext, WorkQueue } from '../types.ts';
import { inNamespace, NotFoundError, resources } from '../types.ts';
import { jobFinished } from './job-accounting.ts';
import { queueController } from './queue-controller.ts';
import { parseTime } from './timestamps.ts';

export function ttlAfterFinishedController(ctx: ControllerContext): Controller {
  const jobs = ctx.informers.informerFor(resources.jobs);

  async function sync(key: string, queue: WorkQueue): Promise<void> {
    const { namespace, name } = splitKey(key);
    const job = jobs.get(namespace, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const ttl = (job.spec as { ttlSecondsAfterFinished?: number } | undefined)?.ttlSecondsAfterFinished;
    const finished = jobFinished(job);
    if (ttl === undefined || !finished) return;
    const at = parseTime((job.status as { completionTime?: string } | undefined)?.completionTime) ?? parseTime(finished.lastTransitionTime) ?? ctx.clock.now();
    const left = at + ttl * 1000 - ctx.clock.now();
    if (left > 0) {
      queue.addAfter(key, left + 50);
      return;
    }
    try {
      // The uid precondition: never delete a namesake created after the one that expired.
      await ctx.client.delete(inNamespace(resources.jobs, namespace ?? ''), name, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }

  return queueController(ctx, {
    name: 'ttl-after-finished',
    wire: (queue) => [jobs.addEventHandler({ add: (j) => queue.add(objectKey(j)), update: (_o, j) => queue.add(objectKey(j)) })],
    sync,
  });
}
