/**
 * What deleting one object means, as store operations (so one request commits all or nothing):
 *  - finalizers present (or added by Foreground/Orphan-free policies) → set deletionTimestamp and
 *    keep the object until an update removes the last finalizer (mutate.ts deletes it then);
 *  - kinds that always terminate (namespaces: the descriptor's deletion.terminate) → marked and
 *    kept with deletionTimestamp; emptying the namespace and removing the `kubernetes` finalizer
 *    is the namespace controller's job;
 *  - graceful kinds (pods: deletion.gracePeriodSeconds) with a non-zero grace period →
 *    deletionTimestamp + deletionGracePeriodSeconds, the agent removes them once the containers
 *    stopped; unbound pods (no agent will ever act on them) and grace 0 are deleted at once;
 *  - otherwise → delete, plus dependent keys (ClusterIP) and, until the garbage collector of the
 *    controllers issue exists, the owner-reference cascade (cascade.ts).
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
import { conflict } from '../status.ts';
import { planCascade } from './cascade.ts';
import type { DeleteOptions } from './delete-options.ts';

export interface DeletePlan {
  readonly ops: TxnOp[];
  /** The object as the response shows it (with deletionTimestamp when it stays). */
  readonly result: KubeObject;
  /** Keys removed by this plan, so a cascade never plans one twice. */
  readonly removedKeys: Set<string>;
  /** Hooks to run after commit. */
  readonly after: Array<() => void>;
  /** Owner uid → dependents, per namespace, read once per request by the cascade. */
  readonly dependents: Map<string, Map<string, Dependent[]>>;
}

export interface Dependent {
  readonly resource: ResourceInfo;
  readonly current: Current;
}

export function emptyPlan(): DeletePlan {
  return { ops: [], result: {}, removedKeys: new Set(), after: [], dependents: new Map() };
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
  const terminate = policy?.terminate;
  if (terminate) {
    return keep(() => {
      m.deletionTimestamp ??= rfc3339(now);
      m.deletionGracePeriodSeconds ??= 0;
      terminate(obj);
    });
  }
  if (finalizersOf(obj).length > 0) {
    return keep(() => {
      m.deletionTimestamp ??= rfc3339(now);
      m.deletionGracePeriodSeconds ??= 0;
    });
  }
  const grace = policy?.gracePeriodSeconds?.(obj, o.gracePeriodSeconds) ?? 0;
  if (grace > 0) {
    const current = typeof m.deletionGracePeriodSeconds === 'number' ? m.deletionGracePeriodSeconds : Infinity;
    // A repeated delete may only shorten the grace period (apiserver's BeforeDelete).
    if (grace < current) {
      return keep(() => {
        m.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
        m.deletionGracePeriodSeconds = grace;
      });
    }
    plan.removedKeys.add(key);
    return obj;
  }

  plan.removedKeys.add(key);
  plan.ops.push({ op: 'delete', key, expectedModRevision: cur.kv.modRevision });
  const hooks = hooksFor(r);
  if (hooks.beforeDelete) plan.ops.push(...(await hooks.beforeDelete(d, cur.obj)));
  if (hooks.afterWrite) {
    const afterWrite = hooks.afterWrite;
    plan.after.push(() => afterWrite(d, name, undefined));
  }
  await planCascade(d, r, cur.obj, o, plan);
  return obj;
}
