import { rm } from 'node:fs/promises';
import type { Pod } from 'kubernetes-types/core/v1';
import { RuntimeNotFoundError } from '../../runtime/errors.ts';
import { podLogDirectory } from '../../runtime/logs/pod-log-dir.ts';
import { killContainer, podGraceSeconds, recordedGrace } from './containers.ts';
import type { KubeletContext } from './context.ts';
import { containerTypeLabel } from './labels.ts';
import type { PodState } from './pod-state.ts';
import type { RuntimePod } from './runtime-pod.ts';
import { removePodDir } from './volumes.ts';

const ignoreNotFound = (err: unknown): void => {
  if (!(err instanceof RuntimeNotFoundError)) throw err;
};

/**
 * kubelet's killPod: every running container is stopped in parallel — preStop hook first, then
 * StopContainer with what is left of the grace period — and then the sandbox is stopped. The pod
 * spec is used when known; for a pod that already left the cache, the preStop handler and grace
 * period recorded on each container at creation.
 */
export async function killPod(ctx: KubeletContext, st: PodState, pod: Pod | undefined, rt: RuntimePod): Promise<void> {
  st.probes.stopAll();
  const specs = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])];
  await Promise.all(rt.containers.filter((c) => c.state === 'running').map((rc) => killContainer(ctx, {
    pod,
    container: specs.find((s) => s.name === rc.name),
    init: rc.labels[containerTypeLabel] === 'init',
    id: rc.id,
    podIP: rt.podIP,
    graceSeconds: pod ? podGraceSeconds(pod) : recordedGrace(rc),
  }, rc).catch(ignoreNotFound)));
  for (const s of rt.sandboxes.filter((x) => x.state === 'ready')) await ctx.runtime.stopPodSandbox(s.id).catch(ignoreNotFound);
}

/**
 * The pod is gone from the cache (deleted on the server, or no longer bound here): stop it
 * gracefully, remove its sandboxes (which removes their containers), its cgroup, volumes and logs,
 * and forget its back-off state (kubelet's HandlePodRemoves + housekeeping).
 */
export async function removePod(ctx: KubeletContext, st: PodState, rt: RuntimePod): Promise<void> {
  await killPod(ctx, st, st.lastPod, rt);
  for (const s of rt.sandboxes) await ctx.runtime.removePodSandbox(s.id).catch(ignoreNotFound);
  // Its cgroup once no sandbox holds it (a process still in it: housekeeping tries again).
  if (ctx.qos && !(await ctx.qos.removePod(st.uid))) ctx.log.info({ uid: st.uid }, 'pod cgroup still busy; removed later');
  await removePodDir(ctx.rootDir, st.uid);
  const meta = rt.sandboxes[0]?.metadata ?? (st.lastPod?.metadata && {
    namespace: st.lastPod.metadata.namespace ?? '', name: st.lastPod.metadata.name ?? '', uid: st.uid,
  });
  if (ctx.podLogDir && meta) {
    await rm(podLogDirectory(ctx.podLogDir, { ...meta, uid: st.uid }), { recursive: true, force: true });
  }
  ctx.crashBackoff.forgetPrefix(`${st.uid}/`);
  ctx.images.forgetPod(st.uid);
}
