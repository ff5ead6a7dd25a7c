/**
 * apps/v1 StatefulSet: SetDefaults_StatefulSet (OrderedReady, RollingUpdate partition 0, Retain/Retain
 * PVC retention, replicas 1, revisionHistoryLimit 10), ValidateStatefulSet(Update) and
 * printStatefulSet.
 */
import { child, jsonEqual, map, maps, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { forbidden, notSupported } from './field-errors.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { containerCells, defaultPodTemplate, nonNegative, validatePodTemplate, validateWorkloadSelector } from './pod-template.ts';
import { count, specOf, statusOf } from './workload-common.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, scaleSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind, statusWithConditions, labelSelector, podTemplateSpec } from '../patch/merge-keys-core.ts';
import { atomic, struct } from '../patch/merge-keys.ts';

const POD_MANAGEMENT_POLICIES = ['OrderedReady', 'Parallel'];
const UPDATE_STRATEGIES = ['OnDelete', 'RollingUpdate'];
const RETENTION = ['Delete', 'Retain'];
/** ValidateStatefulSetUpdate: everything else in spec is fixed at creation. */
const MUTABLE_SPEC_FIELDS = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'revisionHistoryLimit'];

/**
 * The template as its pods will be: every volumeClaimTemplate is a volume of the pod (the
 * controller adds them), so a volumeMount may name one. Upstream skips the pod spec of a
 * StatefulSet for this reason ("we should really check that the union of the volumes in the
 * template and volume claims validates"); this is that union.
 */
function templateWithClaims(spec: Record<string, unknown>): unknown {
  const template = map(spec.template);
  const claims = maps(spec.volumeClaimTemplates).map((t) => str(map(t.metadata)?.name) ?? '').filter((n) => n !== '');
  const podSpec = map(template?.spec);
  if (!template || !podSpec || claims.length === 0) return spec.template;
  const volumes = maps(podSpec.volumes);
  const have = new Set(volumes.map((v) => str(v.name)));
  const added = claims.filter((n) => !have.has(n)).map((name) => ({ name, persistentVolumeClaim: { claimName: name } }));
  return { ...template, spec: { ...podSpec, volumes: [...volumes, ...added] } };
}

function validateSpec(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [
    ...nonNegative(spec.replicas, 'spec.replicas'),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateWorkloadSelector(spec.selector, 'spec.selector', 'statefulset'),
    ...validatePodTemplate(templateWithClaims(spec), spec.selector, 'spec.template', {
      restartPolicies: ['Always'],
      activeDeadlineError: (path) => forbidden(path, 'activeDeadlineSeconds in StatefulSet is not Supported'),
    }),
  ];
  const policy = str(spec.podManagementPolicy) ?? '';
  if (!POD_MANAGEMENT_POLICIES.includes(policy)) errs.push(notSupported('spec.podManagementPolicy', policy, POD_MANAGEMENT_POLICIES));
  const strategy = map(spec.updateStrategy) ?? {};
  const type = str(strategy.type) ?? '';
  if (!UPDATE_STRATEGIES.includes(type)) errs.push(notSupported('spec.updateStrategy.type', type, UPDATE_STRATEGIES));
  else if (type === 'OnDelete' && map(strategy.rollingUpdate))
    errs.push(forbidden('spec.updateStrategy.rollingUpdate', "only allowed for updateStrategy 'RollingUpdate'"));
  errs.push(...nonNegative(map(strategy.rollingUpdate)?.partition, 'spec.updateStrategy.rollingUpdate.partition'));
  const retention = map(spec.persistentVolumeClaimRetentionPolicy) ?? {};
  for (const key of ['whenDeleted', 'whenScaled'] as const) {
    const v = str(retention[key]);
    if (v !== undefined && !RETENTION.includes(v)) errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${key}`, v, RETENTION));
  }
  return errs;
}

function validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const strip = (spec: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(spec).filter(([k]) => !MUTABLE_SPEC_FIELDS.includes(k)));
  if (jsonEqual(strip(specOf(obj)), strip(specOf(old)))) return [];
  return [
    forbidden(
      'spec',
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}

export const statefulSet = defineKind({
  group: 'apps',
  versions: ['v1'],
  kind: 'StatefulSet',
  plural: 'statefulsets',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  verbs: CRUD,
  subresources: [statusSubresource('apps', 'v1', 'StatefulSet'), scaleSubresource],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    const spec = child(obj, 'spec');
    setDefault(spec, 'podManagementPolicy', 'OrderedReady');
    const strategy = child(spec, 'updateStrategy');
    if (!str(strategy.type)) {
      strategy.type = 'RollingUpdate';
      child(strategy, 'rollingUpdate');
    }
    const ru = map(strategy.rollingUpdate);
    if (strategy.type === 'RollingUpdate' && ru) setDefault(ru, 'partition', 0);
    const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
    setDefault(retention, 'whenDeleted', 'Retain');
    setDefault(retention, 'whenScaled', 'Retain');
    setDefault(spec, 'replicas', 1);
    setDefault(spec, 'revisionHistoryLimit', 10);
    defaultPodTemplate(child(spec, 'template'));
  },
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true), ...validateSpec(obj)];
    return [...validateObjectMetaUpdate(obj, old, true), ...validateSpec(obj), ...validateUpdate(obj, old)];
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Ready', 'Number of the pod with ready state'),
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const [containers, images] = containerCells(spec.template);
      return [nameOf(obj), `${count(statusOf(obj).readyReplicas)}/${count(spec.replicas)}`, ageOf(obj, now), containers, images];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ selector: labelSelector, template: podTemplateSpec, volumeClaimTemplates: atomic() }), status: statusWithConditions }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
