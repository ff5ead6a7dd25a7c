/**
 * The DaemonSet controller (pkg/controller/daemon): one pod on every node that matches the
 * template's nodeSelector and required node affinity and whose NoSchedule/NoExecute taints it
 * tolerates, replaced node by node on a template change within maxUnavailable.
 *
 * Placement differs from upstream on purpose: upstream creates each pod with a required node
 * affinity on `metadata.name` and lets the default scheduler bind it; we set `spec.nodeName`
 * directly (what DaemonSets did before 1.12). The node was already chosen here, and edge devices
 * then get their daemons even when the scheduler is busy or its resource view is stale.
 */
import { objectKey, splitKey } from '../keys.ts';
import type { Node } from '../core-types.ts';
import type { Controller, ControllerContext, KubeObject, WorkQueue } from '../types.ts';
import { inNamespace, NotFoundError, resources } from '../types.ts';
import { childEventHandler, ownerEventHandler } from './child-events.ts';
import { claimChildren } from './claim.ts';
import { hashOf, ownedRevisions, REVISION_LABEL, revisionsToPrune, syncRevisions } from './controller-revisions.ts';
import { daemonTolerations, planDaemonSet, TEMPLATE_GENERATION_LABEL } from './daemon-set-plan.ts';
import { Expectations } from './expectations.ts';
import { controllerRefTo } from './owner-refs.ts';
import { createPod, deletePod, podFromTemplate } from './pod-control.ts';
import type { PodTemplate } from './pod-control.ts';
import { msUntilAvailable } from './pods.ts';
import { queueController } from './queue-controller.ts';
import { writeStatus } from './status-writer.ts';

export function daemonSetController(ctx: ControllerContext): Controller {
  const daemonSets = ctx.informers.informerFor(resources.daemonSets);
  const nodes = ctx.informers.informerFor<Node>(resources.nodes);
  const pods = ctx.informers.informerFor(resources.pods);
  const revisions = ctx.informers.informerFor(resources.controllerRevisions);
  const expectations = new Expectations(() => ctx.clock.now());

  function daemonPod(ds: KubeObject, nodeName: string, hash: string): KubeObject {
    const template = ((ds.spec as { template?: PodTemplate } | undefined)?.template ?? {}) as PodTemplate;
    const pod = podFromTemplate(template, ds.metadata.namespace ?? '', controllerRefTo(ds, 'apps/v1', 'DaemonSet'), { generateName: `${ds.metadata.name ?? ''}-` });
    pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [REVISION_LABEL]: hash, [TEMPLATE_GENERATION_LABEL]: String(ds.metadata.generation ?? 1) };
    pod.spec = { ...(pod.spec as object), nodeName, tolerations: daemonTolerations(template as { spec?: { tolerations?: [] } }) };
    return pod;
  }

  async function sync(key: string, queue: WorkQueue): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ds = daemonSets.get(namespace, name);
    if (!ds) {
      expectations.forget(key);
      return;
    }
    const spec = (ds.spec ?? {}) as { selector?: unknown; template?: unknown; minReadySeconds?: number };
    const owned = await claimChildren(ctx.client, { owner: ds, ownerApiVersion: 'apps/v1', ownerKind: 'DaemonSet', selector: spec.selector, childRef: resources.pods }, pods.list(namespace));
    const { update, all } = await syncRevisions(ctx, ds, ownedRevisions(ds, revisions.list(namespace)), 'DaemonSet');
    const hash = hashOf(update);
    const now = ctx.clock.now();
    const plan = planDaemonSet(ds, nodes.list(), owned, hash, now);
    let failure: unknown;
    if (expectations.satisfied(key) && !ds.metadata.deletionTimestamp) {
      expectations.expect(key, plan.createOn.length, plan.remove.map((p) => p.metadata.name ?? ''));
      const results = await Promise.allSettled([
        ...plan.createOn.map((node) =>
          createPod(ctx, ds, daemonPod(ds, node, hash)).catch((e: unknown) => {
            expectations.creationObserved(key);
            throw e;
          }),
        ),
        ...plan.remove.map((p) =>
          deletePod(ctx, ds, p).catch((e: unknown) => {
            expectations.deletionObserved(key, p.metadata.name ?? '');
            throw e;
          }),
        ),
      ]);
      failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    }
    await writeStatus(ctx.client, resources.daemonSets, ds, { ...plan.status });
    // History: keep the update revision and every revision a live pod still runs.
    const keep = new Set([update.metadata.name ?? '', ...owned.map((p) => `${ds.metadata.name ?? ''}-${p.metadata.labels?.[REVISION_LABEL] ?? ''}`)]);
    for (const cr of revisionsToPrune(all, keep, (ds.spec as { revisionHistoryLimit?: number }).revisionHistoryLimit ?? 10)) {
      await ctx.client.delete(inNamespace(resources.controllerRevisions, namespace ?? ''), cr.metadata.name ?? '').catch((e: unknown) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
    }
    const waits = owned.map((p) => msUntilAvailable(p, spec.minReadySeconds ?? 0, now)).filter((ms): ms is number => ms !== undefined);
    if (waits.length) queue.addAfter(key, Math.min(...waits) + 100);
    if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  }

  return queueController(ctx, {
    name: 'daemonset',
    wire: (queue) => {
      const all = () => {
        for (const ds of daemonSets.list()) queue.add(objectKey(ds));
      };
      return [
        daemonSets.addEventHandler(ownerEventHandler(queue, expectations)),
        pods.addEventHandler(childEventHandler({ kind: 'DaemonSet', owners: daemonSets, queue, expectations, selectorOf: (ds) => (ds.spec as { selector?: unknown } | undefined)?.selector })),
        // New or gone nodes, and label or taint changes, move daemons; heartbeats do not
        // (upstream's shouldIgnoreNodeUpdate).
        nodes.addEventHandler({
          add: all,
          update: (before, after) => {
            const placement = (n: Node) => JSON.stringify([n.metadata.labels ?? {}, n.spec?.taints ?? []]);
            if (placement(before) !== placement(after)) all();
          },
          delete: all,
        }),
      ];
    },
    sync,
  });
}
