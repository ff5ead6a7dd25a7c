// The node lifecycle controller, edge-aware. Health comes from the node's Lease in kube-node-lease
// (and the Ready heartbeat), observed with this process's clock as kube's probeTimestamp is, so
// clock skew between node and server does not matter. A node silent for the grace period gets all
// conditions Unknown, its pods Ready=False and the unreachable NoSchedule taint — but, unlike
// kube-controller-manager, no NoExecute taint and no eviction: an edge node that loses its uplink
// keeps serving. Nodes annotated `edgeos.io/evict-after: <duration>` opt into cloud behaviour: once
// not ready that long they get the NoExecute taint and taint eviction deletes the pods that do not
// tolerate it. When the Lease is renewed again, the conditions this controller set are restored
// and the taints go; pods are left alone. Node pools (apps.edgeos.io/v1 NodePool): nodes of a Cloud
// pool opt in with 5 minutes unless they say otherwise; and a pool none of whose other nodes has
// been heard from since this one went not ready is cut off from the server, not failed — no
// NoExecute taint for any of its nodes (kube's zone "full disruption" rule), so none of its pods is
// evicted or rescheduled.
import { parseDuration } from '../../../common/duration.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { createWorkQueue } from '../work-queue.ts';
import type { Node, NodeCondition, Pod } from '../core-types.ts';
import { isTerminal } from '../core-types.ts';
import { ConflictError, NotFoundError, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, KubeObject } from '../types.ts';
import { conditionsPatch, conditionsUnknown, readyCondition, unknownByController } from './conditions.ts';
import { noExecuteTaint, noScheduleTaints, reconcileTaints } from './desired-taints.ts';
import { evictionDelay } from './taint-eviction.ts';
import { POOL_INDEX, indexNodesByPool, poolOf } from '../pools/pool-index.ts';
import type { NodePool } from '../pools/pool-index.ts';

export const EVICT_AFTER_ANNOTATION = 'edgeos.io/evict-after';
const LEASE_NAMESPACE = 'kube-node-lease';
/** What a node of a Cloud pool gets without its own edgeos.io/evict-after (kube's default-not-ready/unreachable-toleration-seconds). */
export const CLOUD_POOL_EVICT_AFTER_MS = 5 * 60_000;

interface Lease extends KubeObject {
  spec?: { renewTime?: string; holderIdentity?: string };
}

interface Health {
  /** What was last seen: lease renewTime + Ready heartbeat. */
  seen: string;
  /** This process's clock when `seen` last changed. */
  probe: number;
  /** Conditions before this controller made them Unknown (restored when the node is back). */
  saved?: NodeCondition[];
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export function createNodeLifecycle(ctx: ControllerContext): Controller {
  const { log, client, clock, options } = ctx;
  return controllerFromRun('node-lifecycle', async (signal, ready) => {
    const nodes = ctx.informers.informerFor<Node>(resources.nodes);
    const leases = ctx.informers.informerFor<Lease>(resources.leases);
    const pods = ctx.informers.informerFor<Pod>(resources.pods);
    pods.addIndex('spec.nodeName', (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    const nodePools = ctx.informers.informerFor<NodePool>(resources.nodePools);
    indexNodesByPool(nodes);
    const health = new Map<string, Health>();
    const queue = createWorkQueue(log);

    const offNodes = nodes.addEventHandler({
      add: (n) => queue.add(n.metadata.name ?? ''),
      update: (_, n) => queue.add(n.metadata.name ?? ''),
      delete: (n) => health.delete(n.metadata.name ?? ''),
    });
    const onLease = (l: Lease) => {
      if (l.metadata.namespace === LEASE_NAMESPACE) queue.add(l.metadata.name ?? '');
    };
    const offLeases = leases.addEventHandler({ add: onLease, update: (_, l) => onLease(l) });
    const offPods = pods.addEventHandler({
      // A pod placed on a node with NoExecute taints must be checked too.
      add: (p) => {
        if (p.spec?.nodeName) queue.add(p.spec.nodeName);
      },
    });
    const tick = setInterval(() => {
      for (const n of nodes.list()) queue.add(n.metadata.name ?? '');
    }, options.nodeMonitorPeriodMs);
    tick.unref();

    function observe(node: Node, now: number): Health {
      const name = node.metadata.name ?? '';
      const lease = leases.get(LEASE_NAMESPACE, name);
      const seen = `${lease?.spec?.renewTime ?? ''}|${readyCondition(node)?.lastHeartbeatTime ?? ''}`;
      let h = health.get(name);
      if (!h) health.set(name, (h = { seen, probe: now }));
      else if (h.seen !== seen) {
        h.seen = seen;
        h.probe = now;
      }
      return h;
    }

    async function markPodsNotReady(node: Node): Promise<void> {
      const now = rfc3339(clock.now());
      for (const p of pods.byIndex('spec.nodeName', node.metadata.name ?? '')) {
        if (isTerminal(p)) continue;
        const cond = p.status?.conditions?.find((c) => c.type === 'Ready');
        if (cond?.status === 'False') continue;
        try {
          await client.patch({ ...resources.pods, namespace: p.metadata.namespace ?? '' }, p.metadata.name ?? '', 'strategic', {
            status: { conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now }] },
          }, { subresource: 'status', fieldManager: 'node-lifecycle-controller' });
          ctx.recorder.event(p, 'Warning', 'NodeNotReady', 'Node is not ready');
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
    }

    /**
     * Writes conditions decided from `node` as this controller's cache holds it, on condition that
     * the stored Node is still that one (conditionsPatch). Undefined when it is not: the kubelet's
     * status (or anything else) landed meanwhile, and the Node's update event syncs it again.
     */
    async function setConditions(node: Node, conditions: NodeCondition[]): Promise<Node | undefined> {
      try {
        return await client.patch<Node>(resources.nodes, node.metadata.name ?? '', 'strategic', conditionsPatch(node, conditions), { subresource: 'status', fieldManager: 'node-lifecycle-controller' });
      } catch (err) {
        if (err instanceof ConflictError) return undefined;
        throw err;
      }
    }

    async function evictPods(node: Node, now: number): Promise<number | undefined> {
      let next: number | undefined;
      for (const p of pods.byIndex('spec.nodeName', node.metadata.name ?? '')) {
        if (p.metadata.deletionTimestamp || isTerminal(p)) continue;
        const delay = evictionDelay(p, node.spec?.taints ?? [], now);
        if (delay === undefined) continue;
        if (delay > 0) {
          next = Math.min(next ?? delay, delay);
          continue;
        }
        const namespace = p.metadata.namespace ?? '';
        try {
          await client.delete({ ...resources.pods, namespace }, p.metadata.name ?? '', { preconditions: { uid: p.metadata.uid ?? '' } });
          ctx.recorder.event(p, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${namespace}/${p.metadata.name ?? ''}`);
        } catch (err) {
          if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) throw err;
        }
      }
      return next;
    }

    /** The pool the node is in (an existing NodePool), if any. */
    function poolOfNode(node: Node): NodePool | undefined {
      const pool = poolOf(node);
      return pool ? nodePools.get(undefined, pool) : undefined;
    }

    /**
     * The node's pool is cut off from the server rather than this node failed: no other member is
     * Ready and has been heard from (its Lease or heartbeat changed) since this node stopped being
     * ready. A member whose Ready condition is still True only because its own grace period has not
     * run out yet went silent with the rest of the site, so it is no evidence that the site is up.
     */
    function poolCutOff(node: Node, notReadySince: number): boolean {
      const pool = poolOfNode(node)?.metadata.name;
      if (pool === undefined) return false;
      return !nodes.byIndex(POOL_INDEX, pool).some((n) => {
        const other = n.metadata.name ?? '';
        return other !== node.metadata.name && readyCondition(n)?.status === 'True' && (health.get(other)?.probe ?? 0) > notReadySince;
      });
    }

    async function sync(name: string): Promise<void> {
      let node = nodes.get(undefined, name);
      if (!node) return;
      const now = clock.now();
      const h = observe(node, now);
      const stale = now - h.probe > options.nodeMonitorGracePeriodMs;
      const readyNow = readyCondition(node);
      if (stale && readyNow?.status !== 'Unknown') {
        h.saved = node.status?.conditions?.map((c) => ({ ...c }));
        log.info({ node: name, silentForMs: now - h.probe }, 'node stopped renewing its lease: marking it Unknown');
        const written = await setConditions(node, conditionsUnknown(node, rfc3339(now)));
        if (!written) {
          h.saved = undefined;
          queue.addAfter(name, 1000);
          return;
        }
        node = written;
        ctx.recorder.event({ kind: 'Node', apiVersion: 'v1', name, uid: node.metadata.uid ?? '' }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      } else if (!stale && unknownByController(node) && h.saved) {
        log.info({ node: name }, 'node renewed its lease again: restoring its conditions');
        const restored = h.saved.map((c) => (c.status === 'Unknown' ? c : { ...c, lastTransitionTime: rfc3339(now), lastHeartbeatTime: rfc3339(now) }));
        h.saved = undefined;
        const written = await setConditions(node, restored);
        if (!written) {
          queue.addAfter(name, 1000);
          return;
        }
        node = written;
        ctx.recorder.event({ kind: 'Node', apiVersion: 'v1', name, uid: node.metadata.uid ?? '' }, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
      }
      const ready = readyCondition(node);
      if (ready && ready.status !== 'True') await markPodsNotReady(node);

      // NoExecute only for nodes that opted in, once they have been not ready for the chosen time.
      const wanted = noScheduleTaints(node);
      let recheck: number | undefined;
      const evictAfterText = node.metadata.annotations?.[EVICT_AFTER_ANNOTATION];
      const cloud = poolOfNode(node)?.spec?.type === 'Cloud' ? CLOUD_POOL_EVICT_AFTER_MS : undefined;
      const evictAfter = evictAfterText !== undefined ? parseDuration(evictAfterText) : cloud;
      if (evictAfterText !== undefined && evictAfter === undefined) log.warn({ node: name, value: evictAfterText }, `${EVICT_AFTER_ANNOTATION} is not a duration such as 5m; ignored`);
      const noExec = noExecuteTaint(node);
      const notReadySince = Date.parse(ready?.lastTransitionTime ?? '') || now;
      if (noExec && evictAfter !== undefined && ready && !poolCutOff(node, notReadySince)) {
        const since = notReadySince;
        const left = since + evictAfter - now;
        if (left <= 0) wanted.push(noExec);
        else recheck = left;
      }
      const taints = reconcileTaints(node.spec?.taints ?? [], wanted, rfc3339(now));
      if (taints) {
        const updated: Node = { ...node, spec: { ...(node.spec ?? {}), taints } };
        node = await client.update<Node>(resources.nodes, updated);
      }
      const evictIn = await evictPods(node, now);
      if (evictIn !== undefined) recheck = Math.min(recheck ?? evictIn, evictIn);
      if (recheck !== undefined) queue.addAfter(name, recheck + 50);
    }

    try {
      await ctx.informers.waitForSync(signal);
      ready();
      await queue.run(sync, { workers: options.workers, signal });
    } finally {
      clearInterval(tick);
      offNodes();
      offLeases();
      offPods();
    }
  });
}

export const nodeLifecycleController: ControllerDescriptor = { name: 'node-lifecycle', create: createNodeLifecycle };
