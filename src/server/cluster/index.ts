/**
 * Several servers on one datastore (docs/ha.md): founding or joining the cluster with the server
 * token (bootstrap.ts), the servers registry, where each node is linked, and tunnels forwarded
 * between servers. The contracts are in types.ts. A server on SQLite uses none of it.
 */
export { bootstrapCluster } from './bootstrap.ts';
export type { Bootstrapped, BootstrapOptions } from './bootstrap.ts';
export { startMembership } from './cluster.ts';
export type { MembershipOptions } from './cluster.ts';
export { serverId } from './local-files.ts';
export type * from './types.ts';
