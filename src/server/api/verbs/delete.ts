/** DELETE one object (kubectl-wire.md §7). Replies 200 with the object, carrying deletionTimestamp when it stays. */
import type { ApiDeps, Call } from '../context.ts';
import { readDeleteOptions } from '../delete/delete-options.ts';
import { emptyPlan, planDelete } from '../delete/plan-delete.ts';
import { respondObject } from '../present.ts';
import { mustRead } from '../../storage/read.ts';
import { translateStoreError } from '../../storage/store-errors.ts';

export async function deleteObject(d: ApiDeps, c: Call): Promise<void> {
  const o = await readDeleteOptions(c.req, c.query);
  const cur = await mustRead(d.store, c.resource, c.info.namespace, c.info.name);
  const plan = emptyPlan();
  const result = await planDelete(d, c.resource, cur, o, plan);
  if (!o.dryRun && plan.ops.length > 0) {
    try {
      await d.store.txn(plan.ops);
    } catch (e) {
      throw translateStoreError(e, c.resource, c.info.name);
    }
    for (const f of plan.after) f();
  }
  c.log.debug({ name: c.info.name, ops: plan.ops.length, dryRun: o.dryRun }, 'deleted');
  respondObject(d, c, 200, result);
}
