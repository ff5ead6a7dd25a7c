/** The agent's kubelet: createKubelet wires it on a runtime, the agent cache and a status sink. */
export { createKubelet } from './kubelet.ts';
export type { Kubelet, KubeletOptions } from './kubelet.ts';
export type { TokenSource } from './volumes.ts';
export type { BackoffPolicy } from './backoff.ts';
