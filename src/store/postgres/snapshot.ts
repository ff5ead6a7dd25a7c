/**
 * `snapshot(path)` on PostgreSQL writes the same thing as on SQLite: an edgeos SQLite store file
 * of one consistent revision. It is read in one REPEATABLE READ transaction (a single snapshot of
 * the database while servers keep writing), through a cursor so memory stays flat. The file is a
 * backup that `edgeos store restore` puts into a SQLite data dir (moving a cluster off PostgreSQL);
 * backing up PostgreSQL itself stays pg_dump's job.
 */
import { renameSync, rmSync } from 'node:fs';
import type pg from 'pg';
import { StoreError } from '../errors.ts';
import { describeSqliteError, openDatabase } from '../sqlite/open.ts';
import type { Row } from './statements.ts';

const FETCH = 1000;

export async function snapshotToSqlite(pool: pg.Pool, path: string, nativeBinding?: object): Promise<number> {
  const tmp = `${path}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  const client = await pool.connect();
  let db: ReturnType<typeof openDatabase> | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ rev: number; compacted: number; cursor: number }>(
      `SELECT (SELECT rev FROM edgeos_revision) AS rev,
              (SELECT value FROM edgeos_meta WHERE key = 'compact_revision') AS compacted,
              (SELECT value FROM edgeos_meta WHERE key = 'compact_cursor') AS cursor`,
    );
    const { rev, compacted, cursor } = rows[0]!;
    db = openDatabase({ file: tmp, sync: 'normal', busyTimeoutMs: 0, ...(nativeBinding ? { nativeBinding } : {}) });
    const insert = db.prepare('INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, expires_at, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    const write = db.transaction((batch: Row[]) => {
      for (const r of batch) insert.run(r.id, r.name, r.created ? 1 : 0, r.deleted ? 1 : 0, r.create_revision, r.prev_revision, r.expires_at, r.value);
    });
    await client.query(`DECLARE snap NO SCROLL CURSOR FOR SELECT * FROM edgeos_kv ORDER BY id`);
    for (;;) {
      const batch = await client.query<Row>(`FETCH ${FETCH} FROM snap`);
      write(batch.rows);
      if (batch.rows.length < FETCH) break;
    }
    await client.query('COMMIT');
    setMeta.run('compact_revision', compacted);
    setMeta.run('compact_cursor', cursor);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    db = undefined;
    renameSync(tmp, path);
    return rev;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    db?.close();
    rmSync(tmp, { force: true });
    rmSync(`${tmp}-wal`, { force: true });
    rmSync(`${tmp}-shm`, { force: true });
    if (err instanceof StoreError) throw err;
    throw describeSqliteError(path, err, 'snapshot') ?? err;
  } finally {
    client.release();
  }
}
