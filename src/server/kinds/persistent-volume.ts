/**
 * core/v1 PersistentVolumeClaim and PersistentVolume: SetDefaults_PersistentVolume(Claim)
 * (Filesystem mode, Retain reclaim, Pending phase), validation (field rules in
 * persistent-volume-validation.ts), printPersistentVolumeClaim / printPersistentVolume, the
 * local-path provisioner's binding in one transaction (its volumes: local-path-volume.ts), and the create hooks of the
 * DefaultStorageClass and StorageObjectInUseProtection admission plugins.
 */
import { child, list, map, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { FieldRejectedError, forbidden, notSupported, required } from './field-errors.ts';
import { metaValidator } from './meta-only.ts';
import { validateAccessModes, validateClaimUpdate, validateVolumeSpec } from './persistent-volume-validation.ts';
import { defaultClassOf } from './storage-class.ts';
import { present } from './types.ts';
import type { KubeObject, WriteContext, WriteHooks } from './types.ts';
import type { TxnOp } from '../../store/types.ts';
import { randomUUID } from 'node:crypto';
import { LOCAL_PATH_PROVISIONERS } from '../../common/local-volumes.ts';
import {
  ANN_SELECTED_NODE, BETA_CLASS, CLAIMS_PREFIX, PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER, bindProvisionedClaim, localPathVolumeFor, nodeStoragePathOf, storageClassOf,
} from './local-path-volume.ts';
import { rfc3339 } from './age.ts';
import { CRUD, defineKind, storageSegment, statusSubresource, STORED, NO_TTL, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind, conditions, labelSelector } from '../patch/merge-keys-core.ts';
import { atomic, map as mapSchema, struct } from '../patch/merge-keys.ts';

/** helper.GetAccessModesAsString: fixed order, short names. */
export function accessModesString(modes: unknown): string {
  const set = new Set(list(modes).map(String));
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

function phaseOf(obj: KubeObject): string {
  return str(map(obj.metadata)?.deletionTimestamp) ? 'Terminating' : (str(map(obj.status)?.phase) ?? '');
}

const validateClaimMeta = metaValidator(true);
const validateVolumeMeta = metaValidator(false);


/**
 * What kube-apiserver's admission does to new claims and volumes: DefaultStorageClass (a claim that
 * names no class gets the default StorageClass, the newest if several claim to be) and
 * StorageObjectInUseProtection (claims get kubernetes.io/pvc-protection, volumes
 * kubernetes.io/pv-protection). The controllers keep both true for objects that predate them
 * (docs/storage.md); doing it here spares every new claim two writes and a window in which it
 * looks unprotected and classless.
 */
function addFinalizer(obj: KubeObject, finalizer: string): void {
  const m = child(obj, 'metadata');
  const finalizers = list(m.finalizers);
  if (!finalizers.includes(finalizer)) m.finalizers = [...finalizers, finalizer];
}

const CLASSES_PREFIX = `/registry/${storageSegment('storage.k8s.io', 'storageclasses')}/`;

async function defaultClassName(ctx: WriteContext): Promise<string | undefined> {
  const classes = (await ctx.store.list(CLASSES_PREFIX)).kvs.flatMap((kv) => {
    try {
      return [JSON.parse(kv.value.toString('utf8')) as KubeObject];
    } catch {
      return [];
    }
  });
  const found = defaultClassOf(classes);
  return found ? nameOf(found) : undefined;
}

const claimHooks: WriteHooks = {
  async beforeCreate(ctx, obj) {
    const spec = child(obj, 'spec');
    const hasClass = (spec.storageClassName !== undefined && spec.storageClassName !== null) || map(map(obj.metadata)?.annotations)?.[BETA_CLASS] !== undefined;
    if (!hasClass) {
      const name = await defaultClassName(ctx);
      if (name) spec.storageClassName = name;
    }
    addFinalizer(obj, PVC_PROTECTION_FINALIZER);
    return [];
  },
};

const VOLUMES_PREFIX = `/registry/${storageSegment('', 'persistentvolumes')}/`;
const NODES_PREFIX = `/registry/${storageSegment('', 'nodes')}/`;

async function readJson(ctx: WriteContext, key: string): Promise<{ obj: KubeObject; modRevision: number } | undefined> {
  const kv = await ctx.store.get(key);
  if (!kv) return undefined;
  try {
    return { obj: JSON.parse(kv.value.toString('utf8')) as KubeObject, modRevision: kv.modRevision };
  } catch {
    return undefined;
  }
}

/**
 * pods/binding of a pod whose claims wait for their first consumer with a local-path class
 * provisions them on the pod's node in the binding's own transaction, before the pod's write:
 * each volume is created (as the API's create would: uid, creationTimestamp, defaults, validation,
 * the protection finalizer) and its claim bound with it (bindProvisionedClaim), then the pod is
 * bound — PreBind and Bind as one write, so the pod, its claims and their volumes reach the node
 * together and no pod is ever bound before its claims. The scheduler leaves exactly these claims
 * to the binding (controllers/scheduler/volume-binding.ts). A claim that cannot be provisioned
 * there (being deleted, promised to another node, a node without a storage path) fails the
 * binding (422), so the scheduler tries again with what it then knows; claims that are bound,
 * missing, or of other classes are not this hook's business.
 */
export async function provisionOnBinding(ctx: WriteContext, pod: KubeObject, old: KubeObject): Promise<TxnOp[]> {
  const nodeName = str(map(pod.spec)?.nodeName);
  if (!nodeName || str(map(old.spec)?.nodeName)) return [];
  const ns = str(map(pod.metadata)?.namespace) ?? '';
  const claimNames = [...new Set(list(map(pod.spec)?.volumes).map((v) => str(map(map(v)?.persistentVolumeClaim)?.claimName)).filter((n): n is string => Boolean(n)))];
  const ops: TxnOp[] = [];
  let node: KubeObject | undefined;
  for (const claimName of claimNames) {
    const claim = (await readJson(ctx, `${CLAIMS_PREFIX}${ns}/${claimName}`))?.obj;
    const cm = map(claim?.metadata);
    if (!claim || !cm || str(map(claim.spec)?.volumeName)) continue;
    const className = storageClassOf(claim);
    const sc = className ? (await readJson(ctx, `${CLASSES_PREFIX}${className}`))?.obj : undefined;
    if (!sc || !LOCAL_PATH_PROVISIONERS.has(str(sc.provisioner) ?? '') || sc.volumeBindingMode !== 'WaitForFirstConsumer') continue;
    const refuse = (why: string) => {
      throw new FieldRejectedError([forbidden('target', `persistentvolumeclaim "${claimName}" cannot be provisioned on node "${nodeName}": ${why}`)]);
    };
    if (str(cm.deletionTimestamp)) refuse('it is being deleted');
    const selected = str(map(cm.annotations)?.[ANN_SELECTED_NODE]);
    if (selected && selected !== nodeName) refuse(`it is promised to node "${selected}"`);
    node ??= (await readJson(ctx, `${NODES_PREFIX}${nodeName}`))?.obj;
    const path = node && nodeStoragePathOf(node);
    if (!node || !path) refuse('the node reports no local storage path');
    const pv = localPathVolumeFor(claim, sc, node!, path!);
    const name = str(map(pv.metadata)?.name) ?? '';
    if (await ctx.store.get(`${VOLUMES_PREFIX}${name}`)) refuse(`persistentvolume "${name}" exists already`);
    const pm = child(pv, 'metadata');
    pm.uid = randomUUID();
    pm.creationTimestamp = rfc3339(ctx.now());
    present(persistentVolume.defaults)?.(pv);
    const errs = present(persistentVolume.validate)?.(pv, undefined) ?? [];
    if (errs.length) refuse(errs.map((e) => `${e.field}: ${e.message}`).join(', '));
    const bind = await bindProvisionedClaim(ctx, pv);
    if (bind.length === 0) refuse('its binding changed meanwhile');
    ops.push({ op: 'create', key: `${VOLUMES_PREFIX}${name}`, value: Buffer.from(JSON.stringify(pv), 'utf8') }, ...bind);
  }
  return ops;
}

const volumeHooks: WriteHooks = {
  async beforeCreate(ctx, obj) {
    addFinalizer(obj, PV_PROTECTION_FINALIZER);
    return bindProvisionedClaim(ctx, obj);
  },
};

const pvcMergeKeys = kind({
  spec: struct({ accessModes: atomic(), selector: labelSelector, resources: struct({ limits: mapSchema(), requests: mapSchema() }) }),
  status: struct({ conditions, accessModes: atomic(), capacity: mapSchema() }),
});

export const persistentVolumeClaim = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  namespaced: true,
  shortNames: ['pvc'],
  categories: [],
  verbs: CRUD,
  subresources: [statusSubresource('', 'v1', 'PersistentVolumeClaim')],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    setDefault(child(obj, 'spec'), 'volumeMode', 'Filesystem');
    setDefault(child(obj, 'status'), 'phase', 'Pending');
  },
  validate(obj, old) {
    const spec = map(obj.spec) ?? {};
    const errs = [...validateClaimMeta(obj, old), ...validateAccessModes(spec.accessModes, 'spec.accessModes')];
    if (!map(map(spec.resources)?.requests)?.storage && !map(spec.dataSourceRef)) errs.push(required('spec.resources[storage]'));
    if (old) errs.push(...validateClaimUpdate(spec, map(old.spec) ?? {}));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Status', 'status.phase represents the current phase of PersistentVolumeClaim.'),
      col('Volume', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      col('Capacity', 'capacity represents the actual resources of the underlying volume.'),
      col('Access Modes', 'accessModes contains the actual access modes the volume backing the PVC has.'),
      col('StorageClass', 'storageClassName is the name of the StorageClass required by the claim.'),
      col('VolumeAttributesClass', 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.'),
      AGE_COLUMN,
      col('VolumeMode', 'volumeMode defines what type of volume is required by the claim.', 1),
    ],
    row(obj, now) {
      const spec = map(obj.spec) ?? {};
      const status = map(obj.status) ?? {};
      const bound = Boolean(str(spec.volumeName));
      return [
        nameOf(obj),
        phaseOf(obj),
        str(spec.volumeName) ?? '',
        bound ? String(map(status.capacity)?.storage ?? '') : '',
        bound ? accessModesString(status.accessModes) : '',
        storageClassOf(obj),
        str(spec.volumeAttributesClassName) || '<unset>',
        ageOf(obj, now),
        str(spec.volumeMode) ?? '<unset>',
      ];
    },
  },
  hooks: claimHooks,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: pvcMergeKeys,
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});

export const persistentVolume = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  namespaced: false,
  shortNames: ['pv'],
  categories: [],
  verbs: CRUD,
  subresources: [statusSubresource('', 'v1', 'PersistentVolume')],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    const spec = child(obj, 'spec');
    setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
    setDefault(spec, 'volumeMode', 'Filesystem');
    setDefault(child(obj, 'status'), 'phase', 'Pending');
  },
  validate(obj, old) {
    const spec = map(obj.spec) ?? {};
    const errs = [...validateVolumeMeta(obj, old), ...validateAccessModes(spec.accessModes, 'spec.accessModes')];
    if (!map(spec.capacity)?.storage) errs.push(required('spec.capacity'));
    errs.push(...validateVolumeSpec(spec, old ? (map(old.spec) ?? {}) : undefined));
    const policy = str(spec.persistentVolumeReclaimPolicy);
    if (policy !== undefined && !['Delete', 'Recycle', 'Retain'].includes(policy))
      errs.push(notSupported('spec.persistentVolumeReclaimPolicy', policy, ['Delete', 'Recycle', 'Retain']));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Capacity', 'capacity is the description of the persistent volume\'s resources and capacity.'),
      col('Access Modes', 'accessModes contains all ways the volume can be mounted.'),
      col('Reclaim Policy', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
      col('Status', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
      col('Claim', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
      col('StorageClass', 'storageClassName is the name of StorageClass to which this persistent volume belongs.'),
      col('VolumeAttributesClass', 'Name of VolumeAttributesClass to which this persistent volume belongs.'),
      col('Reason', 'reason is a brief CamelCase string that describes any failure.'),
      AGE_COLUMN,
      col('VolumeMode', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', 1),
    ],
    row(obj, now) {
      const spec = map(obj.spec) ?? {};
      const claim = map(spec.claimRef);
      return [
        nameOf(obj),
        String(map(spec.capacity)?.storage ?? ''),
        accessModesString(spec.accessModes),
        str(spec.persistentVolumeReclaimPolicy) ?? '',
        phaseOf(obj),
        claim ? `${str(claim.namespace) ?? ''}/${str(claim.name) ?? ''}` : '',
        storageClassOf(obj),
        str(spec.volumeAttributesClassName) || '<unset>',
        str(map(obj.status)?.reason) ?? '',
        ageOf(obj, now),
        str(spec.volumeMode) ?? '<unset>',
      ];
    },
  },
  hooks: volumeHooks,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ accessModes: atomic(), capacity: mapSchema(), mountOptions: atomic() }) }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
