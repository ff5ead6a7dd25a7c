/**
 * pods/eviction (policy/v1 Eviction, what `kubectl drain` posts, §14): honours
 * PodDisruptionBudgets that select the pod — 429 TooManyRequests while a budget allows no
 * disruption, which drain retries every 5 s — then deletes the pod with the eviction's
 * deleteOptions and answers 201 Success.
 */
import { listPrefix } from '../../registry/index.ts';
import { decodeObject, mediaType, readBody } from '../body.ts';
import { checkBodyTypes } from '../body-types.ts';
import type { ApiDeps, Call } from '../context.ts';
import { emptyPlan, planDelete } from '../delete/plan-delete.ts';
import { decodeStored, labelsOf, metaString } from '../../storage/objects.ts';
import { mustRead } from '../../storage/read.ts';
import { writeJson } from '../respond.ts';
import { selectorFromObject } from '../selectors/label-selector.ts';
import { badRequest, tooManyRequests } from '../../storage/status.ts';
import { translateStoreError } from '../../storage/store-errors.ts';

const EVICTION_VERSIONS = new Set(['policy/v1', 'policy/v1beta1']);

export async function createEviction(d: ApiDeps, c: Call): Promise<void> {
  const ev = await decodeObject(await readBody(c.req), mediaType(c.req));
  if (ev.kind !== undefined && ev.kind !== 'Eviction') throw badRequest(`${String(ev.kind)} in version "${String(ev.apiVersion)}" cannot be handled as a Eviction`);
  if (ev.apiVersion !== undefined && !EVICTION_VERSIONS.has(String(ev.apiVersion))) {
    throw badRequest(`the API version in the data (${String(ev.apiVersion)}) does not match the expected API version (policy/v1)`);
  }
  checkBodyTypes(ev, { group: 'policy', version: 'v1', kind: 'Eviction' });
  const evName = metaString(ev, 'name');
  if (evName !== '' && evName !== c.info.name) throw badRequest(`name in URL does not match name in Eviction object`);
  const cur = await mustRead(d.store, c.resource, c.info.namespace, c.info.name);

  const phase = (cur.obj.status as { phase?: unknown } | undefined)?.phase;
  // apiserver lets finished pods go without consulting budgets.
  if (phase !== 'Succeeded' && phase !== 'Failed' && !cur.obj.metadata?.deletionTimestamp) {
    const pdbs = d.registry.resolve('policy', 'v1', 'poddisruptionbudgets');
    if (pdbs) {
      const list = await d.store.list(listPrefix(pdbs, c.info.namespace));
      for (const kv of list.kvs) {
        const pdb = decodeStored(pdbs, kv);
        const sel = selectorFromObject((pdb.spec as { selector?: unknown } | undefined)?.selector);
        if (sel.empty || !sel.matches(labelsOf(cur.obj))) continue;
        const allowed = (pdb.status as { disruptionsAllowed?: unknown } | undefined)?.disruptionsAllowed;
        if (typeof allowed !== 'number' || allowed < 1) {
          throw tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10);
        }
      }
    }
  }

  const o = (ev.deleteOptions ?? {}) as Record<string, unknown>;
  const pre = (o.preconditions ?? {}) as Record<string, unknown>;
  const plan = emptyPlan();
  await planDelete(d, c.resource, cur, {
    gracePeriodSeconds: typeof o.gracePeriodSeconds === 'number' ? o.gracePeriodSeconds : undefined,
    propagation: undefined,
    dryRun: Array.isArray(o.dryRun) && o.dryRun.includes('All'),
    preconditionUid: typeof pre.uid === 'string' ? pre.uid : undefined,
    preconditionResourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined,
  }, plan);
  const dry = Array.isArray(o.dryRun) && o.dryRun.includes('All');
  if (!dry && plan.ops.length > 0) {
    try {
      await d.store.txn(plan.ops);
    } catch (e) {
      throw translateStoreError(e, c.resource, c.info.name);
    }
    for (const f of plan.after) f();
  }
  writeJson(c.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, { warnings: c.warnings });
}
