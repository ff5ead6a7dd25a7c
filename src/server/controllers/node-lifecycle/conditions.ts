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

/**
 * The status patch that writes `conditions` decided from `node`, with the Node's resourceVersion
 * as a precondition (a patched-in resourceVersion is one: the API answers 409 when the stored Node
 * is newer), as kube's controller updates the status of the Node it read. Without it, a decision
 * taken on a cache that lags the store (a join storm: the kubelet's first status and Lease not yet
 * seen) overwrote the Ready=True the kubelet had just posted with NodeStatusNeverUpdated; the
 * agent resends its status only when it changes, so the node stayed NotReady for good.
 */
export function conditionsPatch(node: Node, conditions: NodeCondition[]): { metadata: { resourceVersion?: string }; status: { conditions: NodeCondition[] } } {
  return { metadata: node.metadata.resourceVersion ? { resourceVersion: node.metadata.resourceVersion } : {}, status: { conditions } };
}
