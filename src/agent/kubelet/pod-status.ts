import type { Container, ContainerState, ContainerStatus, EphemeralContainer, Pod, PodCondition, PodReadinessGate, PodStatus } from 'kubernetes-types/core/v1';
import { isKubeletPodCondition } from '../../common/pod-conditions.ts';
import { qosClass } from './resources.ts';
import { instancesOf } from './runtime-pod.ts';
import type { RuntimeContainer, RuntimePod } from './runtime-pod.ts';

export interface Waiting {
  reason: string;
  message: string;
}

export interface StatusInput {
  /** The pod as the API server has it (the cache's copy): its spec, and the conditions other components own. */
  pod: Pod;
  rt: RuntimePod;
  hostIP: string;
  /** Why a container is not running, as the last sync found (CrashLoopBackOff, ErrImagePull, …). */
  waiting: ReadonlyMap<string, Waiting>;
  /** Probe results of a running instance; undefined means no probe worker (not ready, not started). */
  probe(name: string, containerId: string): { ready: boolean; started: boolean } | undefined;
  /** The status reported before (for our conditions' transition times, restart counts, a terminal phase). */
  previous: PodStatus | undefined;
  startTimeMs: number;
  now: number;
  /** The pod is being deleted: once nothing runs, its phase is final (kubelet's podIsTerminal). */
  terminating?: boolean;
}

export const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const isTerminalPhase = (p: string | undefined): boolean => p === 'Succeeded' || p === 'Failed';

function terminated(c: RuntimeContainer): ContainerState {
  return {
    terminated: {
      exitCode: c.exitCode,
      reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
      ...(c.message ? { message: c.message } : {}),
      startedAt: c.startedAtMs ? rfc3339(c.startedAtMs) : undefined,
      finishedAt: c.finishedAtMs ? rfc3339(c.finishedAtMs) : undefined,
      containerID: `containerd://${c.id}`,
    },
  };
}

function containerStatus(spec: Container, init: boolean, input: StatusInput, defaultWaiting: string): ContainerStatus {
  const all = instancesOf(input.rt.containers, spec.name);
  const latest = all[0];
  const prevApi = [...(input.previous?.containerStatuses ?? []), ...(input.previous?.initContainerStatuses ?? [])].find((s) => s.name === spec.name);
  const waiting = input.waiting.get(spec.name);
  if (!latest) {
    return {
      name: spec.name,
      image: spec.image ?? '',
      imageID: '',
      ready: false,
      started: false,
      restartCount: prevApi?.restartCount ?? 0,
      state: { waiting: waiting ?? { reason: defaultWaiting } },
      lastState: prevApi?.lastState ?? {},
    };
  }
  const older = all[1];
  const base = {
    name: spec.name,
    image: spec.image ?? '',
    imageID: latest.imageRef,
    containerID: `containerd://${latest.id}`,
    restartCount: latest.attempt,
  };
  if (latest.state === 'running') {
    const p = input.probe(spec.name, latest.id);
    return {
      ...base,
      ready: p?.ready ?? false,
      started: p?.started ?? false,
      state: { running: { startedAt: rfc3339(latest.startedAtMs || latest.createdAtMs) } },
      lastState: older && older.state === 'exited' ? terminated(older) : (prevApi?.lastState ?? {}),
    };
  }
  if (latest.state === 'exited') {
    // A container the sync loop will restart shows why it waits, with the exit as lastState.
    if (waiting) return { ...base, ready: false, started: false, state: { waiting }, lastState: terminated(latest) };
    return { ...base, ready: false, started: false, state: terminated(latest), lastState: older?.state === 'exited' ? terminated(older) : {} };
  }
  return { ...base, ready: false, started: false, state: { waiting: waiting ?? { reason: 'ContainerCreating' } }, lastState: {} };
}

function condition(prev: PodStatus | undefined, type: string, ok: boolean, now: number, reason?: string, message?: string): PodCondition {
  const old = prev?.conditions?.find((c) => c.type === type);
  const status = ok ? 'True' : 'False';
  return {
    type,
    status,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

/**
 * kubelet's getPhase (pkg/kubelet/kubelet_pods.go): Pending while init containers have not all
 * succeeded or any container waits without having run; Running while any runs (or all stopped but
 * they will be restarted); Succeeded / Failed when all stopped for good, by exit codes and
 * restartPolicy. A failed init container with restartPolicy Never fails the pod. Terminal phases
 * never change back.
 */
function phase(pod: Pod, init: ContainerStatus[], app: ContainerStatus[], previous: PodStatus | undefined, terminating: boolean): string {
  if (isTerminalPhase(previous?.phase)) return previous!.phase!;
  const policy = terminating ? 'Never' : (pod.spec?.restartPolicy ?? 'Always');
  let pendingInit = false;
  for (const s of init) {
    const t = s.state?.terminated;
    if (t && t.exitCode === 0) continue;
    const failed = (t && t.exitCode !== 0) || (s.state?.waiting && s.lastState?.terminated && s.lastState.terminated.exitCode !== 0);
    if (failed && policy === 'Never') return 'Failed';
    pendingInit = true;
  }
  let running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const s of app) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (pendingInit) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (policy === 'OnFailure') return stopped === succeeded ? 'Succeeded' : 'Running';
    return stopped === succeeded ? 'Succeeded' : 'Failed';
  }
  return 'Pending';
}

/**
 * Why each readiness gate holds the pod back, in upstream's words (GeneratePodReadyCondition): its
 * condition is missing, or not True.
 */
function unreadyGates(gates: readonly PodReadinessGate[], conditions: readonly PodCondition[]): string[] {
  const out: string[] = [];
  for (const g of gates) {
    const c = conditions.find((x) => x.type === g.conditionType);
    if (!c) out.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== 'True') out.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  return out;
}

/** The pod's full status as the kubelet computes it (generateAPIPodStatus). */
export function computePodStatus(input: StatusInput): PodStatus {
  const { pod, rt, now, previous } = input;
  const spec = pod.spec ?? { containers: [] };
  const initSpecs = spec.initContainers ?? [];
  const init = initSpecs.map((c) => containerStatus(c, true, input, 'PodInitializing'));
  const initDone = init.every((s) => s.state?.terminated?.exitCode === 0);
  const app = spec.containers.map((c) => containerStatus(c, false, input, initDone ? 'ContainerCreating' : 'PodInitializing'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const ph = phase(pod, init, app, previous, input.terminating ?? false);
  const done = ph === 'Succeeded' || ph === 'Failed';

  const notInit = init.filter((s) => s.state?.terminated?.exitCode !== 0).map((s) => s.name);
  const notReady = app.filter((s) => !s.ready).map((s) => s.name);
  // Conditions other components own (readiness gates, DisruptionTarget) come from the pod as the API
  // server has it, not from our own last report: the kubelet only reads them (generateAPIPodStatus
  // keeps pod.Status's conditions it does not own), and their change wakes the pod's worker.
  const external = (pod.status?.conditions ?? []).filter((c) => !isKubeletPodCondition(c.type));
  const gates = unreadyGates(spec.readinessGates ?? [], external);
  const containersReady = notReady.length === 0 && !done;
  const podReady = containersReady && gates.length === 0;
  const hasNetwork = !!rt.current && (!!rt.podIP || !!spec.hostNetwork);

  const conditions: PodCondition[] = [
    condition(previous, 'PodReadyToStartContainers', hasNetwork && !done, now),
    condition(previous, 'Initialized', notInit.length === 0, now,
      notInit.length ? 'ContainersNotInitialized' : done ? 'PodCompleted' : undefined,
      notInit.length ? `containers with incomplete status: [${notInit.join(' ')}]` : undefined),
    condition(previous, 'Ready', podReady, now,
      done ? 'PodCompleted' : notReady.length ? 'ContainersNotReady' : gates.length ? 'ReadinessGatesNotReady' : undefined,
      !done && notReady.length ? `containers with unready status: [${notReady.join(' ')}]`
        : !done && gates.length ? gates.join(', ') : undefined),
    condition(previous, 'ContainersReady', containersReady, now,
      done ? 'PodCompleted' : notReady.length ? 'ContainersNotReady' : undefined,
      !done && notReady.length ? `containers with unready status: [${notReady.join(' ')}]` : undefined),
  ];
  const scheduled = previous?.conditions?.find((c) => c.type === 'PodScheduled');
  conditions.push(scheduled ?? condition(undefined, 'PodScheduled', true, input.startTimeMs));
  conditions.push(...external);

  const podIP = spec.hostNetwork ? input.hostIP : rt.podIP;
  return {
    phase: ph,
    conditions,
    hostIP: input.hostIP,
    hostIPs: input.hostIP ? [{ ip: input.hostIP }] : [],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : previous?.podIP && !rt.current ? { podIP: previous.podIP, podIPs: previous.podIPs } : {}),
    startTime: rfc3339(input.startTimeMs),
    ...(initSpecs.length ? { initContainerStatuses: init } : {}),
    containerStatuses: app,
    ...(spec.ephemeralContainers?.length ? { ephemeralContainerStatuses: ephemeralStatuses(spec.ephemeralContainers, input) } : {}),
    qosClass: qosClass(pod),
  };
}

/** Ephemeral containers: never ready, never restarted; their state is all there is (kubelet's convertToAPIContainerStatuses). */
function ephemeralStatuses(specs: readonly EphemeralContainer[], input: StatusInput): ContainerStatus[] {
  return specs.map((ec) => {
    const s = containerStatus(ec as Container, false, input, 'ContainerCreating');
    return { ...s, ready: false, ...(s.state?.running ? {} : { started: false }) };
  });
}

export function isTerminal(status: PodStatus | undefined): boolean {
  return isTerminalPhase(status?.phase);
}
