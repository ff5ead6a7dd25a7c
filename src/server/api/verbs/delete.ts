/** DELETE one object (kubectl-wire.md §7). Replies 200 with the object, carrying deletionTimestamp when it stays. */
import { ConflictError } from '../../../store/errors.ts';
import type { ApiDeps, Call } from '../context.ts';
import { readDeleteOptions } from '../delete/delete-options.ts';
import { emptyPlan, planDelete } from '../delete/plan-delete.ts';
import { respondObject } from '../present.ts';
import { mustRead } from '../../storage/read.ts';
import { translateStoreError } from '../../storage/store-errors.ts';

/**
 * How often a delete that met a concurrent write (a kubelet's status patch landing between the
 * read and the write, say) reads and plans again. etcd3's conditionalDelete retries the same way:
 * a DELETE answers 409 only for a precondition that fails, never for a write it raced.
 */
const ATTEMPTS = 10;

export async function deleteObject(d: ApiDeps, c: Call): Promise<void> {
  const o = await readDeleteOptions(c.req, c.query);
  for (let attempt = 1; ; attempt++) {
    const cur = await mustRead(d.store, c.resource, c.info.namespace, c.info.name);
    const plan = emptyPlan();
    const result = await planDelete(d, c.resource, cur, o, plan);
    if (!o.dryRun && plan.ops.length > 0) {
      try {
        await d.store.txn(plan.ops);
      } catch (e) {
        if (e instanceof ConflictError && attempt < ATTEMPTS) continue;
        throw translateStoreError(e, c.resource, c.info.name);
      }
      for (const f of plan.after) f();
    }
    c.log.debug({ name: c.info.name, ops: plan.ops.length, dryRun: o.dryRun, attempt }, 'deleted');
    respondObject(d, c, 200, result);
    return;
  }
}
