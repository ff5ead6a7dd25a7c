/**
 * A watch-fed cache of a few key prefixes of the store — the Namespaces and the ServiceAccounts —
 * which kube-apiserver's admission plugins read from informers rather than from etcd. Every
 * namespaced create checks its Namespace (storage/namespace-lifecycle.ts) and every pod create reads its
 * ServiceAccount (kinds/service-account-admission.ts); on PostgreSQL each was a database round
 * trip, half of those a create made (docs/ha.md, "Measured").
 *
 * Correct with several servers on one database: each prefix is listed and then watched from the
 * list's revision on the store's revisioned log, so the cache always holds the prefix as of one
 * revision of the log, moving forward event by event; another server's writes arrive with the
 * watch. A read goes to the store instead when
 *  - the key is not in the cache: it may have been written a moment ago (on another server) and
 *    not be delivered yet, so a create in a namespace made a millisecond ago elsewhere still works,
 *    and a namespace that does not exist is a NotFound read from the database, as before;
 *  - this server wrote the key and the watch has not delivered that write yet: a client that
 *    deletes a namespace and then creates in it through the same server is refused at once
 *    (upstream's NamespaceLifecycle forces a live lookup after a namespace delete it admitted for
 *    the same reason);
 *  - the prefix is not synced: listing at start, or re-listing after its watch ended.
 * So a read can be stale only for a key the cache holds that another server changed, and only
 * for as long as the watch takes to deliver it — the window kube-apiserver's informers have too.
 */
import type { Logger } from '../../common/log.ts';
import { ClosedError } from '../../store/errors.ts';
import type { KeyValue, Store, TxnOp, Watch, WatchMessage } from '../../store/types.ts';
import type { CachedReads } from '../kinds/types.ts';

const LIST_PAGE = 500;
/** How long a prefix whose list or watch failed waits before listing again. */
const RESYNC_MS = 1000;

interface Prefix {
  readonly prefix: string;
  readonly kvs: Map<string, KeyValue>;
  /** The cache holds the prefix as of this revision (the list's, then each event's or bookmark's). */
  revision: number;
  synced: boolean;
  watch: Watch | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class WatchCache implements CachedReads {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #prefixes: Prefix[];
  /** Keys this server wrote, with the revision of its latest write, until the watch delivers it. */
  readonly #written = new Map<string, number>();
  #closed = false;

  constructor(store: Store, prefixes: readonly string[], log: Logger) {
    this.#store = store;
    this.#log = log;
    this.#prefixes = prefixes.map((prefix) => ({ prefix, kvs: new Map(), revision: 0, synced: false, watch: undefined, timer: undefined }));
  }

  /** Lists and watches every prefix; reads go to the store until a prefix is synced. */
  start(): void {
    for (const p of this.#prefixes) void this.#sync(p);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const p = this.#prefixOf(key);
    if (!p?.synced) return this.#store.get(key);
    const written = this.#written.get(key);
    if (written !== undefined && written > p.revision) return this.#store.get(key);
    return p.kvs.get(key) ?? this.#store.get(key);
  }

  /** Whether reads under `prefix` are served from memory (tests). */
  synced(prefix: string): boolean {
    return this.#prefixes.some((p) => p.prefix === prefix && p.synced);
  }

  /**
   * `store` with its writes noted here: a key under a cached prefix that this server wrote is read
   * from the store until the watch has delivered that write.
   */
  noteWritesOf(store: Store): Store {
    const note = <T extends KeyValue | KeyValue[]>(written: T): T => {
      for (const kv of Array.isArray(written) ? written : [written]) this.#noteWrite(kv);
      return written;
    };
    return {
      currentRevision: () => store.currentRevision(),
      compactRevision: () => store.compactRevision(),
      get: (key, opts) => store.get(key, opts),
      list: (prefix, opts) => store.list(prefix, opts),
      count: (prefix) => store.count(prefix),
      create: async (key, value, opts) => note(await store.create(key, value, opts)),
      update: async (key, value, opts) => note(await store.update(key, value, opts)),
      delete: async (key, opts) => note(await store.delete(key, opts)),
      txn: async (ops: readonly TxnOp[]) => note(await store.txn(ops)),
      watch: (prefix, opts, onMessage) => store.watch(prefix, opts, onMessage),
      compact: (revision) => store.compact(revision),
      snapshot: (path) => store.snapshot(path),
      stats: () => store.stats(),
      unavailable: () => store.unavailable(),
      close: () => store.close(),
    };
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#prefixes) {
      clearTimeout(p.timer);
      p.watch?.close();
      p.watch = undefined;
      p.synced = false;
      p.kvs.clear();
    }
    this.#written.clear();
  }

  #prefixOf(key: string): Prefix | undefined {
    for (const p of this.#prefixes) if (key.startsWith(p.prefix)) return p;
    return undefined;
  }

  #noteWrite(kv: KeyValue): void {
    const p = this.#prefixOf(kv.key);
    if (!p || kv.modRevision <= p.revision) return;
    this.#written.set(kv.key, Math.max(kv.modRevision, this.#written.get(kv.key) ?? 0));
  }

  /** The cache now holds `p` as of `revision`: writes of this server up to it are in. */
  #advance(p: Prefix, revision: number): void {
    if (revision <= p.revision) return;
    p.revision = revision;
    for (const [key, rev] of this.#written) if (rev <= revision && key.startsWith(p.prefix)) this.#written.delete(key);
  }

  async #sync(p: Prefix): Promise<void> {
    p.timer = undefined;
    if (this.#closed) return;
    try {
      const kvs = new Map<string, KeyValue>();
      let revision: number | undefined;
      let after: string | undefined;
      for (;;) {
        const page = await this.#store.list(p.prefix, { limit: LIST_PAGE, ...(after === undefined ? {} : { startAfter: after }), ...(revision === undefined ? {} : { revision }) });
        revision = page.revision;
        for (const kv of page.kvs) kvs.set(kv.key, kv);
        if (!page.more || page.kvs.length === 0) break;
        after = page.kvs[page.kvs.length - 1]!.key;
      }
      if (this.#closed) return;
      p.kvs.clear();
      for (const [k, kv] of kvs) p.kvs.set(k, kv);
      p.revision = 0;
      this.#advance(p, revision);
      p.watch = this.#store.watch(p.prefix, { fromRevision: revision }, (msg) => this.#onMessage(p, msg));
      p.synced = true;
    } catch (err) {
      this.#resyncLater(p, err);
    }
  }

  #onMessage(p: Prefix, msg: WatchMessage): void {
    if (this.#closed) return;
    if (msg.kind === 'events') {
      for (const e of msg.events) {
        if (e.type === 'DELETED') p.kvs.delete(e.kv.key);
        else p.kvs.set(e.kv.key, e.kv);
      }
      const last = msg.events[msg.events.length - 1];
      if (last) this.#advance(p, last.kv.modRevision);
    } else if (msg.kind === 'progress') {
      this.#advance(p, msg.revision);
    } else {
      // The watch ended (it fell behind compaction, the store lost events): list again.
      p.watch = undefined;
      p.synced = false;
      p.kvs.clear();
      this.#resyncLater(p, msg.error);
    }
  }

  #resyncLater(p: Prefix, err: unknown): void {
    if (this.#closed || err instanceof ClosedError) return;
    p.synced = false;
    this.#log.warn({ prefix: p.prefix, err }, 'the cache lost its watch: reading from the store until it has listed again');
    p.timer = setTimeout(() => void this.#sync(p), RESYNC_MS);
    p.timer.unref();
  }
}
