/**
 * This node's pod CIDR as the server assigned it (node.spec.podCIDR of its Node in the cache).
 * After the first assignment the cache holds it, so restarts and offline reboots find it at once;
 * a node joining for the first time waits until the server's node-ipam controller wrote it and the
 * link brought the Node (the kubelet too waits for the pod network before it starts pods).
 */
import type { Logger } from '../../common/log.ts';
import type { AgentCache, KubeJson } from '../types.ts';

const podCidrOf = (n: KubeJson | undefined): string | undefined => (n?.spec as { podCIDR?: string } | undefined)?.podCIDR || undefined;

/** How often the wait is logged again, so a server that never assigns one is visible. */
const REMIND_MS = 30_000;

export function assignedPodCidr(cache: AgentCache, node: string, signal: AbortSignal, log: Logger): Promise<string> {
  return new Promise((resolve, reject) => {
    let remind: NodeJS.Timeout | undefined;
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      off();
      clearInterval(remind);
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => done(() => reject(signal.reason instanceof Error ? signal.reason : new Error('the agent is stopping')));
    // Subscribed before reading, so an assignment arriving in between is not missed.
    const off = cache.subscribe((c) => {
      const cidr = c.kind === 'Node' && c.name === node ? podCidrOf(c.object) : undefined;
      if (cidr) done(() => resolve(cidr));
    });
    signal.addEventListener('abort', onAbort, { once: true });
    void cache.get('Node', '', node).then((n) => {
      const cidr = podCidrOf(n);
      if (cidr) return done(() => resolve(cidr));
      if (settled) return;
      const say = () => log.info('waiting for the server to assign this node a pod CIDR (node.spec.podCIDR)');
      say();
      remind = setInterval(say, REMIND_MS);
    }, (err: unknown) => done(() => reject(err instanceof Error ? err : new Error(String(err)))));
  });
}
