/**
 * NodePort allocation for NodePort and LoadBalancer Services from --service-node-port-range
 * (30000–32767 by default, apiserver's and K3s's). Each port is a store key `/registry/nodeports/<port>` created in the
 * Service's transaction, like ClusterIPs.
 */
import { randomInt } from 'node:crypto';
import type { Store, TxnOp } from '../../store/types.ts';

export const DEFAULT_NODE_PORT_RANGE = Object.freeze({ min: 30000, max: 32767 });
export const NODE_PORT_PREFIX = '/registry/nodeports/';

export function nodePortKey(port: number): string {
  return `${NODE_PORT_PREFIX}${port}`;
}

export type NodePortFailure = { readonly kind: 'taken' | 'out-of-range' | 'full'; readonly port: number; readonly index: number };

/**
 * Give every entry of `ports` a nodePort: keep the ones in `keep` (already owned by this Service),
 * honour requested ones, pick random free ones for the rest. Returns the create ops for new ports.
 */
export async function allocateNodePorts(
  store: Store, owner: string, ports: Record<string, unknown>[], keep: ReadonlySet<number>, range: { readonly min: number; readonly max: number } = DEFAULT_NODE_PORT_RANGE,
): Promise<{ ops: TxnOp[] } | NodePortFailure> {
  const { min: NODE_PORT_MIN, max: NODE_PORT_MAX } = range;
  const used = new Set((await store.list(NODE_PORT_PREFIX)).kvs.map((kv) => Number(kv.key.slice(NODE_PORT_PREFIX.length))));
  const value = Buffer.from(JSON.stringify({ service: owner }), 'utf8');
  const ops: TxnOp[] = [];
  const mine = new Set<number>();
  for (const [index, p] of ports.entries()) {
    const requested = typeof p.nodePort === 'number' && p.nodePort !== 0 ? p.nodePort : undefined;
    if (requested !== undefined) {
      if (keep.has(requested) || mine.has(requested)) continue;
      if (requested < NODE_PORT_MIN || requested > NODE_PORT_MAX) return { kind: 'out-of-range', port: requested, index };
      if (used.has(requested)) return { kind: 'taken', port: requested, index };
      mine.add(requested);
      ops.push({ op: 'create', key: nodePortKey(requested), value });
      continue;
    }
    let chosen: number | undefined;
    for (let i = 0; i < 64 && chosen === undefined; i++) {
      const candidate = NODE_PORT_MIN + randomInt(NODE_PORT_MAX - NODE_PORT_MIN + 1);
      if (!used.has(candidate) && !mine.has(candidate) && !keep.has(candidate)) chosen = candidate;
    }
    for (let n = NODE_PORT_MIN; chosen === undefined && n <= NODE_PORT_MAX; n++) {
      if (!used.has(n) && !mine.has(n) && !keep.has(n)) chosen = n;
    }
    if (chosen === undefined) return { kind: 'full', port: 0, index };
    p.nodePort = chosen;
    mine.add(chosen);
    ops.push({ op: 'create', key: nodePortKey(chosen), value });
  }
  return { ops };
}

export function nodePortsOf(spec: Record<string, unknown>): number[] {
  const ports = Array.isArray(spec.ports) ? (spec.ports as Record<string, unknown>[]) : [];
  return ports.map((p) => p.nodePort).filter((n): n is number => typeof n === 'number' && n > 0);
}

export function needsNodePorts(spec: Record<string, unknown>): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}
