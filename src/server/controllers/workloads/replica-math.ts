/**
 * Replica arithmetic of the Deployment controller (pkg/controller/deployment/util/deployment_util.go):
 * int-or-percent scaling with upstream's rounding, the surge/unavailable fenceposts, how far the
 * new ReplicaSet may grow in one step, and how many old replicas may go.
 */
import { intOrPercent } from '../../kinds/int-or-percent.ts';

/** intstr.GetScaledValueFromIntOrPercent: percentages of total, rounded up or down. */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  const parsed = intOrPercent(v);
  if (!parsed) return 0;
  if (!parsed.percent) return parsed.value;
  const exact = (parsed.value * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * ResolveFenceposts: maxSurge rounds up, maxUnavailable rounds down, and when both come out 0 one
 * pod may be unavailable — otherwise a rollout could never make progress.
 */
export function resolveFenceposts(maxSurge: unknown, maxUnavailable: unknown, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true);
  let unavailable = scaledValue(maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** MaxUnavailable: never more than the desired replicas. */
export function maxUnavailableOf(maxSurge: unknown, maxUnavailable: unknown, desired: number): number {
  if (desired === 0) return 0;
  const { unavailable } = resolveFenceposts(maxSurge, maxUnavailable, desired);
  return Math.min(unavailable, desired);
}

/**
 * NewRSNewReplicas for RollingUpdate: grow the new ReplicaSet until all ReplicaSets together hold
 * desired + maxSurge pods, but never beyond desired.
 */
export function newReplicaSetReplicas(desired: number, maxSurge: unknown, maxUnavailable: unknown, totalSpecReplicas: number, newSpecReplicas: number): number {
  const { surge } = resolveFenceposts(maxSurge, maxUnavailable, desired);
  const maxTotal = desired + surge;
  if (totalSpecReplicas >= maxTotal) return newSpecReplicas;
  const up = Math.min(maxTotal - totalSpecReplicas, desired - newSpecReplicas);
  return newSpecReplicas + Math.max(0, up);
}

export interface ReplicaCounts {
  /** spec.replicas */
  readonly spec: number;
  /** status.availableReplicas */
  readonly available: number;
}

/**
 * reconcileOldReplicaSets' budget: how many old pods may be removed now while keeping
 * desired - maxUnavailable available, not counting the new ReplicaSet's not-yet-available pods.
 */
export function maxScaledDown(desired: number, maxUnavailableCount: number, allSpec: number, newRs: ReplicaCounts | undefined): number {
  const minAvailable = desired - maxUnavailableCount;
  const newUnavailable = newRs ? newRs.spec - newRs.available : 0;
  return allSpec - minAvailable - newUnavailable;
}

/**
 * cleanupUnhealthyReplicas then scaleDownOldReplicaSetsForRollingUpdate, as one plan over old
 * ReplicaSets (oldest first): first drop their unavailable pods within the budget, then, while more
 * than minAvailable pods are available overall, drop available ones. Returns the new spec.replicas
 * for each old ReplicaSet, in input order.
 */
export function planOldScaleDown(olds: readonly ReplicaCounts[], budget: number, totalAvailable: number, minAvailable: number): number[] {
  const next = olds.map((o) => o.spec);
  if (budget <= 0) return next;
  let left = budget;
  olds.forEach((o, i) => {
    if (left <= 0) return;
    const unhealthy = Math.max(0, o.spec - o.available);
    const cut = Math.min(unhealthy, left);
    next[i] = o.spec - cut;
    left -= cut;
  });
  if (totalAvailable <= minAvailable) return next;
  let allowed = totalAvailable - minAvailable;
  olds.forEach((_o, i) => {
    if (allowed <= 0) return;
    const cur = next[i] ?? 0;
    const cut = Math.min(cur, allowed);
    next[i] = cur - cut;
    allowed -= cut;
  });
  return next;
}

export interface ActiveSet {
  /** spec.replicas */
  readonly replicas: number;
  /** The deployment.kubernetes.io/max-replicas annotation, when present. */
  readonly maxReplicas?: number;
}

/**
 * Proportional scaling (DeploymentController.scale): when a Deployment is resized mid-rollout, the
 * change is shared among the active ReplicaSets by getReplicaSetFraction — each grows to
 * replicas × (desired + surge) / its max-replicas annotation (the size it was made for) — capped by
 * what is left to hand out; rounding leftovers go to the first set. `sets` come sorted the way
 * upstream sorts them (largest first; newer first when adding, older first when removing).
 * `statusReplicas` stands in for a missing annotation, as upstream.
 */
export function proportionalScale(sets: readonly ActiveSet[], desired: number, surge: number, statusReplicas: number): number[] {
  const allowed = desired > 0 ? desired + surge : 0;
  const current = sets.reduce((n, s) => n + s.replicas, 0);
  const toAdd = allowed - current;
  const out = sets.map((s) => s.replicas);
  if (toAdd === 0) return out;
  let added = 0;
  sets.forEach((s, i) => {
    if (s.replicas === 0 || added === toAdd) return;
    let fraction: number;
    if (desired === 0) fraction = -s.replicas;
    else {
      const annotated = s.maxReplicas ?? statusReplicas;
      fraction = annotated > 0 ? Math.round((s.replicas * (desired + surge)) / annotated) - s.replicas : 0;
    }
    const left = toAdd - added;
    const proportion = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
    out[i] = s.replicas + proportion;
    added += proportion;
  });
  const leftover = toAdd - added;
  if (leftover !== 0 && out.length > 0) out[0] = Math.max(0, (out[0] ?? 0) + leftover);
  return out;
}
