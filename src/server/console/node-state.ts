/**
 * What "online", "last seen", pool and architecture mean for a Node, shared by the browser
 * application (app/nodes.ts) and the server's fleet view (fleet-view.ts), so that the counts the
 * server gives and the rows the page draws never disagree. Plain functions over the objects' JSON:
 * no DOM, no Node.js.
 */

export const POOL_LABEL = 'apps.edgeos.io/pool';

/** The parts of a Node these functions read (the API's JSON, or the fleet view's trimmed copy). */
export interface NodeLike {
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly status?: {
    readonly conditions?: readonly { readonly type: string; readonly status?: string; readonly reason?: string; readonly lastHeartbeatTime?: string; readonly lastTransitionTime?: string }[];
    readonly nodeInfo?: { readonly kubeletVersion?: string; readonly architecture?: string };
  };
}

/** The parts of a Lease (kube-node-lease) these functions read. */
export interface LeaseLike {
  readonly spec?: { readonly renewTime?: string; readonly leaseDurationSeconds?: number };
  readonly [k: string]: unknown;
}

export const poolOf = (n: NodeLike): string => n.metadata.labels?.[POOL_LABEL] ?? '';

const readyOf = (n: NodeLike) => (n.status?.conditions ?? []).find((x) => x.type === 'Ready');

export function readyCondition(n: NodeLike): { status: string; since?: string } {
  const c = readyOf(n);
  return c ? { status: c.status ?? 'Unknown', ...(c.lastTransitionTime ? { since: c.lastTransitionTime } : {}) } : { status: 'Unknown' };
}

/** When the node's Lease lapses (ms since the epoch): its renewTime plus its own leaseDurationSeconds. */
export function leaseExpiry(lease: LeaseLike | undefined): number | undefined {
  const renew = lease?.spec?.renewTime;
  if (!renew) return undefined;
  return Date.parse(renew) + (Number(lease?.spec?.leaseDurationSeconds) || 40) * 1000;
}

/** The node's Lease is held: renewed within its own leaseDurationSeconds. */
export function leaseHeld(lease: LeaseLike | undefined, now = Date.now()): boolean | undefined {
  const expiry = leaseExpiry(lease);
  return expiry === undefined ? undefined : expiry > now;
}

/**
 * Online: the node's agent is heard. Ready=True (its kubelet posts status) and a Lease that has not
 * lapsed; the node lifecycle controller turns Ready Unknown once the Lease is not renewed for its
 * grace period, and a lapsed Lease is offline even before it does. A node whose kubelet never posts
 * status (an agent run with --disable-runtime: NodeStatusNeverUpdated) is online while it holds its Lease.
 */
export function online(n: NodeLike, lease: LeaseLike | undefined, now = Date.now()): boolean {
  return onlineUntil(n, leaseExpiry(lease), now);
}

/** online() with the Lease's expiry already read (leaseExpiry): the server's fleet view keeps it per node. */
export function onlineUntil(n: NodeLike, leaseExpiresMs: number | undefined, now: number): boolean {
  const ready = readyOf(n);
  const held = leaseExpiresMs === undefined ? undefined : leaseExpiresMs > now;
  if (ready?.status === 'True') return held !== false;
  return ready?.reason === 'NodeStatusNeverUpdated' && held === true;
}

/** The architecture: the kubelet's nodeInfo, else the kubernetes.io/arch label set at registration. */
export const archOf = (n: NodeLike): string => n.status?.nodeInfo?.architecture || n.metadata.labels?.['kubernetes.io/arch'] || '';

/** When the node was last heard: its Lease's renewTime (kube-node-lease), else the Ready heartbeat its kubelet posted (not the one the lifecycle controller writes for a node never heard). */
export function lastSeen(n: NodeLike, lease: LeaseLike | undefined): string | undefined {
  const renew = lease?.spec?.renewTime;
  if (renew) return renew;
  const c = readyOf(n);
  return c && c.reason !== 'NodeStatusNeverUpdated' ? c.lastHeartbeatTime : undefined;
}

/** A pod counts on its node until it has finished. */
export const podCountsOnNode = (p: { readonly spec?: { nodeName?: string }; readonly status?: { phase?: string }; readonly [k: string]: unknown }): string | undefined => {
  const node = p.spec?.nodeName;
  return node && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' ? node : undefined;
};
