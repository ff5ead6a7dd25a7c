/**
 * The Deployment controller's writes to its ReplicaSets (pkg/controller/deployment/sync.go):
 * finding or creating the new ReplicaSet `<deployment>-<pod-template-hash>` with its revision
 * annotations, scaling a ReplicaSet with the ScalingReplicaSet event, and pruning old ones past
 * revisionHistoryLimit. Every write carries the cached resourceVersion, so a stale cache turns
 * into a conflict and a retry, never a lost update.
 */
import type { ControllerContext, KubeObject } from '../types.ts';
import { AlreadyExistsError, ConflictError, inNamespace, NotFoundError, resources } from '../types.ts';
import { controllerOf } from '../keys.ts';
import { desiredReplicas, isRollingUpdate } from './deployment-status.ts';
import { controllerRefTo } from './owner-refs.ts';
import { computeTemplateHash, POD_TEMPLATE_HASH_LABEL } from './pod-template-hash.ts';
import { resolveFenceposts, newReplicaSetReplicas } from './replica-math.ts';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  REVISION_ANNOTATION,
  equalIgnoreHash,
  findNewReplicaSet,
  maxRevision,
  newReplicaSetAnnotations,
  replicaSetsToPrune,
} from './revisions.ts';

interface DeploymentSpec {
  replicas?: number;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  template?: { metadata?: { labels?: Record<string, string> } & Record<string, unknown> } & Record<string, unknown>;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } };
}

export const deploymentSpec = (d: KubeObject): DeploymentSpec => (d.spec ?? {}) as DeploymentSpec;
export const rsReplicas = (rs: KubeObject): number => (rs.spec as { replicas?: number } | undefined)?.replicas ?? 0;
export const rsStatus = (rs: KubeObject, field: string): number => {
  const v = (rs.status as Record<string, unknown> | undefined)?.[field];
  return typeof v === 'number' ? v : 0;
};

/** MaxSurge(d): 0 for Recreate. */
export function deploymentMaxSurge(d: KubeObject): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = deploymentSpec(d).strategy?.rollingUpdate ?? {};
  return resolveFenceposts(ru.maxSurge ?? '25%', ru.maxUnavailable ?? '25%', desiredReplicas(d)).surge;
}

/** The desired/max-replicas annotations SetReplicasAnnotations keeps on every scaled ReplicaSet. */
function replicasAnnotations(d: KubeObject): Record<string, string> {
  const desired = desiredReplicas(d);
  return { [DESIRED_REPLICAS_ANNOTATION]: String(desired), [MAX_REPLICAS_ANNOTATION]: String(desired + deploymentMaxSurge(d)) };
}

/**
 * scaleReplicaSet: set spec.replicas (and the replicas annotations) when either differs, then
 * record "Scaled up replica set web-7d4b9c6f5 from 0 to 3". Returns the updated ReplicaSet.
 */
export async function scaleReplicaSet(ctx: ControllerContext, d: KubeObject, rs: KubeObject, size: number): Promise<KubeObject> {
  const from = rsReplicas(rs);
  const wanted = replicasAnnotations(d);
  const annotations = rs.metadata.annotations ?? {};
  const annotationsStale = Object.entries(wanted).some(([k, v]) => annotations[k] !== v);
  if (from === size && !annotationsStale) return rs;
  const next = structuredClone(rs);
  next.metadata.annotations = { ...annotations, ...wanted };
  next.spec = { ...(next.spec as object), replicas: size };
  const updated = await ctx.client.update(inNamespace(resources.replicaSets, rs.metadata.namespace ?? ''), next);
  if (from !== size) {
    const direction = size > from ? 'up' : 'down';
    ctx.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${direction} replica set ${rs.metadata.name ?? ''} from ${from} to ${size}`);
  }
  return updated;
}

export interface ReplicaSetView {
  /** The ReplicaSet whose template equals the Deployment's, if any. */
  newRs: KubeObject | undefined;
  olds: KubeObject[];
}

/** FindOldReplicaSets plus FindNewReplicaSet, without writing anything. */
export function splitReplicaSets(d: KubeObject, sets: readonly KubeObject[]): ReplicaSetView {
  const newRs = findNewReplicaSet(d, sets);
  return { newRs, olds: sets.filter((rs) => rs !== newRs) };
}

/** Store the new ReplicaSet's revision on the Deployment (SetDeploymentRevision), as upstream shows it. */
async function syncDeploymentRevision(ctx: ControllerContext, d: KubeObject, revision: string): Promise<void> {
  if (d.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
  await ctx.client.patch(inNamespace(resources.deployments, d.metadata.namespace ?? ''), d.metadata.name ?? '', 'merge', {
    metadata: { annotations: { [REVISION_ANNOTATION]: revision } },
  });
}

/**
 * getAllReplicaSetsAndSyncRevision: bring the new ReplicaSet's annotations (revision = max old + 1)
 * and minReadySeconds up to date, or create it when `create` is set and none matches. Returns the
 * new ReplicaSet (undefined when none exists and none was created) and whether it was just created.
 */
export async function syncNewReplicaSet(ctx: ControllerContext, d: KubeObject, sets: readonly KubeObject[], create: boolean): Promise<{ view: ReplicaSetView; created: boolean }> {
  const { newRs, olds } = splitReplicaSets(d, sets);
  const spec = deploymentSpec(d);
  const ns = d.metadata.namespace ?? '';
  const newRevision = maxRevision(olds) + 1;
  const desired = desiredReplicas(d);
  const maxReplicas = desired + deploymentMaxSurge(d);
  if (newRs) {
    const annotations = newReplicaSetAnnotations(d, newRs, newRevision, { created: false, desired, maxReplicas });
    const minReady = spec.minReadySeconds ?? 0;
    const rsMinReady = (newRs.spec as { minReadySeconds?: number } | undefined)?.minReadySeconds ?? 0;
    let current = newRs;
    if (annotations || minReady !== rsMinReady) {
      const next = structuredClone(newRs);
      if (annotations) next.metadata.annotations = annotations;
      next.spec = { ...(next.spec as object), minReadySeconds: minReady };
      current = await ctx.client.update(inNamespace(resources.replicaSets, ns), next);
    }
    await syncDeploymentRevision(ctx, d, current.metadata.annotations?.[REVISION_ANNOTATION] ?? String(newRevision));
    return { view: { newRs: current, olds }, created: false };
  }
  if (!create) return { view: { newRs: undefined, olds }, created: false };

  const collisionCount = (d.status as { collisionCount?: number } | undefined)?.collisionCount;
  const template = structuredClone(spec.template ?? {});
  const hash = computeTemplateHash(template, collisionCount);
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
  const selector = structuredClone(spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const name = `${d.metadata.name ?? ''}-${hash}`;
  const fresh: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: ns, labels: { ...(template.metadata.labels ?? {}) }, ownerReferences: [controllerRefTo(d, 'apps/v1', 'Deployment')] },
    spec: { replicas: 0, minReadySeconds: spec.minReadySeconds ?? 0, selector, template },
  };
  const total = olds.reduce((n, rs) => n + rsReplicas(rs), 0);
  const ru = spec.strategy?.rollingUpdate ?? {};
  const replicas = isRollingUpdate(d) ? newReplicaSetReplicas(desired, ru.maxSurge ?? '25%', ru.maxUnavailable ?? '25%', total, 0) : desired;
  (fresh.spec as { replicas: number }).replicas = replicas;
  fresh.metadata.annotations = newReplicaSetAnnotations(d, fresh, newRevision, { created: true, desired, maxReplicas }) ?? {};
  let created: KubeObject;
  try {
    created = await ctx.client.create(inNamespace(resources.replicaSets, ns), fresh);
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
    // Our cache may just lag: the namesake is ours if we control it and its template matches.
    const existing = await ctx.client.get(inNamespace(resources.replicaSets, ns), name).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (existing && controllerOf(existing)?.uid === d.metadata.uid && equalIgnoreHash((existing.spec as { template?: unknown }).template, spec.template)) {
      return { view: { newRs: existing, olds }, created: false };
    }
    // A true hash collision: bump collisionCount so the next sync computes a different name.
    await ctx.client.patch(inNamespace(resources.deployments, ns), d.metadata.name ?? '', 'merge', { status: { collisionCount: (collisionCount ?? 0) + 1 } }, { subresource: 'status' });
    throw new ConflictError(`replica set ${name} already exists with a different template; collisionCount raised`);
  }
  if (replicas > 0) ctx.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
  await syncDeploymentRevision(ctx, d, String(newRevision));
  return { view: { newRs: created, olds }, created: true };
}

/** cleanupDeployment: delete old ReplicaSets beyond revisionHistoryLimit. */
export async function pruneOldReplicaSets(ctx: ControllerContext, d: KubeObject, olds: readonly KubeObject[]): Promise<void> {
  const limit = deploymentSpec(d).revisionHistoryLimit;
  if (limit === undefined) return;
  for (const rs of replicaSetsToPrune(olds, limit)) {
    await ctx.client
      .delete(inNamespace(resources.replicaSets, rs.metadata.namespace ?? ''), rs.metadata.name ?? '', { preconditions: { uid: rs.metadata.uid } })
      .catch((e: unknown) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
  }
}
