/**
 * Which pods are bound to which node, and what each references: the Node authorizer's candidate
 * lookup (upstream's node authorizer keeps the same pod → node edges in a graph fed by informers,
 * plugin/pkg/auth/authorizer/node/graph.go), and the link's index of each node's pods (a starting
 * feed reads its node's pods one by one instead of listing the pod table). Without it, every
 * "may node N read Secret S / get a token of ServiceAccount A" listed and scanned every pod of the
 * namespace from the store — an agent asks it for every pod it starts, so creating P pods cost
 * O(P²) (a third of the server's CPU starting 2,000 pods on 1,000 nodes, bench/fleet/README.md).
 *
 * This is only the data. It has one feeder, the link's feed hub (server/link/feed-hub.ts: its one
 * watch of `/registry/`, listed at the watch's start revision), which also says up to which store
 * revision the index is complete (`NodePods.through`). There used to be two such indexes, each
 * with its own list and store watch of every pod: this one and the hub's pod keys by node.
 *
 * The index only proposes: the authorizer confirms a candidate with a point read of that pod (so a
 * stale entry — a pod deleted or recreated a moment ago — grants nothing), and it refuses only once
 * the index is complete as of a revision read from the store after the request arrived.
 *
 * A pod is decoded only until it is bound: its spec.nodeName and the references the index keeps
 * (volumes, env, image pull secrets, service account) cannot change afterwards (ValidatePodUpdate),
 * so the status writes of a running pod cost a map lookup, not a JSON.parse.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import { podReferences } from './pod-references.ts';
import type { PodReferences } from './pod-references.ts';

/** What the Node authorizer asks of the index of bound pods. */
export interface NodePods {
  /** Keys of the pods of `namespace` the index holds as bound to `node` and referencing `<kind>/<name>`. */
  candidates(node: string, namespace: string, kind: keyof PodReferences, name: string): string[];
  /**
   * Resolves true once the index holds every pod bound as of store revision `revision` (so a pod it
   * does not name was not bound then); false when it cannot tell within `timeoutMs` (not listed yet,
   * its watch restarting): the caller scans the store instead.
   */
  through(revision: number, timeoutMs: number): Promise<boolean>;
}

interface BoundPod {
  readonly node: string;
  readonly namespace: string;
  /** `<kind>/<name>` of every object the pod references (kind a key of PodReferences). */
  readonly refs: readonly string[];
}

export class NodePodIndex {
  readonly #pods = new Map<string, BoundPod>();
  readonly #byNode = new Map<string, Set<string>>();
  /** One copy of each reference string, namespace and node name (most pods reference the same few). */
  readonly #interned = new Map<string, string>();

  /** Pods held. */
  get size(): number {
    return this.#pods.size;
  }

  /** The node a held pod is bound to. */
  nodeOf(key: string): string | undefined {
    return this.#pods.get(key)?.node;
  }

  /** The keys of the pods held as bound to `node`. */
  keysOf(node: string): ReadonlySet<string> | undefined {
    return this.#byNode.get(node);
  }

  candidates(node: string, namespace: string, kind: keyof PodReferences, name: string): string[] {
    const keys = this.#byNode.get(node);
    if (!keys) return [];
    const ref = `${kind}/${name}`;
    const out: string[] = [];
    for (const key of keys) {
      const p = this.#pods.get(key)!;
      if (p.namespace === namespace && p.refs.includes(ref)) out.push(key);
    }
    return out;
  }

  /**
   * Records a bound pod (its decoded value; nothing when it is not bound). A pod already held is
   * left as it is: what the index keeps of it cannot change while it exists.
   */
  put(key: string, pod: Pod): void {
    if (this.#pods.has(key)) return;
    const node = pod.spec?.nodeName;
    const namespace = pod.metadata?.namespace;
    if (!node || !namespace) return;
    const r = podReferences(pod);
    const refs: string[] = [];
    for (const kind of Object.keys(r) as (keyof PodReferences)[]) for (const name of r[kind]) refs.push(this.#intern(`${kind}/${name}`));
    const n = this.#intern(node);
    this.#pods.set(key, { node: n, namespace: this.#intern(namespace), refs });
    let keys = this.#byNode.get(n);
    if (!keys) this.#byNode.set(n, (keys = new Set()));
    keys.add(key);
  }

  remove(key: string): void {
    const p = this.#pods.get(key);
    if (!p) return;
    this.#pods.delete(key);
    const keys = this.#byNode.get(p.node);
    keys?.delete(key);
    if (keys?.size === 0) this.#byNode.delete(p.node);
  }

  clear(): void {
    this.#pods.clear();
    this.#byNode.clear();
    this.#interned.clear();
  }

  #intern(s: string): string {
    const had = this.#interned.get(s);
    if (had !== undefined) return had;
    this.#interned.set(s, s);
    return s;
  }
}
