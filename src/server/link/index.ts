/**
 * The server end of the agent link (docs/link.md). `createLinkServer(...).tunnel` is the
 * NodeTunnel (src/common/tunnel.ts) the API uses for logs/exec/attach/port-forward.
 */
export { createLinkServer } from './link-server.ts';
export type { LinkServer, LinkServerOptions } from './link-server.ts';
export { AgentRegistry } from './agent-registry.ts';
export { NodeStatsCache, STATS_MAX_AGE_MS, STATS_TIMEOUT_MS } from './node-stats.ts';
export type { NodeStatsSample, NodeStatsSource } from './node-stats.ts';
export type { NodeTunnel } from '../../common/tunnel.ts';
