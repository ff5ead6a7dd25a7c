export { openAgentCache, SqliteAgentCache } from './sqlite-cache.ts';
export type { AgentCacheOptions } from './sqlite-cache.ts';
