/**
 * The Deployment controller (pkg/controller/deployment/deployment_controller.go syncDeployment):
 * claims the ReplicaSets its selector matches, then — paused or merely resized — only scales
 * (sync), otherwise runs one Recreate or RollingUpdate step, prunes history once complete, and
 * reports status with the Available and Progressing conditions `kubectl rollout status` waits on.
 * A rollout that stops moving is looked at again when its progress deadline passes.
 */
import { controllerOf, objectKey, splitKey } from '../keys.ts';
import type { Controller, ControllerContext, KubeObject, WorkQueue } from '../types.ts';
import { resources } from '../types.ts';
import { childEventHandler, ownerEventHandler } from './child-events.ts';
import { claimChildren } from './claim.ts';
import { deploymentSpec, pruneOldReplicaSets, splitReplicaSets, rsReplicas, rsStatus, scaleReplicaSet, syncNewReplicaSet } from './deployment-replica-sets.ts';
import { isScalingEvent, reconcileNewReplicaSet, reconcileOldReplicaSets, scaleDeployment, scaleDownOldForRecreate } from './deployment-rollout.ts';
import type { DeploymentStatus } from './deployment-status.ts';
import { calculateStatus, deploymentComplete, desiredReplicas, getCondition, isRollingUpdate, msUntilDeadline, newCondition, REASON, rolloutStatus, setCondition } from './deployment-status.ts';
import { podPhase } from './pods.ts';
import { queueController } from './queue-controller.ts';
import { writeStatus } from './status-writer.ts';

type Step = { newRs: KubeObject | undefined; olds: KubeObject[] };

export function deploymentController(ctx: ControllerContext): Controller {
  const deployments = ctx.informers.informerFor(resources.deployments);
  const replicaSets = ctx.informers.informerFor(resources.replicaSets);
  const pods = ctx.informers.informerFor(resources.pods);

  async function report(d: KubeObject, status: DeploymentStatus, queue: WorkQueue): Promise<void> {
    // Compare with what the cache holds, not with `d`, which may carry conditions set this sync.
    const stored = deployments.get(d.metadata.namespace, d.metadata.name ?? '') ?? d;
    await writeStatus(ctx.client, resources.deployments, stored, { ...status });
    const after = msUntilDeadline(d, status, ctx.clock.now());
    if (after !== undefined) queue.addAfter(objectKey(d), after);
  }

  /** checkPausedConditions: Progressing Unknown DeploymentPaused / DeploymentResumed. */
  function withPausedCondition(d: KubeObject): KubeObject {
    const conditions = ((d.status as { conditions?: DeploymentStatus['conditions'] } | undefined)?.conditions ?? []).map((c) => ({ ...c }));
    const progressing = getCondition(conditions, 'Progressing');
    const paused = (d.spec as { paused?: boolean } | undefined)?.paused === true;
    const now = ctx.clock.now();
    let next = conditions;
    if (paused && progressing?.reason !== REASON.paused) {
      next = setCondition(conditions, newCondition('Progressing', 'Unknown', REASON.paused, 'Deployment is paused', now));
    } else if (!paused && progressing?.reason === REASON.paused) {
      next = setCondition(conditions, newCondition('Progressing', 'Unknown', REASON.resumed, 'Deployment is resumed', now));
    }
    if (next === conditions) return d;
    return { ...d, status: { ...((d.status as object | undefined) ?? {}), conditions: next } };
  }

  /** Progressing after getNewReplicaSet: NewReplicaSetCreated, or FoundNewReplicaSet when none was set. */
  function withNewReplicaSetCondition(d: KubeObject, newRs: KubeObject | undefined, created: boolean): KubeObject {
    if (!newRs) return d;
    const conditions = (d.status as { conditions?: DeploymentStatus['conditions'] } | undefined)?.conditions ?? [];
    const now = ctx.clock.now();
    const name = newRs.metadata.name ?? '';
    let next: DeploymentStatus['conditions'] | undefined;
    if (created) next = setCondition(conditions, newCondition('Progressing', 'True', REASON.newReplicaSetCreated, `Created new replica set "${name}"`, now));
    else if (!getCondition(conditions, 'Progressing')) next = setCondition(conditions, newCondition('Progressing', 'True', REASON.foundNewReplicaSet, `Found new replica set "${name}"`, now));
    if (!next) return d;
    return { ...d, status: { ...((d.status as object | undefined) ?? {}), conditions: next } };
  }

  /** sync(): scale only, prune when paused, and report counts (no Progressing change). */
  async function scaleOnly(d: KubeObject, sets: KubeObject[], queue: WorkQueue): Promise<void> {
    const { view } = await syncNewReplicaSet(ctx, d, sets, false);
    await scaleDeployment(ctx, d, view.newRs, view.olds);
    if ((d.spec as { paused?: boolean }).paused === true) await pruneOldReplicaSets(ctx, d, view.olds);
    const all = view.newRs ? [...view.olds, view.newRs] : view.olds;
    await report(d, calculateStatus(d, all, view.newRs, ctx.clock.now()), queue);
  }

  /** Old pods still around (oldPodsRunning): Recreate waits for them to be gone, terminating ones too. */
  function oldPodsRunning(olds: readonly KubeObject[]): boolean {
    if (olds.some((rs) => rsStatus(rs, 'replicas') > 0)) return true;
    const uids = new Set(olds.map((rs) => rs.metadata.uid));
    return olds.length > 0 && pods.list(olds[0]?.metadata.namespace).some((p) => {
      const ref = controllerOf(p);
      if (!ref || !uids.has(ref.uid)) return false;
      const phase = podPhase(p);
      return phase !== 'Failed' && phase !== 'Succeeded';
    });
  }

  async function rollout(d: KubeObject, sets: KubeObject[], queue: WorkQueue): Promise<void> {
    const finish = async (dd: KubeObject, step: Step): Promise<void> => {
      const all = step.newRs ? [...step.olds, step.newRs] : step.olds;
      await report(dd, rolloutStatus(dd, all, step.newRs, ctx.clock.now()), queue);
    };
    const completeThenPrune = async (dd: KubeObject, step: Step): Promise<void> => {
      const all = step.newRs ? [...step.olds, step.newRs] : step.olds;
      if (deploymentComplete(dd, calculateStatus(dd, all, step.newRs, ctx.clock.now()))) await pruneOldReplicaSets(ctx, dd, step.olds);
      await finish(dd, step);
    };
    if (isRollingUpdate(d)) {
      const { view, created } = await syncNewReplicaSet(ctx, d, sets, true);
      const dd = withNewReplicaSetCondition(d, view.newRs, created);
      if (view.newRs && (await reconcileNewReplicaSet(ctx, dd, view.newRs, view.olds))) return finish(dd, view);
      if (await reconcileOldReplicaSets(ctx, dd, view.newRs, view.olds)) return finish(dd, view);
      return completeThenPrune(dd, view);
    }
    // Recreate: all old pods gone first, then the new ReplicaSet at full size.
    const first = await syncNewReplicaSet(ctx, d, sets, false);
    if (await scaleDownOldForRecreate(ctx, d, first.view.olds)) return finish(d, first.view);
    if (oldPodsRunning(first.view.olds)) return finish(d, first.view);
    const { view, created } = first.view.newRs ? first : await syncNewReplicaSet(ctx, d, sets, true);
    const dd = withNewReplicaSetCondition(d, view.newRs, created);
    if (view.newRs && rsReplicas(view.newRs) !== desiredReplicas(d)) {
      await scaleReplicaSet(ctx, dd, view.newRs, desiredReplicas(d));
      return finish(dd, view);
    }
    return completeThenPrune(dd, view);
  }

  async function sync(key: string, queue: WorkQueue): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = deployments.get(namespace, name);
    if (!cached) return;
    const spec = deploymentSpec(cached);
    const sets = await claimChildren(
      ctx.client,
      { owner: cached, ownerApiVersion: 'apps/v1', ownerKind: 'Deployment', selector: spec.selector, childRef: resources.replicaSets },
      replicaSets.list(namespace),
    );
    if (cached.metadata.deletionTimestamp) {
      // syncStatusOnly: a Deployment being deleted only reports.
      const { newRs, olds } = splitReplicaSets(cached, sets);
      await report(cached, calculateStatus(cached, newRs ? [...olds, newRs] : olds, newRs, ctx.clock.now()), queue);
      return;
    }
    const d = withPausedCondition(cached);
    if ((d.spec as { paused?: boolean }).paused === true || isScalingEvent(d, sets)) return scaleOnly(d, sets, queue);
    return rollout(d, sets, queue);
  }

  return queueController(ctx, {
    name: 'deployment',
    wire: (queue) => [
      deployments.addEventHandler(ownerEventHandler(queue)),
      replicaSets.addEventHandler(childEventHandler({ kind: 'Deployment', owners: deployments, queue, selectorOf: (d) => deploymentSpec(d).selector })),
      // Recreate waits for the old pods to disappear: their deletion must wake the Deployment.
      pods.addEventHandler({
        delete(pod) {
          const rsRef = controllerOf(pod);
          if (!rsRef || rsRef.kind !== 'ReplicaSet') return;
          const rs = replicaSets.get(pod.metadata.namespace, rsRef.name);
          const dRef = rs ? controllerOf(rs) : undefined;
          if (dRef?.kind === 'Deployment') queue.add(`${pod.metadata.namespace ?? ''}/${dRef.name}`);
        },
      }),
    ],
    sync,
  });
}
