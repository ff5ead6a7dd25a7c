/**
 * What deleting one object means, as store operations (so one request commits all or nothing),
 * after apiserver's generic registry (Store.Delete, rest.BeforeDelete):
 *  - a graceful deletion in progress (pods) may only be shortened; the delete options change
 *    nothing else then;
 *  - the garbage collector's finalizers follow the propagation policy (Orphan adds `orphan`,
 *    Foreground adds `foregroundDeletion`, Background removes both; without a policy the object
 *    keeps the ones it has). The garbage collector (controllers/gc) then orphans or deletes the
 *    dependents and removes its finalizer; after a Background delete it removes the dependents
 *    whose owner is gone. The API itself never walks owner references;
 *  - kinds that always terminate (namespaces: the descriptor's deletion.terminate) → marked and
 *    kept with deletionTimestamp; emptying the namespace and removing the `kubernetes` finalizer
 *    is the namespace controller's job;
 *  - graceful kinds (pods: deletion.gracePeriodSeconds) with a non-zero grace period →
 *    deletionTimestamp + deletionGracePeriodSeconds, the agent removes them once the containers
 *    stopped; unbound pods (no agent will ever act on them) and grace 0 are not graceful;
 *  - finalizers present → deletionTimestamp, kept until an update removes the last finalizer
 *    (mutate.ts deletes it then);
 *  - otherwise → delete, plus the keys the kind's hooks release (ClusterIP, NodePorts, a CRD's
 *    custom resources).
 */
import type { TxnOp } from '../../../store/types.ts';
import { present } from '../../kinds/types.ts';
import type { KubeObject } from '../../kinds/types.ts';
import { objectKey } from '../../registry/index.ts';
import type { ResourceInfo } from '../../registry/index.ts';
import type { ApiDeps } from '../context.ts';
import { hooksFor } from '../hooks.ts';
import { encodeForStore, finalizersOf, meta, metaString } from '../../storage/objects.ts';
import { rfc3339 } from '../../kinds/age.ts';
import type { Current } from '../../storage/types.ts';
import { conflict } from '../../storage/status.ts';
import type { DeleteOptions, Propagation } from './delete-options.ts';

/** metav1.FinalizerOrphanDependents and metav1.FinalizerDeleteDependents. */
const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';

export interface DeletePlan {
  readonly ops: TxnOp[];
  /** Keys this plan removes or marks, so a collection delete never plans one twice. */
  readonly removedKeys: Set<string>;
  /** Hooks to run after commit. */
  readonly after: Array<() => void>;
}

export function emptyPlan(): DeletePlan {
  return { ops: [], removedKeys: new Set(), after: [] };
}

function checkPreconditions(r: ResourceInfo, cur: Current, o: DeleteOptions): void {
  const name = metaString(cur.obj, 'name');
  const uid = metaString(cur.obj, 'uid');
  if (o.preconditionUid !== undefined && o.preconditionUid !== uid) {
    throw conflict(r, name, `Precondition failed: UID in precondition: ${o.preconditionUid}, UID in object meta: ${uid}`);
  }
  const rv = String(cur.kv.modRevision);
  if (o.preconditionResourceVersion !== undefined && o.preconditionResourceVersion !== rv) {
    throw conflict(r, name, `Precondition failed: ResourceVersion in precondition: ${o.preconditionResourceVersion}, ResourceVersion in object meta: ${rv}`);
  }
}

/**
 * genericregistry's deletionFinalizersForGarbageCollection: the object's finalizers with the
 * garbage collector's two set as the propagation policy asks (an explicit policy wins; without one
 * the finalizers already there stay).
 */
function withGcFinalizers(finalizers: readonly string[], propagation: Propagation | undefined): string[] {
  const orphan = propagation === undefined ? finalizers.includes(ORPHAN) : propagation === 'Orphan';
  const foreground = propagation === undefined ? finalizers.includes(FOREGROUND) : propagation === 'Foreground';
  const out = finalizers.filter((f) => f !== ORPHAN && f !== FOREGROUND);
  if (orphan) out.push(ORPHAN);
  if (foreground) out.push(FOREGROUND);
  return out;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Add the plan for deleting `cur` to `plan` and return the object as the response shows it. */
export async function planDelete(d: ApiDeps, r: ResourceInfo, cur: Current, o: DeleteOptions, plan: DeletePlan): Promise<KubeObject> {
  checkPreconditions(r, cur, o);
  const obj = structuredClone(cur.obj);
  const m = meta(obj);
  const name = metaString(obj, 'name');
  const key = objectKey(r, metaString(obj, 'namespace'), name);
  if (plan.removedKeys.has(key)) return obj;
  const now = d.now();
  const keep = (mutate: () => void): KubeObject => {
    const already = Boolean(m.deletionTimestamp);
    mutate();
    if (!already || JSON.stringify(obj) !== JSON.stringify(cur.obj)) {
      plan.ops.push({ op: 'update', key, value: encodeForStore(r, obj), expectedModRevision: cur.kv.modRevision });
    }
    plan.removedKeys.add(key);
    return obj;
  };

  const policy = r.builtin && present(r.builtin.deletion);
  const grace = policy?.gracePeriodSeconds?.(obj, o.gracePeriodSeconds) ?? 0;
  const pendingGrace = m.deletionTimestamp && typeof m.deletionGracePeriodSeconds === 'number' ? m.deletionGracePeriodSeconds : 0;
  // A repeated delete may only shorten a graceful deletion in progress (rest.BeforeDelete).
  if (grace > 0 && pendingGrace > 0 && grace >= pendingGrace) {
    plan.removedKeys.add(key);
    return obj;
  }

  const finalizers = withGcFinalizers(finalizersOf(obj), o.propagation);
  if (!sameSet(finalizers, finalizersOf(obj))) {
    if (finalizers.length > 0) m.finalizers = finalizers;
    else delete m.finalizers;
  }
  const terminate = policy?.terminate;
  if (terminate) {
    return keep(() => {
      m.deletionTimestamp ??= rfc3339(now);
      m.deletionGracePeriodSeconds ??= 0;
      terminate(obj);
    });
  }
  if (grace > 0) {
    return keep(() => {
      m.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
      m.deletionGracePeriodSeconds = grace;
    });
  }
  if (finalizers.length > 0) {
    // genericregistry's markAsDeleting: deleted now, held by its finalizers.
    return keep(() => {
      if (typeof m.deletionTimestamp !== 'string' || Date.parse(m.deletionTimestamp) > now.getTime()) m.deletionTimestamp = rfc3339(now);
      m.deletionGracePeriodSeconds = 0;
    });
  }

  plan.removedKeys.add(key);
  plan.ops.push({ op: 'delete', key, expectedModRevision: cur.kv.modRevision });
  const hooks = hooksFor(r);
  if (hooks.beforeDelete) plan.ops.push(...(await hooks.beforeDelete(d, cur.obj)));
  if (hooks.afterWrite) {
    const afterWrite = hooks.afterWrite;
    plan.after.push(() => afterWrite(d, name, undefined));
  }
  return obj;
}
