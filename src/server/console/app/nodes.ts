// What the pages read of Nodes, Leases and Pods: the same definitions the server's fleet view
// counts with (../node-state.ts).
import type { KObject } from './api.ts';
import { podCountsOnNode } from '../node-state.ts';

export { POOL_LABEL, archOf, lastSeen, leaseHeld, online, poolOf, readyCondition } from '../node-state.ts';

export const podCounts = (pods: Iterable<KObject>): Map<string, number> => {
  const m = new Map<string, number>();
  for (const p of pods) {
    const node = podCountsOnNode(p);
    if (node) m.set(node, (m.get(node) ?? 0) + 1);
  }
  return m;
};
