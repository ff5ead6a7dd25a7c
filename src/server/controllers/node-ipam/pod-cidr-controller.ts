// node.spec.podCIDR for every node, as kube-controller-manager's node IPAM controller does with
// --allocate-node-cidrs (the range allocator): one /--node-cidr-mask-size block of --cluster-cidr
// per node, written once (the API refuses to change it afterwards), released when the node is
// deleted. The in-memory set is rebuilt from the Node informer at every start (leader change or
// server restart) before anything is allocated, so two nodes never get one block and a
// restarted server hands out nothing twice. A full range is a Warning Event on the node
// (CIDRNotAvailable, as upstream) and is retried when a node leaves.
import type { ClusterNetwork } from '../../../common/cluster-network.ts';
import { errorMessage } from '../../../common/errors.ts';
import type { Node } from '../core-types.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { NotFoundError, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor } from '../types.ts';
import { createWorkQueue } from '../work-queue.ts';
import { CidrSet } from './cidr-set.ts';

type IpamNode = Node & { spec?: Node['spec'] & { podCIDRs?: string[] } };

export function createPodCidrController(ctx: ControllerContext, network: Pick<ClusterNetwork, 'clusterCidr' | 'nodeCidrMaskSize'>): Controller {
  const { client, log, recorder } = ctx;
  return controllerFromRun('node-ipam', async (signal, ready) => {
    const nodes = ctx.informers.informerFor<IpamNode>(resources.nodes);
    const set = new CidrSet(network.clusterCidr, network.nodeCidrMaskSize);
    const queue = createWorkQueue(log);
    /** Nodes told the range is full: told again only after it changed. */
    const starved = new Set<string>();
    const nameOf = (n: IpamNode) => n.metadata.name ?? '';
    const waiting = () => nodes.list().filter((n) => !n.spec?.podCIDR).forEach((n) => queue.add(nameOf(n)));
    const offs = [
      nodes.addEventHandler({
        add: (n) => queue.add(nameOf(n)),
        update: (a, b) => a.spec?.podCIDR !== b.spec?.podCIDR && queue.add(nameOf(b)),
        delete: (n) => {
          // A deleted node's block is free again; nodes that found the range full may have it.
          set.release(nameOf(n));
          starved.clear();
          waiting();
        },
      }),
    ];

    function occupy(n: IpamNode): void {
      const cidr = n.spec?.podCIDR;
      if (!cidr || set.of(nameOf(n)) === cidr) return;
      const r = set.occupy(nameOf(n), cidr);
      if (!r.ok) {
        log.warn({ node: nameOf(n), podCIDR: cidr, reason: r.reason }, 'a node holds a pod CIDR this cluster cannot give it');
        recorder.event(n, 'Warning', 'CIDRNotAvailable', `node.spec.podCIDR ${cidr}: ${r.reason}`);
      }
    }

    async function sync(name: string): Promise<void> {
      const n = nodes.get('', name);
      if (!n) {
        set.release(name);
        return;
      }
      if (n.spec?.podCIDR) return occupy(n);
      const cidr = set.allocate(name);
      if (!cidr) {
        if (starved.has(name)) return;
        starved.add(name);
        log.warn({ node: name, clusterCidr: network.clusterCidr, blocks: set.size }, 'no pod CIDR left for a node');
        recorder.event(n, 'Warning', 'CIDRNotAvailable', `no free /${network.nodeCidrMaskSize} left in the cluster CIDR ${network.clusterCidr}: all ${set.size} are held by other nodes`);
        return;
      }
      try {
        // The resourceVersion makes the patch conditional: a node changed meanwhile is read again.
        await client.patch(resources.nodes, name, 'merge', { metadata: { resourceVersion: n.metadata.resourceVersion }, spec: { podCIDR: cidr, podCIDRs: [cidr] } });
        starved.delete(name);
        log.info({ node: name, podCIDR: cidr }, 'pod CIDR allocated');
      } catch (err) {
        set.release(name);
        if (err instanceof NotFoundError) return;
        log.info({ node: name, err: errorMessage(err) }, 'pod CIDR not written: trying again');
        throw err; // the queue retries with backoff
      }
    }

    try {
      await ctx.informers.waitForSync(signal);
      // Every block already held first: only then is any free block known to be free.
      for (const n of nodes.list()) occupy(n);
      ready();
      waiting();
      await queue.run(sync, { workers: 1, signal });
    } finally {
      for (const off of offs) off();
    }
  });
}

export function podCidrController(network: Pick<ClusterNetwork, 'clusterCidr' | 'nodeCidrMaskSize'>): ControllerDescriptor {
  return { name: 'node-ipam', create: (ctx) => createPodCidrController(ctx, network) };
}
