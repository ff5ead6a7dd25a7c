/**
 * ControllerRefManager.ClaimObjects: of the children in the owner's namespace, keep those it
 * controls and still selects, release those it controls but no longer selects, and adopt orphans
 * it selects. Children controlled by someone else are never touched. A terminating owner adopts
 * nothing (upstream's canAdopt re-check), and terminating orphans are left alone.
 */
import { selectorMatches } from '../../kinds/label-selector.ts';
import { controllerOf } from '../keys.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../types.ts';
import { ApiError, inNamespace, NotFoundError } from '../types.ts';
import { adoptPatch, controllerRefTo, releasePatch } from './owner-refs.ts';

export interface ClaimTarget {
  readonly owner: KubeObject;
  readonly ownerApiVersion: string;
  readonly ownerKind: string;
  readonly selector: unknown;
  /** Where the children live (pods, replicasets, jobs). */
  readonly childRef: ResourceRef;
}

/** The children the owner controls after adoption and release. */
export async function claimChildren<T extends KubeObject>(client: KubeClient, t: ClaimTarget, candidates: readonly T[]): Promise<T[]> {
  const ownerUid = t.owner.metadata.uid;
  const ref = inNamespace(t.childRef, t.owner.metadata.namespace ?? '');
  const claimed: T[] = [];
  for (const child of candidates) {
    const ctl = controllerOf(child);
    const matches = selectorMatches(t.selector, child.metadata.labels ?? {});
    if (ctl && ctl.uid !== ownerUid) continue;
    if (ctl) {
      if (matches || t.owner.metadata.deletionTimestamp) {
        claimed.push(child);
        continue;
      }
      try {
        await client.patch(ref, child.metadata.name ?? '', 'merge', releasePatch(child, ownerUid ?? ''));
      } catch (e) {
        // Gone already (404), or a different object by now (the uid precondition fails, 422).
        if (!(e instanceof NotFoundError) && !(e instanceof ApiError && e.status === 422)) throw e;
      }
      continue;
    }
    if (!matches || t.owner.metadata.deletionTimestamp || child.metadata.deletionTimestamp) continue;
    try {
      const adopted = await client.patch<T>(ref, child.metadata.name ?? '', 'merge', adoptPatch(child, controllerRefTo(t.owner, t.ownerApiVersion, t.ownerKind)));
      claimed.push(adopted);
    } catch (e) {
      if (e instanceof NotFoundError) continue;
      throw e;
    }
  }
  return claimed;
}
