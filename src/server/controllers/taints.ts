// Toleration matching (k8s.io/api/core/v1 Toleration.ToleratesTaint) and the taint keys the node
// lifecycle controller manages (well_known_taints.go).
import type { Taint, Toleration } from './core-types.ts';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  // An empty key with Exists tolerates every taint.
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function toleratesTaint(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => tolerates(t, taint));
}

/** The first taint with one of `effects` no toleration matches (kube's FindMatchingUntoleratedTaint). */
export function untoleratedTaint(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[] | undefined, effects: readonly string[]): Taint | undefined {
  return (taints ?? []).find((taint) => effects.includes(taint.effect) && !toleratesTaint(tolerations, taint));
}
