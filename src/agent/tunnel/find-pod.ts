/**
 * Finds a pod's sandbox and containers in the runtime. The kubelet keys pods by UID; CRI carries
 * the pod's namespace, name and UID in every sandbox's metadata (the kubelet also copies them into
 * io.kubernetes.pod.* labels, but metadata is what CRI requires, so it is what we match). A pod
 * can have several sandboxes (one per sandbox restart) and a container several instances (one per
 * restart, CRI metadata `attempt`); the newest is the current one.
 */
import type { Container, ContainerRuntime, PodSandbox } from '../../runtime/index.ts';
import type { PodRef } from '../../common/tunnel.ts';

/** The pod's sandboxes, ready ones first, newest first. */
export async function podSandboxes(runtime: ContainerRuntime, pod: PodRef): Promise<PodSandbox[]> {
  const all = await runtime.listPodSandboxes();
  return all
    .filter((s) => s.metadata.uid === pod.uid && s.metadata.namespace === pod.namespace && s.metadata.name === pod.name)
    .sort((a, b) => Number(b.state === 'ready') - Number(a.state === 'ready') || b.createdAtMs - a.createdAtMs);
}

/** Instances of container `name` in the pod, newest sandbox first, then highest attempt. */
export async function containerInstances(runtime: ContainerRuntime, pod: PodRef, name: string): Promise<Container[]> {
  const sandboxes = await podSandboxes(runtime, pod);
  const rank = new Map(sandboxes.map((s, i) => [s.id, i]));
  if (rank.size === 0) return [];
  const all = await runtime.listContainers();
  return all
    .filter((c) => c.name === name && rank.has(c.podSandboxId))
    .sort((a, b) => (rank.get(a.podSandboxId) ?? 0) - (rank.get(b.podSandboxId) ?? 0) || b.attempt - a.attempt || b.createdAtMs - a.createdAtMs);
}
