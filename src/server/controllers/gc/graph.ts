// The garbage collector's picture of the cluster (kube's GraphBuilder uidToNode): every observed
// object by uid with its owner references, and the reverse index owner uid → dependent uids.
// Owners that were never observed are simply absent; the collector verifies them live.
import type { ApiResource, KubeObject, OwnerReference } from '../types.ts';

export interface GraphNode {
  readonly uid: string;
  readonly resource: ApiResource;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly owners: readonly OwnerReference[];
  readonly deleting: boolean;
  readonly finalizers: readonly string[];
  readonly resourceVersion: string;
}

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';

export class OwnerGraph {
  readonly #nodes = new Map<string, GraphNode>();
  readonly #dependents = new Map<string, Set<string>>();

  get(uid: string): GraphNode | undefined {
    return this.#nodes.get(uid);
  }

  dependents(uid: string): GraphNode[] {
    const out: GraphNode[] = [];
    for (const d of this.#dependents.get(uid) ?? []) {
      const n = this.#nodes.get(d);
      if (n) out.push(n);
    }
    return out;
  }

  /** Record `obj`; returns the previous node. */
  upsert(resource: ApiResource, obj: KubeObject): { node: GraphNode; old: GraphNode | undefined } | undefined {
    const uid = obj.metadata.uid;
    if (!uid) return undefined;
    const old = this.#nodes.get(uid);
    const node: GraphNode = {
      uid,
      resource,
      namespace: obj.metadata.namespace || undefined,
      name: obj.metadata.name ?? '',
      owners: obj.metadata.ownerReferences ?? [],
      deleting: Boolean(obj.metadata.deletionTimestamp),
      finalizers: obj.metadata.finalizers ?? [],
      resourceVersion: obj.metadata.resourceVersion ?? '',
    };
    if (old) this.#unlink(old);
    this.#nodes.set(uid, node);
    for (const o of node.owners) {
      let set = this.#dependents.get(o.uid);
      if (!set) this.#dependents.set(o.uid, (set = new Set()));
      set.add(uid);
    }
    return { node, old };
  }

  remove(uid: string): GraphNode | undefined {
    const old = this.#nodes.get(uid);
    if (!old) return undefined;
    this.#unlink(old);
    this.#nodes.delete(uid);
    return old;
  }

  #unlink(n: GraphNode): void {
    for (const o of n.owners) {
      const set = this.#dependents.get(o.uid);
      set?.delete(n.uid);
      if (set?.size === 0) this.#dependents.delete(o.uid);
    }
  }
}
