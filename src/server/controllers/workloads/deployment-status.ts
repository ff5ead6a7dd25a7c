/**
 * Deployment status and conditions (pkg/controller/deployment/sync.go calculateStatus,
 * progress.go syncRolloutStatus, util DeploymentComplete/DeploymentProgressing/DeploymentTimedOut),
 * exactly as `kubectl rollout status` reads them (kubectl-wire §9): observedGeneration,
 * replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas, and the
 * Available and Progressing conditions. Pure: the clock is a parameter.
 */
import type { KubeObject } from '../types.ts';
import { maxUnavailableOf } from './replica-math.ts';
import { rfc3339, parseTime } from './timestamps.ts';

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface DeploymentStatus {
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  conditions: DeploymentCondition[];
  collisionCount?: number;
}

export interface DeploymentSpecView {
  replicas?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } };
}

/** Progress deadline reasons (util.NewRSAvailableReason and friends). */
export const REASON = {
  newRSAvailable: 'NewReplicaSetAvailable',
  replicaSetUpdated: 'ReplicaSetUpdated',
  timedOut: 'ProgressDeadlineExceeded',
  newReplicaSetCreated: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumAvailable: 'MinimumReplicasAvailable',
  minimumUnavailable: 'MinimumReplicasUnavailable',
} as const;

/** progressDeadlineSeconds = MaxInt32 means "no deadline" (HasProgressDeadline). */
const NO_DEADLINE = 2147483647;

const specOf = (d: KubeObject): DeploymentSpecView => (d.spec ?? {}) as DeploymentSpecView;
const statusOf = (o: KubeObject): Record<string, unknown> => (o.status ?? {}) as Record<string, unknown>;
const int = (v: unknown): number => (typeof v === 'number' ? v : 0);

export function desiredReplicas(d: KubeObject): number {
  return specOf(d).replicas ?? 1;
}

export function isRollingUpdate(d: KubeObject): boolean {
  return (specOf(d).strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** MaxUnavailable(d): 0 for Recreate or zero replicas. */
export function deploymentMaxUnavailable(d: KubeObject): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  const ru = specOf(d).strategy?.rollingUpdate ?? {};
  return maxUnavailableOf(ru.maxSurge ?? '25%', ru.maxUnavailable ?? '25%', desired);
}

export function hasProgressDeadline(d: KubeObject): boolean {
  const pds = specOf(d).progressDeadlineSeconds;
  return pds !== undefined && pds !== NO_DEADLINE;
}

export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string, now: number): DeploymentCondition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getCondition(conditions: readonly DeploymentCondition[], type: string): DeploymentCondition | undefined {
  return conditions.find((c) => c.type === type);
}

/**
 * SetDeploymentCondition: same status and reason → keep the existing condition untouched; same
 * status → keep its lastTransitionTime; otherwise replace.
 */
export function setCondition(conditions: readonly DeploymentCondition[], c: DeploymentCondition): DeploymentCondition[] {
  const current = getCondition(conditions, c.type);
  if (current && current.status === c.status && current.reason === c.reason) return [...conditions];
  const next = current && current.status === c.status ? { ...c, lastTransitionTime: current.lastTransitionTime } : c;
  return [...conditions.filter((x) => x.type !== c.type), next];
}

export function removeCondition(conditions: readonly DeploymentCondition[], type: string): DeploymentCondition[] {
  return conditions.filter((c) => c.type !== type);
}

function existingConditions(d: KubeObject): DeploymentCondition[] {
  const list = statusOf(d).conditions;
  return Array.isArray(list) ? (list as DeploymentCondition[]).map((c) => ({ ...c })) : [];
}

/** calculateStatus: counts over all ReplicaSets plus the Available condition. */
export function calculateStatus(d: KubeObject, all: readonly KubeObject[], newRs: KubeObject | undefined, now: number): DeploymentStatus {
  const sum = (sets: readonly KubeObject[], field: string): number => sets.reduce((n, rs) => n + int(statusOf(rs)[field]), 0);
  const available = sum(all, 'availableReplicas');
  const specTotal = all.reduce((n, rs) => n + int((rs.spec as { replicas?: unknown } | undefined)?.replicas), 0);
  const collision = statusOf(d).collisionCount;
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: sum(all, 'replicas'),
    updatedReplicas: newRs ? sum([newRs], 'replicas') : 0,
    readyReplicas: sum(all, 'readyReplicas'),
    availableReplicas: available,
    // Negative while scaling down with more available than desired: report 0, as upstream.
    unavailableReplicas: Math.max(0, specTotal - available),
    conditions: existingConditions(d),
    ...(typeof collision === 'number' ? { collisionCount: collision } : {}),
  };
  const minAvailable = desiredReplicas(d) - deploymentMaxUnavailable(d);
  status.conditions = setCondition(
    status.conditions,
    available >= minAvailable
      ? newCondition('Available', 'True', REASON.minimumAvailable, 'Deployment has minimum availability.', now)
      : newCondition('Available', 'False', REASON.minimumUnavailable, 'Deployment does not have minimum availability.', now),
  );
  return status;
}

/** DeploymentComplete: every desired replica updated and available, and the spec observed. */
export function deploymentComplete(d: KubeObject, s: DeploymentStatus): boolean {
  const desired = desiredReplicas(d);
  return s.updatedReplicas === desired && s.replicas === desired && s.availableReplicas === desired && s.observedGeneration >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: any step forward since the status the cache holds. */
export function deploymentProgressing(d: KubeObject, s: DeploymentStatus): boolean {
  const old = statusOf(d);
  const oldOld = int(old.replicas) - int(old.updatedReplicas);
  const newOld = s.replicas - s.updatedReplicas;
  return s.updatedReplicas > int(old.updatedReplicas) || newOld < oldOld || s.readyReplicas > int(old.readyReplicas) || s.availableReplicas > int(old.availableReplicas);
}

/** DeploymentTimedOut: the Progressing condition was last updated longer ago than the deadline. */
export function deploymentTimedOut(d: KubeObject, s: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s.conditions, 'Progressing');
  if (!c || c.reason === REASON.newRSAvailable) return false;
  if (c.reason === REASON.timedOut) return true;
  const from = parseTime(c.lastUpdateTime);
  return from !== undefined && from + (specOf(d).progressDeadlineSeconds ?? 0) * 1000 < now;
}

/** syncRolloutStatus's condition step: Progressing after a rollout step, plus the new RS's ReplicaFailure. */
export function rolloutStatus(d: KubeObject, all: readonly KubeObject[], newRs: KubeObject | undefined, now: number): DeploymentStatus {
  const s = calculateStatus(d, all, newRs, now);
  if (!hasProgressDeadline(d)) s.conditions = removeCondition(s.conditions, 'Progressing');
  const current = getCondition(s.conditions, 'Progressing');
  const complete = s.replicas === s.updatedReplicas && current?.reason === REASON.newRSAvailable;
  const rsName = newRs?.metadata.name;
  const subject = rsName ? `ReplicaSet "${rsName}"` : `Deployment "${d.metadata.name ?? ''}"`;
  if (hasProgressDeadline(d) && !complete) {
    if (deploymentComplete(d, s)) {
      s.conditions = setCondition(s.conditions, newCondition('Progressing', 'True', REASON.newRSAvailable, `${subject} has successfully progressed.`, now));
    } else if (deploymentProgressing(d, s)) {
      const c = newCondition('Progressing', 'True', REASON.replicaSetUpdated, `${subject} is progressing.`, now);
      // Refresh lastUpdateTime (the deadline clock) but keep lastTransitionTime while it stays True.
      if (current?.status === 'True') c.lastTransitionTime = current.lastTransitionTime;
      s.conditions = [...removeCondition(s.conditions, 'Progressing'), c];
    } else if (deploymentTimedOut(d, s, now)) {
      s.conditions = setCondition(s.conditions, newCondition('Progressing', 'False', REASON.timedOut, `${subject} has timed out progressing.`, now));
    }
  }
  const failure = newRs ? ((statusOf(newRs).conditions ?? []) as DeploymentCondition[]).find((c) => c.type === 'ReplicaFailure' && c.status === 'True') : undefined;
  s.conditions = failure
    ? setCondition(s.conditions, newCondition('ReplicaFailure', 'True', failure.reason, failure.message, now))
    : removeCondition(s.conditions, 'ReplicaFailure');
  return s;
}

/**
 * requeueStuckDeployment: when a rollout is still in progress, the time (ms from now) at which
 * the progress deadline would pass, so the controller looks again then; undefined otherwise.
 */
export function msUntilDeadline(d: KubeObject, s: DeploymentStatus, now: number): number | undefined {
  const c = getCondition(s.conditions, 'Progressing');
  if (!hasProgressDeadline(d) || !c || c.reason === REASON.newRSAvailable || c.reason === REASON.timedOut) return undefined;
  if (deploymentComplete(d, s)) return undefined;
  const from = parseTime(c.lastUpdateTime);
  if (from === undefined) return undefined;
  const after = from + (specOf(d).progressDeadlineSeconds ?? 0) * 1000 - now;
  return after < 1000 ? 0 : after + 1000;
}
