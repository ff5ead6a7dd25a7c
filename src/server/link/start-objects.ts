/**
 * What every link start needs of the objects that are not its node's own: every Service and
 * EndpointSlice of the cluster (trimmed, feed-kinds.ts) and the names of the local volumes whose
 * data the node holds. Each start used to list and decode all three tables from the store at its
 * revision — Services, EndpointSlices and every PersistentVolume, per link, whatever the node had
 * — so a start cost O(cluster), and a restart storm of N links N times that. The feed hub keeps
 * them as of its position (HubObjects, listed once at its watch's start and kept from the events it
 * routes, each decoded once); a start takes them from there, and reads from the store only what
 * changed after the revision it starts at (readStartObjects).
 */
import { localPathNode } from '../../common/local-volumes.ts';
import type { KubeObjectJson, LinkKind } from '../../common/link/protocol.ts';
import type { KeyValue, Store } from '../../store/types.ts';
import { decodeStored } from '../storage/objects.ts';
import { trimForNode } from './feed-kinds.ts';
import type { FeedKinds } from './feed-kinds.ts';

/** The hub's objects as of `revision` for one node: what it holds unchanged since, and the keys to read at `revision`. */
export interface StartObjects {
  readonly services: readonly KubeObjectJson[];
  readonly slices: readonly KubeObjectJson[];
  /** Names of the local volumes of the node. */
  readonly localVolumes: readonly string[];
  /** Keys written after `revision` (their value as of `revision` is not in memory). */
  readonly reread: readonly string[];
}

/** A change the hub routed: its key, kind, and (unless deleted) its object. */
interface Routed {
  readonly ev: { readonly type: string; readonly kv: KeyValue };
  readonly kind: LinkKind;
  object(): KubeObjectJson;
}

export class HubObjects {
  readonly #k: FeedKinds;
  /** Every Service and EndpointSlice by key, trimmed. */
  readonly #wide = new Map<string, { readonly kind: LinkKind; readonly object: KubeObjectJson }>();
  /** Local volume name → the node holding its data. */
  readonly #localVolumes = new Map<string, string>();
  /** The revision they were listed at (infinity: not listed). */
  #since = Number.POSITIVE_INFINITY;

  constructor(k: FeedKinds) {
    this.#k = k;
  }

  /** Lists them as of `revision` (the hub's watch starts there); on failure starts list for themselves. */
  async load(store: Store, revision: number): Promise<void> {
    this.#wide.clear();
    this.#localVolumes.clear();
    this.#since = Number.POSITIVE_INFINITY;
    for (const w of this.#k.widePrefixes) {
      for (const kv of (await store.list(w.prefix, { revision })).kvs) this.#wide.set(kv.key, { kind: w.kind, object: trimForNode(decodeStored(this.#k.byKind.get(w.kind)!, kv) as KubeObjectJson) });
    }
    for (const kv of (await store.list(this.#k.volumesPrefix, { revision })).kvs) this.#noteVolume(kv.key, decodeStored(this.#k.volumes, kv) as KubeObjectJson);
    this.#since = revision;
  }

  /** Keeps up with a change the hub routes (events after the listed revision, in order). */
  apply(e: Routed): void {
    const key = e.ev.kv.key;
    if (e.kind === 'PersistentVolume') {
      if (e.ev.type === 'DELETED') this.#localVolumes.delete(key.slice(this.#k.volumesPrefix.length));
      else this.#noteVolume(key, e.object());
    } else if (this.#k.widePrefixes.some((w) => w.kind === e.kind)) {
      if (e.ev.type === 'DELETED') this.#wide.delete(key);
      else this.#wide.set(key, { kind: e.kind, object: e.object() });
    }
  }

  /**
   * The objects as of `revision` for `node`, given every change routed after it (`after`, up to the
   * hub's position); undefined when they were not listed as far back.
   */
  at(node: string, revision: number, after: readonly Routed[]): StartObjects | undefined {
    if (revision < this.#since) return undefined;
    const changed = new Set<string>();
    for (const e of after) if (e.kind === 'PersistentVolume' || this.#k.widePrefixes.some((w) => w.kind === e.kind)) changed.add(e.ev.kv.key);
    const services: KubeObjectJson[] = [];
    const slices: KubeObjectJson[] = [];
    for (const [key, w] of this.#wide) if (!changed.has(key)) (w.kind === 'Service' ? services : slices).push(w.object);
    const localVolumes: string[] = [];
    for (const [name, n] of this.#localVolumes) if (n === node && !changed.has(this.#k.volumesPrefix + name)) localVolumes.push(name);
    return { services, slices, localVolumes, reread: [...changed] };
  }

  #noteVolume(key: string, pv: KubeObjectJson): void {
    const name = key.slice(this.#k.volumesPrefix.length);
    const node = localPathNode(pv as Parameters<typeof localPathNode>[0]);
    if (node) this.#localVolumes.set(name, node);
    else this.#localVolumes.delete(name);
  }
}

/**
 * A start's Services, EndpointSlices and local volumes as of `revision`: from the hub (`start`), the
 * keys changed since read one by one at `revision`; without it (a revision the hub's memory does
 * not reach), listed from the store as before.
 */
export async function readStartObjects(
  store: Store,
  k: FeedKinds,
  node: string,
  revision: number,
  start: StartObjects | undefined,
): Promise<{ services: KubeObjectJson[]; slices: KubeObjectJson[]; localVolumes: string[] }> {
  const decode = (kind: LinkKind, kv: KeyValue) => decodeStored(k.byKind.get(kind)!, kv) as KubeObjectJson;
  const services: KubeObjectJson[] = [];
  const slices: KubeObjectJson[] = [];
  const localVolumes: string[] = [];
  const take = (key: string, kv: KeyValue) => {
    if (key.startsWith(k.volumesPrefix)) {
      if (localPathNode(decode('PersistentVolume', kv) as Parameters<typeof localPathNode>[0]) === node) localVolumes.push(key.slice(k.volumesPrefix.length));
      return;
    }
    const kind = k.widePrefixes.find((w) => key.startsWith(w.prefix))?.kind;
    if (kind) (kind === 'Service' ? services : slices).push(trimForNode(decode(kind, kv)));
  };
  if (start) {
    services.push(...start.services);
    slices.push(...start.slices);
    localVolumes.push(...start.localVolumes);
    const kvs = await Promise.all(start.reread.map((key) => store.get(key, { revision })));
    start.reread.forEach((key, i) => kvs[i] && take(key, kvs[i]));
    return { services, slices, localVolumes };
  }
  for (const prefix of [k.volumesPrefix, ...k.widePrefixes.map((w) => w.prefix)]) {
    for (const kv of (await store.list(prefix, { revision })).kvs) take(kv.key, kv);
  }
  return { services, slices, localVolumes };
}
