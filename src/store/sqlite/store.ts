import type { Logger } from '../../common/log.ts';
import { silentLogger } from '../../common/log.ts';
import type { Store } from '../types.ts';
import { SqliteBackend } from './backend.ts';
import { Maintenance, retentionDefaults } from '../maintenance.ts';
import type { RetentionPolicy } from '../maintenance.ts';
import { openDatabase } from './open.ts';
import type { SyncMode } from './schema.ts';

export interface SqliteStoreOptions extends Partial<RetentionPolicy> {
  /** Database file, or ':memory:' for tests. */
  file: string;
  log?: Logger;
  /** 'normal' (default) survives a crash of the process; 'full' also a loss of power. */
  sync?: SyncMode;
  /** How long open waits for another process's lock before failing with STORE_LOCKED. */
  busyTimeoutMs?: number;
  /** Idle watches get a progress message (bookmark) this often. */
  progressIntervalMs?: number;
  /**
   * SQLite's page cache bound, KiB (default 8 MiB, the server's). The agent's cache, a few hundred
   * KB of file, asks for less (src/agent/cache/sqlite-cache.ts).
   */
  pageCacheKiB?: number;
  nativeBinding?: object;
}

export const storeDefaults = {
  sync: 'normal' as SyncMode,
  busyTimeoutMs: 2000,
  progressIntervalMs: 10_000,
  ...retentionDefaults,
};

export type SqliteStore = Store & {
  /** Run one compaction decision / TTL sweep now (tests, `edgeos store compact`). */
  readonly maintenance: Pick<Maintenance, 'tick' | 'sweepExpired'>;
};

/** Opens the SQLite store and starts its background compaction and TTL expiry. */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<SqliteStore> {
  const log = (opts.log ?? silentLogger()).child({ component: 'store' });
  const o = { ...storeDefaults, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
  const db = openDatabase({ file: opts.file, sync: o.sync, busyTimeoutMs: o.busyTimeoutMs, pageCacheKiB: opts.pageCacheKiB, nativeBinding: opts.nativeBinding });
  const backend = new SqliteBackend({ db, file: opts.file, log, progressIntervalMs: o.progressIntervalMs });
  const maintenance = new Maintenance(
    backend,
    { retainRevisions: o.retainRevisions, retainMs: o.retainMs, compactIntervalMs: o.compactIntervalMs, ttlSweepIntervalMs: o.ttlSweepIntervalMs },
    log,
  );
  await maintenance.start();
  log.info({ file: opts.file, revision: backend.revision, compacted: backend.compactedRevision }, 'store open');
  const close = backend.close.bind(backend);
  return Object.assign(backend, {
    maintenance,
    close: async () => {
      await maintenance.stop();
      await close();
    },
  });
}
