/**
 * The names node pools are recognised by, shared by the server (NodePool and PoolSet kinds, their
 * controllers, the node feed's Service topology) and the agent (`edgeos join --pool`).
 */

/** The node label that makes a node a member of the NodePool it names (at most one pool per node). */
export const POOL_LABEL = 'apps.edgeos.io/pool';

/**
 * The Service annotation that keeps traffic close: `node` (endpoints on the client's node only),
 * `pool` (endpoints in the client's pool only), `pool,*` (the pool's, or every endpoint when the
 * pool has none). OpenYurt spells it openyurt.io/topologyKeys, KubeEdge
 * apps.kubeedge.io/service-topology.
 */
export const TOPOLOGY_ANNOTATION = 'service.edgeos.io/topology';

/** A NodePool name is a label value and a DNS-1123 label: at most 63 of [a-z0-9-], alphanumeric at both ends. */
export function isPoolName(name: string): boolean {
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
}

/** Where a Service's traffic may go, nearest first: the node, its pool, anywhere. */
export type TopologyScope = 'node' | 'pool' | '*';

const SCOPES: readonly TopologyScope[] = ['node', 'pool', '*'];

/**
 * Kubernetes's `spec.trafficDistribution` values and the scopes they mean here: kube's "close"
 * is the zone, and a pool is an edge fleet's zone.
 */
export const TRAFFIC_DISTRIBUTIONS: Readonly<Record<string, readonly TopologyScope[]>> = {
  PreferClose: ['node', 'pool', '*'],
  PreferSameNode: ['node', '*'],
  PreferSameZone: ['pool', '*'],
};

/** The scopes of a TOPOLOGY_ANNOTATION value, or what is wrong with it. */
export function parseTopology(value: string): readonly TopologyScope[] | { error: string } {
  const out: TopologyScope[] = [];
  for (const p of value.split(',').map((s) => s.trim())) {
    if (!SCOPES.includes(p as TopologyScope)) return { error: `"${p}" is not a topology scope (node, pool or * separated by commas, such as pool,*)` };
    if (out.includes(p as TopologyScope)) return { error: `"${p}" is named twice` };
    out.push(p as TopologyScope);
  }
  if (out.includes('*') && out[out.length - 1] !== '*') return { error: '"*" (every endpoint) must come last' };
  return out;
}
