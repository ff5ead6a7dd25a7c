/**
 * The pod row kubectl prints: printPod in pkg/printers/internalversion/printers.go (1.32), including
 * init-container progress (Init:1/2), waiting/terminated reasons, Completed→Running when a container
 * still runs, Terminating, and RESTARTS with the age of the last restart.
 */
import { ageSince } from './age.ts';
import { list, map, maps, num, str, type JsonMap } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import type { KubeObject, TableSpec } from './types.ts';

function isRestartableInit(c: JsonMap | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

function later(a: string | undefined, b: unknown): string | undefined {
  const t = str(b);
  if (!t) return a;
  return !a || Date.parse(t) > Date.parse(a) ? t : a;
}

function conditionTrue(status: JsonMap, type: string): boolean {
  return maps(status.conditions).some((c) => c.type === type && c.status === 'True');
}

/** The READY, STATUS and RESTARTS cells. */
export function podStatusCells(pod: KubeObject, now: Date): { ready: string; reason: string; restarts: string } {
  const spec = map(pod.spec) ?? {};
  const status = map(pod.status) ?? {};
  const metadata = map(pod.metadata) ?? {};
  const initSpecs = new Map(maps(spec.initContainers).map((c) => [str(c.name) ?? '', c]));
  let total = list(spec.containers).length;
  for (const c of initSpecs.values()) if (isRestartableInit(c)) total++;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: string | undefined;
  let lastSidecarRestart: string | undefined;
  const phase = str(status.phase) ?? '';
  let reason = str(status.reason) || phase;
  for (const c of maps(status.conditions))
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  let initializing = false;
  const initStatuses = maps(status.initContainerStatuses);
  const initCount = initSpecs.size;
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] as JsonMap;
    const state = map(cs.state) ?? {};
    const terminated = map(state.terminated);
    const waiting = map(state.waiting);
    const finished = map(map(cs.lastState)?.terminated)?.finishedAt;
    restarts += num(cs.restartCount) ?? 0;
    lastRestart = later(lastRestart, finished);
    const restartable = isRestartableInit(initSpecs.get(str(cs.name) ?? ''));
    if (restartable) {
      sidecarRestarts += num(cs.restartCount) ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, finished);
    }
    if (terminated && (num(terminated.exitCode) ?? 0) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready === true) ready++;
      continue;
    }
    if (terminated) {
      const r = str(terminated.reason);
      const signal = num(terminated.signal) ?? 0;
      reason = r ? `Init:${r}` : signal !== 0 ? `Init:Signal:${signal}` : `Init:ExitCode:${num(terminated.exitCode) ?? 0}`;
    } else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initCount}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = maps(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] as JsonMap;
      const state = map(cs.state) ?? {};
      const waiting = map(state.waiting);
      const terminated = map(state.terminated);
      restarts += num(cs.restartCount) ?? 0;
      lastRestart = later(lastRestart, map(map(cs.lastState)?.terminated)?.finishedAt);
      if (waiting && str(waiting.reason)) reason = str(waiting.reason) as string;
      else if (terminated && str(terminated.reason)) reason = str(terminated.reason) as string;
      else if (terminated) {
        const signal = num(terminated.signal) ?? 0;
        reason = signal !== 0 ? `Signal:${signal}` : `ExitCode:${num(terminated.exitCode) ?? 0}`;
      } else if (cs.ready === true && map(state.running)) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = Boolean(str(metadata.deletionTimestamp));
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartText = restarts !== 0 && lastRestart ? `${restarts} (${ageSince(lastRestart, now)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, reason, restarts: restartText };
}

export const podTable: TableSpec = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE_COLUMN,
    col('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', 'NodeName indicates in which node this pod is scheduled.', 1),
    col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
    col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  row(pod, now) {
    const { ready, reason, restarts } = podStatusCells(pod, now);
    const spec = map(pod.spec) ?? {};
    const status = map(pod.status) ?? {};
    const ip = str(map(list(status.podIPs)[0])?.ip) || '<none>';
    const gates = maps(spec.readinessGates);
    let readinessGates = '<none>';
    if (gates.length > 0) {
      const conditions = maps(status.conditions);
      const trueCount = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
      readinessGates = `${trueCount}/${gates.length}`;
    }
    return [
      nameOf(pod),
      ready,
      reason,
      restarts,
      ageOf(pod, now),
      ip,
      str(spec.nodeName) || '<none>',
      str(status.nominatedNodeName) || '<none>',
      readinessGates,
    ];
  },
};
