/**
 * Where a cluster of servers keeps its own records in the datastore: beside /registry/ (the API's
 * objects), never under it, so no API request, watch or agent feed ever sees them.
 */
export const CLUSTER_PREFIX = '/edgeos/cluster/';
/** The sealed bootstrap data (bootstrap.ts). */
export const BOOTSTRAP_KEY = `${CLUSTER_PREFIX}bootstrap`;
/** One record per server: its id and the URLs agents and other servers dial (server-registry.ts). */
export const SERVERS_PREFIX = `${CLUSTER_PREFIX}servers/`;
/** One record per linked node: the server its agent's link is on (link-locations.ts). */
export const LINKS_PREFIX = `${CLUSTER_PREFIX}links/`;
