/**
 * The fleet as the console's fleet and pool pages show it, kept by the server so that a page with
 * 10,000 nodes needs one small answer, not 20 pages of 500 Node objects: per node a trimmed copy
 * of its Node (name, pool, Ready, version, architecture), its Lease's renewal, and how many pods
 * run on it. Filled from the store by one list of Nodes, node Leases and Pods at one revision,
 * then kept current by the store's watches from that revision (the same data the API serves,
 * without its JSON per request). Started on the first console request that needs it.
 *
 * Answers are computed per request (a loop over the nodes: "online" depends on the clock, a Lease
 * lapses without any event) and filtered by what the caller may read (routes.ts authorizes).
 * Memory: ~300 bytes per node and ~100 per pod.
 */
import type { Logger } from '../../common/log.ts';
import type { KeyValue, Store, Watch, WatchMessage } from '../../store/types.ts';
import { listPrefix, ResourceRegistry } from '../registry/index.ts';
import { archOf, lastSeen, leaseExpiry, onlineUntil, podCountsOnNode, poolOf } from './node-state.ts';
import type { LeaseLike, NodeLike } from './node-state.ts';
import type { FleetQuery, FleetAnswer, FleetRow } from './types.ts';

const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const LIST_PAGE = 1000;
const RETRY_MS = 2000;

function prefixes(): { nodes: string; leases: string; pods: string } {
  const reg = new ResourceRegistry();
  const find = (group: string, plural: string) => {
    const r = reg.all().find((x) => x.group === group && x.plural === plural && !x.virtual);
    if (!r) throw new Error(`no built-in resource ${plural}.${group}`);
    return r;
  };
  return {
    nodes: listPrefix(find('', 'nodes'), ''),
    leases: listPrefix(find('coordination.k8s.io', 'leases'), NODE_LEASE_NAMESPACE),
    pods: listPrefix(find('', 'pods'), ''),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The Node's parts the console shows (node-state.ts reads them as it reads a whole Node). */
function trimNode(o: Json): NodeLike {
  const labels: Record<string, string> = {};
  for (const k of ['apps.edgeos.io/pool', 'kubernetes.io/arch']) if (typeof o?.metadata?.labels?.[k] === 'string') labels[k] = o.metadata.labels[k];
  const ready = (o?.status?.conditions ?? []).find((c: Json) => c?.type === 'Ready');
  return {
    metadata: { name: String(o?.metadata?.name ?? ''), labels },
    status: {
      conditions: ready ? [{ type: 'Ready', status: ready.status, reason: ready.reason, lastHeartbeatTime: ready.lastHeartbeatTime, lastTransitionTime: ready.lastTransitionTime }] : [],
      nodeInfo: { kubeletVersion: o?.status?.nodeInfo?.kubeletVersion ?? '', architecture: o?.status?.nodeInfo?.architecture ?? '' },
    },
  };
}

const trimLease = (o: Json): LeaseLike => ({ spec: { renewTime: o?.spec?.renewTime, leaseDurationSeconds: o?.spec?.leaseDurationSeconds } });

/**
 * A node as the view holds it: the same object while the node exists (the order holds it), with
 * its pool and its Lease's expiry read once when they change, not on every query.
 */
interface Entry {
  readonly name: string;
  pool: string;
  node: NodeLike;
  lease: LeaseLike | undefined;
  leaseExpiresMs: number | undefined;
}

// Code-point order (names are DNS names): localeCompare costs ~10× more over 10,000 rows.
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class FleetView {
  readonly #store: () => Store | undefined;
  readonly #log: Logger | undefined;
  readonly #prefix = prefixes();
  readonly #nodes = new Map<string, Entry>();
  /** Leases by node name, also of names with no Node (yet). */
  readonly #leases = new Map<string, LeaseLike>();
  /** The entries by pool and name; sorted again only after a node came, went or changed pool. */
  #order: Entry[] | undefined;
  /** Pod key → the node it counts on. */
  readonly #podNode = new Map<string, string>();
  readonly #podsPerNode = new Map<string, number>();
  #watches: Watch[] = [];
  #started: Promise<void> | undefined;
  #closed = false;
  /** The store revision the view reflects. */
  revision = 0;
  /** Bumped by every change applied (listeners compare it). */
  changes = 0;

  constructor(store: () => Store | undefined, log?: Logger) {
    this.#store = store;
    this.#log = log;
  }

  /** Objects held, per kind of cache (edgeos_cache_objects). */
  sizes(): [string, number][] {
    return [['console/fleet-nodes', this.#nodes.size], ['console/fleet-leases', this.#leases.size], ['console/fleet-pods', this.#podNode.size]];
  }

  /** Lists and starts watching, once; resolves when the view holds the store's state. */
  ready(): Promise<void> {
    this.#started ??= this.#load().catch((err: unknown) => {
      this.#started = undefined; // the next request tries again
      throw err;
    });
    return this.#started;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watches) w.close();
    this.#watches = [];
  }

  async #load(): Promise<void> {
    const store = this.#store();
    if (!store) throw new Error('the store is not open');
    this.#nodes.clear();
    this.#order = undefined;
    this.#leases.clear();
    this.#podNode.clear();
    this.#podsPerNode.clear();
    let revision = 0;
    for (const [prefix, apply] of this.#appliers()) {
      let startAfter: string | undefined;
      for (;;) {
        const page = await store.list(prefix, { limit: LIST_PAGE, ...(startAfter ? { startAfter } : {}), ...(revision ? { revision } : {}) });
        revision = page.revision;
        for (const kv of page.kvs) apply('ADDED', kv);
        if (!page.more || page.kvs.length === 0) break;
        startAfter = page.kvs.at(-1)!.key;
      }
    }
    this.revision = revision;
    this.changes++;
    for (const [prefix, apply] of this.#appliers()) {
      this.#watches.push(store.watch(prefix, { fromRevision: revision }, (m) => this.#onWatch(m, apply)));
    }
  }

  #appliers(): [string, (type: 'ADDED' | 'MODIFIED' | 'DELETED', kv: KeyValue) => void][] {
    const p = this.#prefix;
    return [
      [p.nodes, (type, kv) => {
        const name = kv.key.slice(p.nodes.length);
        const entry = this.#nodes.get(name);
        if (type === 'DELETED') {
          if (entry) this.#order = undefined;
          this.#nodes.delete(name);
          return;
        }
        const node = trimNode(JSON.parse(kv.value.toString('utf8')));
        const pool = poolOf(node);
        if (entry) {
          entry.node = node;
          if (entry.pool === pool) return;
          entry.pool = pool;
        } else {
          const lease = this.#leases.get(name);
          this.#nodes.set(name, { name, pool, node, lease, leaseExpiresMs: leaseExpiry(lease) });
        }
        this.#order = undefined;
      }],
      [p.leases, (type, kv) => {
        const name = kv.key.slice(p.leases.length);
        const lease = type === 'DELETED' ? undefined : trimLease(JSON.parse(kv.value.toString('utf8')));
        if (lease) this.#leases.set(name, lease);
        else this.#leases.delete(name);
        const entry = this.#nodes.get(name);
        if (entry) {
          entry.lease = lease;
          entry.leaseExpiresMs = leaseExpiry(lease);
        }
      }],
      [p.pods, (type, kv) => {
        const old = this.#podNode.get(kv.key);
        const now = type === 'DELETED' ? undefined : podCountsOnNode(JSON.parse(kv.value.toString('utf8')));
        if (old === now) return;
        if (old !== undefined) {
          const n = (this.#podsPerNode.get(old) ?? 1) - 1;
          if (n > 0) this.#podsPerNode.set(old, n);
          else this.#podsPerNode.delete(old);
          this.#podNode.delete(kv.key);
        }
        if (now !== undefined) {
          this.#podsPerNode.set(now, (this.#podsPerNode.get(now) ?? 0) + 1);
          this.#podNode.set(kv.key, now);
        }
      }],
    ];
  }

  #onWatch(m: WatchMessage, apply: (type: 'ADDED' | 'MODIFIED' | 'DELETED', kv: KeyValue) => void): void {
    if (m.kind === 'events') {
      for (const e of m.events) {
        try {
          apply(e.type, e.kv);
        } catch (err) {
          this.#log?.warn({ err, key: e.kv.key }, 'console fleet view: an object could not be read; skipped');
        }
        if (e.kv.modRevision > this.revision) this.revision = e.kv.modRevision;
      }
      this.changes++;
    } else if (m.kind === 'progress') {
      if (m.revision > this.revision) this.revision = m.revision;
    } else {
      // The watch fell behind compaction (or the store went away): list again from scratch.
      this.#log?.warn({ err: m.error }, 'console fleet view: a watch ended; listing again');
      for (const w of this.#watches) w.close();
      this.#watches = [];
      this.#started = undefined;
      if (this.#closed) return;
      setTimeout(() => void this.ready().catch(() => {}), RETRY_MS).unref();
    }
  }

  /**
   * The summary (counts of all nodes, or of one pool's) and one page of rows, offline first, then
   * by pool and name. `withLeases`/`withPods` are what the caller may read: without the Leases,
   * online is the Ready condition alone; without the Pods, no counts.
   */
  query(q: FleetQuery, withLeases: boolean, withPods: boolean, now = Date.now()): FleetAnswer {
    const pools: { pool: string; total: number; online: number }[] = [];
    let total = 0;
    let up = 0;
    const needle = q.q.trim().toLowerCase();
    this.#order ??= [...this.#nodes.values()].sort((a, b) => cmp(a.pool, b.pool) || cmp(a.name, b.name));
    // One pass over the nodes in pool and name order, no sort per query: the rows are the offline
    // ones first, then the online ones, each in that order.
    const down: Entry[] = [];
    const upMatched: Entry[] = [];
    let pool: { pool: string; total: number; online: number } | undefined;
    for (const e of this.#order) {
      if (q.pool !== undefined && e.pool !== q.pool) continue;
      const isUp = onlineUntil(e.node, withLeases ? e.leaseExpiresMs : undefined, now);
      total++;
      if (isUp) up++;
      if (pool?.pool !== e.pool) pools.push((pool = { pool: e.pool, total: 0, online: 0 }));
      pool.total++;
      if (isUp) pool.online++;
      if (q.show !== 'all' && (q.show === 'online') !== isUp) continue;
      if (needle && ![e.name, e.pool, e.node.status?.nodeInfo?.kubeletVersion ?? '', archOf(e.node)].some((v) => v.toLowerCase().includes(needle))) continue;
      (isUp ? upMatched : down).push(e);
    }
    const matched = down.length + upMatched.length;
    const rows: FleetRow[] = [];
    for (let i = q.offset; i < Math.min(matched, q.offset + q.limit); i++) {
      const online = i >= down.length;
      const e = online ? upMatched[i - down.length]! : down[i]!;
      const lease = withLeases ? e.lease : undefined;
      const seen = lastSeen(e.node, lease);
      rows.push({
        name: e.name,
        pool: e.pool,
        online,
        ...(seen ? { lastSeen: seen } : {}),
        version: e.node.status?.nodeInfo?.kubeletVersion ?? '',
        arch: archOf(e.node),
        pods: withPods ? (this.#podsPerNode.get(e.name) ?? 0) : null,
      });
    }
    return {
      revision: String(this.revision),
      summary: {
        total,
        online: up,
        offline: total - up,
        pools,
      },
      matched,
      offset: q.offset,
      rows,
    };
  }
}
