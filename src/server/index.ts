export { createEdgeosServer } from './server.ts';
export type { ApiDeps, ApiHandler, ControllerDeps, EdgeosServer, MountApi, ServerDeps, StartControllers } from './server.ts';
export { resolveServerConfig, serverDefaults } from './config.ts';
export type { RawServerFlags, ServerConfig } from './config.ts';
export type { BuildInfo } from './version-info.ts';
export { apiEndpoint } from './join/advertised-urls.ts';
