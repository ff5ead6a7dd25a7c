/**
 * The SQLite schema: one append-only table whose id is the revision, like kine's. A write never
 * updates a row in place; it appends one (created / modified / tombstone), so any past revision
 * can be read until compaction removes superseded rows. Revisions are assigned by the writer, not
 * AUTOINCREMENT (whose sqlite_sequence page would be rewritten by every commit): compaction never
 * removes rows above meta.compact_revision, so max(max(id), compact_revision) is the current
 * revision after any restart and no revision is ever reused.
 */
export const SCHEMA_VERSION = 1;

export const schemaSql = `
CREATE TABLE IF NOT EXISTS kv (
  id              INTEGER PRIMARY KEY,
  name            TEXT    NOT NULL,
  created         INTEGER NOT NULL,
  deleted         INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision   INTEGER NOT NULL,
  expires_at      INTEGER,
  value           BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * The server's page cache: 8 MiB, enough for the hot index pages of 100k keys, small for a 512 MB
 * gateway. An upper bound: SQLite fills it only with pages it reads.
 */
export const DEFAULT_PAGE_CACHE_KIB = 8192;

/** Durability of an acknowledged write; see docs/store.md for why NORMAL is the default. */
export type SyncMode = 'normal' | 'full';

/**
 * Pragmas, in the order they must run. auto_vacuum must precede the first table; locking_mode
 * EXCLUSIVE keeps a second process (a second server on the same --data-dir) out for good instead
 * of letting two writers fight with "database is locked".
 */
export function pragmas(sync: SyncMode, busyTimeoutMs: number, pageCacheKiB = DEFAULT_PAGE_CACHE_KIB): string[] {
  return [
    `busy_timeout = ${busyTimeoutMs}`,
    'locking_mode = EXCLUSIVE',
    'auto_vacuum = INCREMENTAL',
    'journal_mode = WAL',
    `synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`,
    // The WAL is checkpointed every 1000 pages (4 MiB) and truncated back to 4 MiB afterwards, so
    // it cannot grow without bound between compactions.
    'wal_autocheckpoint = 1000',
    `journal_size_limit = ${4 * 1024 * 1024}`,
    `cache_size = -${pageCacheKiB}`,
    'temp_store = MEMORY',
    'foreign_keys = OFF',
  ];
}
