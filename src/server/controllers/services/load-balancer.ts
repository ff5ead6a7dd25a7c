// Service type LoadBalancer the way K3s's ServiceLB does it, without its per-Service DaemonSet of
// proxy pods: every agent already forwards <load-balancer IP>:<port> in its datapath, so this
// controller only publishes the addresses — each Ready node's ExternalIP, or its InternalIP —
// in status.loadBalancer.ingress, which `kubectl get svc` shows as EXTERNAL-IP. A Service with a
// spec.loadBalancerClass belongs to another implementation and is left alone.
import { controllerFromRun } from '../lifecycle.ts';
import { createWorkQueue } from '../work-queue.ts';
import type { Node } from '../core-types.ts';
import { splitKey } from '../keys.ts';
import { NotFoundError, ConflictError, inNamespace, resources } from '../types.ts';
import type { Controller, ControllerContext, ControllerDescriptor, KubeObject } from '../types.ts';

interface LbService extends KubeObject {
  spec?: { type?: string; loadBalancerClass?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** The addresses a load balancer of this cluster answers on, in a stable order. */
export function nodeIngress(nodes: readonly Node[]): { ip: string }[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (!ready || n.spec?.unschedulable) continue;
    const addrs = n.status?.addresses ?? [];
    const ip = addrs.find((a) => a.type === 'ExternalIP')?.address ?? addrs.find((a) => a.type === 'InternalIP')?.address;
    if (ip) ips.add(ip);
  }
  return [...ips].sort().map((ip) => ({ ip }));
}

const ours = (s: LbService) => s.spec?.type === 'LoadBalancer' && !s.spec.loadBalancerClass;
/** What of a node the ingress depends on. */
const nodeFacts = (n: Node) => JSON.stringify([n.status?.conditions?.find((c) => c.type === 'Ready')?.status, n.status?.addresses, n.spec?.unschedulable]);

export function createLoadBalancerController(ctx: ControllerContext): Controller {
  const { client, log } = ctx;
  return controllerFromRun('service-lb', async (signal, ready) => {
    const services = ctx.informers.informerFor<LbService>(resources.services);
    const nodes = ctx.informers.informerFor<Node>(resources.nodes);
    const queue = createWorkQueue(log);
    const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const all = () => services.list().forEach((s) => (ours(s) || s.status?.loadBalancer?.ingress?.length) && queue.add(keyOf(s)));
    const offs = [
      services.addEventHandler({ add: (s) => queue.add(keyOf(s)), update: (_, s) => queue.add(keyOf(s)) }),
      // A node that joins, leaves or changes readiness or addresses changes every load balancer.
      nodes.addEventHandler({ add: all, update: (a, b) => nodeFacts(a) !== nodeFacts(b) && all(), delete: all }),
    ];

    async function sync(key: string): Promise<void> {
      const { namespace = '', name } = splitKey(key);
      const svc = services.get(namespace, name);
      if (!svc) return;
      const current = svc.status?.loadBalancer?.ingress ?? [];
      if (!ours(svc) && svc.spec?.loadBalancerClass) return;
      const want = ours(svc) ? nodeIngress(nodes.list()) : [];
      if (JSON.stringify(current) === JSON.stringify(want)) return;
      try {
        await client.updateStatus(inNamespace(resources.services, namespace), { ...svc, status: { ...(svc.status ?? {}), loadBalancer: want.length ? { ingress: want } : {} } });
        log.info({ service: key, ingress: want.map((i) => i.ip) }, 'published load-balancer addresses');
      } catch (err) {
        if (err instanceof NotFoundError) return;
        if (err instanceof ConflictError) queue.add(key);
        else throw err;
      }
    }

    try {
      await ctx.informers.waitForSync(signal);
      ready();
      await queue.run(sync, { workers: 1, signal });
    } finally {
      for (const off of offs) off();
    }
  });
}

export const loadBalancerController: ControllerDescriptor = { name: 'service-lb', create: createLoadBalancerController };
