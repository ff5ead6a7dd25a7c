// The built-in provisioner's half on the server: the PersistentVolume of a claim whose class names
// edgeos.io/local-path (or K3s's rancher.io/local-path), once the scheduler chose the node. What
// local-path-provisioner writes, with a `local` volume instead of hostPath so the kubelet applies
// the pod's fsGroup to it, and a finalizer that makes the object wait for the node's agent: the
// agent creates the directory and, when the volume goes, deletes it (docs/storage.md).
import { localPathVolumeFor, nodeStoragePathOf } from '../../kinds/index.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, StorageClass } from '../core-types.ts';
import { AlreadyExistsError, ConflictError, inNamespace, resources } from '../types.ts';
import type { KubeClient, KubeObject } from '../types.ts';
import { ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE } from './claims.ts';

/** Dynamically provisioned volumes are named after their claim's uid, as Kubernetes names them. */
export const provisionedVolumeName = (c: PersistentVolumeClaim): string => `pvc-${c.metadata.uid ?? ''}`;

/** Where the node's agent keeps local volumes, as it reports it; undefined when it does not. */
export function nodeStoragePath(node: Node): string | undefined {
  return nodeStoragePathOf(node as KubeObject);
}

/** How often a create that met a claim changed since it was read (a Conflict) is tried again. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Provisions `claim` on `node`: its volume, bound to it through claimRef from the start. The API
 * binds the claim in the same store transaction (the volume's create hook: volumeName, the
 * binding annotations with the chosen node, both phases Bound; kinds/persistent-volume.ts), so one
 * write provisions and binds. A volume that comes back Pending was not bound there (the claim
 * changed its mind: being deleted, bound elsewhere), and one that exists already is the one: the
 * claim's half is then written here, as the persistentvolume controller would. The scheduler
 * calls it in PreBind for local-path claims (one step fewer between a pod and its node than
 * waiting for the persistentvolume controller to notice the chosen node, which matters when a
 * StatefulSet starts many pods at once), and the controller for a claim whose node was chosen
 * otherwise.
 */
export async function provisionLocalVolume(client: KubeClient, claim: PersistentVolumeClaim, sc: StorageClass, node: Node, storagePath: string): Promise<PersistentVolume> {
  const name = provisionedVolumeName(claim);
  let volume: PersistentVolume | undefined;
  for (let attempt = 1; !volume; attempt++) {
    try {
      volume = await client.create<PersistentVolume>(resources.persistentVolumes, localPathVolume(claim, sc, node, storagePath));
      if (volume.status?.phase === 'Bound') return volume;
    } catch (e) {
      if (e instanceof ConflictError && attempt < CONFLICT_ATTEMPTS) continue;
      if (!(e instanceof AlreadyExistsError)) throw e;
      volume = await client.get<PersistentVolume>(resources.persistentVolumes, name);
    }
  }
  if (claim.spec?.volumeName !== name || claim.metadata.annotations?.[ANN_BIND_COMPLETED] !== 'yes') {
    await client.patch(inNamespace(resources.persistentVolumeClaims, claim.metadata.namespace ?? ''), claim.metadata.name ?? '', 'merge', {
      metadata: { annotations: { [ANN_SELECTED_NODE]: node.metadata.name ?? '', [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' } },
      spec: { volumeName: name },
    });
  }
  return volume;
}

/** The PersistentVolume for `claim` on `node`, bound to the claim from the start (the API's builder, which pods/binding uses too). */
export function localPathVolume(claim: PersistentVolumeClaim, sc: StorageClass, node: Node, storagePath: string): PersistentVolume {
  return localPathVolumeFor(claim as KubeObject, sc as KubeObject, node as KubeObject, storagePath) as PersistentVolume;
}
