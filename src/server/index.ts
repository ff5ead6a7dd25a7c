export { createEdgeosServer } from './server.ts';
export type { ApiHandler, ApiHandlerDeps, ControllerDeps, EdgeosServer, LocalAgent, LocalAgentContext, LocalAgentLifecycle, MountApi, ServerDeps, StartControllers } from './server-types.ts';
export { resolveServerConfig, serverDefaults } from './config.ts';
export type { RawServerFlags, ServerConfig } from './config.ts';
export type { BuildInfo } from './version-info.ts';
export { apiEndpoint } from './join/advertised-urls.ts';
