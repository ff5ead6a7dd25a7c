/**
 * apps/v1 ReplicaSet: SetDefaults_ReplicaSet (replicas 1), ValidateReplicaSet /
 * ValidateReplicaSetUpdate and printReplicaSet.
 */
import { child, setDefault } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { formatLabelSelector } from './label-selector.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { REPLICA_SET_TEMPLATE_RULES, containerCells, defaultPodTemplate, nonNegative, validatePodTemplate, validateWorkloadSelector } from './pod-template.ts';
import { count, selectorImmutable, specOf, statusOf } from './workload-common.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, scaleSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind, statusWithConditions, labelSelector, podTemplateSpec } from '../patch/merge-keys-core.ts';
import { struct } from '../patch/merge-keys.ts';
import { pathFields } from './selectable-fields.ts';

function validateSpec(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  return [
    ...nonNegative(spec.replicas, 'spec.replicas'),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateWorkloadSelector(spec.selector, 'spec.selector', 'deployment'),
    ...validatePodTemplate(spec.template, spec.selector, 'spec.template', REPLICA_SET_TEMPLATE_RULES),
  ];
}

export const replicaSet = defineKind({
  group: 'apps',
  versions: ['v1'],
  kind: 'ReplicaSet',
  plural: 'replicasets',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  verbs: CRUD,
  subresources: [statusSubresource('apps', 'v1', 'ReplicaSet'), scaleSubresource],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    const spec = child(obj, 'spec');
    setDefault(spec, 'replicas', 1);
    defaultPodTemplate(child(spec, 'template'));
  },
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true), ...validateSpec(obj)];
    return [...validateObjectMetaUpdate(obj, old, true), ...validateSpec(obj), ...selectorImmutable(obj, old)];
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Desired', type: 'integer', description: 'Number of desired pods.', priority: 0 },
      { name: 'Current', type: 'integer', description: 'Replicas is the most recently observed number of replicas.', priority: 0 },
      { name: 'Ready', type: 'integer', description: 'The number of ready replicas for this replica set.', priority: 0 },
      AGE_COLUMN,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Selector is a label query over pods that should match the replica count.', 1),
    ],
    row(obj, now) {
      const spec = specOf(obj);
      const status = statusOf(obj);
      const [containers, images] = containerCells(spec.template);
      return [
        nameOf(obj),
        count(spec.replicas),
        count(status.replicas),
        count(status.readyReplicas),
        ageOf(obj, now),
        containers,
        images,
        formatLabelSelector(spec.selector),
      ];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: pathFields('status.replicas'),
  mergeKeys: kind({ spec: struct({ selector: labelSelector, template: podTemplateSpec }), status: statusWithConditions }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
