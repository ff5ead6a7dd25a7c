/**
 * Deployment revisions (pkg/controller/deployment/util): which ReplicaSet is "new" (its template
 * equals the Deployment's, ignoring the pod-template-hash label), the revision annotations the
 * controller keeps on ReplicaSets — `kubectl rollout history/undo` read them (kubectl-wire §9) —
 * and which old ReplicaSets revisionHistoryLimit lets go.
 */
import { jsonEqual } from '../../kinds/access.ts';
import type { KubeObject } from '../types.ts';
import { creationTime } from './pods.ts';
import { POD_TEMPLATE_HASH_LABEL, semanticValue } from './pod-template-hash.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';

/** Deployment annotations never copied to ReplicaSets (annotationsToSkip). */
const SKIPPED_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

export function revisionOf(rs: KubeObject): number {
  const n = Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '');
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export function maxRevision(sets: readonly KubeObject[]): number {
  return sets.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

function withoutHashLabel(template: unknown): unknown {
  const t = structuredClone((template ?? {}) as { metadata?: { labels?: Record<string, string> } });
  if (t.metadata?.labels) {
    delete t.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    if (Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  }
  return semanticValue(t);
}

/** EqualIgnoreHash: two pod templates equal apart from the pod-template-hash label. */
export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  return jsonEqual(withoutHashLabel(a), withoutHashLabel(b));
}

export function byCreation(a: KubeObject, b: KubeObject): number {
  const d = creationTime(a) - creationTime(b);
  return d !== 0 ? d : (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template matches the Deployment's. */
export function findNewReplicaSet(deployment: KubeObject, sets: readonly KubeObject[]): KubeObject | undefined {
  const template = (deployment.spec as { template?: unknown } | undefined)?.template;
  return [...sets].sort(byCreation).find((rs) => equalIgnoreHash((rs.spec as { template?: unknown } | undefined)?.template, template));
}

/**
 * The annotation changes SetNewReplicaSetAnnotations makes to the new ReplicaSet: copy the
 * Deployment's own annotations (change-cause and the like), raise the revision to `newRevision`
 * when it is lower (recording the former one in revision-history, as after an undo), and on a
 * freshly created ReplicaSet the desired/max replica counts. Returns undefined when nothing changes.
 */
export function newReplicaSetAnnotations(
  deployment: KubeObject,
  rs: KubeObject,
  newRevision: number,
  opts: { created: boolean; desired: number; maxReplicas: number },
): Record<string, string> | undefined {
  const current = rs.metadata.annotations ?? {};
  const next: Record<string, string> = { ...current };
  for (const [k, v] of Object.entries(deployment.metadata.annotations ?? {})) if (!SKIPPED_ANNOTATIONS.has(k)) next[k] = v;
  const old = revisionOf(rs);
  if (old < newRevision) {
    next[REVISION_ANNOTATION] = String(newRevision);
    if (old > 0) {
      const history = current[REVISION_HISTORY_ANNOTATION];
      next[REVISION_HISTORY_ANNOTATION] = history ? `${history},${old}` : String(old);
    }
  }
  if (opts.created) {
    next[DESIRED_REPLICAS_ANNOTATION] = String(opts.desired);
    next[MAX_REPLICAS_ANNOTATION] = String(opts.maxReplicas);
  }
  return jsonEqual(next, current) ? undefined : next;
}

/**
 * cleanupDeployment: of the old ReplicaSets that are not being deleted, the lowest revisions beyond
 * revisionHistoryLimit — but only those fully scaled down and observed at their latest generation.
 */
export function replicaSetsToPrune(oldSets: readonly KubeObject[], limit: number): KubeObject[] {
  const cleanable = oldSets.filter((rs) => !rs.metadata.deletionTimestamp);
  const excess = cleanable.length - limit;
  if (excess <= 0) return [];
  const byRevision = [...cleanable].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  return byRevision.slice(0, excess).filter((rs) => {
    const spec = (rs.spec ?? {}) as { replicas?: number };
    const status = (rs.status ?? {}) as { replicas?: number; observedGeneration?: number };
    return (status.replicas ?? 0) === 0 && (spec.replicas ?? 0) === 0 && (rs.metadata.generation ?? 0) <= (status.observedGeneration ?? 0);
  });
}
