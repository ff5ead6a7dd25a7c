// Node conditions as the node lifecycle controller rewrites them when a kubelet goes silent
// (node_lifecycle_controller.tryUpdateNodeHealth): every kubelet-owned condition becomes Unknown
// with reason NodeStatusUnknown, and a condition the kubelet never posted is added as
// NodeStatusNeverUpdated. Heartbeat times stay; transition times move to now.
import type { Node, NodeCondition } from '../core-types.ts';

export const WATCHED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;
export const REASON_UNKNOWN = 'NodeStatusUnknown';

export function readyCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

export function conditionsUnknown(node: Node, now: string): NodeCondition[] {
  const current = node.status?.conditions ?? [];
  const out = current.map((c) => ({ ...c }));
  for (const type of WATCHED_CONDITIONS) {
    const c = out.find((x) => x.type === type);
    if (!c) {
      out.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: now, lastTransitionTime: now });
      continue;
    }
    if (c.status === 'Unknown') continue;
    c.status = 'Unknown';
    c.reason = REASON_UNKNOWN;
    c.message = 'Kubelet stopped posting node status.';
    c.lastTransitionTime = now;
  }
  return out;
}

/** True when the Unknown conditions are this controller's doing, not something the kubelet reported. */
export function unknownByController(node: Node): boolean {
  const ready = readyCondition(node);
  return ready?.status === 'Unknown' && (ready.reason === REASON_UNKNOWN || ready.reason === 'NodeStatusNeverUpdated');
}
