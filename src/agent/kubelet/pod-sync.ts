import { mkdir } from 'node:fs/promises';
import type { Container, EphemeralContainer, Pod } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import type { PodSandboxConfig } from '../../runtime/types.ts';
import { killContainer, podGraceSeconds, startContainer } from './containers.ts';
import type { KubeletContext } from './context.ts';
import { podDns } from './dns.ts';
import { VolumeSetupError } from './errors.ts';
import { collectPodGarbage } from './gc.ts';
import { containerHash } from './hash.ts';
import { containerHashAnnotation, specImageAnnotation } from './labels.ts';
import { goDuration, podDesc } from './pod-state.ts';
import type { PodState } from './pod-state.ts';
import { inspectPod, instancesOf } from './runtime-pod.ts';
import type { RuntimeContainer, RuntimePod } from './runtime-pod.ts';
import { sandboxConfig, writeHostsFile } from './sandbox.ts';
import { setUpVolumes } from './volumes.ts';
import type { PreparedVolume } from './volumes.ts';

/** What one pass did: the runtime state to report, and when the worker should look again. */
export interface PassResult {
  rt: RuntimePod;
  nextMs: number;
}

/** restartPolicy applied to an exited container (kubelet's ShouldContainerBeRestarted). */
function shouldRestart(pod: Pod, exitCode: number): boolean {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

interface Pass {
  ctx: KubeletContext;
  st: PodState;
  pod: Pod;
  rt: RuntimePod;
  sandboxId: string;
  sandbox: PodSandboxConfig;
  volumes: Map<string, PreparedVolume>;
  acted: boolean;
  nextMs: number;
}

/** The restart count a new instance gets: one more than the newest instance, or than the last reported. */
function nextAttempt(p: Pass, name: string): number {
  const newest = instancesOf(p.rt.containers, name)[0];
  if (newest) return newest.attempt + 1;
  // No instance left (a reboot lost them): continue from the status reported before, which the
  // cached pod carries after an agent restart.
  const reported = p.st.lastStatus ?? p.pod.status;
  const prev = [...(reported?.containerStatuses ?? []), ...(reported?.initContainerStatuses ?? [])].find((s) => s.name === name);
  return prev?.containerID ? prev.restartCount + 1 : (prev?.restartCount ?? 0);
}

/** kubelet's pod worker backOffPeriod: a sync that failed is tried again this much later. */
const FAILED_SYNC_BACKOFF_MS = 10_000;

/** Waiting reasons after which no container instance exists: nothing changed in the runtime. */
const notCreated = new Set(['CreateContainerError', 'CreateContainerConfigError', 'ErrImageNeverPull', 'InvalidImageName', 'ErrImagePull', 'ImagePullBackOff']);

async function start(p: Pass, c: Container, init: boolean, attempt: number, ephemeral?: { targetContainerId?: string }): Promise<void> {
  const waiting = await startContainer(p.ctx, {
    pod: p.pod, container: c, init, attempt, sandboxId: p.sandboxId, sandbox: p.sandbox, podIP: p.rt.podIP,
    volumes: p.volumes, hostsFile: p.st.hosts?.file ?? '', ...(ephemeral ? { ephemeral } : {}),
  });
  // A container that could not even be created is retried after the kubelet's pod worker back-off
  // for a failed sync (backOffPeriod, 10 s) — not at once: each attempt records an Event, and a
  // retry every second floods the API with them; nor at the next resync (60–90 s).
  if (!waiting || !notCreated.has(waiting.reason)) p.acted = true;
  if (waiting) {
    p.st.waiting.set(c.name, waiting);
    const retry = p.ctx.images.retryAt(p.pod, c.image ?? '');
    p.nextMs = Math.min(p.nextMs, retry ? Math.max(100, retry - p.ctx.now()) : FAILED_SYNC_BACKOFF_MS);
  }
}

/**
 * kubelet's doBackOff: a container that exited and must be restarted waits while it is in
 * CrashLoopBackOff (10 s doubling to 5 min since its last exit); otherwise it is restarted now.
 */
async function restartWithBackoff(p: Pass, c: Container, init: boolean, exited: RuntimeContainer): Promise<void> {
  const { ctx, pod } = p;
  const key = `${pod.metadata?.uid}/${c.name}`;
  if (ctx.crashBackoff.inBackoffSince(key, exited.finishedAtMs)) {
    const delay = ctx.crashBackoff.delay(key);
    p.st.waiting.set(c.name, {
      reason: 'CrashLoopBackOff',
      message: `back-off ${goDuration(delay)} restarting failed container=${c.name} pod=${podDesc(pod)}`,
    });
    ctx.events.pod(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${podDesc(pod)}`, { name: c.name, init });
    p.nextMs = Math.min(p.nextMs, Math.max(100, ctx.crashBackoff.retryAt(key, exited.finishedAtMs) - ctx.now()));
    return;
  }
  ctx.crashBackoff.next(key);
  await start(p, c, init, exited.attempt + 1);
}

/** A new sandbox (the first, or after the old one died): kubelet's createPodSandbox. */
async function ensureSandbox(ctx: KubeletContext, st: PodState, pod: Pod, rt: RuntimePod, cgroupParent: string | undefined): Promise<RuntimePod | undefined> {
  const attempt = rt.sandboxes[0] ? rt.sandboxes[0].metadata.attempt + 1 : 0;
  if (pod.spec?.restartPolicy === 'Never' && attempt !== 0 && rt.containers.length > 0) return undefined;
  for (const rc of rt.containers.filter((c) => c.state === 'running')) {
    await killContainer(ctx, { pod, container: undefined, init: false, id: rc.id, podIP: '', graceSeconds: podGraceSeconds(pod) }, rc);
  }
  for (const s of rt.sandboxes.filter((x) => x.state === 'ready')) await ctx.runtime.stopPodSandbox(s.id);
  // The pod's previous address, to get it again (an offline reboot, a dead sandbox). Still held by
  // a dead sandbox (a reboot leaves its network unreleased): stopping it releases the address.
  const prior = pod.status?.podIP;
  if (prior && ctx.podIps?.held(prior)) {
    for (const s of rt.sandboxes.filter((x) => x.state !== 'ready')) await ctx.runtime.stopPodSandbox(s.id).catch(() => undefined);
  }
  if (rt.sandboxes.length) ctx.events.pod(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
  const dns = podDns(pod, await ctx.hostDns(), ctx.clusterDns());
  if (dns.missingClusterDns) {
    ctx.events.pod(pod, 'Warning', 'MissingClusterDNS', `pod: "${podDesc(pod)}". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`);
  }
  const cfg = sandboxConfig(pod, attempt, dns.config, ctx.podLogDir, cgroupParent);
  if (cfg.logDirectory) await mkdir(cfg.logDirectory, { recursive: true, mode: 0o755 });
  try {
    // One of the node's pod-start slots while it runs (start-gate.ts).
    const create = () => (ctx.starts ? ctx.starts.run(() => ctx.runtime.runPodSandbox(cfg)) : ctx.runtime.runPodSandbox(cfg));
    await (prior && ctx.podIps ? ctx.podIps.reuse(prior, create) : create());
  } catch (err) {
    ctx.events.pod(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${errorMessage(err)}`);
    st.waiting.clear();
    return undefined;
  }
  st.hosts = undefined;
  return inspectPod(ctx.runtime, ctx.rootDir, st.uid);
}

/**
 * One pass of kubelet's SyncPod for a pod that should run (kuberuntime_manager.go): volumes,
 * sandbox, init containers one at a time in order (each must exit 0 before the next starts), then
 * the app containers — start missing ones, restart exited ones by restartPolicy with back-off,
 * restart running ones whose image changed or whose liveness/startup probe failed — and finally
 * garbage-collect dead instances. Level-triggered and idempotent: running containers whose spec
 * still matches are left alone, which is also how a restarted agent adopts its pods.
 */
export async function syncRunningPod(ctx: KubeletContext, st: PodState, pod: Pod, rt0: RuntimePod): Promise<PassResult> {
  st.waiting.clear();
  let rt = rt0;
  let volumes: Map<string, PreparedVolume>;
  try {
    volumes = await setUpVolumes(pod, {
      rootDir: ctx.rootDir, nodeName: ctx.nodeName, objects: ctx.objects, claims: ctx.claims, owned: st.ownedVolumes, tokenSource: ctx.tokenSource,
      downward: { podIP: rt.podIP, ...ctx.node() },
      warn: (reason, message) => ctx.events.pod(pod, 'Warning', reason, message),
    });
  } catch (err) {
    if (!(err instanceof VolumeSetupError)) throw err;
    ctx.events.pod(pod, 'Warning', 'FailedMount', err.message);
    return { rt, nextMs: Math.min(ctx.resyncMs, 2000) };
  }

  // The pod's cgroup before its sandbox (kubelet's pcm.EnsureExists); once per agent run.
  const cgroupParent = await ctx.qos?.ensurePod(pod);
  if (!rt.current) {
    const fresh = await ensureSandbox(ctx, st, pod, rt, cgroupParent);
    if (!fresh?.current) return { rt: fresh ?? rt, nextMs: Math.min(ctx.resyncMs, 2000) };
    rt = fresh;
  }
  const current = rt.current!;
  for (const s of rt.sandboxes.slice(1).filter((x) => x.state === 'ready')) await ctx.runtime.stopPodSandbox(s.id);
  if (!pod.spec?.hostNetwork && st.hosts?.sandboxId !== current.id) {
    st.hosts = { sandboxId: current.id, file: await writeHostsFile(ctx.rootDir, pod, rt.podIP) };
  }
  const dns = podDns(pod, await ctx.hostDns(), ctx.clusterDns());
  // A projected token due for renewal before the next resync: the pass that renews it is due then.
  const refreshAt = Math.min(...[...volumes.values()].map((v) => v.refreshAt ?? Infinity));
  const p: Pass = {
    ctx, st, pod, rt, volumes, acted: false, nextMs: Math.min(ctx.resyncMs, Math.max(1000, refreshAt - ctx.now())),
    sandboxId: current.id, sandbox: sandboxConfig(pod, current.metadata.attempt, dns.config, ctx.podLogDir, cgroupParent),
  };
  const inCurrent = rt.containers.filter((c) => c.podSandboxId === current.id);

  // Ephemeral containers first, as the kubelet does (SyncPod step 5), so one can debug a pod whose
  // init containers fail. Each runs once: never restarted, never started again after it exited.
  for (const ec of pod.spec?.ephemeralContainers ?? []) await startEphemeral(p, ec, inCurrent);

  let initDone = true;
  for (const ic of pod.spec?.initContainers ?? []) {
    const inst = instancesOf(inCurrent, ic.name)[0];
    if (inst?.state === 'exited' && inst.exitCode === 0) continue;
    initDone = false;
    if (!inst) await start(p, ic, true, nextAttempt(p, ic.name));
    else if (inst.state === 'exited') {
      if (shouldRestart(pod, inst.exitCode)) await restartWithBackoff(p, ic, true, inst);
    } else if (inst.state === 'created') {
      await ctx.runtime.removeContainer(inst.id);
      await start(p, ic, true, inst.attempt + 1);
    }
    break;
  }

  const running = new Map<string, string>();
  if (initDone) {
    for (const c of pod.spec?.containers ?? []) {
      const inst = instancesOf(inCurrent, c.name)[0];
      if (!inst) {
        await start(p, c, false, nextAttempt(p, c.name));
      } else if (inst.state === 'running') {
        await syncRunningContainer(p, c, inst, running);
      } else if (inst.state === 'exited') {
        if (shouldRestart(pod, inst.exitCode)) await restartWithBackoff(p, c, false, inst);
      } else if (inst.state === 'created') {
        await ctx.runtime.removeContainer(inst.id);
        await start(p, c, false, inst.attempt + 1);
      }
    }
  }
  st.probes.retain(running);
  if (await collectPodGarbage(ctx.runtime, rt)) p.acted = true;
  if (p.acted) {
    rt = await inspectPod(ctx.runtime, ctx.rootDir, st.uid);
    // Look again soon after acting: a just-started container may already have exited.
    p.nextMs = Math.min(p.nextMs, 1000);
  }
  return { rt, nextMs: p.nextMs };
}

async function startEphemeral(p: Pass, ec: EphemeralContainer, inCurrent: RuntimeContainer[]): Promise<void> {
  if (instancesOf(p.rt.containers, ec.name).length > 0) return;
  let targetContainerId: string | undefined;
  if (ec.targetContainerName) {
    // The target's process namespace exists only while it runs: wait for it.
    const target = instancesOf(inCurrent, ec.targetContainerName).find((c) => c.state === 'running');
    if (!target) {
      p.st.waiting.set(ec.name, { reason: 'ContainerCreating', message: `waiting for target container ${ec.targetContainerName} to run` });
      p.nextMs = Math.min(p.nextMs, 1000);
      return;
    }
    targetContainerId = target.id;
  }
  await start(p, ec as Container, false, 0, targetContainerId ? { targetContainerId } : {});
}

async function syncRunningContainer(p: Pass, c: Container, inst: RuntimeContainer, running: Map<string, string>): Promise<void> {
  const { ctx, st, pod } = p;
  const specImage = inst.annotations[specImageAnnotation];
  // Pod specs are immutable but for images: a new image restarts the container (kubelet:
  // "Container x definition changed, will be restarted"); other drift is not applied in place.
  if (specImage !== undefined && specImage !== (c.image ?? '')) {
    await killContainer(ctx, {
      pod, container: c, init: false, id: inst.id, podIP: p.rt.podIP, graceSeconds: podGraceSeconds(pod),
      reason: `Container ${c.name} definition changed, will be restarted`,
    }, inst);
    await start(p, c, false, inst.attempt + 1);
    return;
  }
  if (inst.annotations[containerHashAnnotation] !== containerHash(c) && !st.hashWarned.has(inst.id)) {
    st.hashWarned.add(inst.id);
    ctx.log.info({ pod: podDesc(pod), container: c.name }, 'container spec differs from the running container in more than its image; not applied in place');
  }
  const probes = st.probes.ensure({ pod, container: c, init: false, containerId: inst.id, startedAtMs: inst.startedAtMs || inst.createdAtMs, podIP: p.rt.podIP });
  if (probes.failed) {
    p.acted = true;
    await killContainer(ctx, {
      pod, container: c, init: false, id: inst.id, podIP: p.rt.podIP, graceSeconds: podGraceSeconds(pod),
      reason: `Container ${c.name} failed ${probes.failed.type} probe, will be restarted`,
    }, inst);
    p.nextMs = 0;
    return;
  }
  running.set(c.name, inst.id);
}
