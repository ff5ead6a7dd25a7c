/**
 * Controller references (metav1.OwnerReference with controller: true): building them for new
 * children and the merge-patch bodies of ControllerRefManager's adopt and release.
 */
import type { KubeObject, OwnerReference } from '../types.ts';

/** metav1.NewControllerRef. */
export function controllerRefTo(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/**
 * The merge patch ControllerRefManager sends to adopt an orphan: our reference added to the
 * others, and the child's uid repeated so a recreated namesake is never adopted by mistake.
 */
export function adoptPatch(child: KubeObject, ref: OwnerReference): Record<string, unknown> {
  const others = (child.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  return { metadata: { uid: child.metadata.uid, ownerReferences: [...others, ref] } };
}

/** The merge patch that releases a child no longer matching our selector. */
export function releasePatch(child: KubeObject, ownerUid: string): Record<string, unknown> {
  const rest = (child.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
  return { metadata: { uid: child.metadata.uid, ownerReferences: rest.length ? rest : null } };
}
