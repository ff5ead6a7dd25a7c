import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { DatabaseError } from '../errors.ts';
import { SCHEMA_VERSION, pragmas, schemaSql } from './schema.ts';
import type { SyncMode } from './schema.ts';

export interface OpenOptions {
  file: string;
  sync: SyncMode;
  busyTimeoutMs: number;
  /** SQLite's page cache bound (`cache_size`), KiB; default DEFAULT_PAGE_CACHE_KIB. */
  pageCacheKiB?: number;
  /** A loaded better-sqlite3 addon (the single executable carries its own); default: the npm prebuild. */
  nativeBinding?: object;
}

function sqliteCode(err: unknown): string {
  return err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : '';
}

/** Turns an SQLite failure on `file` into an error that names the file and what to do. */
export function describeSqliteError(file: string, err: unknown, doing: string): DatabaseError | undefined {
  const code = sqliteCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new DatabaseError(
      'STORE_CORRUPT',
      file,
      `${doing}: ${file} is corrupt or not an edgeos database (${msg}); restore a snapshot with ` +
        '`edgeos store restore` or move the file aside to start empty',
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new DatabaseError(
      'STORE_LOCKED',
      file,
      `${doing}: ${file} is locked by another process (is another edgeos using the same --data-dir?); ` +
        'stop it or choose another --data-dir',
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_PERM') {
    return new DatabaseError(
      'STORE_READONLY',
      file,
      `${doing}: ${file} cannot be written (${msg}); make the file and its directory writable or ` +
        'choose another --data-dir',
      { cause: err },
    );
  }
  if (code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL') {
    return new DatabaseError('STORE_OPEN_FAILED', file, `${doing}: ${file}: ${msg}`, { cause: err });
  }
  return undefined;
}

/**
 * Opens (creating if needed) the store database with its pragmas and schema. The exclusive lock is
 * taken here, so a second process fails now with a clear error rather than later under load.
 */
export function openDatabase(opts: OpenOptions): Db {
  const { file } = opts;
  if (file !== ':memory:') {
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new DatabaseError('STORE_OPEN_FAILED', file, `cannot create the directory of ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const st = statSync(file, { throwIfNoEntry: false });
    if (st && !st.isFile()) {
      throw new DatabaseError('STORE_OPEN_FAILED', file, `${file} exists and is not a regular file; move it aside`);
    }
  }
  let db: Db | undefined;
  try {
    db = new Database(file, opts.nativeBinding ? { nativeBinding: opts.nativeBinding as never } : {});
    for (const p of pragmas(opts.sync, opts.busyTimeoutMs, opts.pageCacheKiB)) db.pragma(p);
    const mode = db.pragma('journal_mode', { simple: true });
    if (file !== ':memory:' && mode !== 'wal') {
      throw new DatabaseError('STORE_OPEN_FAILED', file, `${file}: could not switch to WAL mode (got ${String(mode)})`);
    }
    db.exec(schemaSql);
    const row = db.prepare<[], { value: number }>(`SELECT value FROM meta WHERE key = 'schema_version'`).get();
    if (!row) {
      db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`).run(SCHEMA_VERSION);
    } else if (row.value > SCHEMA_VERSION) {
      throw new DatabaseError(
        'STORE_SCHEMA',
        file,
        `${file} was written by a newer edgeos (schema ${row.value}, this one knows ${SCHEMA_VERSION}); upgrade edgeos`,
      );
    }
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof DatabaseError) throw err;
    throw describeSqliteError(file, err, 'open store') ?? err;
  }
}
