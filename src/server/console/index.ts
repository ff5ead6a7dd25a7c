export { createConsoleRoutes } from './routes.ts';
export { loadConsoleAssets } from './assets.ts';
export type { ConsoleAssets, ConsoleRoutes } from './types.ts';
