import type { Logger } from '../../common/log.ts';
import { errorMessage, InvalidInputError } from '../../common/errors.ts';
import { openSqliteStore } from '../../store/index.ts';
import type { SqliteStore, TxnOp } from '../../store/index.ts';
import type { AgentCache, CacheChange, CacheUpdate, CacheWrite, CachedKind, KubeJson } from '../types.ts';
import { CACHED_KINDS, CACHED_KINDS_TAG, KINDS_KEY, RESUME_KEY, kindPrefix, objectKey } from './keys.ts';

export interface AgentCacheOptions {
  /** SQLite file (':memory:' only for tests that do not restart). */
  file: string;
  log: Logger;
  nativeBinding?: object;
}

const meta = (o: KubeJson): { namespace: string; name: string } => {
  const m = (o.metadata ?? {}) as { namespace?: string; name?: string };
  return { namespace: m.namespace ?? '', name: m.name ?? '' };
};

/**
 * The node's desired state on the device, on the same revisioned SQLite store the server uses.
 * History is not needed here (the link resumes from the server, not from us), so compaction keeps
 * only a few revisions and the file stays small.
 *
 * Every write — one object, or a whole link message with its revision — is one store transaction,
 * so one commit (and, with synchronous=FULL, one fsync) and all or nothing after a crash. A write
 * whose bytes equal the stored value is left out, so a relist after reconnect does not wake every
 * pod worker. Listeners run after the commit (the store's promise resolves after the SQLite
 * transaction), so a crash can never leave the kubelet acting on a change the file does not hold.
 */
export class SqliteAgentCache implements AgentCache {
  private readonly listeners = new Set<(c: CacheChange) => void>();
  private readonly store: SqliteStore;
  private readonly log: Logger;
  /** Writes run one at a time: read-compare-write must not interleave (create would conflict). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(store: SqliteStore, log: Logger) {
    this.store = store;
    this.log = log;
  }

  put(kind: CachedKind, object: KubeJson): Promise<void> {
    const { namespace, name } = meta(object);
    if (!name) return Promise.reject(new InvalidInputError(`agent cache: ${kind} without metadata.name`));
    return this.commit({ writes: [{ kind, namespace, name, object }] });
  }

  delete(kind: CachedKind, namespace: string, name: string): Promise<void> {
    return this.commit({ writes: [{ kind, namespace, name }] });
  }

  apply(update: CacheUpdate): Promise<void> {
    const nameless = update.writes.find((w) => !w.name);
    if (nameless) return Promise.reject(new InvalidInputError(`agent cache: ${nameless.kind} without metadata.name`));
    return this.commit(update);
  }

  async get(kind: CachedKind, namespace: string, name: string): Promise<KubeJson | undefined> {
    const kv = await this.store.get(objectKey(kind, namespace, name));
    return kv ? (JSON.parse(kv.value.toString()) as KubeJson) : undefined;
  }

  async list(kind: CachedKind): Promise<KubeJson[]> {
    const r = await this.store.list(kindPrefix(kind));
    return r.kvs.map((kv) => JSON.parse(kv.value.toString()) as KubeJson);
  }

  async resumeRevision(): Promise<string | undefined> {
    if ((await this.store.get(KINDS_KEY))?.value.toString() !== CACHED_KINDS_TAG) return undefined;
    return (await this.store.get(RESUME_KEY))?.value.toString();
  }

  subscribe(listener: (change: CacheChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.store.close();
  }

  /** The writes (and the revision, when given) as one transaction; then the listeners hear of what changed. */
  private commit(u: { writes: readonly CacheWrite[]; revision?: string; replace?: boolean }): Promise<void> {
    return this.serial(async () => {
      const ops: TxnOp[] = [];
      const changes: CacheChange[] = [];
      // What each key holds once the ops so far ran, so a key written twice gets the right op.
      const pending = new Map<string, Buffer | undefined>();
      const write = async (key: string, value: Buffer | undefined): Promise<boolean> => {
        const cur = pending.has(key) ? pending.get(key) : (await this.store.get(key))?.value;
        if (value === undefined ? cur === undefined : cur?.equals(value)) return false;
        ops.push(value === undefined ? { op: 'delete', key } : cur === undefined ? { op: 'create', key, value } : { op: 'update', key, value });
        pending.set(key, value);
        return true;
      };
      const mentioned = new Set<string>();
      for (const w of u.writes) {
        const key = objectKey(w.kind, w.namespace, w.name);
        mentioned.add(key);
        const value = w.object === undefined ? undefined : Buffer.from(JSON.stringify(w.object));
        if (await write(key, value)) changes.push({ kind: w.kind, namespace: w.namespace, name: w.name, object: w.object });
      }
      if (u.replace) {
        for (const kind of CACHED_KINDS) {
          for (const kv of (await this.store.list(kindPrefix(kind))).kvs) {
            if (mentioned.has(kv.key)) continue;
            ops.push({ op: 'delete', key: kv.key });
            changes.push({ kind, ...meta(JSON.parse(kv.value.toString()) as KubeJson), object: undefined });
          }
        }
      }
      if (u.revision !== undefined) {
        // A snapshot brings every kind, and so does the first message a new cache gets; changes
        // on a cache of an older version leave it untagged, so it relists on the next connect.
        const fresh = !pending.has(RESUME_KEY) && (await this.store.get(RESUME_KEY)) === undefined;
        await write(RESUME_KEY, Buffer.from(u.revision));
        if (u.replace || fresh) await write(KINDS_KEY, Buffer.from(CACHED_KINDS_TAG));
      }
      if (ops.length === 0) return;
      await this.store.txn(ops);
      for (const c of changes) this.notify(c);
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private notify(change: CacheChange): void {
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        this.log.error({ err: errorMessage(err), kind: change.kind, name: change.name }, 'cache listener failed');
      }
    }
  }
}

/** Opens (creating if needed) the agent's cache file. */
export async function openAgentCache(opts: AgentCacheOptions): Promise<AgentCache> {
  const log = opts.log.child({ component: 'agent-cache' });
  const store = await openSqliteStore({
    file: opts.file,
    // The store binds its own `component`; a key appears once per log line.
    log: opts.log,
    // 'full': the cache is what brings pods back after a power loss, so fsync every commit.
    sync: 'full',
    retainRevisions: 100,
    retainMs: 60_000,
    // The cache writes no key with a TTL: no sweep every second (one query per second per agent;
    // a tenth of the CPU of 1,000 hollow nodes in one process, bench/fleet).
    ttlSweepIntervalMs: 0,
    // The server's 8 MiB page cache is for 100k keys; the cache holds a node's objects (bench/agent:
    // a 296 KB file, all of it cached either way). 1 MiB bounds what many ConfigMaps or Secrets on
    // one node could take on a 512 MB gateway.
    pageCacheKiB: 1024,
    nativeBinding: opts.nativeBinding,
  });
  return new SqliteAgentCache(store, log);
}
