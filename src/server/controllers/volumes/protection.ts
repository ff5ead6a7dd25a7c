/**
 * Storage object in use protection (kube's pvc-protection and pv-protection controllers, with the
 * finalizers the StorageObjectInUseProtection admission plugin adds on create): a claim that a pod
 * still uses, and a volume still bound, are not removed by `kubectl delete` — they stay
 * Terminating until the pod is gone or the volume released, so data is never deleted under a
 * running pod. The API's create hooks add the finalizers (src/server/kinds/persistent-volume.ts);
 * these controllers also add them to objects created before, as soon as they see them.
 */
import { objectKey, splitKey } from '../keys.ts';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../core-types.ts';
import { isTerminal, podClaimNames } from '../core-types.ts';
import { ConflictError, NotFoundError, inNamespace, resources } from '../types.ts';
import type { ControllerContext, ControllerDescriptor, KubeClient, KubeObject, ResourceRef, WorkQueue } from '../types.ts';
import { queueController } from '../workloads/queue-controller.ts';
import { PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER } from './claims.ts';

/** How soon a key whose write met a newer object is looked at again (the informer catches up meanwhile). */
const CONFLICT_RETRY_MS = 100;

/**
 * Adds or removes `finalizer`, against the object's resourceVersion so no other finalizer written
 * meanwhile is lost. A conflict (the binder wrote the claim a moment ago, say) looks again soon.
 */
async function setFinalizer(client: KubeClient, ref: ResourceRef, obj: KubeObject, finalizer: string, present: boolean, retry: () => void): Promise<void> {
  const list = obj.metadata.finalizers ?? [];
  if (list.includes(finalizer) === present) return;
  const finalizers = present ? [...list, finalizer] : list.filter((f) => f !== finalizer);
  try {
    await client.patch(ref, obj.metadata.name ?? '', 'merge', { metadata: { resourceVersion: obj.metadata.resourceVersion, finalizers } });
  } catch (e) {
    if (e instanceof ConflictError) retry();
    else if (!(e instanceof NotFoundError)) throw e;
  }
}

const retryLater = (queue: WorkQueue, key: string) => () => queue.addAfter(key, CONFLICT_RETRY_MS);

const usesClaim = (p: Pod, claim: string): boolean => !isTerminal(p) && podClaimNames(p).includes(claim);

export const pvcProtectionController: ControllerDescriptor = {
  name: 'pvc-protection',
  create(ctx: ControllerContext) {
    const claims = ctx.informers.informerFor<PersistentVolumeClaim>(resources.persistentVolumeClaims);
    const pods = ctx.informers.informerFor<Pod>(resources.pods);
    pods.addIndex('claim', (p) => podClaimNames(p).map((c) => `${p.metadata.namespace ?? ''}/${c}`));
    return queueController(ctx, {
      name: 'pvc-protection',
      wire: (queue) => {
        const podChanged = (p: Pod) => {
          for (const c of podClaimNames(p)) if (claims.get(p.metadata.namespace, c)?.metadata.deletionTimestamp) queue.add(`${p.metadata.namespace ?? ''}/${c}`);
        };
        return [
          claims.addEventHandler({ add: (c) => queue.add(objectKey(c)), update: (_o, c) => queue.add(objectKey(c)) }),
          pods.addEventHandler({ update: (_o, p) => podChanged(p), delete: podChanged }),
        ];
      },
      async sync(key, queue) {
        const { namespace = '', name } = splitKey(key);
        const c = claims.get(namespace, name);
        if (!c) return;
        const ref = inNamespace(resources.persistentVolumeClaims, namespace);
        if (!c.metadata.deletionTimestamp) {
          await setFinalizer(ctx.client, ref, c, PVC_PROTECTION_FINALIZER, true, retryLater(queue, key));
          return;
        }
        if (!c.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)) return;
        if (pods.byIndex('claim', key).some((p) => usesClaim(p, name))) return;
        // The informer may not know a pod created a moment ago: ask the API before letting go.
        const live = await ctx.client.list<Pod>(inNamespace(resources.pods, namespace));
        if (live.items.some((p) => usesClaim(p, name))) return;
        await setFinalizer(ctx.client, ref, c, PVC_PROTECTION_FINALIZER, false, retryLater(queue, key));
      },
    });
  },
};

export const pvProtectionController: ControllerDescriptor = {
  name: 'pv-protection',
  create(ctx: ControllerContext) {
    const volumes = ctx.informers.informerFor<PersistentVolume>(resources.persistentVolumes);
    return queueController(ctx, {
      name: 'pv-protection',
      wire: (queue) => [volumes.addEventHandler({ add: (pv) => queue.add(objectKey(pv)), update: (_o, pv) => queue.add(objectKey(pv)) })],
      async sync(key, queue) {
        const pv = volumes.get(undefined, key);
        if (!pv) return;
        // Added while the volume lives; removed once it is deleted and no longer Bound.
        const deleting = Boolean(pv.metadata.deletionTimestamp);
        if (deleting && pv.status?.phase === 'Bound') return;
        await setFinalizer(ctx.client, resources.persistentVolumes, pv, PV_PROTECTION_FINALIZER, !deleting, retryLater(queue, key));
      },
    });
  },
};
