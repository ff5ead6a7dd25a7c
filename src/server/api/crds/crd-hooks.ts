/**
 * CustomResourceDefinitions: edgeos has no separate naming/establishing controllers, so a valid
 * CRD is accepted and established in the same write (status.acceptedNames, NamesAccepted and
 * Established conditions, storedVersions), and the registry serves it as soon as the write commits.
 * Deleting a CRD deletes its custom resources in the same transaction (apiserver does this through
 * the customresourcecleanup finalizer).
 */
import type { TxnOp } from '../../../store/types.ts';
import type { KubeObject } from '../../kinds/types.ts';
import { openapiAddCrd, openapiRemoveCrd } from '../../openapi/index.ts';
import { resourcesFromCrd } from '../../registry/index.ts';
import type { ApiDeps } from '../context.ts';
import type { WriteHooks } from '../hooks.ts';
import { rfc3339 } from '../../storage/objects.ts';

type Json = Record<string, unknown>;

function establish(d: ApiDeps, obj: KubeObject): void {
  const spec = (obj.spec ?? {}) as Json;
  const versions = Array.isArray(spec.versions) ? (spec.versions as Json[]) : [];
  const storage = versions.find((v) => v.storage === true)?.name;
  const now = rfc3339(d.now());
  const old = (obj.status ?? {}) as Json;
  const stored = new Set(Array.isArray(old.storedVersions) ? (old.storedVersions as string[]) : []);
  if (typeof storage === 'string') stored.add(storage);
  obj.status = {
    ...old,
    acceptedNames: spec.names ?? {},
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: now, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
    storedVersions: [...stored],
  };
}

/** Serve (or stop serving) the resources of one CRD. */
export function syncCrd(d: ApiDeps, name: string, crd: KubeObject | undefined): void {
  const served = crd ? resourcesFromCrd(crd) : [];
  d.registry.setCustom(name, served);
  if (crd && served.length > 0) openapiAddCrd(crd);
  else openapiRemoveCrd(name);
}

export const crdHooks: WriteHooks = {
  async beforeCreate(d, _c, obj) {
    establish(d, obj);
    return [];
  },
  async beforeUpdate(d, _c, obj) {
    establish(d, obj);
    return [];
  },
  async beforeDelete(d, obj) {
    const ops: TxnOp[] = [];
    for (const r of resourcesFromCrd({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: undefined } })) {
      const prefix = `/registry/${r.storage}/`;
      for (const kv of (await d.store.list(prefix)).kvs) ops.push({ op: 'delete', key: kv.key });
      break; // all versions share one storage prefix
    }
    return ops;
  },
  afterWrite: syncCrd,
};
