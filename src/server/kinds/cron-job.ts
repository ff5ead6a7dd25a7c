/**
 * batch/v1 CronJob: SetDefaults_CronJob (Allow, not suspended, keep 3 succeeded / 1 failed job),
 * ValidateCronJobCreate/Update (pkg/apis/batch/validation) and printCronJob.
 */
import { child, map, maps, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { ageSince } from './age.ts';
import { cronScheduleError } from './cron-schedule.ts';
import { invalid, notSupported, required } from './field-errors.ts';
import { jobSpecMergeKeys, validateJobSpec } from './job.ts';
import { formatLabelSelector } from './label-selector.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { containerCells, defaultPodTemplate, nonNegative } from './pod-template.ts';
import { specOf, statusOf } from './workload-common.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind, objectMeta } from '../patch/merge-keys-core.ts';
import { atomic, struct } from '../patch/merge-keys.ts';

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];
/** Job names get an 11-character suffix, so CronJob names stop at 52 (ValidateCronJobCreate). */
const MAX_CRONJOB_NAME = 52;

function validateSpec(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [];
  const schedule = str(spec.schedule) ?? '';
  if (!schedule) errs.push(required('spec.schedule'));
  else if (/^\s*(CRON_)?TZ=/.test(schedule)) errs.push(invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  else {
    const problem = cronScheduleError(schedule);
    if (problem) errs.push(invalid('spec.schedule', schedule, problem));
  }
  const policy = str(spec.concurrencyPolicy) ?? '';
  if (!CONCURRENCY_POLICIES.includes(policy)) errs.push(notSupported('spec.concurrencyPolicy', policy, CONCURRENCY_POLICIES));
  for (const key of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'] as const)
    errs.push(...nonNegative(spec[key], `spec.${key}`));
  const jobSpec = map(map(spec.jobTemplate)?.spec) ?? {};
  errs.push(...validateJobSpec(jobSpec, 'spec.jobTemplate.spec', false));
  return errs;
}

function validateName(obj: KubeObject): FieldError[] {
  const name = str(map(obj.metadata)?.name) ?? '';
  return name.length > MAX_CRONJOB_NAME ? [invalid('metadata.name', name, `must be no more than ${MAX_CRONJOB_NAME} characters`)] : [];
}

export const cronJob = defineKind({
  group: 'batch',
  versions: ['v1'],
  kind: 'CronJob',
  plural: 'cronjobs',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  verbs: CRUD,
  subresources: [statusSubresource('batch', 'v1', 'CronJob')],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    const spec = child(obj, 'spec');
    setDefault(spec, 'concurrencyPolicy', 'Allow');
    setDefault(spec, 'suspend', false);
    setDefault(spec, 'successfulJobsHistoryLimit', 3);
    setDefault(spec, 'failedJobsHistoryLimit', 1);
    // defaulter-gen applies the pod defaults to the embedded template, not SetDefaults_Job.
    defaultPodTemplate(child(child(child(spec, 'jobTemplate'), 'spec'), 'template'));
  },
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true), ...validateName(obj), ...validateSpec(obj)];
    return [...validateObjectMetaUpdate(obj, old, true), ...validateSpec(obj)];
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
      { name: 'Suspend', type: 'boolean', description: 'This flag tells the controller to suspend subsequent executions.', priority: 0 },
      { name: 'Active', type: 'integer', description: 'A list of pointers to currently running jobs.', priority: 0 },
      col('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'A label query over pods that should match the pod count.', 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = statusOf(obj);
      const jobSpec = map(map(spec.jobTemplate)?.spec) ?? {};
      const [containers, images] = containerCells(jobSpec.template);
      const suspend = typeof spec.suspend === 'boolean' ? (spec.suspend ? 'True' : 'False') : '<unset>';
      const last = str(status.lastScheduleTime) ? ageSince(status.lastScheduleTime, now) : '<none>';
      return [
        nameOf(obj),
        str(spec.schedule) ?? '',
        str(spec.timeZone) || '<none>',
        suspend,
        maps(status.active).length,
        last,
        ageOf(obj, now),
        containers,
        images,
        formatLabelSelector(jobSpec.selector),
      ];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ jobTemplate: struct({ metadata: objectMeta, spec: jobSpecMergeKeys }) }), status: struct({ active: atomic() }) }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
