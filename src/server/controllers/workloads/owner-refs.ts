/**
 * Controller references (metav1.OwnerReference with controller: true): building them for new
 * children, finding a child's controller, and the merge-patch bodies of
 * ControllerRefManager's adopt and release.
 */
import { map, maps, str } from '../../kinds/access.ts';
import type { KubeObject } from '../../kinds/types.ts';

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

export function uidOf(obj: KubeObject): string {
  return str(map(obj.metadata)?.uid) ?? '';
}

export function nameOf(obj: KubeObject): string {
  return str(map(obj.metadata)?.name) ?? '';
}

export function namespaceOf(obj: KubeObject): string {
  return str(map(obj.metadata)?.namespace) ?? '';
}

export function labelsOf(obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map(map(obj.metadata)?.labels) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

export function annotationsOf(obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map(map(obj.metadata)?.annotations) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

/** metav1.NewControllerRef. */
export function controllerRefTo(owner: KubeObject, apiVersion: string, kind: string): OwnerRef {
  return { apiVersion, kind, name: nameOf(owner), uid: uidOf(owner), controller: true, blockOwnerDeletion: true };
}

/** metav1.GetControllerOf: the owner reference with controller: true, if any. */
export function controllerOf(obj: KubeObject): Record<string, unknown> | undefined {
  return maps(map(obj.metadata)?.ownerReferences).find((r) => r.controller === true);
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const ref = controllerOf(obj);
  return ref !== undefined && ref.uid === uidOf(owner);
}

/**
 * The merge patch ControllerRefManager sends to adopt an orphan: it adds our reference and, as a
 * precondition, repeats the child's uid so a recreated namesake is never adopted by mistake.
 */
export function adoptPatch(child: KubeObject, ref: OwnerRef): Record<string, unknown> {
  const others = maps(map(child.metadata)?.ownerReferences).filter((r) => r.uid !== ref.uid);
  return { metadata: { uid: uidOf(child), ownerReferences: [...others, ref] } };
}

/** The merge patch that releases a child no longer matching our selector. */
export function releasePatch(child: KubeObject, ownerUid: string): Record<string, unknown> {
  const rest = maps(map(child.metadata)?.ownerReferences).filter((r) => r.uid !== ownerUid);
  return { metadata: { uid: uidOf(child), ownerReferences: rest.length ? rest : null } };
}
