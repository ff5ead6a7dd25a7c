/**
 * The CronJob controller's decisions (pkg/controller/cronjob/cronjob_controllerv2.go syncCronJob
 * and utils.go), kept pure: the most recent missed schedule time, whether it is too late to start
 * (startingDeadlineSeconds), the Job name `<cronjob>-<minutes since epoch>`, and which finished
 * Jobs the history limits let go.
 */
import type { KubeObject } from '../types.ts';
import type { CronSchedule } from './cron-schedule.ts';
import { jobFinished } from './job-accounting.ts';
import { parseTime } from './timestamps.ts';

/** Upstream gives up counting (and warns TooManyMissedTimes) past this many missed starts. */
export const MAX_MISSED = 100;

export interface CronJobSpecView {
  schedule?: string;
  timeZone?: string;
  suspend?: boolean;
  concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
  startingDeadlineSeconds?: number;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobTemplate?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
}

export const cronSpec = (cj: KubeObject): CronJobSpecView => (cj.spec ?? {}) as CronJobSpecView;

/**
 * mostRecentScheduleTime: the latest fire time in (earliest, now], where earliest is the last
 * schedule time (or creation), moved up to now - startingDeadlineSeconds when that is later.
 * Also returns how many were missed and the next fire time after now.
 */
export function mostRecentScheduleTime(cj: KubeObject, schedule: CronSchedule, now: number): { recent?: number; missed: number; next?: number } {
  const spec = cronSpec(cj);
  let earliest = parseTime((cj.status as { lastScheduleTime?: string } | undefined)?.lastScheduleTime) ?? parseTime(cj.metadata.creationTimestamp) ?? now;
  if (spec.startingDeadlineSeconds !== undefined) earliest = Math.max(earliest, now - spec.startingDeadlineSeconds * 1000);
  let recent: number | undefined;
  let missed = 0;
  let t = schedule.next(earliest);
  while (t !== undefined && t <= now) {
    recent = t;
    missed++;
    t = schedule.next(t);
  }
  return { ...(recent !== undefined ? { recent } : {}), missed, ...(t !== undefined ? { next: t } : {}) };
}

/** getJobName: `<cronjob>-<scheduled time in minutes since the epoch>`, the same on every retry. */
export function jobNameFor(cj: KubeObject, scheduled: number): string {
  return `${cj.metadata.name ?? ''}-${Math.floor(scheduled / 60_000)}`;
}

function finishTime(job: KubeObject): number {
  const s = (job.status ?? {}) as { completionTime?: string; startTime?: string };
  return parseTime(s.completionTime) ?? parseTime(jobFinished(job)?.lastTransitionTime) ?? parseTime(s.startTime) ?? parseTime(job.metadata.creationTimestamp) ?? 0;
}

/** cleanupFinishedJobs: the oldest finished Jobs beyond successful/failedJobsHistoryLimit (3 and 1). */
export function jobsToPrune(cj: KubeObject, jobs: readonly KubeObject[]): KubeObject[] {
  const spec = cronSpec(cj);
  const out: KubeObject[] = [];
  for (const [type, limit] of [['Complete', spec.successfulJobsHistoryLimit ?? 3], ['Failed', spec.failedJobsHistoryLimit ?? 1]] as const) {
    const finished = jobs.filter((j) => !j.metadata.deletionTimestamp && jobFinished(j)?.type === type).sort((a, b) => finishTime(a) - finishTime(b));
    if (finished.length > limit) out.push(...finished.slice(0, finished.length - limit));
  }
  return out;
}

/** The newest completionTime among the owned Jobs that completed (status.lastSuccessfulTime). */
export function lastSuccessfulTime(cj: KubeObject, jobs: readonly KubeObject[]): number | undefined {
  const prior = parseTime((cj.status as { lastSuccessfulTime?: string } | undefined)?.lastSuccessfulTime);
  const times = jobs.filter((j) => jobFinished(j)?.type === 'Complete').map(finishTime);
  const best = Math.max(prior ?? 0, ...times);
  return best > 0 ? best : undefined;
}
