/**
 * core/v1 PersistentVolumeClaim and PersistentVolume: SetDefaults_PersistentVolume(Claim)
 * (Filesystem mode, Retain reclaim, Pending phase), the common ValidatePersistentVolumeClaim checks
 * and printPersistentVolumeClaim / printPersistentVolume.
 */
import { child, list, map, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { notSupported, required } from './field-errors.ts';
import { metaValidator } from './meta-only.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind, conditions, labelSelector } from '../patch/merge-keys-core.ts';
import { atomic, map as mapSchema, struct } from '../patch/merge-keys.ts';

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

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

/** GetPersistentVolume(Claim)Class: the field, else the beta annotation. */
function storageClassOf(obj: KubeObject): string {
  const fromField = str(map(obj.spec)?.storageClassName);
  if (fromField !== undefined) return fromField;
  return str(map(map(obj.metadata)?.annotations)?.['volume.beta.kubernetes.io/storage-class']) ?? '';
}

function phaseOf(obj: KubeObject): string {
  return str(map(obj.metadata)?.deletionTimestamp) ? 'Terminating' : (str(map(obj.status)?.phase) ?? '');
}

function validateAccessModes(modes: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const all = list(modes).map(String);
  if (all.length === 0) errs.push(required(path, 'at least 1 access mode is required'));
  for (const m of all) if (!ACCESS_MODES.includes(m)) errs.push(notSupported(path, m, ACCESS_MODES));
  return errs;
}

const validateClaimMeta = metaValidator(true);
const validateVolumeMeta = metaValidator(false);

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
  hooks: NO_HOOKS,
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
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ accessModes: atomic(), capacity: mapSchema(), mountOptions: atomic() }) }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
