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
