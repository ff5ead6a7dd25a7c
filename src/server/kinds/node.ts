/**
 * core/v1 Node: SetDefaults_NodeStatus (allocatable defaults to capacity), ValidateNode (taints) and
 * printNode (Ready/NotReady/Unknown plus SchedulingDisabled, roles from node-role labels).
 */
import { child, map, maps, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { forbidden, invalid, notSupported, required } from './field-errors.ts';
import { isLabelValue, isQualifiedName } from './names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, gvk, statusSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind, conditions } from '../patch/merge-keys-core.ts';
import { assoc, atomic, map as mapSchema, set, struct } from '../patch/merge-keys.ts';
import { boolField } from './selectable-fields.ts';

const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

function validateTaints(obj: KubeObject): FieldError[] {
  return validateTaintList(map(obj.spec)?.taints, 'spec.taints');
}

/** validateNodeTaints over a list of taints at `path` (a NodePool's taints are checked the same way). */
export function validateTaintList(taints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  maps(taints).forEach((t, i) => {
    const p = `${path}[${i}]`;
    const key = str(t.key) ?? '';
    for (const msg of isQualifiedName(key)) errs.push(invalid(`${p}.key`, key, msg));
    const value = str(t.value);
    if (value !== undefined) for (const msg of isLabelValue(value)) errs.push(invalid(`${p}.value`, value, msg));
    const effect = str(t.effect) ?? '';
    if (!effect) errs.push(required(`${p}.effect`));
    else if (!TAINT_EFFECTS.includes(effect)) errs.push(notSupported(`${p}.effect`, effect, TAINT_EFFECTS));
  });
  return errs;
}

/** ValidateNodeUpdate: podCIDR(s) may be set once, from empty; the node's pods hold addresses of it. */
function validatePodCidrUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const was = map(old.spec)?.podCIDR;
  const is = map(obj.spec)?.podCIDR;
  if (typeof was === 'string' && was !== '' && is !== was) return [forbidden('spec.podCIDR', 'node updates may not change podCIDR except from "" to valid')];
  const wasList = JSON.stringify(map(old.spec)?.podCIDRs ?? []);
  if (wasList !== '[]' && JSON.stringify(map(obj.spec)?.podCIDRs ?? []) !== wasList) return [forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid')];
  return [];
}

/** findNodeRoles: node-role.kubernetes.io/<role> labels and the legacy kubernetes.io/role label. */
export function nodeRoles(obj: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(map(map(obj.metadata)?.labels) ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && typeof v === 'string' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

/** printNode's STATUS. */
export function nodeStatus(obj: KubeObject): string {
  const parts: string[] = [];
  const ready = maps(map(obj.status)?.conditions).find((c) => c.type === 'Ready');
  if (ready) parts.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else parts.push('Unknown');
  if (map(obj.spec)?.unschedulable === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function address(obj: KubeObject, type: string): string {
  return str(maps(map(obj.status)?.addresses).find((a) => a.type === type)?.address) || '<none>';
}

const nodeMergeKeys = kind({
  spec: struct({
    // +patchStrategy=merge (set of CIDRs); taints carry no strategy and are replaced whole.
    podCIDRs: set(),
    taints: atomic(),
  }),
  status: struct({
    capacity: mapSchema(),
    allocatable: mapSchema(),
    conditions,
    // +patchMergeKey=type +patchStrategy=merge, but +listType=atomic for apply (types repeat).
    addresses: assoc('type', struct({}), { applyAtomic: true }),
    images: atomic(),
    volumesInUse: atomic(),
    volumesAttached: atomic(),
  }),
});

export const node = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'Node',
  plural: 'nodes',
  namespaced: false,
  shortNames: ['no'],
  categories: [],
  verbs: CRUD,
  subresources: [
    statusSubresource('', 'v1', 'Node'),
    { name: 'proxy', responseKind: gvk('', 'v1', 'NodeProxyOptions'), verbs: ['create', 'delete', 'get', 'patch', 'update'], handler: 'proxy' },
  ],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: true,
  computed: STORED,
  defaults(obj) {
    child(obj, 'spec');
    const status = map(obj.status);
    if (status && map(status.capacity)) setDefault(status, 'allocatable', { ...map(status.capacity) });
  },
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, false), ...validateTaints(obj)];
    return [...validateObjectMetaUpdate(obj, old, false), ...validateTaints(obj), ...validatePodCidrUpdate(obj, old)];
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE_COLUMN,
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
      col('External-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
      col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    row(obj, now) {
      const info = map(map(obj.status)?.nodeInfo) ?? {};
      return [
        nameOf(obj),
        nodeStatus(obj),
        nodeRoles(obj),
        ageOf(obj, now),
        str(info.kubeletVersion) ?? '',
        address(obj, 'InternalIP'),
        address(obj, 'ExternalIP'),
        str(info.osImage) || '<unknown>',
        str(info.kernelVersion) || '<unknown>',
        str(info.containerRuntimeVersion) || '<unknown>',
      ];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: { 'spec.unschedulable': boolField('spec.unschedulable') },
  mergeKeys: nodeMergeKeys,
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
