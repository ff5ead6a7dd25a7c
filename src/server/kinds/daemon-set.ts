/**
 * apps/v1 DaemonSet: SetDefaults_DaemonSet (RollingUpdate, maxUnavailable 1, maxSurge 0,
 * revisionHistoryLimit 10), ValidateDaemonSet / ValidateDaemonSetUpdate and printDaemonSet.
 */
import { child, map, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid, notSupported } from './field-errors.ts';
import { intOrPercent, validatePositiveIntOrPercent } from './int-or-percent.ts';
import { formatLabelSelector, formatLabels } from './label-selector.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { containerCells, defaultPodTemplate, nonNegative, validatePodTemplate, validateWorkloadSelector } from './pod-template.ts';
import { count, selectorImmutable, specOf, statusOf } from './workload-common.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind, statusWithConditions, labelSelector, podTemplateSpec } from '../patch/merge-keys-core.ts';
import { struct } from '../patch/merge-keys.ts';

const UPDATE_STRATEGIES = ['OnDelete', 'RollingUpdate'];

function validateSpec(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [
    ...validateWorkloadSelector(spec.selector, 'spec.selector', 'daemonset'),
    ...validatePodTemplate(spec.template, spec.selector, 'spec.template', {
      restartPolicies: ['Always'],
      activeDeadlineError: (path, value) => invalid(path, value, 'activeDeadlineSeconds must be nil for daemonset'),
    }),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
  ];
  const strategy = map(spec.updateStrategy) ?? {};
  const type = str(strategy.type) ?? '';
  if (!UPDATE_STRATEGIES.includes(type)) errs.push(notSupported('spec.updateStrategy.type', type, UPDATE_STRATEGIES));
  const ru = map(strategy.rollingUpdate);
  if (type === 'RollingUpdate' && ru) {
    const base = 'spec.updateStrategy.rollingUpdate';
    errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${base}.maxUnavailable`));
    errs.push(...validatePositiveIntOrPercent(ru.maxSurge, `${base}.maxSurge`));
    const unavailable = intOrPercent(ru.maxUnavailable);
    const surge = intOrPercent(ru.maxSurge);
    if (unavailable?.value === 0 && surge?.value === 0)
      errs.push(invalid(`${base}.maxUnavailable`, ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
  return errs;
}

export const daemonSet = defineKind({
  group: 'apps',
  versions: ['v1'],
  kind: 'DaemonSet',
  plural: 'daemonsets',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  verbs: CRUD,
  subresources: [statusSubresource('apps', 'v1', 'DaemonSet')],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    const spec = child(obj, 'spec');
    const strategy = child(spec, 'updateStrategy');
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const ru = child(strategy, 'rollingUpdate');
      setDefault(ru, 'maxUnavailable', 1);
      setDefault(ru, 'maxSurge', 0);
    }
    setDefault(spec, 'revisionHistoryLimit', 10);
    defaultPodTemplate(child(spec, 'template'));
  },
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true), ...validateSpec(obj)];
    return [...validateObjectMetaUpdate(obj, old, true), ...validateSpec(obj), ...selectorImmutable(obj, old)];
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).', priority: 0 },
      { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', priority: 0 },
      { name: 'Ready', type: 'integer', description: 'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.', priority: 0 },
      { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod', priority: 0 },
      { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', priority: 0 },
      col('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'A label query over pods that are managed by the daemon set.', 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = statusOf(obj);
      const [containers, images] = containerCells(spec.template);
      return [
        nameOf(obj),
        count(status.desiredNumberScheduled),
        count(status.currentNumberScheduled),
        count(status.numberReady),
        count(status.updatedNumberScheduled),
        count(status.numberAvailable),
        formatLabels(map(map(spec.template)?.spec)?.nodeSelector),
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
  mergeKeys: kind({ spec: struct({ selector: labelSelector, template: podTemplateSpec }), status: statusWithConditions }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
