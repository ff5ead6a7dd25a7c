/**
 * The owner-reference cascade, done synchronously inside the delete request until the garbage
 * collector (controllers issue) takes it over. Background and Foreground both remove the dependents
 * (recursively) in the same transaction as the owner; Orphan removes the owner reference from them.
 * Only namespaced owners cascade, to dependents in their own namespace — the only case Kubernetes
 * allows for namespaced dependents. The namespace is read once per request and indexed by owner uid.
 */
import type { ResourceInfo } from '../../registry/index.ts';
import { listPrefix, objectKey } from '../../registry/index.ts';
import type { ApiDeps } from '../context.ts';
import { decodeStored, encodeForStore, meta, metaString } from '../../storage/objects.ts';
import type { KubeObject } from '../../storage/types.ts';
import type { DeleteOptions } from './delete-options.ts';
import type { DeletePlan, Dependent } from './plan-delete.ts';
import { planDelete } from './plan-delete.ts';

function ownerUids(obj: KubeObject): string[] {
  const refs = obj.metadata?.ownerReferences;
  if (!Array.isArray(refs)) return [];
  return refs.map((ref) => (ref && typeof ref === 'object' ? (ref as { uid?: unknown }).uid : undefined)).filter((u): u is string => typeof u === 'string');
}

async function indexNamespace(d: ApiDeps, namespace: string): Promise<Map<string, Dependent[]>> {
  const index = new Map<string, Dependent[]>();
  const seen = new Set<string>();
  for (const r of d.registry.all()) {
    if (!r.namespaced || r.virtual || seen.has(r.storage)) continue;
    seen.add(r.storage);
    for (const kv of (await d.store.list(listPrefix(r, namespace))).kvs) {
      // Cheap pre-check before parsing: most objects have no owner.
      if (!kv.value.includes('"ownerReferences"')) continue;
      const obj = decodeStored(r, kv);
      for (const uid of ownerUids(obj)) {
        const list = index.get(uid) ?? [];
        list.push({ resource: r, current: { obj, kv } });
        index.set(uid, list);
      }
    }
  }
  return index;
}

export async function planCascade(d: ApiDeps, r: ResourceInfo, owner: KubeObject, o: DeleteOptions, plan: DeletePlan): Promise<void> {
  if (!r.namespaced) return;
  const uid = metaString(owner, 'uid');
  const namespace = metaString(owner, 'namespace');
  if (!uid) return;
  let index = plan.dependents.get(namespace);
  if (!index) {
    index = await indexNamespace(d, namespace);
    plan.dependents.set(namespace, index);
  }
  for (const dep of index.get(uid) ?? []) {
    const key = objectKey(dep.resource, namespace, metaString(dep.current.obj, 'name'));
    if (plan.removedKeys.has(key)) continue;
    if (o.propagation === 'Orphan') {
      const obj = structuredClone(dep.current.obj);
      const m = meta(obj);
      const refs = (m.ownerReferences as Array<{ uid?: unknown }>).filter((ref) => ref.uid !== uid);
      if (refs.length === 0) delete m.ownerReferences;
      else m.ownerReferences = refs;
      plan.ops.push({ op: 'update', key, value: encodeForStore(dep.resource, obj), expectedModRevision: dep.current.kv.modRevision });
      plan.removedKeys.add(key);
      continue;
    }
    await planDelete(d, dep.resource, dep.current, { ...o, preconditionUid: undefined, preconditionResourceVersion: undefined }, plan);
  }
}
