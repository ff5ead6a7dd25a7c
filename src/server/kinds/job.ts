/**
 * batch/v1 Job: SetDefaults_Job (pkg/apis/batch/v1/defaults.go), the selector the job strategy
 * generates (pkg/registry/batch/job/strategy.go generateSelector), ValidateJob / ValidateJobUpdate
 * (pkg/apis/batch/validation) and printJob.
 */
import { ageSince, humanDuration } from './age.ts';
import { child, isMap, jsonEqual, map, maps, num, setDefault, str, stringMap } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { immutable, invalidRendered, notSupported, required } from './field-errors.ts';
import { formatLabelSelector, goLabelSelector, validateLabelSelector } from './label-selector.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { containerCells, defaultPodTemplate, nonNegative, validatePodTemplate } from './pod-template.ts';
import { count, specOf, statusOf } from './workload-common.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind, statusWithConditions, labelSelector, podTemplateSpec } from '../patch/merge-keys-core.ts';
import { atomic, struct } from '../patch/merge-keys.ts';
import { pathFields } from './selectable-fields.ts';

const COMPLETION_MODES = ['NonIndexed', 'Indexed'];
/** Jobs' pods must not restart in place forever (ValidateJobSpec). */
export const JOB_RESTART_POLICIES = ['OnFailure', 'Never'];

/**
 * generateSelector: unless spec.manualSelector, label the template with the job's uid and name (new
 * and legacy keys) and select on the uid. Needs metadata.uid; does nothing without it.
 */
export function generateJobSelector(job: KubeObject): void {
  const meta = map(job.metadata) ?? {};
  const uid = str(meta.uid);
  const name = str(meta.name);
  const spec = child(job, 'spec');
  if (!uid || !name || spec.manualSelector === true) return;
  const template = child(spec, 'template');
  const labels = child(child(template, 'metadata'), 'labels');
  setDefault(labels, 'batch.kubernetes.io/controller-uid', uid);
  setDefault(labels, 'batch.kubernetes.io/job-name', name);
  setDefault(labels, 'controller-uid', uid);
  setDefault(labels, 'job-name', name);
  // A user selector is kept but always gets the uid; a wrong uid then fails validation.
  const selector = child(spec, 'selector');
  setDefault(child(selector, 'matchLabels'), 'batch.kubernetes.io/controller-uid', uid);
}

/** ValidateGeneratedSelector: without manualSelector the selector must carry this job's uid. */
function validateGeneratedSelector(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const uid = str(map(obj.metadata)?.uid);
  if (spec.manualSelector === true || !uid || !isMap(spec.selector)) return [];
  const given = stringMap(map(spec.selector)?.matchLabels)['batch.kubernetes.io/controller-uid'];
  return given === uid ? [] : [invalidRendered('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated')];
}

/** SetDefaults_Job over a JobSpec (also used, without the Job-level parts, by CronJob templates). */
export function defaultJobSpec(spec: Record<string, unknown>): void {
  if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null ? 2147483647 : 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', isMap(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed');
  setDefault(spec, 'manualSelector', false);
  defaultPodTemplate(child(spec, 'template'));
}

function defaultJob(obj: KubeObject): void {
  const spec = child(obj, 'spec');
  defaultJobSpec(spec);
  generateJobSelector(obj);
  // SetDefaults_Job: a job without labels takes its template's labels.
  const meta = child(obj, 'metadata');
  const templateLabels = stringMap(map(map(spec.template)?.metadata)?.labels);
  if (Object.keys(stringMap(meta.labels)).length === 0 && Object.keys(templateLabels).length > 0) meta.labels = { ...templateLabels };
}

/** ValidateJobSpec for a Job's spec or a CronJob's jobTemplate.spec. */
export function validateJobSpec(spec: Record<string, unknown>, path: string, requireSelector: boolean): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished'] as const)
    errs.push(...nonNegative(spec[key], `${path}.${key}`));
  if (!isMap(spec.selector)) {
    if (requireSelector) errs.push(required(`${path}.selector`));
  } else errs.push(...validateLabelSelector(spec.selector, `${path}.selector`));
  const mode = str(spec.completionMode);
  if (mode !== undefined && !COMPLETION_MODES.includes(mode)) errs.push(notSupported(`${path}.completionMode`, mode, COMPLETION_MODES));
  errs.push(...validatePodTemplate(spec.template, spec.selector, `${path}.template`, { restartPolicies: JOB_RESTART_POLICIES }));
  return errs;
}

function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const before = specOf(old);
  const errs: FieldError[] = [];
  for (const key of ['selector', 'completionMode', 'completions'] as const)
    if (!jsonEqual(spec[key], before[key])) errs.push(immutable(`spec.${key}`, spec[key] ?? null));
  if (!jsonEqual(spec.template, before.template)) errs.push(immutable('spec.template', spec.template));
  return errs;
}

function hasCondition(obj: KubeObject, type: string): boolean {
  return maps(statusOf(obj).conditions).some((c) => c.type === type && c.status === 'True');
}

/** printJob's STATUS column. */
export function jobStatus(obj: KubeObject): string {
  if (hasCondition(obj, 'Complete')) return 'Complete';
  if (hasCondition(obj, 'Failed')) return 'Failed';
  if (str(map(obj.metadata)?.deletionTimestamp)) return 'Terminating';
  if (hasCondition(obj, 'Suspended')) return 'Suspended';
  if (hasCondition(obj, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(obj, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

/** A JobSpec's merge keys, also inside a CronJob's jobTemplate. */
export const jobSpecMergeKeys = struct({ selector: labelSelector, template: podTemplateSpec, podFailurePolicy: struct({ rules: atomic() }) });

export const job = defineKind({
  group: 'batch',
  versions: ['v1'],
  kind: 'Job',
  plural: 'jobs',
  namespaced: true,
  shortNames: [],
  categories: ['all'],
  verbs: CRUD,
  subresources: [statusSubresource('batch', 'v1', 'Job')],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: defaultJob,
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true), ...validateJobSpec(specOf(obj), 'spec', true), ...validateGeneratedSelector(obj)];
    return [...validateObjectMetaUpdate(obj, old, true), ...validateJobSpec(specOf(obj), 'spec', true), ...validateUpdate(obj, old)];
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Status', 'Status of the job.'),
      col('Completions', 'The desired number of successfully finished pods the job should be run with.'),
      col('Duration', 'Time required to complete the job.'),
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'A label query over pods that should match the pod count.', 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = statusOf(obj);
      const succeeded = count(status.succeeded);
      const completions = num(spec.completions);
      const parallelism = num(spec.parallelism);
      let completionText: string;
      if (completions !== undefined) completionText = `${succeeded}/${completions}`;
      else if (parallelism === undefined) completionText = `${succeeded}/1 of 1`;
      else if (parallelism > 1) completionText = `${succeeded}/1 of ${parallelism}`;
      else completionText = `${succeeded}/1`;
      const start = str(status.startTime);
      const end = str(status.completionTime);
      let duration = '';
      if (start && !end) duration = ageSince(start, now);
      else if (start && end) duration = humanDuration(Date.parse(end) - Date.parse(start));
      const [containers, images] = containerCells(spec.template);
      return [nameOf(obj), jobStatus(obj), completionText, duration, ageOf(obj, now), containers, images, formatLabelSelector(spec.selector)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: pathFields('status.successful'),
  mergeKeys: kind({ spec: jobSpecMergeKeys, status: statusWithConditions }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
