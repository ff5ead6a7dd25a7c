/**
 * The CronJob controller (pkg/controller/cronjob, the v2 controller): at each schedule time
 * creates the Job `<cronjob>-<minutes>` from jobTemplate, honouring suspend,
 * startingDeadlineSeconds and concurrencyPolicy (Allow, Forbid: skip while one runs, Replace:
 * delete the running ones first); keeps status.active, lastScheduleTime and lastSuccessfulTime,
 * prunes finished Jobs past the history limits, and wakes itself for the next schedule time. The
 * clock is the context's, so tests can move time instead of waiting minutes.
 */
import type { Controller, ControllerContext, KubeObject, ObjectReference, WorkQueue } from '../types.ts';
import { AlreadyExistsError, inNamespace, NotFoundError, resources } from '../types.ts';
import { controllerOf, splitKey } from '../keys.ts';
import { childEventHandler, ownerEventHandler } from './child-events.ts';
import { cronJobPlanStatus, startJob } from './cron-job-start.ts';
import { cronSpec, jobsToPrune, lastSuccessfulTime, mostRecentScheduleTime, MAX_MISSED, jobNameFor } from './cron-job-plan.ts';
import { checkTimeZone, parseCronSchedule } from './cron-schedule.ts';
import type { CronSchedule } from './cron-schedule.ts';
import { jobFinished } from './job-accounting.ts';
import { queueController } from './queue-controller.ts';
import { writeStatus } from './status-writer.ts';
import { rfc3339 } from './timestamps.ts';

export function cronJobController(ctx: ControllerContext): Controller {
  const cronJobs = ctx.informers.informerFor(resources.cronJobs);
  const jobs = ctx.informers.informerFor(resources.jobs);

  async function sync(key: string, queue: WorkQueue): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cj = cronJobs.get(namespace, name);
    if (!cj || cj.metadata.deletionTimestamp) return;
    const ns = namespace ?? '';
    const spec = cronSpec(cj);
    const now = ctx.clock.now();
    const owned = jobs.list(namespace).filter((j) => controllerOf(j)?.uid === cj.metadata.uid);
    const priorActive = ((cj.status as { active?: ObjectReference[] } | undefined)?.active ?? []);

    // Reconcile status.active with the Jobs that exist and still run.
    const active: ObjectReference[] = [];
    for (const j of owned) {
      if (jobFinished(j) || j.metadata.deletionTimestamp) {
        if (priorActive.some((r) => r.uid === j.metadata.uid)) ctx.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name ?? ''}, condition: ${jobFinished(j)?.type ?? 'Deleted'}`);
        continue;
      }
      // Keep the reference as first recorded, so Job status changes do not rewrite ours.
      active.push(priorActive.find((r) => r.uid === j.metadata.uid) ?? jobRef(j));
    }
    for (const r of priorActive) if (!owned.some((j) => j.metadata.uid === r.uid)) ctx.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${r.name ?? ''}`);

    let lastScheduleTime = (cj.status as { lastScheduleTime?: string } | undefined)?.lastScheduleTime;
    const finish = async (next: number | undefined): Promise<void> => {
      for (const j of jobsToPrune(cj, owned)) {
        try {
          await ctx.client.delete(inNamespace(resources.jobs, ns), j.metadata.name ?? '', { propagationPolicy: 'Background', preconditions: { uid: j.metadata.uid } });
          ctx.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name ?? ''}`);
        } catch (e) {
          if (!(e instanceof NotFoundError)) throw e;
        }
      }
      const success = lastSuccessfulTime(cj, owned);
      await writeStatus(ctx.client, resources.cronJobs, cj, cronJobPlanStatus(active, lastScheduleTime, success));
      if (next !== undefined) queue.addAfter(key, Math.max(0, next - ctx.clock.now()) + 100);
    };

    if (spec.suspend === true) return finish(undefined);
    let schedule: CronSchedule;
    try {
      if (spec.timeZone) checkTimeZone(spec.timeZone);
      schedule = parseCronSchedule(spec.schedule ?? '', spec.timeZone);
    } catch (e) {
      // Nothing to retry until the spec changes (upstream: UnknownTimeZone / InvalidSchedule events).
      ctx.recorder.event(cj, 'Warning', spec.timeZone ? 'UnknownTimeZone' : 'InvalidSchedule', `invalid schedule ${JSON.stringify(spec.schedule ?? '')} in time zone ${JSON.stringify(spec.timeZone ?? 'UTC')}: ${(e as Error).message}`);
      return finish(undefined);
    }
    const { recent, missed, next } = mostRecentScheduleTime(cj, schedule, now);
    if (recent === undefined) return finish(next);
    if (missed > MAX_MISSED) ctx.recorder.event(cj, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    if (spec.startingDeadlineSeconds !== undefined && recent + spec.startingDeadlineSeconds * 1000 < now) {
      ctx.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc3339(recent)}`);
      return finish(next);
    }
    const jobName = jobNameFor(cj, recent);
    if (active.some((r) => r.name === jobName) || owned.some((j) => j.metadata.name === jobName)) {
      // Already started (maybe before a restart): just record it.
      lastScheduleTime = rfc3339(recent);
      return finish(next);
    }
    if (spec.concurrencyPolicy === 'Forbid' && active.length > 0) {
      ctx.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return finish(next);
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const r of active.splice(0)) {
        try {
          await ctx.client.delete(inNamespace(resources.jobs, ns), r.name ?? '', { propagationPolicy: 'Background', preconditions: { uid: r.uid } });
          ctx.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${r.name ?? ''}`);
        } catch (e) {
          if (!(e instanceof NotFoundError)) throw e;
        }
      }
    }
    try {
      const job = await startJob(ctx.client, cj, jobName, recent);
      ctx.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
      active.push(jobRef(job));
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) {
        ctx.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
        throw e;
      }
      const existing = await ctx.client.get(inNamespace(resources.jobs, ns), jobName);
      if (controllerOf(existing)?.uid !== cj.metadata.uid) throw e;
      if (!jobFinished(existing)) active.push(jobRef(existing));
    }
    lastScheduleTime = rfc3339(recent);
    return finish(next);
  }

  return queueController(ctx, {
    name: 'cronjob',
    wire: (queue) => [
      cronJobs.addEventHandler(ownerEventHandler(queue)),
      jobs.addEventHandler(childEventHandler({ kind: 'CronJob', owners: cronJobs, queue })),
    ],
    sync,
  });
}

function jobRef(j: KubeObject): ObjectReference {
  return { kind: 'Job', namespace: j.metadata.namespace, name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata.resourceVersion };
}

