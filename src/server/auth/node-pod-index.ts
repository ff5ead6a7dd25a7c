/**
 * Which pods are bound to which node, and what each references: the Node authorizer's candidate
 * lookup (upstream's node authorizer keeps the same pod → node edges in a graph fed by informers,
 * plugin/pkg/auth/authorizer/node/graph.go). Without it, every "may node N read Secret S / get a
 * token of ServiceAccount A" listed and scanned every pod of the namespace from the store — an agent
 * asks it for every pod it starts, so creating P pods cost O(P²) (a third of the server's CPU
 * starting 2,000 pods on 1,000 nodes, bench/fleet/README.md).
 *
 * The index only proposes: the authorizer confirms a candidate with a point read of that pod, and
 * when the index proposes nothing it falls back to the namespace scan (node-authorizer.ts). So a
 * lagging, unsynced or wrong index costs time, never a wrong decision.
 *
 * Fed like the API's watch cache (storage/watch-cache.ts): the pods' prefix is listed and then
 * watched from the list's revision; when the watch ends it lists again. A pod is decoded only
 * until it is bound: its spec.nodeName and the references the index keeps (volumes, env, image
 * pull secrets, service account) cannot change afterwards (ValidatePodUpdate), so the status
 * writes of a running pod cost a map lookup, not a JSON.parse.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import type { Logger } from '../../common/log.ts';
import { ClosedError } from '../../store/errors.ts';
import type { KeyValue, Store, Watch, WatchMessage } from '../../store/types.ts';
import { podReferences } from './pod-references.ts';
import type { PodReferences } from './pod-references.ts';

const LIST_PAGE = 500;
const RESYNC_MS = 1000;
const NODE_NAME = Buffer.from('"nodeName":');

interface BoundPod {
  readonly node: string;
  readonly namespace: string;
  /** `<kind>/<name>` of every object the pod references (kind a key of PodReferences). */
  readonly refs: readonly string[];
}

export interface NodePods {
  /** Keys of the pods of `namespace` the index holds as bound to `node` and referencing `<kind>/<name>`. */
  candidates(node: string, namespace: string, kind: keyof PodReferences, name: string): string[];
}

export class NodePodIndex implements NodePods {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #pods = new Map<string, BoundPod>();
  readonly #byNode = new Map<string, Set<string>>();
  /** One copy of each reference string and node name (most pods reference the same few). */
  readonly #interned = new Map<string, string>();
  #watch: Watch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #synced = false;

  /** `prefix`: where the store keeps pods, `/registry/<segment>/` (nodeAuthzKeys). */
  constructor(store: Store, prefix: string, log: Logger) {
    this.#store = store;
    this.#prefix = prefix;
    this.#log = log;
  }

  start(): void {
    void this.#sync();
  }

  /** Whether the index has listed and is watching (tests). */
  get synced(): boolean {
    return this.#synced;
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

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watch?.close();
    this.#watch = undefined;
    this.#clear();
  }

  #intern(s: string): string {
    const had = this.#interned.get(s);
    if (had !== undefined) return had;
    this.#interned.set(s, s);
    return s;
  }

  #clear(): void {
    this.#synced = false;
    this.#pods.clear();
    this.#byNode.clear();
    this.#interned.clear();
  }

  #remove(key: string): void {
    const p = this.#pods.get(key);
    if (!p) return;
    this.#pods.delete(key);
    const keys = this.#byNode.get(p.node);
    keys?.delete(key);
    if (keys?.size === 0) this.#byNode.delete(p.node);
  }

  #put(kv: KeyValue): void {
    // Bound pods do not change what the index keeps (above); unbound ones carry no "nodeName".
    if (this.#pods.has(kv.key) || !kv.value.includes(NODE_NAME)) return;
    let pod: Pod;
    try {
      pod = JSON.parse(kv.value.toString('utf8')) as Pod;
    } catch {
      return;
    }
    const node = pod.spec?.nodeName;
    const namespace = pod.metadata?.namespace;
    if (!node || !namespace) return;
    const r = podReferences(pod);
    const refs: string[] = [];
    for (const kind of Object.keys(r) as (keyof PodReferences)[]) for (const name of r[kind]) refs.push(this.#intern(`${kind}/${name}`));
    const n = this.#intern(node);
    this.#pods.set(kv.key, { node: n, namespace: this.#intern(namespace), refs });
    let keys = this.#byNode.get(n);
    if (!keys) this.#byNode.set(n, (keys = new Set()));
    keys.add(kv.key);
  }

  async #sync(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed) return;
    try {
      this.#clear();
      let revision: number | undefined;
      let after: string | undefined;
      for (;;) {
        const page = await this.#store.list(this.#prefix, { limit: LIST_PAGE, ...(after === undefined ? {} : { startAfter: after }), ...(revision === undefined ? {} : { revision }) });
        if (this.#closed) return;
        revision = page.revision;
        for (const kv of page.kvs) this.#put(kv);
        if (!page.more || page.kvs.length === 0) break;
        after = page.kvs[page.kvs.length - 1]!.key;
      }
      this.#watch = this.#store.watch(this.#prefix, { fromRevision: revision }, (msg) => this.#onMessage(msg));
      this.#synced = true;
    } catch (err) {
      this.#resyncLater(err);
    }
  }

  #onMessage(msg: WatchMessage): void {
    if (this.#closed) return;
    if (msg.kind === 'events') {
      for (const e of msg.events) {
        if (e.type === 'DELETED') this.#remove(e.kv.key);
        else this.#put(e.kv);
      }
    } else if (msg.kind === 'error') {
      this.#watch = undefined;
      this.#resyncLater(msg.error);
    }
  }

  #resyncLater(err: unknown): void {
    this.#clear();
    if (this.#closed || err instanceof ClosedError) return;
    this.#log.warn({ err }, 'the node authorizer lost its pod watch: scanning the store until it has listed again');
    this.#timer = setTimeout(() => void this.#sync(), RESYNC_MS);
    this.#timer.unref();
  }
}
