/**
 * One store watch for every link (docs/link.md, "One feed for all nodes"). Before, each connected
 * node held its own watch on all of `/registry/` and decoded every pod event to look at its
 * `spec.nodeName`: nodes × writes. The hub watches once, decodes each event once, and hands it
 * only to the feeds that can care:
 *
 * - a pod to the feed of its `spec.nodeName` (a DELETED event carries the last value, so a deleted
 *   pod still names its node; nodeName only ever goes from unset to set, so the new value is
 *   enough for an update);
 * - a Node to the feed of that node, and to every feed when its NodePool changed (the label
 *   `apps.edgeos.io/pool`): the hub keeps every node's pool, the one index Service topology
 *   filters by (endpoint-topology.ts); and to every feed when what its peers read of it changed (peerView: its pod CIDR and pod
 *   network annotations; rare: registration, CIDR assignment; this decodes every Node event once),
 *   each feed sending a peer's change only when it differs from what it sent;
 * - a Service or EndpointSlice to every feed (every node routes every Service), trimmed once;
 * - a Secret, ConfigMap, ServiceAccount, PersistentVolumeClaim or PersistentVolume to every feed
 *   (each checks its own reference counts, and for a volume whether it is a local volume of its
 *   node, when it gets there). Routing those by interest would race: a feed learns that it needs
 *   a Secret only when it processes the pod that references it (a volume: the claim bound to it),
 *   which may be after the hub has passed a change of that Secret. They are rare writes, decoded
 *   once; the check is one map lookup per feed;
 * - everything else (Leases, Events, workloads…) to nobody, undecoded.
 *
 * Every feed receives its events of one store batch in one call, in revision order, and every
 * PROGRESS_EVERY_MS the hub's position (for bookmarks). If the hub's watch ends (the store lost
 * history it could not replay), it starts again from now and every feed relists.
 */
import { errorMessage } from '../../common/errors.ts';
import { ownText } from '../../common/own-bytes.ts';
import type { Logger } from '../../common/log.ts';
import type { KubeObjectJson, LinkKind } from '../../common/link/protocol.ts';
import { POOL_LABEL } from '../../common/pools.ts';
import type { KeyValue, Store, Watch, WatchEvent } from '../../store/types.ts';
import type { Pod } from 'kubernetes-types/core/v1';
import { NodePodIndex } from '../auth/node-pod-index.ts';
import type { NodePods } from '../auth/node-pod-index.ts';
import { decodeStored } from '../storage/objects.ts';
import { feedKinds, peerView, trimForNode } from './feed-kinds.ts';
import { PodCidrIndex } from './pod-relay.ts';
import { RECENT_MAX, RecentEvents } from './feed-recent.ts';
import { PeerIndex } from './feed-peers.ts';
import type { PeerEntry } from './feed-peers.ts';
import { HubObjects } from './start-objects.ts';
import type { StartObjects } from './start-objects.ts';
import type { FeedKinds } from './feed-kinds.ts';

/** Feeds hear the hub's position this often (they send a bookmark at most every 60 s). */
const PROGRESS_EVERY_MS = 5000;

/** One store event as the hub saw it; the object is decoded at most once for all feeds. */
export interface FeedEvent {
  readonly ev: WatchEvent;
  readonly kind: LinkKind;
  /** The decoded value (for DELETED: the last value). */
  object(): KubeObjectJson;
  /** A Node whose pool changed (given to every feed, not only the node's). */
  readonly poolChanged?: boolean;
  /**
   * A Node event as the hub routed it: the Node's peer view as of this event, computed once for
   * every feed (null: no peer, or deleted). Absent on events a feed replays from its own watch.
   */
  readonly peer?: PeerEntry | null;
}


export interface HubSubscriber {
  /** This node's events of one store batch, in order; `revision` is the batch's last. */
  events(revision: number, events: readonly FeedEvent[]): void;
  /** Nothing more for this node up to `revision`. */
  progress(revision: number): void;
  /** The hub lost its place: start over with a snapshot. */
  resync(): void;
}

export function feedEvent(kinds: FeedKinds, kind: LinkKind, ev: WatchEvent): FeedEvent {
  let decoded: KubeObjectJson | undefined;
  const wide = kinds.widePrefixes.some((w) => w.kind === kind);
  const decode = () => {
    const o = decodeStored(kinds.byKind.get(kind)!, ev.kv) as KubeObjectJson;
    return wide ? trimForNode(o) : o;
  };
  return { ev, kind, object: () => (decoded ??= decode()) };
}

export type { PeerEntry } from './feed-peers.ts';

export class FeedHub {
  private readonly store: Store;
  private readonly log: Logger;
  private readonly kinds = feedKinds();
  private readonly subs = new Map<string, Set<HubSubscriber>>();
  /** Every Node that is a peer of the pod network, as of the hub's position (feed-peers.ts). */
  private readonly peers = new PeerIndex();
  private watch: Watch | undefined;
  /** The watch is being started (its first revision is read from the store). */
  private starting = false;
  /** The events routed lately, for resumes (feed-recent.ts). */
  private readonly recent = new RecentEvents<FeedEvent>();
  /** The revision the pod index was listed at (infinity: not known). */
  private podsSince = Number.POSITIVE_INFINITY;
  /** Who waits for the hub to reach a revision (reached, through), resolved as it routes. */
  private waiters: { readonly revision: number; readonly resolve: (reached: boolean) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastRevision = 0;
  private closed = false;
  /** Every node's pod CIDR as of the hub's position (the pod network relay's routing, pod-relay.ts). */
  readonly podCidrs = new PodCidrIndex();
  /** Every node's pool as of the hub's position. */
  private readonly pools = new Map<string, string>();
  /**
   * The pods bound to each node, and what each references, as of the hub's position: a feed that
   * starts reads its node's pods one by one instead of listing the whole pod table (podKeysAt: a
   * restart storm of 1,000 resuming links listed 1,000 pods 1,000 times, three quarters of the
   * server's CPU), and the Node authorizer's candidates (`nodePods`). The server's one such index.
   */
  private readonly pods = new NodePodIndex();
  /** Every Service, EndpointSlice and local volume as of the hub's position, for link starts (start-objects.ts). */
  private readonly objects = new HubObjects(this.kinds);
  /** The pod index as the Node authorizer reads it (auth/node-pod-index.ts). */
  readonly nodePods: NodePods = {
    candidates: (node, namespace, kind, name) => (this.podsKnown() ? this.pods.candidates(node, namespace, kind, name) : []),
    through: async (revision, timeoutMs) => {
      if (this.closed) return false;
      this.ensureWatch();
      return (await this.reached(revision, timeoutMs)) && this.podsKnown();
    },
  };
  /** While the pools are first listed: the batches the watch delivered meanwhile, routed after. */
  private held: (readonly WatchEvent[])[] | undefined;
  private poolsLoaded: Promise<void> = Promise.resolve();
  private readonly poolLabelBytes = ownText(JSON.stringify(POOL_LABEL));

  constructor(o: { store: Store; log: Logger }) {
    this.store = o.store;
    this.log = o.log;
  }

  /** Everything up to this revision has been handed to the feeds subscribed at the time. */
  get revision(): number {
    return this.lastRevision;
  }

  /** Feeds subscribed now. */
  get size(): number {
    let n = 0;
    for (const s of this.subs.values()) n += s.size;
    return n;
  }

  /** The NodePool of a node (undefined: in none, or no such node) as of the hub's position. */
  poolOf(node: string): string | undefined {
    return this.pools.get(node);
  }

  /** Every peer of the pod network as of `revision` (read synchronously with it). */
  peerIndex(): ReadonlyMap<string, PeerEntry> {
    return this.peers.entries;
  }

  /** Whether what a node at `revision` holds of this Node's peer view may differ from the index (feed-peers.ts). */
  peerChangedAfter(name: string, revision: number): boolean {
    return this.peers.changedAfter(name, revision);
  }

  /** Resolves true once the hub's position is at least `revision`, false after `timeoutMs`. */
  async reached(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.lastRevision >= revision && !this.held) return true;
    if (this.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    const ok = await new Promise<boolean>((resolve) => {
      const waiter = { revision, resolve };
      this.waiters.push(waiter);
      timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
    });
    clearTimeout(timer);
    return ok;
  }

  /** Whether the pod index holds every pod bound as of the hub's position. */
  private podsKnown(): boolean {
    return !this.held && this.podsSince !== Number.POSITIVE_INFINITY;
  }

  /** Moves the hub's position to `revision` (when later) and wakes who waited for it. */
  private advance(revision: number): void {
    if (revision > this.lastRevision) this.lastRevision = revision;
    if (this.held || this.waiters.length === 0) return;
    const due = this.waiters.filter((w) => w.revision <= this.lastRevision);
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.revision > this.lastRevision);
    for (const w of due) w.resolve(true);
  }

  /**
   * What the hub routed to `node`'s feed after `revision`, up to its position, if it still holds
   * all of it (undefined: resume from the store's history instead).
   */
  recentAfter(node: string, revision: number): FeedEvent[] | undefined {
    return this.held ? undefined : this.recent.after(node, revision);
  }


  /** Resolves once the pools are known (a feed waits for it before it filters anything). */
  poolsReady(): Promise<void> {
    return this.poolsLoaded;
  }

  subscribe(node: string, sub: HubSubscriber): () => void {
    if (this.closed) throw new Error('the link feed hub is closed');
    this.ensureWatch();
    let set = this.subs.get(node);
    if (!set) this.subs.set(node, (set = new Set()));
    set.add(sub);
    return () => {
      set.delete(sub);
      if (set.size === 0 && this.subs.get(node) === set) this.subs.delete(node);
    };
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.resolve(false);
    this.watch?.close();
    clearInterval(this.timer);
  }

  /**
   * Starts the hub's watch. The first one starts in the past — at the store's history of the last
   * RECENT_MAX revisions (or all it kept since compaction) — and routes that history into its memory
   * as it would have live: after a server restart every agent resumes from the revision it holds
   * (≤ 60 s old: bookmarks) and finds what happened since in the hub's memory. Starting from now,
   * each of N resuming links read the store's history since its revision with a watch of its own —
   * every Lease renewal and Event —, in a 1,000-node restart storm ~20 % of the server's CPU and
   * much of its 40 % garbage collection for minutes, with links dropped meanwhile (its event loop
   * too busy to ack their Leases) and read again. Now the history is read once. A watch that ended
   * (history lost) starts again from now.
   */
  private ensureWatch(fromPast = true): void {
    if (this.watch || this.starting) return;
    const held: (readonly WatchEvent[])[] = [];
    this.held = held;
    this.starting = true;
    this.recent.reset();
    this.poolsLoaded = (async () => {
      const from = fromPast ? await this.historyStart() : 0;
      if (this.closed) return;
      // Progress often: a feed's snapshot waits for the hub to reach the store's revision (reached),
      // which only a progress message tells when the last writes were outside /registry/.
      const w = this.store.watch('/registry/', { fromRevision: from, progressIntervalMs: 250 }, (msg) => {
        if (msg.kind === 'events') {
          if (this.held) this.held.push(msg.events);
          else this.route(msg.events);
        } else if (msg.kind === 'progress') {
          if (!this.held) this.advance(msg.revision);
        } else {
          this.log.warn({ err: errorMessage(msg.error) }, 'the link feed hub lost its watch: every node relists');
          this.watch = undefined;
          if (this.closed) return;
          this.ensureWatch(false);
          for (const set of this.subs.values()) for (const s of [...set]) s.resync();
        }
      });
      this.watch = w;
      this.starting = false;
      this.recent.reset(w.startRevision);
      this.lastRevision = Math.max(this.lastRevision, w.startRevision);
      await this.loadPools(w.startRevision);
      if (this.held !== held) return;
      this.held = undefined;
      for (const batch of held) this.route(batch);
      this.advance(this.lastRevision);
    })().catch((err: unknown) => {
      // The store is closing (or failed): links find no feed either way.
      this.starting = false;
      if (this.held === held) this.held = undefined;
      this.log.warn({ err: errorMessage(err) }, 'the link feed hub could not start its watch');
    });
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const set of this.subs.values()) for (const s of set) s.progress(this.lastRevision);
      }, PROGRESS_EVERY_MS);
      this.timer.unref();
    }
  }

  /** Where the first watch starts: the last RECENT_MAX revisions of history, as far as the store kept them. */
  private async historyStart(): Promise<number> {
    const [current, compacted] = await Promise.all([this.store.currentRevision(), this.store.compactRevision()]);
    // (0 would mean "from now": an empty store has no history to keep.)
    return current <= 1 ? 0 : Math.max(compacted, current - RECENT_MAX, 1);
  }


  /** The pools as of the watch's start; events after it keep them current (route). */
  private async loadPools(revision: number): Promise<void> {
    const k = this.kinds;
    try {
      const { kvs } = await this.store.list(k.nodesPrefix, { revision });
      this.pools.clear();
      this.peers.reset(revision);
      for (const kv of kvs) {
        const name = kv.key.slice(k.nodesPrefix.length);
        const e = feedEvent(k, 'Node', { type: 'ADDED', kv });
        this.notePool(name, e);
        this.podCidrs.set(name, podCidrOf(e.object()));
        this.peers.listed(name, peerView(e.object()), kv.modRevision);
      }
    } catch (err) {
      // Learned from the Node events from now on; until then nothing is filtered by pool.
      this.log.warn({ err: errorMessage(err) }, 'the link feed hub could not list the node pools');
    }
    this.pods.clear();
    this.podsSince = Number.POSITIVE_INFINITY;
    try {
      // Only bound pods are decoded (an unbound pod's bytes hold no `"nodeName":`).
      for (const kv of (await this.store.list(k.podsPrefix, { revision })).kvs) {
        if (kv.value.includes(NODE_NAME)) this.pods.put(kv.key, feedEvent(k, 'Pod', { type: 'ADDED', kv }).object() as Pod);
      }
      this.podsSince = revision;
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'the link feed hub could not list the pods: feeds list them themselves');
    }
    try {
      await this.objects.load(this.store, revision);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'the link feed hub could not list the Services, EndpointSlices and volumes: feeds list them themselves');
    }
  }

  /**
   * The keys of every pod that may have been bound to `node` at `revision` (its pods now, and
   * those of the hub's events after `revision` — a pod deleted since), in key order; undefined
   * when the hub cannot tell (its memory does not reach back that far): list the pods instead.
   */
  podKeysAt(node: string, revision: number): string[] | undefined {
    if (revision < this.podsSince) return undefined;
    const recent = this.recentAfter(node, revision);
    if (!recent) return undefined;
    const keys = new Set(this.pods.keysOf(node));
    for (const e of recent) if (e.kind === 'Pod') keys.add(e.ev.kv.key);
    return [...keys].sort();
  }

  /**
   * The Services, EndpointSlices and local volumes a feed starting at `revision` holds, from memory
   * but for what changed after `revision` (read synchronously with the hub's position); undefined
   * when the hub's memory does not reach back that far.
   */
  startObjects(node: string, revision: number): StartObjects | undefined {
    const after = this.recentAfter(node, revision);
    return after && this.objects.at(node, revision, after);
  }

  /** Records the pool of a Node event; true when it changed. */
  private notePool(name: string, e: FeedEvent): boolean {
    if (!this.pools.has(name) && !e.ev.kv.value.includes(this.poolLabelBytes)) return false;
    const labels = e.ev.type === 'DELETED' ? undefined : (e.object().metadata as { labels?: Record<string, string> } | undefined)?.labels;
    const pool = labels?.[POOL_LABEL] || undefined;
    if (this.pools.get(name) === pool) return false;
    if (pool) this.pools.set(name, pool);
    else this.pools.delete(name);
    return true;
  }

  private route(events: readonly WatchEvent[]): void {
    const k = this.kinds;
    const out = new Map<HubSubscriber, FeedEvent[]>();
    const now = Date.now();
    // Kept for resumes: to one node's feed (`node`) or to every feed (undefined).
    const keep = (e: FeedEvent, node: string | undefined) => this.recent.push(e, node, now);
    const give = (set: Iterable<HubSubscriber> | undefined, e: FeedEvent) => {
      for (const s of set ?? []) {
        const list = out.get(s);
        if (list) list.push(e);
        else out.set(s, [e]);
      }
    };
    for (const stored of events) {
      const key = stored.kv.key;
      if (key.startsWith(k.podsPrefix)) {
        const e = feedEvent(k, 'Pod', lean(stored));
        // A pod the index holds is bound there for good: its events are routed undecoded.
        const node = this.pods.nodeOf(key) ?? nodeNameOf(e, stored.kv);
        if (node) {
          if (stored.type === 'DELETED') this.pods.remove(key);
          else this.pods.put(key, e.object() as Pod);
          keep(e, node);
          give(this.subs.get(node), e);
        }
      } else if (key.startsWith(k.nodesPrefix)) {
        const name = key.slice(k.nodesPrefix.length);
        const base = feedEvent(k, 'Node', lean(stored));
        const poolChanged = this.notePool(name, base);
        const object = stored.type === 'DELETED' ? undefined : base.object();
        this.podCidrs.set(name, object && podCidrOf(object));
        const { peer, changed: peerChanged } = this.peers.note(name, object && peerView(object), stored.kv.modRevision);
        const e: FeedEvent = { ...base, peer, ...(poolChanged ? { poolChanged: true } : {}) };
        const toAll = poolChanged || peerChanged;
        keep(e, toAll ? undefined : name);
        if (!toAll) give(this.subs.get(name), e);
        else for (const set of this.subs.values()) give(set, e);
      } else {
        const kind = sharedKind(k, key);
        if (!kind) continue;
        const e = feedEvent(k, kind, lean(stored));
        this.objects.apply(e);
        keep(e, undefined);
        for (const set of this.subs.values()) give(set, e);
      }
    }
    if (events.length > 0) this.advance(events[events.length - 1]!.kv.modRevision);
    this.recent.trim(now);
    for (const [s, list] of out) s.events(this.lastRevision, list);
  }
}

/** The kinds every feed hears of (each decides for itself): references, volumes, Services. */
export function sharedKind(k: FeedKinds, key: string): LinkKind | undefined {
  if (key.startsWith(k.volumesPrefix)) return 'PersistentVolume';
  return (k.refPrefixes.find((p) => key.startsWith(p.prefix)) ?? k.widePrefixes.find((p) => key.startsWith(p.prefix)))?.kind;
}

function podCidrOf(node: KubeObjectJson): string | undefined {
  const c = (node.spec as { podCIDR?: unknown } | undefined)?.podCIDR;
  return typeof c === 'string' && c !== '' ? c : undefined;
}

const NODE_NAME = ownText('"nodeName":');

/** What is routed is kept for a while (feed-recent.ts), and no feed reads the previous value: routed without it. */
function lean(ev: WatchEvent): WatchEvent {
  return ev.prevKv ? { type: ev.type, kv: ev.kv } : ev;
}

function nodeNameOf(e: FeedEvent, kv: KeyValue): string | undefined {
  // Unbound pods (no nodeName yet) are most of a busy scheduler's writes: skip them undecoded.
  if (!kv.value.includes(NODE_NAME)) return undefined;
  const n = (e.object().spec as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof n === 'string' && n !== '' ? n : undefined;
}
