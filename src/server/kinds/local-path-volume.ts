/**
 * The local-path provisioner's volumes as objects (docs/storage.md): the PersistentVolume of a
 * claim on a node, and a create of one that binds its claim in the same store transaction; the
 * persistentvolume controller's binding annotations and the protection finalizers they carry.
 * The kind descriptors that use them are persistent-volume.ts's.
 */
import { child, list, map, str } from './access.ts';
import { rfc3339 } from './age.ts';
import { storageSegment } from './define.ts';
import type { KubeObject, WriteContext } from './types.ts';
import type { TxnOp } from '../../store/types.ts';
import {
  LOCAL_PATH_FINALIZER, LOCAL_PATH_NODE_ANNOTATION, LOCAL_PATH_PROVISIONERS, LOCAL_STORAGE_PATH_ANNOTATION, PROVISIONED_BY_ANNOTATION, localVolumeDirName,
} from '../../common/local-volumes.ts';

export const BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** Storage object in use protection (the StorageObjectInUseProtection admission plugin's finalizers). */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

/** GetPersistentVolume(Claim)Class: the field, else the beta annotation. */
export function storageClassOf(obj: KubeObject): string {
  const fromField = str(map(obj.spec)?.storageClassName);
  if (fromField !== undefined) return fromField;
  return str(map(map(obj.metadata)?.annotations)?.[BETA_CLASS]) ?? '';
}

/** The persistentvolume controller's annotations on a claim it binds (pkg/controller/volume/persistentvolume). */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';

export const CLAIMS_PREFIX = `/registry/${storageSegment('', 'persistentvolumeclaims')}/`;

/**
 * The built-in local-path provisioner's volume (docs/storage.md) binds its claim in the same store
 * transaction: a PersistentVolume `pvc-<claim uid>` provisioned by a local-path provisioner on a
 * node, whose claimRef names a live, unbound claim of its class, is created Bound, and the claim
 * gets what the persistentvolume controller would write next (volumeName, the binding
 * annotations, phase Bound with the volume's capacity and access modes). The scheduler provisions
 * in PreBind and binds the pod right after this one write, so the pod, its claim and its volume
 * reach the node together and no one writes the claim while the pod waits (a separate claim
 * write raced the controller's status writes on the same key). A claim that is gone, being
 * deleted, bound elsewhere or of another class is left alone and the volume is created as sent
 * (Pending): the controller does what it always did. The claim's write is a compare-and-swap on
 * what was read; a claim changed meanwhile fails the create with a Conflict, which the
 * provisioner retries.
 */
export async function bindProvisionedClaim(ctx: WriteContext, pv: KubeObject): Promise<TxnOp[]> {
  const m = map(pv.metadata) ?? {};
  const ann = map(m.annotations) ?? {};
  const node = str(ann[LOCAL_PATH_NODE_ANNOTATION]);
  if (!LOCAL_PATH_PROVISIONERS.has(str(ann[PROVISIONED_BY_ANNOTATION]) ?? '') || !node) return [];
  const spec = map(pv.spec) ?? {};
  const ref = map(spec.claimRef);
  const ns = str(ref?.namespace);
  const claimName = str(ref?.name);
  const uid = str(ref?.uid);
  if (!ns || !claimName || !uid || str(m.name) !== `pvc-${uid}`) return [];
  const key = `${CLAIMS_PREFIX}${ns}/${claimName}`;
  const kv = await ctx.store.get(key);
  if (!kv) return [];
  let claim: KubeObject;
  try {
    claim = JSON.parse(kv.value.toString('utf8')) as KubeObject;
  } catch {
    return [];
  }
  const cm = child(claim, 'metadata');
  const cspec = child(claim, 'spec');
  const volumeName = str(cspec.volumeName);
  if (str(cm.uid) !== uid || str(cm.deletionTimestamp) || (volumeName && volumeName !== m.name) || storageClassOf(claim) !== storageClassOf(pv)) return [];
  cspec.volumeName = m.name;
  cm.annotations = { ...(map(cm.annotations) ?? {}), [ANN_SELECTED_NODE]: node, [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' };
  claim.status = { ...(map(claim.status) ?? {}), phase: 'Bound', accessModes: structuredClone(list(spec.accessModes)), capacity: structuredClone(map(spec.capacity) ?? {}) };
  pv.status = { ...(map(pv.status) ?? {}), phase: 'Bound', lastPhaseTransitionTime: rfc3339(ctx.now()) };
  return [{ op: 'update', key, value: Buffer.from(JSON.stringify(claim), 'utf8'), expectedModRevision: kv.modRevision }];
}

/** Where a node's agent keeps local volumes, as it reports it (LOCAL_STORAGE_PATH_ANNOTATION); undefined when it does not. */
export function nodeStoragePathOf(node: KubeObject): string | undefined {
  const p = str(map(map(node.metadata)?.annotations)?.[LOCAL_STORAGE_PATH_ANNOTATION]);
  return p && p.startsWith('/') ? p.replace(/\/+$/, '') : undefined;
}

/**
 * The PersistentVolume of a local-path `claim` on `node` (what local-path-provisioner writes, with
 * a `local` volume so the kubelet applies the pod's fsGroup, and the finalizer that makes the object
 * wait for the node's agent), bound to the claim through claimRef from the start. One builder for
 * the scheduler's and the controller's provisioning and for pods/binding's.
 */
export function localPathVolumeFor(claim: KubeObject, sc: KubeObject, node: KubeObject, storagePath: string): KubeObject {
  const cm = map(claim.metadata) ?? {};
  const cspec = map(claim.spec) ?? {};
  const name = `pvc-${str(cm.uid) ?? ''}`;
  const ns = str(cm.namespace) ?? '';
  const claimName = str(cm.name) ?? '';
  const nodeName = str(map(node.metadata)?.name) ?? '';
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      annotations: { [PROVISIONED_BY_ANNOTATION]: str(sc.provisioner) ?? '', [LOCAL_PATH_NODE_ANNOTATION]: nodeName, [ANN_BOUND_BY_CONTROLLER]: 'yes' },
      finalizers: [PV_PROTECTION_FINALIZER, LOCAL_PATH_FINALIZER],
    },
    spec: {
      // The request is recorded as the capacity: a directory has no size of its own (as local-path-provisioner).
      capacity: { storage: String(map(map(cspec.resources)?.requests)?.storage ?? '0') },
      accessModes: [...(list(cspec.accessModes).length ? list(cspec.accessModes) : ['ReadWriteOnce'])],
      persistentVolumeReclaimPolicy: str(sc.reclaimPolicy) ?? 'Delete',
      storageClassName: storageClassOf(claim),
      volumeMode: str(cspec.volumeMode) ?? 'Filesystem',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: claimName, uid: str(cm.uid) ?? '', resourceVersion: str(cm.resourceVersion) ?? '' },
      local: { path: `${storagePath}/${localVolumeDirName(name, ns, claimName)}` },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [str(map(map(node.metadata)?.labels)?.['kubernetes.io/hostname']) ?? nodeName] }] }],
        },
      },
    },
  };
}
