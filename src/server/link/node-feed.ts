/**
 * The node-scoped watch behind a link: only the pods bound to the node, the ConfigMaps, Secrets,
 * ServiceAccounts and PersistentVolumeClaims those pods reference, the PersistentVolumes bound to
 * those claims (the Node authorizer's pod → claim → volume graph) and the local volumes whose data
 * the node holds (its agent deletes the data), the node's own Node object, of every other Node only
 * what the pod network reads (peerView: feed-kinds.ts), and the cluster's
 * Services and EndpointSlices (every node routes every Service, as kube-proxy reads them all;
 * trimmed of managedFields: feed-kinds.ts; a Service with a topology gets only the node's close
 * endpoints: endpoint-topology.ts), never the rest of the cluster. The server does the
 * filtering, reading the store directly (like the Node authorizer), in global revision order, so a
 * pod that starts referencing a Secret and the Secret itself arrive in the order they were written.
 *
 * Live events come from the FeedHub (feed-hub.ts): one store watch for all links, each event
 * decoded once and handed only to the feeds that can care.
 *
 * Resume: the agent's last revision R is resumed when history above R still exists (the node's
 * state at R is rebuilt from a list at revision R, then events after R replayed from a watch of
 * this feed's own until it reaches the hub's position, where it switches to the hub). Otherwise
 * (first connect, or R compacted away, the 410 Gone case) the feed sends a snapshot.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import type { KubeObjectJson, LinkKind, ObjectChange } from '../../common/link/protocol.ts';
import { localPathNode } from '../../common/local-volumes.ts';
import { ownText } from '../../common/own-bytes.ts';
import { CompactedError } from '../../store/errors.ts';
import type { KeyValue, Watch, WatchEvent } from '../../store/types.ts';
import { podReferences } from '../auth/pod-references.ts';
import { decodeStored } from '../storage/objects.ts';
import { objectKey } from '../registry/index.ts';
import { feedEvent, sharedKind } from './feed-hub.ts';
import type { FeedEvent, HubSubscriber } from './feed-hub.ts';
import { REFERENCED, feedKinds, peerView, trimForNode } from './feed-kinds.ts';
import type { NodeFeed, NodeFeedOptions } from './types.ts';
import { EndpointTopology } from './endpoint-topology.ts';
import { readStartObjects } from './start-objects.ts';

/**
 * Quiet periods produce at most one bookmark this often (other nodes’ leases change every 10 s;
 * each bookmark is ~70 bytes on the link and a write on the device). The resume point then lags
 * at most a minute, well inside the store's 5 minutes of history, so an agent that was away up to
 * ~4 minutes still resumes without a snapshot.
 */
const BOOKMARK_EVERY_MS = 60_000;
/** A Node whose bytes hold no VTEP annotation is no pod network peer (searched undecoded). */
const peerBytes = ownText('"network.edgeos.io/vtep-mac"');

/** "Kind/namespace/name". */
type RefKey = string;

/** What a pod makes the node receive. */
function refsOf(pod: Pod, namespace: string): Set<RefKey> {
  const r = podReferences(pod);
  const out = new Set<RefKey>();
  for (const x of REFERENCED) for (const name of r[x.refs]) out.add(`${x.kind}/${namespace}/${name}`);
  return out;
}

export function startNodeFeed(opts: NodeFeedOptions): Promise<NodeFeed> {
  const { store, node, sink, log, hub } = opts;
  const now = opts.now ?? Date.now;
  const k = feedKinds();
  const nodeKey = objectKey(k.nodes, '', node);
  // A stored pod bound to this node has these bytes (stored objects are JSON.stringify'd): pods
  // without them are skipped undecoded when listing or replaying.
  // (Memory of its own: kept as long as the link, a pool Buffer would pin a 64 KiB slab: own-bytes.ts.)
  const boundHere = ownText(`"nodeName":${JSON.stringify(node)}`);
  const slicesPrefix = k.widePrefixes.find((w) => w.kind === 'EndpointSlice')!.prefix;
  // Service topology: what this node was sent of the Services that filter their endpoints by node
  // or pool; the pools are the hub's one index.
  const topology = new EndpointTopology({ node, get pool() { return hub.poolOf(node); }, poolOf: (n) => hub.poolOf(n) });

  // The node's state as of the last processed revision.
  const pods = new Map<string, Pod>();
  const podRefs = new Map<string, Set<RefKey>>();
  const refCount = new Map<RefKey, number>();
  // PersistentVolumes: the one each referenced claim is bound to (a reference of the claim, counted
  // in refCount), and the local volumes whose data this node holds, sent whether used or not.
  const volumeOfClaim = new Map<RefKey, string>();
  const localVolumes = new Set<string>();
  // Other nodes as last sent (peerView JSON) by name, so only a change of what peers read is sent;
  // After a resume from R: a node whose view changed after R may be held by the agent otherwise,
  // so its first event is sent whatever it holds (then it is settled).
  const peers = new Map<string, string>();
  let resumedFrom: number | undefined;
  const peersSettled = new Set<string>();
  // A stored Node without this cannot be a peer (feed-kinds.ts peerView): a replayed event of a
  // node that is not one skips decoding.
  let catchUp: Watch | undefined;
  /** Hub events that arrived while the feed was still replaying from the agent's revision. */
  let held: FeedEvent[] | undefined = [];
  let stopped = false;
  let processed = 0;
  let lastSent = 0;
  let lastSentAt = now();

  const decode = (kind: LinkKind, kv: KeyValue): KubeObjectJson => decodeStored(k.byKind.get(kind)!, kv) as KubeObjectJson;
  const isOurs = (pod: Pod | undefined) => pod?.spec?.nodeName === node;

  function addPod(key: string, pod: Pod): Set<RefKey> {
    const ns = pod.metadata?.namespace ?? '';
    const next = refsOf(pod, ns);
    const prev = podRefs.get(key) ?? new Set<RefKey>();
    pods.set(key, pod);
    podRefs.set(key, next);
    const added = new Set<RefKey>();
    for (const r of next) if (!prev.has(r) && (refCount.get(r) ?? 0) === 0) added.add(r);
    for (const r of next) if (!prev.has(r)) refCount.set(r, (refCount.get(r) ?? 0) + 1);
    for (const r of prev) if (!next.has(r)) decRef(r);
    return added;
  }

  const dropped: RefKey[] = [];
  function decRef(r: RefKey): void {
    const n = (refCount.get(r) ?? 0) - 1;
    if (n <= 0) {
      refCount.delete(r);
      const volume = volumeOfClaim.get(r);
      volumeOfClaim.delete(r);
      if (volume) decRef(volumeRef(volume));
      // A local volume of this node stays when no claim of its pods uses it any more.
      if (!r.startsWith('PersistentVolume//') || !localVolumes.has(r.slice('PersistentVolume//'.length))) dropped.push(r);
    } else refCount.set(r, n);
  }

  const volumeRef = (name: string): RefKey => `PersistentVolume//${name}`;
  const sendsVolume = (name: string) => localVolumes.has(name) || refCount.has(volumeRef(name));

  /**
   * A referenced claim was read or changed: follow its binding. Returns the volume that became
   * referenced (to be read and sent), if any.
   */
  function followClaim(r: RefKey, claim: KubeObjectJson | undefined): string | undefined {
    const next = (claim?.spec as { volumeName?: string } | undefined)?.volumeName || undefined;
    const prev = volumeOfClaim.get(r);
    if (prev === next) return undefined;
    if (next) volumeOfClaim.set(r, next);
    else volumeOfClaim.delete(r);
    let added: string | undefined;
    if (next) {
      const had = sendsVolume(next);
      refCount.set(volumeRef(next), (refCount.get(volumeRef(next)) ?? 0) + 1);
      if (!had) added = next;
    }
    if (prev) decRef(volumeRef(prev));
    return added;
  }

  function removePod(key: string): void {
    for (const r of podRefs.get(key) ?? []) decRef(r);
    pods.delete(key);
    podRefs.delete(key);
  }

  async function readRef(r: RefKey, revision: number): Promise<KubeObjectJson | undefined> {
    const [kind, ns, name] = r.split('/') as [LinkKind, string, string];
    const kv = await store.get(objectKey(k.byKind.get(kind)!, ns, name), { revision });
    return kv ? decode(kind, kv) : undefined;
  }

  /** Reads a newly referenced object, and the volume a newly referenced claim is bound to. */
  async function sendRef(r: RefKey, revision: number, out: ObjectChange[]): Promise<void> {
    const [kind, rns, rname] = r.split('/') as [LinkKind, string, string];
    const obj = await readRef(r, revision);
    if (obj) out.push(change(kind, rns, rname, obj));
    if (kind !== 'PersistentVolumeClaim') return;
    const volume = followClaim(r, obj);
    if (volume) await sendRef(volumeRef(volume), revision, out);
  }

  /**
   * Rebuilds the node's state from a list at `revision`; returns the objects (for a snapshot).
   * Other nodes come from the hub's peer index (read before anything else, synchronously with the
   * hub's position): for a snapshot `revision` is that position; for a resume from an older
   * revision, a peer that changed after it is marked unsure, and its next event is sent whatever
   * it holds.
   */
  async function load(revision: number): Promise<{ kind: LinkKind; object: KubeObjectJson }[]> {
    pods.clear();
    podRefs.clear();
    refCount.clear();
    volumeOfClaim.clear();
    localVolumes.clear();
    peers.clear();
    peersSettled.clear();
    const out: { kind: LinkKind; object: KubeObjectJson }[] = [];
    resumedFrom = revision >= hub.revision ? undefined : revision;
    for (const [name, p] of hub.peerIndex()) {
      if (name === node || (resumedFrom !== undefined && hub.peerChangedAfter(name, resumedFrom))) continue;
      peers.set(name, p.text);
      out.push({ kind: 'Node', object: p.view });
    }
    // The pods that may be bound here, from the hub (read one by one at `revision`); else the whole table.
    const keys = hub.podKeysAt(node, revision);
    // Services, EndpointSlices and local volumes: from the hub's memory as well (start-objects.ts).
    const startObjects = hub.startObjects(node, revision);
    const kvs = keys ? (await Promise.all(keys.map((key) => store.get(key, { revision })))).filter((kv) => kv !== undefined) : (await store.list(k.podsPrefix, { revision })).kvs;
    for (const kv of kvs) {
      if (!kv.value.includes(boundHere)) continue;
      const pod = decode('Pod', kv) as Pod;
      if (!isOurs(pod)) continue;
      addPod(kv.key, pod);
      out.push({ kind: 'Pod', object: pod as KubeObjectJson });
    }
    dropped.length = 0;
    const started = await readStartObjects(store, k, node, revision, startObjects);
    for (const name of started.localVolumes) localVolumes.add(name);
    const changes: ObjectChange[] = [];
    for (const r of [...refCount.keys()]) await sendRef(r, revision, changes);
    for (const name of localVolumes) if (!refCount.has(volumeRef(name))) await sendRef(volumeRef(name), revision, changes);
    dropped.length = 0;
    for (const c of changes) if (c.object) out.push({ kind: c.kind, object: c.object });
    const self = await store.get(nodeKey, { revision });
    if (self) out.push({ kind: 'Node', object: decode('Node', self) });
    for (const object of started.services) out.push({ kind: 'Service', object });
    for (const object of topology.load(started.services, started.slices)) out.push({ kind: 'EndpointSlice', object });
    processed = revision;
    return out;
  }

  const change = (kind: LinkKind, namespace: string, name: string, object?: KubeObjectJson): ObjectChange =>
    object ? { kind, namespace, name, object } : { kind, namespace, name };

  /** A namespace's slices as of `revision` (a Service starts filtering: the node had them whole). */
  async function slicesOf(namespace: string, revision: number): Promise<KubeObjectJson[]> {
    const { kvs } = await store.list(`${slicesPrefix}${namespace}/`, { revision });
    return kvs.map((kv) => trimForNode(decode('EndpointSlice', kv)));
  }

  async function onEvent(e: FeedEvent, out: ObjectChange[]): Promise<void> {
    const { ev } = e;
    const key = ev.kv.key;
    const rev = ev.kv.modRevision;
    if (e.kind === 'Pod') {
      const was = pods.has(key);
      if (!was && !ev.kv.value.includes(boundHere)) return;
      const pod = ev.type === 'DELETED' ? undefined : (e.object() as Pod);
      const [ns, name] = key.slice(k.podsPrefix.length).split('/') as [string, string];
      if (pod && isOurs(pod)) {
        const added = addPod(key, pod);
        out.push(change('Pod', ns, name, pod as KubeObjectJson));
        for (const r of added) await sendRef(r, rev, out);
      } else if (was) {
        removePod(key);
        out.push(change('Pod', ns, name));
      }
      for (const r of dropped.splice(0)) {
        const [kind, rns, rname] = r.split('/') as [LinkKind, string, string];
        out.push(change(kind, rns, rname));
      }
      return;
    }
    if (e.kind === 'Node') {
      if (key === nodeKey) out.push(change('Node', '', node, ev.type === 'DELETED' ? undefined : e.object()));
      else {
        const name = key.slice(k.nodesPrefix.length);
        const unsure = resumedFrom !== undefined && !peersSettled.has(name) && hub.peerChangedAfter(name, resumedFrom);
        // A replayed event (no peer view from the hub) of a node that is no peer and was none: skipped undecoded.
        if (e.peer === undefined && !unsure && !peers.has(name) && !ev.kv.value.includes(peerBytes)) return;
        let view: KubeObjectJson | undefined;
        let text: string | undefined;
        if (e.peer !== undefined) ({ view, text } = e.peer ?? {});
        else if (ev.type !== 'DELETED') {
          view = peerView(e.object());
          text = view && JSON.stringify(view);
        }
        if (unsure) peersSettled.add(name);
        if (unsure || text !== peers.get(name)) {
          if (text) peers.set(name, text);
          else peers.delete(name);
          out.push(change('Node', '', name, view));
        }
      }
      // The node first, then what its pool decides (the topology's re-filtered slices).
      if (e.poolChanged) out.push(...topology.poolsChanged());
      return;
    }
    if (e.kind === 'PersistentVolume') {
      const name = key.slice(k.volumesPrefix.length);
      const pv = ev.type === 'DELETED' ? undefined : e.object();
      const was = sendsVolume(name);
      if (pv && localPathNode(pv) === node) localVolumes.add(name);
      else localVolumes.delete(name);
      if (pv && sendsVolume(name)) out.push(change('PersistentVolume', '', name, pv));
      else if (was) out.push(change('PersistentVolume', '', name));
      return;
    }
    const w = k.widePrefixes.find((x) => x.kind === e.kind);
    if (w) {
      const [ns, name] = key.slice(w.prefix.length).split('/') as [string, string];
      const object = ev.type === 'DELETED' ? undefined : e.object();
      if (w.kind === 'EndpointSlice') out.push(...topology.slice(ns, name, object, e.object()));
      else {
        out.push(change(w.kind, ns, name, object));
        out.push(...(await topology.service(ns, name, object, () => slicesOf(ns, rev))));
      }
      return;
    }
    const p = k.refPrefixes.find((x) => x.kind === e.kind)!;
    const [ns, name] = key.slice(p.prefix.length).split('/') as [string, string];
    const r = `${p.kind}/${ns}/${name}`;
    if (!refCount.has(r)) return;
    const obj = ev.type === 'DELETED' ? undefined : e.object();
    out.push(change(p.kind, ns, name, obj));
    if (p.kind === 'PersistentVolumeClaim') {
      const volume = followClaim(r, obj);
      if (volume) await sendRef(volumeRef(volume), rev, out);
      for (const d of dropped.splice(0)) out.push(change('PersistentVolume', '', d.slice('PersistentVolume//'.length)));
    }
  }

  // Events are processed strictly in order even though reading references is asynchronous.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void> | void) => {
    queue = queue.then(async () => {
      if (!stopped) await work();
    });
    queue.catch((err: unknown) => fail(err));
  };

  async function process(events: readonly FeedEvent[]): Promise<void> {
    const fresh = events.filter((e) => e.ev.kv.modRevision > processed);
    if (fresh.length === 0) return;
    const out: ObjectChange[] = [];
    for (const e of fresh) await onEvent(e, out);
    const revision = fresh[fresh.length - 1]!.ev.kv.modRevision;
    processed = revision;
    if (out.length > 0) {
      sink.changes(revision, out);
      lastSent = revision;
      lastSentAt = now();
    } else maybeBookmark(revision);
  }

  function maybeBookmark(revision: number): void {
    if (revision <= lastSent || revision < processed || now() - lastSentAt < BOOKMARK_EVERY_MS) return;
    sink.bookmark(revision);
    lastSent = revision;
    lastSentAt = now();
  }

  function fail(err: unknown): void {
    if (stopped) return;
    log.error({ err: errorMessage(err), node }, 'the node feed failed');
    stop();
    sink.failed(err instanceof Error ? err : new Error(String(err)));
  }

  const subscriber: HubSubscriber = {
    events: (_revision, events) => {
      if (held) held.push(...events);
      else enqueue(() => process(events));
    },
    progress: (revision) => {
      if (!held) enqueue(() => maybeBookmark(revision));
    },
    resync: () => {
      held = [];
      enqueue(() => relist());
    },
  };
  const unsubscribe = hub.subscribe(node, subscriber);

  function stop(): void {
    stopped = true;
    catchUp?.close();
    unsubscribe();
  }

  /** From here on the hub's events are processed as they come (those held first). */
  function goLive(): void {
    catchUp?.close();
    catchUp = undefined;
    const waiting = held ?? [];
    held = undefined;
    enqueue(() => process(waiting));
  }

  /** Replays the store's history after `from` until it reaches what the hub has handed over. */
  function replayFrom(from: number): void {
    const target = hub.revision;
    if (from >= target) return goLive();
    // The hub still holds what it routed here since `from`: replayed from memory, no store read.
    const recent = hub.recentAfter(node, from);
    if (recent) {
      enqueue(async () => {
        await process(recent);
        processed = Math.max(processed, target);
      });
      return goLive();
    }
    const reached = (revision: number) => {
      if (catchUp && revision >= target) goLive();
    };
    catchUp = store.watch('/registry/', { fromRevision: from }, (msg) => {
      if (msg.kind === 'events') {
        const events = msg.events.map((ev) => eventOf(ev)).filter((e): e is FeedEvent => e !== undefined);
        const last = msg.events[msg.events.length - 1]!.kv.modRevision;
        enqueue(async () => {
          await process(events);
          processed = Math.max(processed, last);
        });
        enqueue(() => reached(last));
      } else if (msg.kind === 'progress') enqueue(() => reached(msg.revision));
      else {
        // Fell behind compaction: start over with a snapshot (the agent replaces its cache).
        catchUp = undefined;
        log.info({ node, err: errorMessage(msg.error) }, 'node watch fell behind compaction: sending a snapshot');
        enqueue(() => relist());
      }
    });
  }

  /** A store event as the hub would hand it (only the kinds the feed carries). */
  function eventOf(ev: WatchEvent): FeedEvent | undefined {
    const key = ev.kv.key;
    if (key.startsWith(k.podsPrefix)) return feedEvent(k, 'Pod', ev);
    if (key.startsWith(k.nodesPrefix)) return feedEvent(k, 'Node', ev);
    const kind = sharedKind(k, key);
    return kind ? feedEvent(k, kind, ev) : undefined;
  }

  async function relist(): Promise<void> {
    catchUp?.close();
    catchUp = undefined;
    held ??= [];
    // At the hub's position, once it has reached what the store holds now (it trails by a batch,
    // or a progress tick): the other nodes come from its peer index as of it (load), and what the
    // hub hands over after it is held until the snapshot is out.
    await hub.poolsReady();
    await hub.reached(await store.currentRevision(), 5000);
    const revision = hub.revision;
    const objects = await load(revision);
    sink.snapshot(revision, objects);
    lastSent = revision;
    lastSentAt = now();
    // Everything the hub handed over up to `revision` is in the snapshot; the rest follows.
    goLive();
  }

  async function begin(): Promise<'resume' | 'relist'> {
    await hub.poolsReady();
    const from = opts.fromRevision;
    // The peer index must not be older than what the agent holds (load): the hub trails the
    // store by a batch at most, or a progress tick when nothing routed happened.
    if (from !== undefined && from > 0 && from >= (await store.compactRevision()) && from <= (await store.currentRevision()) && (await hub.reached(from, 5000))) {
      try {
        await load(from);
        // The node's filtered slices were computed with the pools of their time; the hub knows
        // only today's: send them all again rather than guess what the node holds.
        const again = topology.forgetSent();
        if (again.length > 0) sink.changes(from, again);
        lastSent = from;
        replayFrom(from);
        return 'resume';
      } catch (err) {
        if (!(err instanceof CompactedError)) throw err;
      }
    }
    await relist();
    return 'relist';
  }

  return begin().then(
    (start) => ({ start, stop }),
    (err: unknown) => {
      stop();
      throw err;
    },
  );
}
