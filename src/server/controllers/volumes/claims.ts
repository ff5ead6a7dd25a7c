// What the persistentvolume controller and the scheduler's VolumeBinding both need to know about
// claims, volumes and classes (pkg/controller/volume/persistentvolume/util and
// component-helpers/storage/volume): the annotations they coordinate through, and whether a
// volume can serve a claim (FindMatchingVolume).
import { defaultClassOf, selectorMatches } from '../../kinds/index.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, StorageClass } from '../core-types.ts';
import { matchesNodeSelectorTerms } from '../scheduler/node-affinity.ts';
import { quantity } from '../scheduler/pod-resources.ts';

export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
const ANN_BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';

/**
 * ANN_SELECTED_NODE: set by the scheduler on a WaitForFirstConsumer claim: provision (or bind) for
 * this node. The API's create hook of a local-path volume writes the binding ones too (kinds).
 */
export { ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER } from '../../kinds/index.ts';

/** GetPersistentVolumeClaimClass: the field, else the beta annotation, else "" (no class). */
export function claimClass(c: PersistentVolumeClaim): string {
  return c.spec?.storageClassName ?? c.metadata.annotations?.[ANN_BETA_CLASS] ?? '';
}

/** The claim names no class at all (nil, not ""): the default class is assigned to it. */
export function claimHasNoClass(c: PersistentVolumeClaim): boolean {
  return (c.spec?.storageClassName === undefined || c.spec.storageClassName === null) && c.metadata.annotations?.[ANN_BETA_CLASS] === undefined;
}

/**
 * The class a claim is provisioned with: its own, or — for a claim that names none — the default
 * class the persistentvolume controller is about to write on it (upstream's DefaultStorageClass
 * admission writes it at creation), so the scheduler never takes such a claim for an Immediate one.
 */
export function effectiveClass(c: PersistentVolumeClaim, classes: readonly StorageClass[]): string {
  return claimHasNoClass(c) ? (defaultClass(classes)?.metadata.name ?? '') : claimClass(c);
}

export function volumeClass(pv: PersistentVolume): string {
  return pv.spec?.storageClassName ?? pv.metadata.annotations?.[ANN_BETA_CLASS] ?? '';
}

export const requestedStorage = (c: PersistentVolumeClaim): number => quantity(c.spec?.resources?.requests?.storage);
export const volumeStorage = (pv: PersistentVolume): number => quantity(pv.spec?.capacity?.storage);

/** The default StorageClass; with several, the newest. */
export const defaultClass = (classes: readonly StorageClass[]): StorageClass | undefined => defaultClassOf(classes);

export const isWaitForFirstConsumer = (sc: StorageClass | undefined): boolean => sc?.volumeBindingMode === 'WaitForFirstConsumer';

/** The claim is the one the volume's claimRef names (an empty uid is a pre-binding by name). */
export function volumeBoundTo(pv: PersistentVolume, c: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref || ref.name !== c.metadata.name || ref.namespace !== c.metadata.namespace) return false;
  return !ref.uid || ref.uid === c.metadata.uid;
}

/** The volume's required node affinity admits `node` (a volume without one fits every node). */
export function volumeFitsNode(pv: PersistentVolume, node: Node): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  return !terms || matchesNodeSelectorTerms(terms, node);
}

/** checkVolumeSatisfyClaim plus the claim's selector: class, mode, access modes, size. */
export function volumeSatisfiesClaim(pv: PersistentVolume, c: PersistentVolumeClaim): boolean {
  if (volumeClass(pv) !== claimClass(c)) return false;
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (c.spec?.volumeMode ?? 'Filesystem')) return false;
  const modes = new Set(pv.spec?.accessModes ?? []);
  if (!(c.spec?.accessModes ?? []).every((m) => modes.has(m))) return false;
  if (volumeStorage(pv) < requestedStorage(c)) return false;
  return !c.spec?.selector || selectorMatches(c.spec.selector, pv.metadata.labels ?? {});
}

/**
 * FindMatchingVolume: a volume pre-bound to the claim wins; otherwise the smallest available one
 * that satisfies it (and fits `node`, when the binding waits for a node). `taken` names volumes
 * already promised to other claims.
 */
export function findMatchingVolume(c: PersistentVolumeClaim, volumes: readonly PersistentVolume[], node?: Node, taken?: ReadonlySet<string>): PersistentVolume | undefined {
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (pv.metadata.deletionTimestamp || taken?.has(pv.metadata.name ?? '')) continue;
    if (!volumeSatisfiesClaim(pv, c) || (node && !volumeFitsNode(pv, node))) continue;
    if (pv.spec?.claimRef) {
      if (volumeBoundTo(pv, c)) return pv;
      continue;
    }
    if (pv.status?.phase && pv.status.phase !== 'Available' && pv.status.phase !== 'Pending') continue;
    if (!best || volumeStorage(pv) < volumeStorage(best)) best = pv;
  }
  return best;
}
