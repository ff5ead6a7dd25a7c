import { RuntimeNotFoundError } from '../../runtime/errors.ts';
import type { ContainerRuntime } from '../../runtime/types.ts';
import { instancesOf } from './runtime-pod.ts';
import type { RuntimePod } from './runtime-pod.ts';

const ignoreNotFound = (err: unknown): void => {
  if (!(err instanceof RuntimeNotFoundError)) throw err;
};

/**
 * Container and sandbox garbage collection for one pod (kubelet's containerGC with
 * MaxPerPodContainer = 1): per container name the newest instance stays, and so does the newest
 * exited one (what `kubectl logs --previous` reads); older exited instances are removed. A sandbox
 * that is not the newest, not ready, and holds nothing kept is removed. Returns how many objects
 * were removed.
 */
export async function collectPodGarbage(runtime: ContainerRuntime, rt: RuntimePod): Promise<number> {
  const keep = new Set<string>();
  for (const name of new Set(rt.containers.map((c) => c.name))) {
    const all = instancesOf(rt.containers, name);
    if (all[0]) keep.add(all[0].id);
    const exited = all.find((c) => c.state === 'exited');
    if (exited) keep.add(exited.id);
  }
  let removed = 0;
  for (const c of rt.containers) {
    if (keep.has(c.id) || c.state !== 'exited') continue;
    await runtime.removeContainer(c.id).catch(ignoreNotFound);
    removed++;
  }
  const holding = new Set(rt.containers.filter((c) => keep.has(c.id)).map((c) => c.podSandboxId));
  for (const s of rt.sandboxes.slice(1)) {
    if (s.state === 'ready' || holding.has(s.id)) continue;
    await runtime.removePodSandbox(s.id).catch(ignoreNotFound);
    removed++;
  }
  return removed;
}
