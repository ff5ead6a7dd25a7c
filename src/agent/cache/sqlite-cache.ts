import type { Logger } from '../../common/log.ts';
import { errorMessage, InvalidInputError } from '../../common/errors.ts';
import { NotFoundError, openSqliteStore } from '../../store/index.ts';
import type { SqliteStore } from '../../store/index.ts';
import type { AgentCache, CacheChange, CachedKind, KubeJson } from '../types.ts';
import { kindPrefix, objectKey, resumeKey } from './keys.ts';

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
 * only a few revisions and the file stays small. A write whose bytes equal the stored value is
 * skipped, so a relist after reconnect does not wake every pod worker. Listeners run after the
 * write committed (the store's promise resolves after the SQLite transaction), so a crash can
 * never leave the kubelet acting on a change the file does not hold.
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
    return this.serial(async () => {
      if (!(await this.write(objectKey(kind, namespace, name), Buffer.from(JSON.stringify(object))))) return;
      this.notify({ kind, namespace, name, object });
    });
  }

  delete(kind: CachedKind, namespace: string, name: string): Promise<void> {
    return this.serial(async () => {
      try {
        await this.store.delete(objectKey(kind, namespace, name));
      } catch (err) {
        if (err instanceof NotFoundError) return;
        throw err;
      }
      this.notify({ kind, namespace, name, object: undefined });
    });
  }

  async get(kind: CachedKind, namespace: string, name: string): Promise<KubeJson | undefined> {
    const kv = await this.store.get(objectKey(kind, namespace, name));
    return kv ? (JSON.parse(kv.value.toString()) as KubeJson) : undefined;
  }

  async list(kind: CachedKind): Promise<KubeJson[]> {
    const r = await this.store.list(kindPrefix(kind));
    return r.kvs.map((kv) => JSON.parse(kv.value.toString()) as KubeJson);
  }

  async getResumeVersion(kind: CachedKind): Promise<string | undefined> {
    return (await this.store.get(resumeKey(kind)))?.value.toString();
  }

  setResumeVersion(kind: CachedKind, resourceVersion: string): Promise<void> {
    return this.serial(async () => { await this.write(resumeKey(kind), Buffer.from(resourceVersion)); });
  }

  subscribe(listener: (change: CacheChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.store.close();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Writes unless the stored bytes are equal; true when something changed. */
  private async write(key: string, value: Buffer): Promise<boolean> {
    const cur = await this.store.get(key);
    if (cur?.value.equals(value)) return false;
    if (cur) await this.store.update(key, value);
    else await this.store.create(key, value);
    return true;
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
    nativeBinding: opts.nativeBinding,
  });
  return new SqliteAgentCache(store, log);
}
