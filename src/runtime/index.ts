/**
 * The runtime subsystem's public surface for the agent: the contract, its errors, the config
 * resolver and the factory. FakeRuntime is deliberately not exported here (tests import
 * fake-runtime.ts directly) so it never reaches the production bundle.
 */
export type * from './types.ts';
export * from './errors.ts';
export { builtinPauseImage, resolveRuntimeConfig } from './config.ts';
export type { RuntimeConfig, RuntimeOptions } from './config.ts';
export { formatLogEntry } from './logs/cri-log.ts';
export { podLogDirectory } from './logs/pod-log-dir.ts';
export { createContainerRuntime } from './create-runtime.ts';
export type { EdgeContainerRuntime, RuntimeDeps } from './create-runtime.ts';
export { resolvePodCidr } from './cni/pod-cidr.ts';
export { readRoutes } from './cni/cidr-check.ts';
