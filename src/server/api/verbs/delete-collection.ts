/**
 * DELETE on a collection: every object matching the selectors, in one transaction so the request
 * never half-applies. Replies with the list of deleted objects, as apiserver does.
 */
import { listPrefix } from '../../registry/index.ts';
import type { KubeObject } from '../../kinds/types.ts';
import type { ApiDeps, Call } from '../context.ts';
import { readDeleteOptions } from '../delete/delete-options.ts';
import { emptyPlan, planDelete } from '../delete/plan-delete.ts';
import { parseFilter } from '../filter.ts';
import { decodeStored } from '../../storage/objects.ts';
import { presentList } from '../present.ts';
import { writeJson } from '../respond.ts';
import { translateStoreError } from '../../storage/store-errors.ts';

export async function deleteCollection(d: ApiDeps, c: Call): Promise<void> {
  const o = await readDeleteOptions(c.req, c.query);
  const filter = parseFilter(c.resource, c.query);
  const listed = await d.store.list(listPrefix(c.resource, c.info.namespace));
  const plan = emptyPlan();
  const results: KubeObject[] = [];
  for (const kv of listed.kvs) {
    const obj = decodeStored(c.resource, kv);
    if (!filter.matches(obj)) continue;
    results.push(await planDelete(d, c.resource, { obj, kv }, o, plan));
  }
  let revision = listed.revision;
  if (!o.dryRun && plan.ops.length > 0) {
    try {
      const kvs = await d.store.txn(plan.ops);
      revision = kvs[kvs.length - 1]?.modRevision ?? revision;
    } catch (e) {
      throw translateStoreError(e, c.resource, '');
    }
    for (const f of plan.after) f();
  }
  writeJson(c.res, 200, presentList(d, c, results, { resourceVersion: String(revision) }), { warnings: c.warnings });
}
