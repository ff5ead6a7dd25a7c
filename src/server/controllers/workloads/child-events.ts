/**
 * Routing child events (pods, ReplicaSets, Jobs) to the queue key of the owner that should look at
 * them — the addPod/updatePod/deletePod handlers every upstream workload controller has. A child
 * with a controller reference wakes that owner (when the cached owner has the same uid) and settles
 * its expectations; an orphan wakes every owner of the namespace whose selector matches, so one of
 * them can adopt it.
 */
import { selectorMatches } from '../../kinds/label-selector.ts';
import { controllerOf, objectKey } from '../keys.ts';
import type { EventHandler, KubeObject, Lister, WorkQueue } from '../types.ts';
import type { Expectations } from './expectations.ts';

export interface OwnerRouting<O extends KubeObject> {
  /** The owner's kind in ownerReferences ("ReplicaSet"). */
  readonly kind: string;
  readonly owners: Lister<O>;
  readonly queue: WorkQueue;
  readonly expectations?: Expectations;
  /** The owner's label selector; undefined when the owner never adopts orphans by labels. */
  selectorOf?(owner: O): unknown;
}

function sameLabels(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(a.metadata.labels ?? {}) === JSON.stringify(b.metadata.labels ?? {});
}

export function childEventHandler<O extends KubeObject>(r: OwnerRouting<O>): EventHandler {
  const ownerOf = (child: KubeObject): O | undefined => {
    const ref = controllerOf(child);
    if (!ref || ref.kind !== r.kind) return undefined;
    const owner = r.owners.get(child.metadata.namespace, ref.name);
    return owner && owner.metadata.uid === ref.uid ? owner : undefined;
  };
  const wakeMatching = (child: KubeObject): void => {
    if (!r.selectorOf) return;
    for (const owner of r.owners.list(child.metadata.namespace)) {
      if (selectorMatches(r.selectorOf(owner), child.metadata.labels ?? {})) r.queue.add(objectKey(owner));
    }
  };
  const deleted = (child: KubeObject): void => {
    const owner = ownerOf(child);
    if (!owner) return;
    const key = objectKey(owner);
    r.expectations?.deletionObserved(key, child.metadata.name ?? '');
    r.queue.add(key);
  };
  return {
    add(child) {
      if (child.metadata.deletionTimestamp) {
        deleted(child);
        return;
      }
      const ref = controllerOf(child);
      if (ref) {
        const owner = ownerOf(child);
        if (!owner) return;
        const key = objectKey(owner);
        r.expectations?.creationObserved(key);
        r.queue.add(key);
        return;
      }
      wakeMatching(child);
    },
    update(oldChild, child) {
      if (oldChild.metadata.resourceVersion === child.metadata.resourceVersion) return;
      if (child.metadata.deletionTimestamp && !oldChild.metadata.deletionTimestamp) {
        deleted(child);
        // A terminating child may still be adopted or released by label changes below.
      }
      const oldRef = controllerOf(oldChild);
      const ref = controllerOf(child);
      if (oldRef && oldRef.uid !== ref?.uid) {
        const old = ownerOf(oldChild);
        if (old) r.queue.add(objectKey(old));
      }
      if (ref) {
        const owner = ownerOf(child);
        if (owner) r.queue.add(objectKey(owner));
        // The owner may need to release a child whose labels no longer match: that is its sync's job.
        return;
      }
      if (!sameLabels(oldChild, child) || oldRef) wakeMatching(child);
    },
    delete(child) {
      deleted(child);
    },
  };
}

/** Enqueue an owner on every change to it; forget its expectations when it goes. */
export function ownerEventHandler(queue: WorkQueue, expectations?: Expectations): EventHandler {
  return {
    add: (o) => queue.add(objectKey(o)),
    update: (_old, o) => queue.add(objectKey(o)),
    delete: (o) => {
      expectations?.forget(objectKey(o));
      queue.add(objectKey(o));
    },
  };
}
