/**
 * What one sync of a Job should do (pkg/controller/job/job_controller.go syncJob), as a pure
 * function of the Job, the pods it owns and the time: counts (active, ready, succeeded, failed),
 * whether it finished — Complete, or Failed with BackoffLimitExceeded / DeadlineExceeded — how many
 * pods to create or delete, and when to look again (active deadline, pod-failure backoff).
 */
import type { KubeObject } from '../types.ts';
import { deletionComparator, isPodActive, isPodReady, podPhase } from './pods.ts';
import { formatIndexes, planIndexes } from './job-indexes.ts';
import { parseTime, rfc3339 } from './timestamps.ts';

/** DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
const FAILURE_BACKOFF_MS = 10_000;
const MAX_FAILURE_BACKOFF_MS = 10 * 60_000;

export interface JobCondition {
  type: string;
  status: 'True' | 'False';
  lastProbeTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface JobStatus {
  completedIndexes?: string;
  active: number;
  ready: number;
  succeeded: number;
  failed: number;
  startTime?: string;
  completionTime?: string;
  conditions?: JobCondition[];
}

export interface JobPlan {
  readonly status: JobStatus;
  /** Pods to create now. */
  readonly create: number;
  /** Indexed Jobs: the completion index of each pod to create (create === indexes.length). */
  readonly indexes?: number[];
  /** Active pods to delete now (finished, suspended or over parallelism). */
  readonly remove: KubeObject[];
  /** Look again this many ms from now (deadline, backoff); undefined when an event will come. */
  readonly requeueAfterMs?: number;
  /** The Warning / Normal event that goes with finishing. */
  readonly event?: { type: 'Normal' | 'Warning'; reason: string; message: string };
}

interface JobSpec {
  completions?: number | null;
  completionMode?: string;
  parallelism?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  suspend?: boolean;
  template?: { spec?: { restartPolicy?: string } };
}

export function jobSpec(job: KubeObject): JobSpec {
  return (job.spec ?? {}) as JobSpec;
}

export function jobConditions(job: KubeObject): JobCondition[] {
  const c = (job.status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(c) ? (c as JobCondition[]) : [];
}

/** IsJobFinished: a Complete or Failed condition is True. */
export function jobFinished(job: KubeObject): JobCondition | undefined {
  return jobConditions(job).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** When a finished pod finished: its last container's finishedAt, else the Ready condition's transition. */
function finishedAt(pod: KubeObject): number {
  const status = (pod.status ?? {}) as { containerStatuses?: { state?: { terminated?: { finishedAt?: string } } }[]; conditions?: { type: string; lastTransitionTime?: string }[] };
  const times = (status.containerStatuses ?? []).map((c) => parseTime(c.state?.terminated?.finishedAt)).filter((t): t is number => t !== undefined);
  if (times.length) return Math.max(...times);
  return parseTime(status.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime) ?? parseTime(pod.metadata.creationTimestamp) ?? 0;
}

/** Container restarts of active pods: with restartPolicy OnFailure these are the failures. */
function activeRestarts(active: readonly KubeObject[]): number {
  let n = 0;
  for (const p of active) {
    const s = (p.status ?? {}) as { containerStatuses?: { restartCount?: number }[]; initContainerStatuses?: { restartCount?: number }[] };
    for (const c of [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? [])]) n += c.restartCount ?? 0;
  }
  return n;
}

function condition(type: string, reason: string, message: string, now: number): JobCondition {
  const t = rfc3339(now);
  return { type, status: 'True', lastProbeTime: t, lastTransitionTime: t, reason, message };
}

/**
 * The pod-failure backoff: 10 s doubling per failure since the last success, capped at 10 min,
 * counted from the newest failure. Returns ms to wait before creating replacements.
 */
export function failureBackoffMs(pods: readonly KubeObject[], now: number): number {
  const lastSuccess = Math.max(0, ...pods.filter((p) => podPhase(p) === 'Succeeded').map(finishedAt));
  const failures = pods.filter((p) => podPhase(p) === 'Failed').map(finishedAt).filter((t) => t >= lastSuccess);
  if (failures.length === 0) return 0;
  const delay = Math.min(FAILURE_BACKOFF_MS * 2 ** (failures.length - 1), MAX_FAILURE_BACKOFF_MS);
  return Math.max(0, Math.max(...failures) + delay - now);
}

export function planJob(job: KubeObject, pods: readonly KubeObject[], now: number): JobPlan {
  const spec = jobSpec(job);
  const prior = (job.status ?? {}) as Partial<JobStatus>;
  const active = pods.filter(isPodActive);
  // Counts never go down: a finished pod someone deleted still counted.
  const succeeded = Math.max(prior.succeeded ?? 0, pods.filter((p) => podPhase(p) === 'Succeeded').length);
  const failed = Math.max(prior.failed ?? 0, pods.filter((p) => podPhase(p) === 'Failed').length);
  const conditions = jobConditions(job).map((c) => ({ ...c }));
  const suspended = spec.suspend === true;
  const startTime = prior.startTime ?? (suspended ? undefined : rfc3339(now));
  const base: JobStatus = { active: active.length, ready: active.filter(isPodReady).length, succeeded, failed, ...(startTime ? { startTime } : {}), ...(conditions.length ? { conditions } : {}) };
  const finish: Finish = (c, event, complete) => ({
    status: {
      ...base,
      active: 0,
      ready: 0,
      ...(complete ? { completionTime: rfc3339(now) } : {}),
      conditions: [...conditions.filter((x) => x.type !== c.type), c],
    },
    create: 0,
    remove: active,
    event,
  });

  const backoffLimit = spec.backoffLimit ?? 6;
  const onFailure = spec.template?.spec?.restartPolicy === 'OnFailure';
  // pastBackoffLimitOnFailure: with OnFailure, container restarts of active pods are the failures.
  const restarts = onFailure ? activeRestarts(active) : 0;
  const pastOnFailure = onFailure && (backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit);
  if (failed > backoffLimit || pastOnFailure) {
    const msg = 'Job has reached the specified backoff limit';
    return finish(condition('Failed', 'BackoffLimitExceeded', msg, now), { type: 'Warning', reason: 'BackoffLimitExceeded', message: msg }, false);
  }
  const started = parseTime(startTime);
  if (spec.activeDeadlineSeconds !== undefined && started !== undefined && !suspended) {
    const left = started + spec.activeDeadlineSeconds * 1000 - now;
    if (left <= 0) {
      const msg = 'Job was active longer than specified deadline';
      return finish(condition('Failed', 'DeadlineExceeded', msg, now), { type: 'Warning', reason: 'DeadlineExceeded', message: msg }, false);
    }
  }
  const completions = typeof spec.completions === 'number' ? spec.completions : undefined;
  const parallelism = spec.parallelism ?? 1;
  if (spec.completionMode === 'Indexed' && completions !== undefined) return planIndexed(job, pods, now, base, conditions, completions, parallelism, finish);
  const done = completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
  if (done) {
    return finish(condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now), { type: 'Normal', reason: 'Completed', message: 'Job completed' }, true);
  }

  let want: number;
  if (suspended) want = 0;
  else if (completions !== undefined) want = Math.max(0, Math.min(parallelism, completions - succeeded));
  // Without completions, once one pod succeeded no new pods start; the running ones finish.
  else want = succeeded > 0 ? Math.min(active.length, parallelism) : parallelism;

  const status = { ...base, conditions: suspendedConditions(conditions, suspended, now) };
  if (!status.conditions.length) delete (status as { conditions?: unknown }).conditions;
  const deadlineIn = spec.activeDeadlineSeconds !== undefined && started !== undefined && !suspended ? started + spec.activeDeadlineSeconds * 1000 - now : undefined;
  if (active.length > want) {
    const remove = [...active].sort(deletionComparator(now)).slice(0, active.length - want);
    return { status, create: 0, remove, ...(deadlineIn !== undefined ? { requeueAfterMs: deadlineIn } : {}) };
  }
  const missing = want - active.length;
  if (missing > 0) {
    const wait = failureBackoffMs(pods, now);
    if (wait > 0) return { status, create: 0, remove: [], requeueAfterMs: deadlineIn !== undefined ? Math.min(wait, deadlineIn) : wait };
  }
  return { status, create: missing, remove: [], ...(deadlineIn !== undefined ? { requeueAfterMs: deadlineIn } : {}) };
}

type Finish = (c: JobCondition, event: JobPlan['event'], complete: boolean) => JobPlan;

/** The rest of planJob for completionMode Indexed: per-index pods and completedIndexes. */
function planIndexed(job: KubeObject, pods: readonly KubeObject[], now: number, base: JobStatus, conditions: JobCondition[], completions: number, parallelism: number, finish: Finish): JobPlan {
  const spec = jobSpec(job);
  const suspended = spec.suspend === true;
  const prior = (job.status as { completedIndexes?: string } | undefined)?.completedIndexes;
  const plan = planIndexes(pods, completions, suspended ? 0 : parallelism, prior);
  const completedIndexes = formatIndexes(plan.succeeded);
  const withIndexes: JobStatus = { ...base, succeeded: plan.succeeded.size, ...(completedIndexes ? { completedIndexes } : {}) };
  if (plan.succeeded.size >= completions) {
    const done = finish(condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now), { type: 'Normal', reason: 'Completed', message: 'Job completed' }, true);
    return { ...done, status: { ...done.status, succeeded: plan.succeeded.size, completedIndexes } };
  }
  const status: JobStatus = { ...withIndexes, conditions: suspendedConditions(conditions, suspended, now) };
  if (!status.conditions?.length) delete status.conditions;
  const started = parseTime(base.startTime);
  const deadlineIn = spec.activeDeadlineSeconds !== undefined && started !== undefined && !suspended ? started + spec.activeDeadlineSeconds * 1000 - now : undefined;
  const deadline = deadlineIn !== undefined ? { requeueAfterMs: deadlineIn } : {};
  const remove = suspended ? pods.filter(isPodActive) : plan.extra;
  if (remove.length) return { status, create: 0, remove, ...deadline };
  if (plan.create.length) {
    const wait = failureBackoffMs(pods, now);
    if (wait > 0) return { status, create: 0, remove: [], requeueAfterMs: deadlineIn !== undefined ? Math.min(wait, deadlineIn) : wait };
  }
  return { status, create: plan.create.length, indexes: plan.create, remove: [], ...deadline };
}

/** The Suspended condition: True "JobSuspended" while suspended, False "JobResumed" after. */
function suspendedConditions(conditions: JobCondition[], suspended: boolean, now: number): JobCondition[] {
  const current = conditions.find((c) => c.type === 'Suspended');
  if (suspended && current?.status !== 'True') return [...conditions.filter((c) => c.type !== 'Suspended'), condition('Suspended', 'JobSuspended', 'Job suspended', now)];
  if (!suspended && current?.status === 'True') return [...conditions.filter((c) => c.type !== 'Suspended'), { ...condition('Suspended', 'JobResumed', 'Job resumed', now), status: 'False' }];
  return conditions;
}
