/**
 * Creating a CronJob's Job (getJobFromTemplate2) and the status it reports.
 */
import type { KubeClient, KubeObject, ObjectReference } from '../types.ts';
import { inNamespace, resources } from '../types.ts';
import { cronSpec } from './cron-job-plan.ts';
import { controllerRefTo } from './owner-refs.ts';
import { rfc3339 } from './timestamps.ts';

/** The annotation upstream puts on each Job with the schedule time it stands for. */
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export async function startJob(client: KubeClient, cj: KubeObject, name: string, scheduled: number): Promise<KubeObject> {
  const template = cronSpec(cj).jobTemplate ?? {};
  const job: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: cj.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      annotations: { ...(template.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339(scheduled) },
      ownerReferences: [controllerRefTo(cj, 'batch/v1', 'CronJob')],
    },
    spec: structuredClone(template.spec ?? {}),
  };
  return client.create(inNamespace(resources.jobs, cj.metadata.namespace ?? ''), job);
}

export function cronJobPlanStatus(active: readonly ObjectReference[], lastScheduleTime: string | undefined, lastSuccess: number | undefined): Record<string, unknown> {
  return {
    ...(active.length ? { active: [...active] } : {}),
    ...(lastScheduleTime ? { lastScheduleTime } : {}),
    ...(lastSuccess !== undefined ? { lastSuccessfulTime: rfc3339(lastSuccess) } : {}),
  };
}
