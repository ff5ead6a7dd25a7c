// What the pages read of Nodes, Leases and Pods.
import type { KObject } from './api.ts';

export const POOL_LABEL = 'apps.edgeos.io/pool';

export const poolOf = (n: KObject): string => n.metadata.labels?.[POOL_LABEL] ?? '';

export function readyCondition(n: KObject): { status: string; since?: string } {
  const c = (n.status?.conditions ?? []).find((x: { type: string }) => x.type === 'Ready');
  return c ? { status: c.status, since: c.lastTransitionTime } : { status: 'Unknown' };
}

/** The node's Lease is held: renewed within its own leaseDurationSeconds. */
export function leaseHeld(lease: KObject | undefined, now = Date.now()): boolean | undefined {
  const renew = lease?.spec?.renewTime as string | undefined;
  if (!renew) return undefined;
  return Date.parse(renew) + (Number(lease?.spec?.leaseDurationSeconds) || 40) * 1000 > now;
}

/**
 * Online: the node's agent is heard. Ready=True (its kubelet posts status) and a Lease that has not
 * lapsed; the node lifecycle controller turns Ready Unknown once the Lease is not renewed for its
 * grace period, and a lapsed Lease is offline even before it does. A node whose kubelet never posts
 * status (an agent run with --disable-runtime: NodeStatusNeverUpdated) is online while it holds its Lease.
 */
export function online(n: KObject, lease: KObject | undefined, now = Date.now()): boolean {
  const ready = (n.status?.conditions ?? []).find((x: { type: string }) => x.type === 'Ready') as { status?: string; reason?: string } | undefined;
  const held = leaseHeld(lease, now);
  if (ready?.status === 'True') return held !== false;
  return ready?.reason === 'NodeStatusNeverUpdated' && held === true;
}

/** The architecture: the kubelet's nodeInfo, else the kubernetes.io/arch label set at registration. */
export const archOf = (n: KObject): string => n.status?.nodeInfo?.architecture || n.metadata.labels?.['kubernetes.io/arch'] || '';

/** When the node was last heard: its Lease's renewTime (kube-node-lease), else the Ready heartbeat its kubelet posted (not the one the lifecycle controller writes for a node never heard). */
export function lastSeen(n: KObject, lease: KObject | undefined): string | undefined {
  const renew = lease?.spec?.renewTime as string | undefined;
  if (renew) return renew;
  const c = (n.status?.conditions ?? []).find((x: { type: string }) => x.type === 'Ready');
  return c && c.reason !== 'NodeStatusNeverUpdated' ? c.lastHeartbeatTime : undefined;
}

export const podCounts = (pods: Iterable<KObject>): Map<string, number> => {
  const m = new Map<string, number>();
  for (const p of pods) {
    const node = p.spec?.nodeName as string | undefined;
    if (node && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed') m.set(node, (m.get(node) ?? 0) + 1);
  }
  return m;
};
