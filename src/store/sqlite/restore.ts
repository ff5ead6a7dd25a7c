import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseError } from '../errors.ts';
import { openDatabase, describeSqliteError } from './open.ts';
import { SCHEMA_VERSION } from './schema.ts';

export interface RestoreResult {
  /** Where the database that was replaced now lives (nothing is deleted), if there was one. */
  readonly previous?: string;
  readonly revision: number;
}

/**
 * Replaces the store at `dataFile` with a snapshot. The snapshot is checked first (integrity,
 * schema); the target must not be open in another process; the old database is kept beside it
 * under a `.before-restore-<time>` name rather than deleted.
 */
export function restoreSnapshot(snapshotFile: string, dataFile: string, nativeBinding?: object): RestoreResult {
  if (!existsSync(snapshotFile)) {
    throw new DatabaseError('STORE_OPEN_FAILED', snapshotFile, `snapshot ${snapshotFile} does not exist`);
  }
  let revision: number;
  let snap: Database.Database | undefined;
  try {
    snap = new Database(snapshotFile, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding: nativeBinding as never } : {}) });
    const check = snap.pragma('quick_check', { simple: true });
    if (check !== 'ok') {
      throw new DatabaseError('STORE_CORRUPT', snapshotFile, `snapshot ${snapshotFile} fails its integrity check (${String(check)}); use another snapshot`);
    }
    const schema = snap.prepare<[], { value: number }>(`SELECT value FROM meta WHERE key = 'schema_version'`).get();
    if (!schema || schema.value > SCHEMA_VERSION) {
      throw new DatabaseError('STORE_SCHEMA', snapshotFile, `${snapshotFile} is not an edgeos store snapshot this version can restore`);
    }
    const maxId = snap.prepare<[], { n: number | null }>(`SELECT MAX(id) AS n FROM kv`).get()?.n ?? 0;
    const compacted = snap.prepare<[], { value: number }>(`SELECT value FROM meta WHERE key = 'compact_revision'`).get()?.value ?? 0;
    revision = Math.max(maxId, compacted);
  } catch (err) {
    if (err instanceof DatabaseError) throw err;
    throw describeSqliteError(snapshotFile, err, 'read snapshot') ??
      new DatabaseError('STORE_OPEN_FAILED', snapshotFile, `cannot read snapshot ${snapshotFile}: ${(err as Error).message}`, { cause: err });
  } finally {
    snap?.close();
  }

  let previous: string | undefined;
  if (existsSync(dataFile)) {
    // Opening takes the exclusive lock: this fails with STORE_LOCKED while a server runs, and
    // closing checkpoints the WAL into the file so the old state is complete in one file.
    const db = openDatabase({ file: dataFile, sync: 'full', busyTimeoutMs: 500, nativeBinding });
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    previous = `${dataFile}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(dataFile, previous);
  }
  // A WAL left beside the new file would be replayed into it: remove both side files.
  rmSync(`${dataFile}-wal`, { force: true });
  rmSync(`${dataFile}-shm`, { force: true });
  // A data dir that never ran a server (moving a cluster off PostgreSQL, a fresh machine).
  mkdirSync(dirname(dataFile), { recursive: true, mode: 0o700 });
  const tmp = `${dataFile}.restore-tmp`;
  copyFileSync(snapshotFile, tmp);
  renameSync(tmp, dataFile);
  return previous ? { previous, revision } : { revision };
}
