export { createJoinRoutes } from './join-routes.ts';
export type { JoinRoutes, JoinRoutesOptions } from './join-routes.ts';
export { ensureDefaultJoinToken } from './default-token.ts';
export { advertisedHosts, advertisedUrls } from './advertised-urls.ts';
