/**
 * apps/v1 Deployment: SetDefaults_Deployment (pkg/apis/apps/v1/defaults.go), ValidateDeployment /
 * ValidateDeploymentUpdate (pkg/apis/apps/validation) and printDeployment.
 */
import { child, map, setDefault, str } from './access.ts';
import { forbidden, invalid, notSupported } from './field-errors.ts';
import { intOrPercent, validatePositiveIntOrPercent } from './int-or-percent.ts';
import { formatLabelSelector } from './label-selector.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { REPLICA_SET_TEMPLATE_RULES, containerCells, defaultPodTemplate, nonNegative, validatePodTemplate, validateWorkloadSelector } from './pod-template.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { count, selectorImmutable, specOf, statusOf } from './workload-common.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, scaleSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind, statusWithConditions, labelSelector, podTemplateSpec } from '../patch/merge-keys-core.ts';
import { struct } from '../patch/merge-keys.ts';

const STRATEGY_TYPES = ['Recreate', 'RollingUpdate'];

function defaultDeployment(obj: KubeObject): void {
  const spec = child(obj, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(child(spec, 'template'));
}

function validateStrategy(strategy: unknown): FieldError[] {
  const s = map(strategy) ?? {};
  const errs: FieldError[] = [];
  const type = str(s.type) ?? '';
  if (!STRATEGY_TYPES.includes(type)) {
    errs.push(notSupported('spec.strategy.type', type, STRATEGY_TYPES));
    return errs;
  }
  const ru = map(s.rollingUpdate);
  if (type === 'Recreate') {
    if (ru) errs.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
    return errs;
  }
  if (!ru) return errs;
  const base = 'spec.strategy.rollingUpdate';
  errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${base}.maxUnavailable`));
  errs.push(...validatePositiveIntOrPercent(ru.maxSurge, `${base}.maxSurge`));
  const unavailable = intOrPercent(ru.maxUnavailable);
  const surge = intOrPercent(ru.maxSurge);
  if (unavailable?.value === 0 && surge?.value === 0)
    errs.push(invalid(`${base}.maxUnavailable`, ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  return errs;
}

function validateSpec(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateWorkloadSelector(spec.selector, 'spec.selector', 'deployment'));
  errs.push(...validatePodTemplate(spec.template, spec.selector, 'spec.template', REPLICA_SET_TEMPLATE_RULES));
  errs.push(...validateStrategy(spec.strategy));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const pds = spec.progressDeadlineSeconds;
  errs.push(...nonNegative(pds, 'spec.progressDeadlineSeconds'));
  if (typeof pds === 'number' && pds <= count(spec.minReadySeconds))
    errs.push(invalid('spec.progressDeadlineSeconds', pds, 'must be greater than minReadySeconds'));
  return errs;
}

function validateDeployment(obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (!old) return [...validateObjectMeta(obj, true), ...validateSpec(obj)];
  return [...validateObjectMetaUpdate(obj, old, true), ...validateSpec(obj), ...selectorImmutable(obj, old)];
}

const deploymentMergeKeys = kind({
  spec: struct({
    selector: labelSelector,
    template: podTemplateSpec,
    // +patchStrategy=retainKeys: `strategy` carries $retainKeys from kubectl apply.
    strategy: struct({}),
  }),
  status: statusWithConditions,
});

export const deployment = defineKind({
  group: 'apps',
  versions: ['v1'],
  kind: 'Deployment',
  plural: 'deployments',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  verbs: CRUD,
  subresources: [statusSubresource('apps', 'v1', 'Deployment'), scaleSubresource],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: defaultDeployment,
  validate: validateDeployment,
  table: {
    columns: [
      NAME_COLUMN,
      col('Ready', 'Number of the pod with ready state'),
      { name: 'Up-to-date', type: 'string', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', priority: 0 },
      { name: 'Available', type: 'string', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', priority: 0 },
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = statusOf(obj);
      const [containers, images] = containerCells(spec.template);
      return [
        nameOf(obj),
        `${count(status.readyReplicas)}/${count(spec.replicas)}`,
        count(status.updatedReplicas),
        count(status.availableReplicas),
        ageOf(obj, now),
        containers,
        images,
        formatLabelSelector(spec.selector),
      ];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: deploymentMergeKeys,
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
