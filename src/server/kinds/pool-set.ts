/**
 * apps.edgeos.io/v1 PoolSet (pools-api.ts has its fields): one Deployment or StatefulSet per node
 * pool from one template. Its template is defaulted and validated as the Deployment or StatefulSet
 * it becomes (errors point into spec.workload.workloadTemplate), and every tweak is tried on the
 * template here, so a tweak that does not apply — a patch path the template lacks, an image for a
 * container it does not have — is a 422 naming that tweak, not a failure found later per pool.
 */
import { isPoolName } from '../../common/pools.ts';
import { child, isMap, list, map, maps, num, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { deployment } from './deployment.ts';
import { duplicate, forbidden, invalid, notSupported, required } from './field-errors.ts';
import { validateLabelSelector } from './label-selector.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { POOL_GROUP } from './node-pool.ts';
import { nonNegative } from './pod-template.ts';
import { applyTweaks, poolTemplates, workloadFromTemplate } from './pool-set-render.ts';
import type { PoolTemplate } from './pool-set-render.ts';
import { statefulSet } from './stateful-set.ts';
import { count, specOf, statusOf } from './workload-common.ts';
import { present } from './types.ts';
import type { BuiltinKind, FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, NO_PROTOBUF, NO_CONVERSION } from './define.ts';
import { conditions, kind, labelSelector, objectMeta } from '../patch/merge-keys-core.ts';
import { assoc, atomic, struct } from '../patch/merge-keys.ts';
import type { StructSchema } from '../patch/merge-keys.ts';

const PATCH_OPS = ['add', 'copy', 'move', 'remove', 'replace', 'test'];

function workloadKind(t: PoolTemplate): BuiltinKind {
  return t.kind === 'Deployment' ? deployment : statefulSet;
}

/** The template as the workload kind validates it: a named object of that kind. */
function asWorkload(t: PoolTemplate, poolSet: KubeObject): KubeObject {
  const w = workloadFromTemplate(t);
  w.metadata = { ...w.metadata, name: str(map(poolSet.metadata)?.name) || 'poolset', namespace: str(map(poolSet.metadata)?.namespace) || 'default' };
  return w;
}

/** A workload kind's error moved under the template's path (`spec.replicas` → `spec.workload.workloadTemplate.deploymentTemplate.spec.replicas`). */
function underTemplate(e: FieldError, t: PoolTemplate): FieldError {
  return { ...e, field: `${t.path}.${e.field}` };
}

function validatePoolNames(names: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  list(names).forEach((n, i) => {
    const name = typeof n === 'string' ? n : String(n);
    if (!isPoolName(name)) errs.push(invalid(`${path}[${i}]`, name, 'a node pool name must be a DNS-1123 label (at most 63 of [a-z0-9-], starting and ending alphanumeric)'));
    else if (seen.has(name)) errs.push(duplicate(`${path}[${i}]`, name));
    seen.add(name);
  });
  return errs;
}

function validateTweakFields(tweaks: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [...nonNegative(tweaks.replicas, `${path}.replicas`)];
  maps(tweaks.containerImages).forEach((ci, i) => {
    if (!str(ci.name)) errs.push(required(`${path}.containerImages[${i}].name`));
    if (!str(ci.targetImage)) errs.push(required(`${path}.containerImages[${i}].targetImage`));
  });
  maps(tweaks.env).forEach((e, i) => {
    if (!str(e.name)) errs.push(required(`${path}.env[${i}].name`));
    if (e.value !== undefined && e.valueFrom !== undefined) errs.push(invalid(`${path}.env[${i}].valueFrom`, '', 'may not be specified when `value` is not empty'));
  });
  list(tweaks.patches).forEach((raw, i) => {
    const p = `${path}.patches[${i}]`;
    const op = map(raw);
    if (!op) return void errs.push(invalid(p, raw, 'must be a JSON Patch operation {op, path, value}'));
    const name = str(op.op) ?? '';
    if (!PATCH_OPS.includes(name)) errs.push(notSupported(`${p}.op`, name, PATCH_OPS));
    const pointer = str(op.path);
    if (pointer === undefined || (pointer !== '' && !pointer.startsWith('/'))) errs.push(invalid(`${p}.path`, pointer ?? '', 'must be a JSON Pointer starting with /'));
    if ((name === 'move' || name === 'copy') && str(op.from) === undefined) errs.push(required(`${p}.from`));
    if ((name === 'add' || name === 'replace' || name === 'test') && op.value === undefined) errs.push(required(`${p}.value`));
  });
  return errs;
}

/** Each tweak applied to the template on its own must apply and leave a valid workload. */
function validateTweaks(poolSet: KubeObject, t: PoolTemplate): FieldError[] {
  const errs: FieldError[] = [];
  maps(map(map(poolSet.spec)?.workload)?.workloadTweaks).forEach((tweak, i) => {
    const path = `spec.workload.workloadTweaks[${i}]`;
    if (list(tweak.pools).length === 0 && !isMap(tweak.nodepoolSelector)) errs.push(required(`${path}.pools`, 'pools or nodepoolSelector'));
    errs.push(...validatePoolNames(tweak.pools, `${path}.pools`));
    errs.push(...validateLabelSelector(tweak.nodepoolSelector, `${path}.nodepoolSelector`));
    if (!isMap(tweak.tweaks)) return void errs.push(required(`${path}.tweaks`));
    const fieldErrs = validateTweakFields(tweak.tweaks, `${path}.tweaks`);
    errs.push(...fieldErrs);
    if (fieldErrs.length > 0) return;
    const workload = asWorkload(t, poolSet);
    const failure = applyTweaks(workload, tweak.tweaks, `${path}.tweaks`);
    if (failure) return void errs.push(invalid(failure.field, failure.value, `does not apply to the template: ${failure.message}`));
    const kindDescriptor = workloadKind(t);
    present(kindDescriptor.defaults)?.(workload);
    for (const e of present(kindDescriptor.validate)?.(workload, undefined) ?? [])
      errs.push(invalid(`${path}.tweaks`, '', `makes the ${t.kind} invalid: ${e.field}: ${e.message}`));
  });
  return errs;
}

function validateSpec(obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [];
  const templates = poolTemplates(obj);
  const template = templates[0];
  if (!template) errs.push(required('spec.workload.workloadTemplate', 'one of deploymentTemplate and statefulSetTemplate'));
  else if (templates.length > 1) errs.push(forbidden('spec.workload.workloadTemplate.statefulSetTemplate', 'may not be specified together with deploymentTemplate'));
  else {
    const before = old ? poolTemplates(old)[0] : undefined;
    if (before && before.kind !== template.kind) errs.push(forbidden('spec.workload.workloadTemplate', `the workload kind cannot change from ${before.kind} to ${template.kind}: create another PoolSet`));
    const previous = before?.kind === template.kind && old ? asWorkload(before, old) : undefined;
    for (const e of present(workloadKind(template).validate)?.(asWorkload(template, obj), previous) ?? []) errs.push(underTemplate(e, template));
    errs.push(...validateTweaks(obj, template));
  }
  if (list(spec.pools).length === 0 && !isMap(spec.nodepoolSelector)) errs.push(required('spec.pools', 'pools or nodepoolSelector'));
  errs.push(...validatePoolNames(spec.pools, 'spec.pools'));
  errs.push(...validateLabelSelector(spec.nodepoolSelector, 'spec.nodepoolSelector'));
  errs.push(...validatePoolNames(spec.canaryPools, 'spec.canaryPools'));
  for (const field of ['maxConcurrentPools', 'progressDeadlineSeconds'] as const) {
    const v = num(spec[field]);
    if (v !== undefined && v < 1) errs.push(invalid(`spec.${field}`, v, 'must be greater than or equal to 1'));
  }
  return errs;
}

function condition(obj: KubeObject, type: string): Record<string, unknown> | undefined {
  return maps(statusOf(obj).conditions).find((c) => c.type === type);
}

/** The STATUS column: the one thing to know about the PoolSet. */
export function poolSetState(obj: KubeObject): string {
  if (!isMap(obj.status) || condition(obj, 'Ready') === undefined) return 'Pending';
  if (condition(obj, 'PoolFound')?.status === 'False') return 'PoolNotFound';
  if (condition(obj, 'WorkloadFailure')?.status === 'True') return 'WorkloadFailure';
  const progressing = condition(obj, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return 'Halted';
  if (progressing?.reason === 'RolloutPaused') return 'Paused';
  if (progressing?.reason === 'PoolsUpdating') return 'RollingOut';
  return condition(obj, 'Ready')?.status === 'True' ? 'Ready' : 'NotReady';
}

function workloadSpecSchema(k: BuiltinKind): StructSchema {
  const spec = present(k.mergeKeys)?.fields.spec;
  return spec?.type === 'struct' ? spec : struct({});
}

export const poolSet = defineKind({
  group: POOL_GROUP,
  versions: ['v1'],
  kind: 'PoolSet',
  plural: 'poolsets',
  namespaced: true,
  shortNames: ['pset'],
  categories: [],
  verbs: CRUD,
  subresources: [statusSubresource(POOL_GROUP, 'v1', 'PoolSet')],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    const spec = child(obj, 'spec');
    setDefault(spec, 'maxConcurrentPools', 1);
    setDefault(spec, 'progressDeadlineSeconds', 600);
    // The template is stored defaulted as the workload it becomes, so its hash is stable.
    const templates = map(map(spec.workload)?.workloadTemplate) ?? {};
    for (const [field, k] of [['deploymentTemplate', deployment], ['statefulSetTemplate', statefulSet]] as const) {
      const t = map(templates[field]);
      if (t) present(k.defaults)?.({ spec: child(t, 'spec') });
    }
  },
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true), ...validateSpec(obj, undefined)];
    return [...validateObjectMetaUpdate(obj, old, true), ...validateSpec(obj, old)];
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Ready', 'Pools whose workload has all its replicas ready, of the pools with a workload.'),
      col('Updated', 'Pools whose workload rolled out the current template and tweaks, of the pools with a workload.'),
      col('Status', 'Ready, NotReady, RollingOut, Paused, Halted (a pool missed its progress deadline), PoolNotFound, WorkloadFailure or Pending.'),
      AGE_COLUMN,
      col('Kind', 'The kind of workload each pool runs.', 1),
      col('Pools', 'The pools with a workload.', 1),
    ],
    row(obj, now) {
      const status = statusOf(obj);
      const total = count(status.totalWorkloads);
      const pools = maps(status.pools).map((p) => str(p.name) ?? '');
      return [
        nameOf(obj),
        `${count(status.readyWorkloads)}/${total}`,
        `${count(status.updatedWorkloads)}/${total}`,
        poolSetState(obj),
        ageOf(obj, now),
        poolTemplates(obj)[0]?.kind ?? '<none>',
        pools.length ? pools.join(',') : '<none>',
      ];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({
    spec: struct({
      workload: struct({
        workloadTemplate: struct({
          deploymentTemplate: struct({ metadata: objectMeta, spec: workloadSpecSchema(deployment) }),
          statefulSetTemplate: struct({ metadata: objectMeta, spec: workloadSpecSchema(statefulSet) }),
        }),
        workloadTweaks: atomic(),
      }),
      pools: atomic(),
      nodepoolSelector: labelSelector,
      canaryPools: atomic(),
    }),
    status: struct({ conditions, pools: assoc('name', struct({})) }),
  }),
  protobuf: NO_PROTOBUF,
  conversion: NO_CONVERSION,
});
