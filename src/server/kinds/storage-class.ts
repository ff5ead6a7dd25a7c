/**
 * storage.k8s.io/v1 StorageClass: SetDefaults_StorageClass (Delete, Immediate) and
 * printStorageClass (NAME gets " (default)" for the default class).
 */
import { map, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { notSupported, required } from './field-errors.ts';
import { metaValidator } from './meta-only.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { atomic, map as mapSchema } from '../patch/merge-keys.ts';

const RECLAIM = ['Delete', 'Retain'];
const BINDING = ['Immediate', 'WaitForFirstConsumer'];
const validateMeta = metaValidator(false);

export function isDefaultClass(obj: KubeObject): boolean {
  const annotations = map(map(obj.metadata)?.annotations) ?? {};
  return annotations['storageclass.kubernetes.io/is-default-class'] === 'true' || annotations['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
}

/**
 * The default StorageClass (GetDefaultClass): of those annotated default, the newest, as the
 * DefaultStorageClass admission plugin and the persistentvolume controller pick it.
 */
export function defaultClassOf<T extends KubeObject>(classes: readonly T[]): T | undefined {
  const created = (c: KubeObject) => str(map(c.metadata)?.creationTimestamp) ?? '';
  return classes.filter(isDefaultClass).sort((a, b) => created(b).localeCompare(created(a)) || nameOf(a).localeCompare(nameOf(b)))[0];
}

export const storageClass = defineKind({
  group: 'storage.k8s.io',
  versions: ['v1'],
  kind: 'StorageClass',
  plural: 'storageclasses',
  namespaced: false,
  shortNames: ['sc'],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    setDefault(obj, 'reclaimPolicy', 'Delete');
    setDefault(obj, 'volumeBindingMode', 'Immediate');
  },
  validate(obj, old) {
    const errs: FieldError[] = validateMeta(obj, old);
    if (!str(obj.provisioner)) errs.push(required('provisioner'));
    const reclaim = str(obj.reclaimPolicy);
    if (reclaim !== undefined && !RECLAIM.includes(reclaim)) errs.push(notSupported('reclaimPolicy', reclaim, RECLAIM));
    const binding = str(obj.volumeBindingMode);
    if (binding !== undefined && !BINDING.includes(binding)) errs.push(notSupported('volumeBindingMode', binding, BINDING));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Provisioner', 'provisioner indicates the type of the provisioner.'),
      col('ReclaimPolicy', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
      col('VolumeBindingMode', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
      { name: 'AllowVolumeExpansion', type: 'string', description: 'allowVolumeExpansion shows whether the storage class allow volume expand.', priority: 0 },
      AGE_COLUMN,
    ],
    row(obj, now) {
      return [
        isDefaultClass(obj) ? `${nameOf(obj)} (default)` : nameOf(obj),
        str(obj.provisioner) ?? '',
        str(obj.reclaimPolicy) ?? 'Delete',
        str(obj.volumeBindingMode) ?? 'Immediate',
        obj.allowVolumeExpansion === true,
        ageOf(obj, now),
      ];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ parameters: mapSchema(), mountOptions: atomic(), allowedTopologies: atomic() }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
