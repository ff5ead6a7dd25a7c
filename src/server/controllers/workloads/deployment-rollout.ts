/**
 * One rollout step of a Deployment (pkg/controller/deployment/rolling.go, recreate.go and the
 * scaling part of sync.go). Each function makes at most the writes of one upstream step and says
 * whether it wrote anything; the caller then reports status and waits for the next event.
 */
import type { ControllerContext, KubeObject } from '../types.ts';
import { deploymentMaxUnavailable, desiredReplicas, isRollingUpdate } from './deployment-status.ts';
import { deploymentMaxSurge, deploymentSpec, rsReplicas, rsStatus, scaleReplicaSet } from './deployment-replica-sets.ts';
import { maxScaledDown, newReplicaSetReplicas, planOldScaleDown, proportionalScale } from './replica-math.ts';
import { byCreation, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION } from './revisions.ts';

const active = (sets: readonly (KubeObject | undefined)[]): KubeObject[] => sets.filter((rs): rs is KubeObject => rs !== undefined && rsReplicas(rs) > 0);

/** isScalingEvent: an active ReplicaSet was sized for a different replica count than the spec's. */
export function isScalingEvent(d: KubeObject, sets: readonly KubeObject[]): boolean {
  const desired = desiredReplicas(d);
  return active(sets).some((rs) => {
    const annotated = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
    return annotated !== undefined && Number(annotated) !== desired;
  });
}

/** reconcileNewReplicaSet: grow the new ReplicaSet within maxSurge, or shrink it to the spec. */
export async function reconcileNewReplicaSet(ctx: ControllerContext, d: KubeObject, newRs: KubeObject, olds: readonly KubeObject[]): Promise<boolean> {
  const desired = desiredReplicas(d);
  const current = rsReplicas(newRs);
  if (current === desired) return false;
  if (current > desired) {
    await scaleReplicaSet(ctx, d, newRs, desired);
    return true;
  }
  const ru = deploymentSpec(d).strategy?.rollingUpdate ?? {};
  const total = olds.reduce((n, rs) => n + rsReplicas(rs), current);
  const next = newReplicaSetReplicas(desired, ru.maxSurge ?? '25%', ru.maxUnavailable ?? '25%', total, current);
  if (next === current) return false;
  await scaleReplicaSet(ctx, d, newRs, next);
  return true;
}

/** reconcileOldReplicaSets: shrink old ReplicaSets, oldest first, keeping minAvailable available. */
export async function reconcileOldReplicaSets(ctx: ControllerContext, d: KubeObject, newRs: KubeObject | undefined, olds: readonly KubeObject[]): Promise<boolean> {
  const activeOld = active(olds).sort(byCreation);
  if (activeOld.length === 0) return false;
  const all = newRs ? [...olds, newRs] : [...olds];
  const allSpec = all.reduce((n, rs) => n + rsReplicas(rs), 0);
  const desired = desiredReplicas(d);
  const maxUnavailable = deploymentMaxUnavailable(d);
  const budget = maxScaledDown(desired, maxUnavailable, allSpec, newRs ? { spec: rsReplicas(newRs), available: rsStatus(newRs, 'availableReplicas') } : undefined);
  const totalAvailable = all.reduce((n, rs) => n + rsStatus(rs, 'availableReplicas'), 0);
  const plan = planOldScaleDown(
    activeOld.map((rs) => ({ spec: rsReplicas(rs), available: rsStatus(rs, 'availableReplicas') })),
    budget,
    totalAvailable,
    desired - maxUnavailable,
  );
  let wrote = false;
  for (const [i, rs] of activeOld.entries()) {
    const size = plan[i] ?? rsReplicas(rs);
    if (size === rsReplicas(rs)) continue;
    await scaleReplicaSet(ctx, d, rs, size);
    wrote = true;
  }
  return wrote;
}

/** Recreate: scale every old ReplicaSet to zero. */
export async function scaleDownOldForRecreate(ctx: ControllerContext, d: KubeObject, olds: readonly KubeObject[]): Promise<boolean> {
  let wrote = false;
  for (const rs of active(olds)) {
    await scaleReplicaSet(ctx, d, rs, 0);
    wrote = true;
  }
  return wrote;
}

/**
 * DeploymentController.scale: a resize outside a rollout step. One active (or, with none, the
 * newest) ReplicaSet simply takes the new size; a saturated new ReplicaSet means old ones go to
 * zero; otherwise the change is shared proportionally (RollingUpdate only).
 */
export async function scaleDeployment(ctx: ControllerContext, d: KubeObject, newRs: KubeObject | undefined, olds: readonly KubeObject[]): Promise<void> {
  const desired = desiredReplicas(d);
  const activeSets = active([newRs, ...olds]);
  let target: KubeObject | undefined;
  if (activeSets.length === 1) target = activeSets[0];
  else if (activeSets.length === 0) target = newRs ?? [...olds].sort(byCreation).at(-1);
  if (activeSets.length <= 1) {
    // Also refreshes stale desired/max-replicas annotations, so the scaling event ends.
    if (target) await scaleReplicaSet(ctx, d, target, desired);
    return;
  }
  // IsSaturated: the new ReplicaSet alone already provides every desired replica.
  if (
    newRs &&
    rsReplicas(newRs) === desired &&
    newRs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] === String(desired) &&
    rsStatus(newRs, 'availableReplicas') === desired
  ) {
    for (const rs of active(olds)) await scaleReplicaSet(ctx, d, rs, 0);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const surge = deploymentMaxSurge(d);
  const current = activeSets.reduce((n, rs) => n + rsReplicas(rs), 0);
  const adding = (desired > 0 ? desired + surge : 0) - current > 0;
  // ReplicaSetsBySizeNewer when adding, BySizeOlder when removing: largest first either way.
  const sorted = [...activeSets].sort((a, b) => rsReplicas(b) - rsReplicas(a) || (adding ? byCreation(b, a) : byCreation(a, b)));
  const statusReplicas = (d.status as { replicas?: number } | undefined)?.replicas ?? 0;
  const sizes = proportionalScale(
    sorted.map((rs) => {
      const max = Number(rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION] ?? 'NaN');
      return Number.isFinite(max) ? { replicas: rsReplicas(rs), maxReplicas: max } : { replicas: rsReplicas(rs) };
    }),
    desired,
    surge,
    statusReplicas,
  );
  for (const [i, rs] of sorted.entries()) await scaleReplicaSet(ctx, d, rs, sizes[i] ?? rsReplicas(rs));
}
