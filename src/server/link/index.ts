/**
 * The server end of the agent link (docs/link.md); its contracts are in types.ts.
 * `createLinkServer(...).tunnel` is the NodeTunnel (src/common/tunnel.ts) the API uses for
 * logs/exec/attach/port-forward, `.stats` the NodeStatsSource (src/common/node-stats.ts) of
 * metrics.k8s.io.
 */
export { createLinkServer } from './link-server.ts';
export { NodeStatsCache, STATS_MAX_AGE_MS, STATS_TIMEOUT_MS } from './node-stats.ts';
export type * from './types.ts';
