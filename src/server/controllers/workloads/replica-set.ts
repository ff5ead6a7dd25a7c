/**
 * The ReplicaSet controller (pkg/controller/replicaset): keeps `spec.replicas` active pods that
 * match the selector, adopting orphans and releasing pods whose labels no longer match, and reports
 * replicas / fullyLabeledReplicas / readyReplicas / availableReplicas / observedGeneration.
 * Expectations keep a lagging cache from causing duplicate creates or deletes.
 */
import { controllerOf, splitKey } from '../keys.ts';
import type { Controller, ControllerContext, KubeObject, WorkQueue } from '../types.ts';
import { resources } from '../types.ts';
import { claimChildren } from './claim.ts';
import { childEventHandler, ownerEventHandler } from './child-events.ts';
import { Expectations } from './expectations.ts';
import { controllerRefTo } from './owner-refs.ts';
import { createPod, deletePod, podFromTemplate, slowStartBatch } from './pod-control.ts';
import type { PodTemplate } from './pod-control.ts';
import { deletionComparator, isPodActive, msUntilAvailable, sameNodeRanks } from './pods.ts';
import { queueController } from './queue-controller.ts';
import { replicaSetStatus, withReplicaFailure } from './replica-set-status.ts';
import { writeStatus } from './status-writer.ts';
import { rfc3339 } from './timestamps.ts';

const CONTROLLER_INDEX = 'replicaset-claim';

/** replicaset's burstReplicas: at most this many creates or deletes per sync. */
const BURST_REPLICAS = 500;

interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: unknown;
  template?: PodTemplate;
}

export function replicaSetController(ctx: ControllerContext): Controller {
  const replicaSets = ctx.informers.informerFor(resources.replicaSets);
  const pods = ctx.informers.informerFor(resources.pods);
  // What claimChildren can act on: the pods a ReplicaSet controls and the namespace's orphans (it
  // skips pods another controller owns). Listing the whole namespace instead made each sync
  // O(pods in the namespace), and a ReplicaSet syncs on every change of one of its pods: 2.6 % of
  // the server creating 2,000 pods in one namespace, quadratic in the pods (bench/fleet/README.md).
  pods.addIndex(CONTROLLER_INDEX, (p) => {
    const ctl = controllerOf(p);
    return [ctl ? `uid:${ctl.uid}` : `orphan:${p.metadata.namespace ?? ''}`];
  });
  const expectations = new Expectations(() => ctx.clock.now());

  /** Create or delete pods toward spec.replicas; returns a failure to report as ReplicaFailure. */
  async function manageReplicas(key: string, rs: KubeObject, active: KubeObject[]): Promise<{ reason: string; message: string } | undefined> {
    const spec = (rs.spec ?? {}) as ReplicaSetSpec;
    const diff = active.length - (spec.replicas ?? 1);
    if (diff < 0) {
      const want = Math.min(-diff, BURST_REPLICAS);
      expectations.expectCreations(key, want);
      const ref = controllerRefTo(rs, 'apps/v1', 'ReplicaSet');
      const ns = rs.metadata.namespace ?? '';
      const result = await slowStartBatch(want, () =>
        createPod(ctx, rs, podFromTemplate(spec.template ?? {}, ns, ref, { generateName: `${rs.metadata.name ?? ''}-` })).catch((e: unknown) => {
          expectations.creationObserved(key);
          throw e;
        }),
      );
      // Creates skipped after a failed batch will never be observed: stop waiting for them.
      const skipped = want - result.done - (result.error ? 1 : 0);
      for (let i = 0; i < skipped; i++) expectations.creationObserved(key);
      if (result.error) return { reason: 'FailedCreate', message: (result.error as Error).message };
      return undefined;
    }
    if (diff > 0) {
      const victims = [...active].sort(deletionComparator(ctx.clock.now(), sameNodeRanks(active))).slice(0, Math.min(diff, BURST_REPLICAS));
      expectations.expectDeletions(key, victims.map((p) => p.metadata.name ?? ''));
      const results = await Promise.allSettled(
        victims.map((p) =>
          deletePod(ctx, rs, p).catch((e: unknown) => {
            expectations.deletionObserved(key, p.metadata.name ?? '');
            throw e;
          }),
        ),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) return { reason: 'FailedDelete', message: (failed.reason as Error).message };
    }
    return undefined;
  }

  async function sync(key: string, queue: WorkQueue): Promise<void> {
    const { namespace, name } = splitKey(key);
    const rs = replicaSets.get(namespace, name);
    if (!rs) {
      expectations.forget(key);
      return;
    }
    const spec = (rs.spec ?? {}) as ReplicaSetSpec;
    const candidates = [...pods.byIndex(CONTROLLER_INDEX, `uid:${rs.metadata.uid ?? ''}`), ...pods.byIndex(CONTROLLER_INDEX, `orphan:${namespace}`)].filter(
      (p) => p.metadata.namespace === namespace && isPodActive(p),
    );
    const active = (
      await claimChildren(ctx.client, { owner: rs, ownerApiVersion: 'apps/v1', ownerKind: 'ReplicaSet', selector: spec.selector, childRef: resources.pods }, candidates)
    ).filter(isPodActive);
    let failure: { reason: string; message: string } | undefined;
    if (expectations.satisfied(key) && !rs.metadata.deletionTimestamp) failure = await manageReplicas(key, rs, active);
    const now = ctx.clock.now();
    const status = withReplicaFailure(
      replicaSetStatus(rs, active, now),
      (rs.status as { conditions?: Record<string, unknown>[] } | undefined)?.conditions,
      failure,
      rfc3339(now),
    );
    await writeStatus(ctx.client, resources.replicaSets, rs, { ...status });
    // Ready pods turn available after minReadySeconds without any event: look again then.
    const minReady = spec.minReadySeconds ?? 0;
    const waits = active.map((p) => msUntilAvailable(p, minReady, now)).filter((ms): ms is number => ms !== undefined);
    if (waits.length) queue.addAfter(key, Math.min(...waits) + 100);
    if (failure) throw new Error(`replicaset ${key}: ${failure.message}`);
  }

  return queueController(ctx, {
    name: 'replicaset',
    wire: (queue) => [
      replicaSets.addEventHandler(ownerEventHandler(queue, expectations)),
      pods.addEventHandler(childEventHandler({ kind: 'ReplicaSet', owners: replicaSets, queue, expectations, selectorOf: (rs) => (rs.spec as ReplicaSetSpec | undefined)?.selector })),
    ],
    sync,
  });
}
