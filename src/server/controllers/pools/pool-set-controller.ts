/**
 * The PoolSet controller: one Deployment or StatefulSet per targeted node pool, named
 * `<poolset>-<pool>`, rendered from the template and the pool's tweaks and pinned to the pool
 * (kinds/pool-set-render.ts). A pool that joins gets its workload at once, one that leaves (or
 * whose NodePool goes) loses it; a template change rolls out pool by pool (pool-rollout.ts) and
 * each pool's workload rolls as its own controller rolls it. Status: a line per pool, counts,
 * and the Ready, Progressing, PoolFound and WorkloadFailure conditions.
 */
import { list as asList } from '../../kinds/access.ts';
import { selectorMatches } from '../../kinds/label-selector.ts';
import { poolTemplates, renderPoolWorkload, workloadName } from '../../kinds/pool-set-render.ts';
import type { WorkloadKind } from '../../kinds/pool-set-render.ts';
import { POOL_LABEL } from '../../../common/pools.ts';
import { controllerOf, objectKey, splitKey } from '../keys.ts';
import type { Controller, ControllerContext, ControllerDescriptor, KubeObject, ResourceRef, WorkQueue } from '../types.ts';
import { AlreadyExistsError, ApiError, ConflictError, NotFoundError, inNamespace, resources } from '../types.ts';
import { childEventHandler, ownerEventHandler } from '../workloads/child-events.ts';
import { controllerRefTo } from '../workloads/owner-refs.ts';
import { computeTemplateHash } from '../workloads/pod-template-hash.ts';
import { queueController } from '../workloads/queue-controller.ts';
import { writeStatus } from '../workloads/status-writer.ts';
import { rfc3339 } from '../workloads/timestamps.ts';
import { conditionsFor } from './pool-set-status.ts';
import type { PoolSetCondition, PoolSetFacts } from './pool-set-status.ts';
import { planRollout } from './pool-rollout.ts';
import type { PoolView } from './pool-rollout.ts';
import { REVISION_ANNOTATION, REVISION_TIME_ANNOTATION, countsOf, workloadReady, workloadRolledOut, writtenAt, writtenRevision } from './pool-workloads.ts';
import type { NodePool } from './pool-index.ts';

const API_VERSION = 'apps.edgeos.io/v1';

interface PoolSetSpec {
  pools?: string[];
  nodepoolSelector?: unknown;
  canaryPools?: string[];
  maxConcurrentPools?: number;
  progressDeadlineSeconds?: number;
  paused?: boolean;
  workload?: unknown;
}

interface PoolEntry {
  name: string;
  workload: string;
  revision?: string;
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  rolledOut: boolean;
}

interface PoolSetObject extends KubeObject {
  spec?: PoolSetSpec;
  status?: { updateRevision?: string; pools?: PoolEntry[]; conditions?: PoolSetCondition[] };
}

const specOf = (ps: PoolSetObject): PoolSetSpec => ps.spec ?? {};

export function createPoolSetController(ctx: ControllerContext): Controller {
  const poolSets = ctx.informers.informerFor<PoolSetObject>(resources.poolSets);
  const nodePools = ctx.informers.informerFor<NodePool>(resources.nodePools);
  const workloads: Record<WorkloadKind, { ref: ResourceRef; informer: ReturnType<typeof ctx.informers.informerFor> }> = {
    Deployment: { ref: resources.deployments, informer: ctx.informers.informerFor(resources.deployments) },
    StatefulSet: { ref: resources.statefulSets, informer: ctx.informers.informerFor(resources.statefulSets) },
  };

  /** The NodePools the PoolSet targets (by name or selector), and the names it gives that do not exist. */
  function targets(ps: PoolSetObject): { pools: NodePool[]; missing: string[] } {
    const spec = specOf(ps);
    const names = asList(spec.pools).map(String);
    const live = nodePools.list().filter((p) => !p.metadata.deletionTimestamp);
    const pools = live.filter((p) => names.includes(p.metadata.name ?? '') || (spec.nodepoolSelector !== undefined && selectorMatches(spec.nodepoolSelector, p.metadata.labels ?? {})));
    const missing = names.filter((n) => !live.some((p) => p.metadata.name === n));
    return { pools: pools.sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1)), missing };
  }

  function stamp(obj: KubeObject, revision: string): KubeObject {
    obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision, [REVISION_TIME_ANNOTATION]: rfc3339(ctx.clock.now()) };
    return obj;
  }

  async function sync(key: string, queue: WorkQueue): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ps = poolSets.get(namespace, name);
    if (!ps || ps.metadata.deletionTimestamp) return;
    const ns = namespace ?? '';
    const spec = specOf(ps);
    const template = poolTemplates(ps)[0];
    if (!template) return;
    const kind = template.kind;
    const { ref, informer } = workloads[kind];
    const nsRef = inNamespace(ref, ns);
    const now = ctx.clock.now();
    const failures: string[] = [];

    const owned = new Map<string, KubeObject>();
    for (const w of informer.list(ns)) {
      if (controllerOf(w)?.uid !== ps.metadata.uid) continue;
      const pool = w.metadata.labels?.[POOL_LABEL];
      if (pool) owned.set(pool, w);
    }
    const { pools, missing } = targets(ps);

    // Render each pool's workload; its hash is the pool's desired revision.
    const desired = new Map<string, { object: KubeObject; revision: string }>();
    for (const pool of pools) {
      const poolName = pool.metadata.name ?? '';
      const r = renderPoolWorkload(ps, { name: poolName, labels: pool.metadata.labels ?? {} });
      if (!r) continue;
      if ('failure' in r) {
        failures.push(`pool ${poolName}: ${r.failure.field}: ${r.failure.message}`);
        continue;
      }
      // render() always fills metadata (name, namespace, labels).
      const object = r.object as KubeObject;
      desired.set(poolName, { object, revision: computeTemplateHash({ metadata: object.metadata, spec: object.spec }) });
    }

    // Pools no longer targeted lose their workload.
    for (const [pool, w] of owned) {
      if (desired.has(pool) || pools.some((p) => p.metadata.name === pool)) continue;
      try {
        await ctx.client.delete(nsRef, w.metadata.name ?? '', { propagationPolicy: 'Background', preconditions: { uid: w.metadata.uid ?? '' } });
        ctx.recorder.event(ps, 'Normal', 'SuccessfulDelete', `Deleted ${kind} ${w.metadata.name ?? ''}: pool ${pool} is no longer targeted`);
      } catch (err) {
        if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) throw err;
      }
      owned.delete(pool);
    }

    const recorded = new Map((ps.status?.pools ?? []).map((e) => [e.name, e]));
    const revisionOfSet = computeTemplateHash(spec.workload ?? {});
    const previous = ps.status?.conditions?.find((c) => c.type === 'Progressing');
    const sameRollout = ps.status?.updateRevision === revisionOfSet;
    const paused = spec.paused === true;
    // Unpausing lifts a halt and restarts the deadline of the pools that were updating.
    const resumed = !paused && previous?.reason === 'RolloutPaused';
    const views: PoolView[] = [...desired].map(([pool, d]) => {
      const w = owned.get(pool);
      const written = w ? writtenRevision(w) : undefined;
      const entry = recorded.get(pool);
      const rolledOut = w !== undefined && (workloadRolledOut(w, kind) || (entry?.rolledOut === true && entry.revision === written));
      return { pool, desired: d.revision, ...(written !== undefined ? { written } : {}), ...(w && writtenAt(w) !== undefined ? { writtenAt: resumed ? now : writtenAt(w) } : {}), rolledOut };
    });
    if (resumed) {
      for (const v of views.filter((x) => x.written === x.desired && !x.rolledOut)) {
        const w = owned.get(v.pool);
        if (w) await ctx.client.patch(nsRef, w.metadata.name ?? '', 'merge', { metadata: { annotations: { [REVISION_TIME_ANNOTATION]: rfc3339(now) } } });
      }
    }
    const wasHalted = !resumed && !paused && sameRollout && previous?.reason === 'ProgressDeadlineExceeded';
    const plan = planRollout(views, {
      canaryPools: asList(spec.canaryPools).map(String),
      maxConcurrentPools: spec.maxConcurrentPools ?? 1,
      progressDeadlineMs: (spec.progressDeadlineSeconds ?? 600) * 1000,
      paused,
      halted: wasHalted,
    }, now);

    for (const pool of plan.create) {
      const d = desired.get(pool)!;
      const obj = stamp(structuredClone(d.object), d.revision);
      obj.metadata.ownerReferences = [controllerRefTo(ps, API_VERSION, 'PoolSet')];
      try {
        owned.set(pool, await ctx.client.create(nsRef, obj, { fieldManager: 'poolset-controller' }));
        ctx.recorder.event(ps, 'Normal', 'SuccessfulCreate', `Created ${kind} ${obj.metadata.name ?? ''} for pool ${pool}`);
      } catch (err) {
        if (err instanceof AlreadyExistsError) failures.push(`${kind} ${obj.metadata.name ?? ''} exists and is not controlled by this PoolSet`);
        else if (err instanceof ApiError && err.status === 422) failures.push(`pool ${pool}: ${err.message}`);
        else throw err;
      }
    }
    for (const pool of plan.start) {
      const d = desired.get(pool)!;
      const current = owned.get(pool)!;
      const next = stamp(structuredClone(d.object), d.revision);
      const updated: KubeObject = {
        ...current,
        metadata: {
          ...current.metadata,
          labels: { ...(current.metadata.labels ?? {}), ...(next.metadata.labels ?? {}) },
          annotations: { ...(current.metadata.annotations ?? {}), ...(next.metadata.annotations ?? {}) },
        },
        spec: next.spec,
      };
      try {
        owned.set(pool, await ctx.client.update(nsRef, updated, { fieldManager: 'poolset-controller' }));
        ctx.recorder.event(ps, 'Normal', 'PoolUpdating', `Updating pool ${pool}: ${kind} ${current.metadata.name ?? ''} to revision ${d.revision}`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 422) failures.push(`pool ${pool}: ${err.message}`);
        else throw err;
      }
    }

    // A halt holds while pools still wait for their turn; with none left the rollout is simply over.
    const halted = (wasHalted && plan.pending.length > 0) || plan.overdue.length > 0;
    if (halted && previous?.reason !== 'ProgressDeadlineExceeded')
      ctx.recorder.event(ps, 'Warning', 'PoolRolloutHalted', `Pool ${plan.overdue.join(', ')} not ready ${spec.progressDeadlineSeconds ?? 600}s after its update: the rollout is halted until the template changes or the PoolSet is paused and resumed`);
    for (const m of missing) if (!ps.status?.conditions?.some((c) => c.type === 'PoolFound' && c.status === 'False' && c.message?.includes(m))) ctx.recorder.event(ps, 'Warning', 'PoolNotFound', `NodePool ${m} does not exist`);

    const entries: PoolEntry[] = [...owned].filter(([pool]) => desired.has(pool)).map(([pool, w]) => {
      const revision = writtenRevision(w);
      const view = views.find((v) => v.pool === pool);
      return { name: pool, workload: w.metadata.name ?? workloadName(name, pool), ...(revision ? { revision } : {}), ...countsOf(w), rolledOut: revision === view?.written && view?.rolledOut === true };
    }).sort((a, b) => (a.name < b.name ? -1 : 1));
    const ready = entries.filter((e) => { const w = owned.get(e.name); return w !== undefined && workloadReady(w); });
    // Updated: written from the current template and tweaks, and rolled out there (no old replica left).
    const updatedCount = entries.filter((e) => e.revision === desired.get(e.name)?.revision && e.rolledOut);
    const facts: PoolSetFacts = {
      targets: desired.size,
      missing,
      notReady: entries.filter((e) => !ready.includes(e) || !updatedCount.includes(e)).map((e) => e.name),
      failures,
      paused,
      halted,
      overdue: plan.overdue,
      updating: plan.updating,
      pending: plan.pending,
      done: desired.size - plan.updating.length - plan.pending.length,
      revision: revisionOfSet,
      progressDeadlineSeconds: spec.progressDeadlineSeconds ?? 600,
    };
    await writeStatus(ctx.client, resources.poolSets, ps, {
      observedGeneration: ps.metadata.generation ?? 0,
      updateRevision: revisionOfSet,
      totalWorkloads: entries.length,
      readyWorkloads: ready.length,
      updatedWorkloads: updatedCount.length,
      pools: entries,
      conditions: conditionsFor(ps.status?.conditions ?? [], facts, now),
    });
    if (plan.recheckInMs !== undefined && !halted) queue.addAfter(key, plan.recheckInMs + 1000);
  }

  return queueController(ctx, {
    name: 'poolset',
    wire: (queue) => {
      const everyPoolSet = () => {
        for (const ps of poolSets.list()) queue.add(objectKey(ps));
      };
      return [
        poolSets.addEventHandler(ownerEventHandler(queue)),
        nodePools.addEventHandler({
          add: everyPoolSet,
          update: (before, p) => {
            if (JSON.stringify(before.metadata.labels ?? {}) !== JSON.stringify(p.metadata.labels ?? {}) || Boolean(before.metadata.deletionTimestamp) !== Boolean(p.metadata.deletionTimestamp)) everyPoolSet();
          },
          delete: everyPoolSet,
        }),
        ...Object.values(workloads).map((w) => w.informer.addEventHandler(childEventHandler({ kind: 'PoolSet', owners: poolSets, queue }))),
      ];
    },
    sync,
  });
}

export const poolSetController: ControllerDescriptor = { name: 'poolset', create: createPoolSetController };
