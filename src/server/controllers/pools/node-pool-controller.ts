/**
 * The node pool controller: keeps every member node carrying its pool's labels, annotations and
 * taints (node-attributes.ts) and writes each NodePool's status — readyNodeNum, unreadyNodeNum and
 * the member list. Membership is the node's apps.edgeos.io/pool label, so a node is in at most one
 * pool; a node whose label names no NodePool (yet) is simply in none. Queue keys are `node/<name>`
 * (attributes) and `pool/<name>` (status).
 */
import { jsonEqual } from '../../kinds/access.ts';
import type { Node } from '../core-types.ts';
import { queueController } from '../workloads/queue-controller.ts';
import { writeStatus } from '../workloads/status-writer.ts';
import { NotFoundError, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, WorkQueue } from '../types.ts';
import { reconcileNodeAttributes } from './node-attributes.ts';
import type { PoolAttributes } from './node-attributes.ts';
import { POOL_INDEX, indexNodesByPool, nodeReady, poolOf } from './pool-index.ts';
import type { NodePool } from './pool-index.ts';

function attributesOf(pool: NodePool | undefined): PoolAttributes | undefined {
  if (!pool || pool.metadata.deletionTimestamp) return undefined;
  return { labels: pool.spec?.labels ?? {}, annotations: pool.spec?.annotations ?? {}, taints: pool.spec?.taints ?? [] };
}

export function createNodePoolController(ctx: ControllerContext): Controller {
  const nodes = ctx.informers.informerFor<Node>(resources.nodes);
  const pools = ctx.informers.informerFor<NodePool>(resources.nodePools);
  indexNodesByPool(nodes);

  async function syncNode(name: string): Promise<void> {
    const node = nodes.get(undefined, name);
    if (!node) return;
    const pool = poolOf(node);
    const change = reconcileNodeAttributes(node, attributesOf(pool ? pools.get(undefined, pool) : undefined));
    if (!change) return;
    try {
      if (jsonEqual(change.taints, node.spec?.taints ?? [])) {
        // Labels and annotations only: a merge patch of exactly the keys that change, which never
        // conflicts with the kubelet's and the lifecycle controller's writes.
        const diff = (now: Record<string, string>, before: Record<string, string>) => {
          const out: Record<string, string | null> = {};
          for (const [k, v] of Object.entries(now)) if (before[k] !== v) out[k] = v;
          for (const k of Object.keys(before)) if (!Object.hasOwn(now, k)) out[k] = null;
          return out;
        };
        const metadata = { labels: diff(change.labels, node.metadata.labels ?? {}), annotations: diff(change.annotations, node.metadata.annotations ?? {}) };
        await ctx.client.patch(resources.nodes, name, 'merge', { metadata }, { fieldManager: 'node-pool-controller' });
      } else {
        // Taints are one list: replaced with the cached resourceVersion, so a concurrent change is a conflict and a retry.
        await ctx.client.update<Node>(resources.nodes, { ...node, metadata: { ...node.metadata, labels: change.labels, annotations: change.annotations }, spec: { ...(node.spec ?? {}), taints: change.taints } }, { fieldManager: 'node-pool-controller' });
      }
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    ctx.log.debug({ node: name, pool: pool ?? null }, 'node attributes synced with its pool');
  }

  async function syncPool(name: string): Promise<void> {
    const pool = pools.get(undefined, name);
    if (!pool) return;
    const members = nodes.byIndex(POOL_INDEX, name);
    const ready = members.filter(nodeReady).length;
    await writeStatus(ctx.client, resources.nodePools, pool, {
      readyNodeNum: ready,
      unreadyNodeNum: members.length - ready,
      nodes: members.map((n) => n.metadata.name ?? '').sort(),
    });
  }

  const wire = (queue: WorkQueue) => {
    const pool = (name: string | undefined) => name && queue.add(`pool/${name}`);
    const node = (name: string | undefined) => name && queue.add(`node/${name}`);
    return [
      pools.addEventHandler({
        add: (p) => {
          pool(p.metadata.name);
          for (const n of nodes.byIndex(POOL_INDEX, p.metadata.name ?? '')) node(n.metadata.name);
        },
        update: (before, p) => {
          pool(p.metadata.name);
          if (!jsonEqual(before.spec, p.spec) || Boolean(before.metadata.deletionTimestamp) !== Boolean(p.metadata.deletionTimestamp))
            for (const n of nodes.byIndex(POOL_INDEX, p.metadata.name ?? '')) node(n.metadata.name);
        },
        delete: (p) => {
          for (const n of nodes.byIndex(POOL_INDEX, p.metadata.name ?? '')) node(n.metadata.name);
        },
      }),
      nodes.addEventHandler({
        add: (n) => {
          node(n.metadata.name);
          pool(poolOf(n));
        },
        update: (before, n) => {
          const moved = poolOf(before) !== poolOf(n);
          if (moved || !jsonEqual(before.metadata.labels, n.metadata.labels) || !jsonEqual(before.metadata.annotations, n.metadata.annotations) || !jsonEqual(before.spec?.taints, n.spec?.taints))
            node(n.metadata.name);
          if (moved) pool(poolOf(before));
          if (moved || nodeReady(before) !== nodeReady(n)) pool(poolOf(n));
        },
        delete: (n) => pool(poolOf(n)),
      }),
    ];
  };

  return queueController(ctx, {
    name: 'nodepool',
    wire,
    sync: (key) => (key.startsWith('node/') ? syncNode(key.slice(5)) : syncPool(key.slice(5))),
  });
}

export const nodePoolController: ControllerDescriptor = { name: 'nodepool', create: createNodePoolController };
