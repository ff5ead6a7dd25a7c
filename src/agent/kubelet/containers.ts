import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Container, Lifecycle, LifecycleHandler, Pod } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import type { ContainerConfig, Mount, PodSandboxConfig } from '../../runtime/types.ts';
import type { KubeletContext } from './context.ts';
import { expandCommand, resolveEnv } from './env.ts';
import { serviceEnvironment } from './service-env.ts';
import { ContainerConfigError, VolumeSetupError } from './errors.ts';
import { runAction } from './handlers.ts';
import { containerHash } from './hash.ts';
import {
  containerNameLabel, containerHashAnnotation, containerTypeLabel, gracePeriodAnnotation, preStopAnnotation,
  restartCountAnnotation, specImageAnnotation, terminationMessagePathAnnotation, terminationMessagePolicyAnnotation,
} from './labels.ts';
import { containerResources } from './resources.ts';
import { podLabels } from './sandbox.ts';
import { containerSecurity, needsImageUser, verifyRunAsNonRoot } from './security-context.ts';
import { terminationLogFile } from './runtime-pod.ts';
import type { RuntimeContainer } from './runtime-pod.ts';
import type { Waiting } from './pod-status.ts';
import { containerMounts } from './volumes.ts';
import type { PreparedVolume } from './volumes.ts';

/** kubelet's minimumGracePeriodInSeconds: a container always gets at least this long to stop. */
const minimumGraceSeconds = 2;

export interface StartTarget {
  pod: Pod;
  container: Container;
  init: boolean;
  attempt: number;
  sandboxId: string;
  sandbox: PodSandboxConfig;
  podIP: string;
  volumes: Map<string, PreparedVolume>;
  /** kubelet's managed /etc/hosts ('' for host-network pods). */
  hostsFile: string;
  /** An ephemeral container (kubectl debug), sharing the process namespace of the running target container if it names one. */
  ephemeral?: { readonly targetContainerId?: string };
}

const ev = (t: { container: Container; init: boolean; ephemeral?: unknown }): { name: string; init: boolean; ephemeral: boolean } => ({ name: t.container.name, init: t.init, ephemeral: t.ephemeral !== undefined });

/** The pod's grace period for stopping its containers (deletion grace when it is being deleted). */
export function podGraceSeconds(pod: Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

/**
 * kubelet's startContainer (kuberuntime_container.go): ensure the image, build the config (env,
 * mounts, resources), create, start, then run the postStart hook — a failed hook kills the
 * container (FailedPostStartHook) and restartPolicy decides what follows. Returns the waiting
 * reason when the container could not be started.
 */
export async function startContainer(ctx: KubeletContext, t: StartTarget): Promise<Waiting | undefined> {
  const { pod, container: c } = t;
  const img = await ctx.images.ensure(pod, c, t.init, t.sandbox);
  if (!img.ok) return { reason: img.reason, message: img.message };

  let config: ContainerConfig;
  try {
    config = await containerConfig(ctx, t);
  } catch (err) {
    if (err instanceof ContainerConfigError || err instanceof VolumeSetupError) {
      ctx.events.pod(pod, 'Warning', 'Failed', `Error: ${err.message}`, ev(t));
      return { reason: 'CreateContainerConfigError', message: err.message };
    }
    throw err;
  }
  // Create and start hold one of the node's pod-start slots (start-gate.ts).
  const started = await (ctx.starts ? ctx.starts.run(() => createAndStart(ctx, t, config)) : createAndStart(ctx, t, config));
  if ('reason' in started) return started;
  const { id } = started;

  const postStart = c.lifecycle?.postStart;
  if (postStart) {
    const r = await runAction(postStart, {
      runtime: ctx.runtime, containerId: id, container: c, podIP: t.podIP, timeoutSeconds: podGraceSeconds(pod),
    });
    if (!r.ok) {
      const msg = `PostStartHook failed: ${r.message}`;
      ctx.events.pod(pod, 'Warning', 'FailedPostStartHook', msg, ev(t));
      await killContainer(ctx, { pod, container: c, init: t.init, id, podIP: t.podIP, graceSeconds: podGraceSeconds(pod), reason: msg });
    }
  }
  return undefined;
}

async function createAndStart(ctx: KubeletContext, t: StartTarget, config: ContainerConfig): Promise<{ id: string } | Waiting> {
  const { pod, container: c } = t;
  let id: string;
  try {
    id = await ctx.runtime.createContainer(t.sandboxId, config, t.sandbox);
  } catch (err) {
    ctx.events.pod(pod, 'Warning', 'Failed', `Error: ${errorMessage(err)}`, ev(t));
    return { reason: 'CreateContainerError', message: errorMessage(err) };
  }
  ctx.events.pod(pod, 'Normal', 'Created', `Created container ${c.name}`, ev(t));
  try {
    await ctx.runtime.startContainer(id);
  } catch (err) {
    ctx.events.pod(pod, 'Warning', 'Failed', `Error: ${errorMessage(err)}`, ev(t));
    return { reason: 'RunContainerError', message: errorMessage(err) };
  }
  ctx.events.pod(pod, 'Normal', 'Started', `Started container ${c.name}`, ev(t));
  return { id };
}

async function containerConfig(ctx: KubeletContext, t: StartTarget): Promise<ContainerConfig> {
  const { pod, container: c } = t;
  const node = ctx.node();
  const serviceEnv = serviceEnvironment(ctx.services(), pod.metadata?.namespace ?? '', pod.spec?.enableServiceLinks ?? true);
  const { env, invalidKeys } = await resolveEnv(pod, c, ctx.objects, { podIP: t.podIP, hostIP: node.hostIP, allocatable: node.allocatable }, serviceEnv);
  if (invalidKeys.length) {
    ctx.events.pod(pod, 'Warning', 'InvalidEnvironmentVariableNames', `Keys [${invalidKeys.join(', ')}] from the EnvFrom were skipped since they are considered invalid environment variable names.`, ev(t));
  }
  const mounts: Mount[] = await containerMounts(c, t.volumes, env);
  const uid = pod.metadata?.uid ?? '';
  if (t.hostsFile && !mounts.some((m) => m.containerPath === '/etc/hosts')) mounts.push({ containerPath: '/etc/hosts', hostPath: t.hostsFile });
  const termPath = c.terminationMessagePath ?? '/dev/termination-log';
  const termFile = terminationLogFile(ctx.rootDir, uid, c.name, t.attempt);
  await mkdir(dirname(termFile), { recursive: true });
  await writeFile(termFile, '');
  mounts.push({ containerPath: termPath, hostPath: termFile });

  const security = containerSecurity(pod, c, ctx.rootDir);
  verifyRunAsNonRoot(pod, c, needsImageUser(pod, c) ? await ctx.runtime.imageStatus(c.image ?? '') : undefined);
  const { command, args } = expandCommand(c, env);
  return {
    name: c.name,
    attempt: t.attempt,
    image: c.image ?? '',
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    ...(c.workingDir ? { workingDir: c.workingDir } : {}),
    env,
    mounts,
    labels: { ...podLabels(pod), [containerNameLabel]: c.name, [containerTypeLabel]: t.ephemeral ? 'ephemeral' : t.init ? 'init' : 'app' },
    annotations: {
      [containerHashAnnotation]: containerHash(c),
      [restartCountAnnotation]: String(t.attempt),
      [terminationMessagePathAnnotation]: termPath,
      [terminationMessagePolicyAnnotation]: c.terminationMessagePolicy ?? 'File',
      [gracePeriodAnnotation]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
      [specImageAnnotation]: c.image ?? '',
      ...(c.lifecycle?.preStop ? { [preStopAnnotation]: JSON.stringify(c.lifecycle.preStop) } : {}),
    },
    logPath: `${c.name}/${t.attempt}.log`,
    stdin: c.stdin ?? false,
    stdinOnce: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    resources: containerResources(pod, c, node.memoryCapacityBytes),
    security: {
      ...security,
      pidNamespace: pod.spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
      ...(t.ephemeral?.targetContainerId ? { pidTargetContainerId: t.ephemeral.targetContainerId } : {}),
    },
  };
}

export interface KillTarget {
  pod: Pod | undefined;
  container: Container | undefined;
  init: boolean;
  id: string;
  podIP: string;
  graceSeconds: number;
  /** Why, for the Killing event ("Stopping container x" when empty). */
  reason?: string;
}

/** The preStop handler from the spec, or from the annotation when the spec is gone. */
function preStopOf(t: KillTarget, rc?: RuntimeContainer): LifecycleHandler | undefined {
  if (t.container) return (t.container.lifecycle as Lifecycle | undefined)?.preStop;
  const raw = rc?.annotations[preStopAnnotation];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as LifecycleHandler;
  } catch {
    return undefined;
  }
}

/**
 * kubelet's killContainer: Killing event, the preStop hook within the grace period, then
 * StopContainer with what remains of it (at least 2 s), after which the runtime sends SIGKILL.
 */
export async function killContainer(ctx: KubeletContext, t: KillTarget, rc?: RuntimeContainer): Promise<void> {
  const name = t.container?.name ?? rc?.name ?? '';
  if (t.pod) ctx.events.pod(t.pod, 'Normal', 'Killing', t.reason ?? `Stopping container ${name}`, { name, init: t.init });
  const started = ctx.now();
  const preStop = preStopOf(t, rc);
  if (preStop) {
    const r = await runAction(preStop, {
      runtime: ctx.runtime, containerId: t.id, podIP: t.podIP, timeoutSeconds: t.graceSeconds,
      container: t.container ?? { name },
    });
    if (!r.ok && t.pod) ctx.events.pod(t.pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${r.message}`, { name, init: t.init });
  }
  const left = Math.max(minimumGraceSeconds, Math.ceil(t.graceSeconds - (ctx.now() - started) / 1000));
  await ctx.runtime.stopContainer(t.id, left);
}

/** The grace period recorded on a container (for a pod no longer in the cache). */
export function recordedGrace(rc: RuntimeContainer): number {
  const n = Number(rc.annotations[gracePeriodAnnotation]);
  return Number.isFinite(n) && n >= 0 ? n : 30;
}
