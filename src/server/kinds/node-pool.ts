/**
 * apps.edgeos.io/v1 NodePool (pools-api.ts has its fields): a cluster-scoped site of nodes, named
 * like a label value because members carry it in their apps.edgeos.io/pool label. The node pool
 * controller applies spec.labels/annotations/taints to the members and writes the status; the
 * columns are OpenYurt's (TYPE, READYNODES, NOTREADYNODES).
 */
import { POOL_LABEL } from '../../common/pools.ts';
import { child, list, map, maps, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { duplicate, forbidden, notSupported } from './field-errors.ts';
import { validateTaintList } from './node.ts';
import { validateAnnotations, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { count, specOf, statusOf } from './workload-common.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, NO_PROTOBUF, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { atomic, map as mapSchema, struct } from '../patch/merge-keys.ts';

export const POOL_GROUP = 'apps.edgeos.io';
export const POOL_TYPES = ['Cloud', 'Edge'];

function validateSpec(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [];
  const type = str(spec.type) ?? '';
  if (!POOL_TYPES.includes(type)) errs.push(notSupported('spec.type', type, POOL_TYPES));
  errs.push(...validateLabels(spec.labels, 'spec.labels'));
  if (Object.hasOwn(map(spec.labels) ?? {}, POOL_LABEL))
    errs.push(forbidden(`spec.labels[${POOL_LABEL}]`, 'pool membership is the node\'s own label: set it on the node (edgeos join --pool, kubectl label node)'));
  errs.push(...validateAnnotations(spec.annotations, 'spec.annotations'));
  errs.push(...validateTaintList(spec.taints, 'spec.taints'));
  const seen = new Set<string>();
  maps(spec.taints).forEach((t, i) => {
    const key = str(t.key) ?? '';
    const id = `${key}:${str(t.effect) ?? ''}`;
    if (seen.has(id)) errs.push(duplicate(`spec.taints[${i}]`, id));
    seen.add(id);
    // The node lifecycle controller owns these keys (not-ready, unreachable, pressure…) and would take them off again.
    if (key.startsWith('node.kubernetes.io/')) errs.push(forbidden(`spec.taints[${i}].key`, 'node.kubernetes.io/ taints are the node lifecycle controller\'s'));
  });
  return errs;
}

export const nodePool = defineKind({
  group: POOL_GROUP,
  versions: ['v1'],
  kind: 'NodePool',
  plural: 'nodepools',
  namespaced: false,
  shortNames: ['np'],
  categories: [],
  verbs: CRUD,
  subresources: [statusSubresource(POOL_GROUP, 'v1', 'NodePool')],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    setDefault(child(obj, 'spec'), 'type', 'Edge');
  },
  validate(obj, old) {
    // The name is every member's label value: a DNS-1123 label.
    if (!old) return [...validateObjectMeta(obj, false, 'dns1123-label'), ...validateSpec(obj)];
    return [...validateObjectMetaUpdate(obj, old, false, 'dns1123-label'), ...validateSpec(obj)];
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Type', 'The type of the pool: Edge or Cloud.'),
      { name: 'ReadyNodes', type: 'integer', description: 'The number of ready nodes in the pool.', priority: 0 },
      { name: 'NotReadyNodes', type: 'integer', description: 'The number of nodes in the pool that are not ready.', priority: 0 },
      AGE_COLUMN,
      col('Nodes', 'The member nodes.', 1),
    ],
    row(obj, now) {
      const status = statusOf(obj);
      const nodes = list(status.nodes).map(String);
      return [nameOf(obj), str(specOf(obj).type) ?? '', count(status.readyNodeNum), count(status.unreadyNodeNum), ageOf(obj, now), nodes.length ? nodes.join(',') : '<none>'];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ labels: mapSchema(), annotations: mapSchema(), taints: atomic() }), status: struct({ nodes: atomic() }) }),
  protobuf: NO_PROTOBUF,
  conversion: NO_CONVERSION,
});
