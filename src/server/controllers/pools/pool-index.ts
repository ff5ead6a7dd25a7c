// Pool membership as the controllers read it: nodes indexed by their apps.edgeos.io/pool label, and
// the typed parts of NodePool they use.
import { POOL_LABEL } from '../../../common/pools.ts';
import type { Node, Taint } from '../core-types.ts';
import type { Informer, KubeObject } from '../types.ts';

export const POOL_INDEX = 'apps.edgeos.io/pool';

export interface NodePool extends KubeObject {
  spec?: { type?: string; labels?: Record<string, string>; annotations?: Record<string, string>; taints?: Taint[] };
  status?: { readyNodeNum?: number; unreadyNodeNum?: number; nodes?: string[] };
}

/** Index the node informer by pool (idempotent: every controller that needs it may call it). */
export function indexNodesByPool(nodes: Informer<Node>): void {
  nodes.addIndex(POOL_INDEX, (n) => {
    const pool = n.metadata.labels?.[POOL_LABEL];
    return pool ? [pool] : [];
  });
}

export function poolOf(node: KubeObject): string | undefined {
  return node.metadata.labels?.[POOL_LABEL] || undefined;
}

export function nodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
