// The scheduler (kube-scheduler's default profile, no preemption): pending pods of
// schedulerName default-scheduler are filtered against every node (VolumeBinding included:
// volume-binding.ts), the best scoring node wins, the pod is assumed on it at once (so the next
// decision already sees it) and bound through pods/binding in the background, after its unbound
// claims were provisioned or bound for that node. Unschedulable pods wait until nodes or pods change
// (MoveAllToActiveOrBackoffQueue), and at least every 5 minutes (podMaxInUnschedulablePodsDuration).
import { controllerOf, objectKey, splitKey } from '../keys.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { createWorkQueue } from '../work-queue.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../core-types.ts';
import { isTerminal } from '../core-types.ts';
import { ConflictError, NotFoundError, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor } from '../types.ts';
import { fitErrorMessage } from './fit-error.ts';
import { filterNode } from './filters.ts';
import type { PodDemand } from './filters.ts';
import { UsageCache } from './node-usage.ts';
import { hostPorts, podRequests } from './pod-resources.ts';
import { pickNode } from './score.ts';
import type { Candidate } from './score.ts';
import { NO_VOLUMES, VolumeBinding } from './volume-binding.ts';
import type { PodVolumes } from './volume-binding.ts';

export const SCHEDULER_NAME = 'default-scheduler';
/** Bindings in flight at once; decisions never wait for them unless this many are pending. */
const MAX_BINDINGS = 16;
const UNSCHEDULABLE_FLUSH_MS = 5 * 60_000;
/**
 * Cluster changes are coalesced this long before unschedulable pods are retried, so a burst of
 * node updates (a fleet of edge nodes reconnecting after an uplink outage, a scripted uncordon)
 * costs one retry round instead of one per node, each failing against a half-updated cluster.
 */
const MOVE_COALESCE_MS = 100;
/** kube-scheduler's minFeasibleNodesToFind and minFeasibleNodesPercentageToFind. */
const MIN_FEASIBLE_NODES = 100;
const MIN_FEASIBLE_PERCENT = 5;

/**
 * How many feasible nodes are enough to pick from (kube-scheduler's numFeasibleNodesToFind with the
 * default percentageOfNodesToScore): every node below 100, then 50 % less one point per 125 nodes,
 * at least 5 % and 100 nodes — 420 of 1,000 nodes, 500 of 10,000. Filtering and scoring every node
 * for every pod made scheduling O(nodes) per pod, the largest single item of the server while
 * 1,000 nodes took 2,000 pods (bench/fleet/README.md).
 */
export function feasibleNodesToFind(allNodes: number): number {
  if (allNodes < MIN_FEASIBLE_NODES) return allNodes;
  const percent = Math.max(MIN_FEASIBLE_PERCENT, 50 - Math.floor(allNodes / 125));
  return Math.max(MIN_FEASIBLE_NODES, Math.floor((allNodes * percent) / 100));
}

function wantsScheduling(p: Pod): boolean {
  const name = p.spec?.schedulerName;
  return !p.spec?.nodeName && (!name || name === SCHEDULER_NAME) && !p.metadata.deletionTimestamp && !isTerminal(p);
}

function nodeChangeMatters(a: Node, b: Node): boolean {
  return (
    JSON.stringify(a.metadata.labels) !== JSON.stringify(b.metadata.labels) ||
    JSON.stringify(a.spec?.taints) !== JSON.stringify(b.spec?.taints) ||
    Boolean(a.spec?.unschedulable) !== Boolean(b.spec?.unschedulable) ||
    JSON.stringify(a.status?.allocatable) !== JSON.stringify(b.status?.allocatable)
  );
}

export function createScheduler(ctx: ControllerContext): Controller {
  const log = ctx.log;
  return controllerFromRun('scheduler', async (signal, ready) => {
    const pods = ctx.informers.informerFor<Pod>(resources.pods);
    const nodes = ctx.informers.informerFor<Node>(resources.nodes);
    const claims = ctx.informers.informerFor<PersistentVolumeClaim>(resources.persistentVolumeClaims);
    const volumes = ctx.informers.informerFor<PersistentVolume>(resources.persistentVolumes);
    const classes = ctx.informers.informerFor<StorageClass>(resources.storageClasses);
    const volumeBinding = new VolumeBinding({ claims, volumes, classes, client: ctx.client });
    const usage = new UsageCache();
    const queue = createWorkQueue(log);
    const unschedulable = new Set<string>();
    const inFlight = new Set<Promise<void>>();
    // Where the next pod's filtering starts (nextStartNodeIndex): with a partial search, every node
    // gets its turn to be considered, and spreading still sees all of them over a few pods.
    let nextStart = 0;

    let moveTimer: NodeJS.Timeout | undefined;
    const moveAllToActive = () => {
      moveTimer ??= setTimeout(() => {
        moveTimer = undefined;
        for (const k of unschedulable) queue.add(k);
        unschedulable.clear();
      }, MOVE_COALESCE_MS);
    };

    const offPods = pods.addEventHandler({
      add(p) {
        usage.observe(p);
        if (wantsScheduling(p)) queue.add(objectKey(p));
      },
      update(old, p) {
        usage.observe(p);
        if (wantsScheduling(p)) {
          // An unschedulable pod that changed (tolerations, affinity) deserves a new attempt now.
          unschedulable.delete(objectKey(p));
          queue.add(objectKey(p));
        } else if (old.spec?.nodeName && !isTerminal(old) && isTerminal(p)) moveAllToActive();
      },
      delete(p) {
        usage.removed(p);
        unschedulable.delete(objectKey(p));
        if (p.spec?.nodeName) moveAllToActive();
      },
    });
    const offNodes = nodes.addEventHandler({
      add: () => moveAllToActive(),
      update: (a, b) => {
        if (nodeChangeMatters(a, b)) moveAllToActive();
      },
    });
    // A claim, volume or class that appears or changes may make a waiting pod schedulable.
    const offStorage = [claims, volumes, classes].map((inf) => (inf as typeof claims).addEventHandler({ add: () => moveAllToActive(), update: () => moveAllToActive() }));
    const flush = setInterval(moveAllToActive, UNSCHEDULABLE_FLUSH_MS);
    flush.unref();

    async function bind(pod: Pod, chosen: Node, key: string, podVolumes: PodVolumes): Promise<void> {
      const { namespace = '', name } = { namespace: pod.metadata.namespace, name: pod.metadata.name ?? '' };
      const node = chosen.metadata.name ?? '';
      try {
        await volumeBinding.preBind(pod, podVolumes, chosen, signal);
      } catch (err) {
        usage.forget(pod.metadata.uid ?? '');
        if (signal.aborted) return;
        const message = `running PreBind plugin "VolumeBinding": ${(err as Error).message}`;
        log.warn({ pod: key, node, err: message }, 'binding volumes failed; retrying');
        ctx.recorder.event(pod, 'Warning', 'FailedScheduling', message);
        queue.addRateLimited(key);
        return;
      }
      try {
        await ctx.client.createSubresource({ ...resources.pods, namespace }, name, 'binding', {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
          target: { apiVersion: 'v1', kind: 'Node', name: node },
        });
        ctx.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`);
      } catch (err) {
        usage.forget(pod.metadata.uid ?? '');
        if (err instanceof NotFoundError || err instanceof ConflictError) return; // deleted or bound meanwhile: the informer tells
        log.warn({ pod: key, node, err: (err as Error).message }, 'binding failed; retrying');
        queue.addRateLimited(key);
      }
    }

    async function markUnschedulable(pod: Pod, message: string): Promise<void> {
      ctx.recorder.event(pod, 'Warning', 'FailedScheduling', message);
      const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      if (cond?.status === 'False' && cond.reason === 'Unschedulable' && cond.message === message) return;
      try {
        await ctx.client.patch({ ...resources.pods, namespace: pod.metadata.namespace ?? '' }, pod.metadata.name ?? '', 'strategic', {
          status: {
            conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: new Date(ctx.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z') }],
          },
        }, { subresource: 'status', fieldManager: SCHEDULER_NAME });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }

    async function scheduleOne(key: string): Promise<void> {
      const { namespace, name } = splitKey(key);
      const pod = pods.get(namespace, name);
      if (!pod || !wantsScheduling(pod) || usage.isAssumed(pod.metadata.uid ?? '')) return;
      const demand: PodDemand = { pod, requests: podRequests(pod), ports: hostPorts(pod) };
      const all = nodes.list();
      const volumeState = volumeBinding.preFilter(pod);
      const feasible: Candidate[] = [];
      const reasons = new Map<string, number>();
      if ('volumes' in volumeState && all.length > 0) {
        // A search that finds too few stops at no node: an unschedulable pod's message counts them all.
        const enough = feasibleNodesToFind(all.length);
        const start = nextStart % all.length;
        let looked = 0;
        for (; looked < all.length && feasible.length < enough; looked++) {
          const node = all[(start + looked) % all.length]!;
          const u = usage.usage(node.metadata.name ?? '');
          let why = filterNode(demand, node, u);
          if (why.length === 0) why = volumeBinding.filter(volumeState.volumes, node);
          if (why.length === 0) feasible.push({ node, usage: u });
          else for (const r of why) reasons.set(r, (reasons.get(r) ?? 0) + 1);
        }
        nextStart = (start + looked) % all.length;
      }
      if (feasible.length === 0) {
        const message = fitErrorMessage(all.length, reasons, 'unresolvable' in volumeState ? volumeState.unresolvable : undefined);
        unschedulable.add(key);
        log.debug({ pod: key, message }, 'unschedulable');
        await markUnschedulable(pod, message);
        return;
      }
      const chosen = pickNode(demand, controllerOf(pod)?.uid, feasible).node;
      usage.assume(pod, chosen.metadata.name ?? '');
      while (inFlight.size >= MAX_BINDINGS) await Promise.race(inFlight);
      const p = bind(pod, chosen, key, 'volumes' in volumeState ? volumeState.volumes : NO_VOLUMES).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }

    try {
      await ctx.informers.waitForSync(signal);
      ready();
      await queue.run(scheduleOne, { workers: 1, signal });
      await Promise.all(inFlight);
    } finally {
      clearInterval(flush);
      if (moveTimer) clearTimeout(moveTimer);
      offPods();
      offNodes();
      for (const off of offStorage) off();
    }
  });
}

export const schedulerController: ControllerDescriptor = { name: 'scheduler', create: createScheduler };
