/**
 * Every statement the PostgreSQL backend runs, named so node-postgres prepares each once per
 * connection. A read that depends on a revision reads the current and the compacted revision in the
 * same statement, hence the same snapshot: it can never pass its checks against one state of the
 * database and then read another (compaction may run on another server at any moment).
 */
import type { QueryConfig } from 'pg';

/** One row of the kv log with, for history reads, the row it replaced. */
export interface Row {
  id: number;
  name: string;
  created: boolean;
  deleted: boolean;
  create_revision: number;
  prev_revision: number;
  expires_at: number | null;
  value: Buffer;
}

/** A row of a read that also reports the revisions it was checked against. */
export interface CheckedRow extends Partial<Row> {
  current: number;
  compacted: number;
}

export interface HistoryRow extends CheckedRow {
  prev_create_revision: number | null;
  prev_expires_at: number | null;
  prev_value: Buffer | null;
}

/** What edgeos_write returns per operation (schema.ts). */
export interface WriteRow {
  o_id: number;
  o_create_revision: number;
  o_expires_at: number | null;
  o_prev_id: number | null;
  o_prev_create_revision: number | null;
  o_prev_expires_at: number | null;
  o_prev_value: Buffer | null;
}

const cols = 'k.id, k.name, k.created, k.deleted, k.create_revision, k.prev_revision, k.expires_at, k.value';
const q = (name: string, text: string): Omit<QueryConfig, 'values'> & { name: string } => ({ name: `edgeos_${name}`, text });

// The revisions every checked read reports: one row, joined to what the read finds.
const state = `(SELECT r.rev AS current, m.value AS compacted FROM edgeos_revision r, edgeos_meta m WHERE m.key = 'compact_revision') s`;

function listSql(atRevision: string): string {
  return `SELECT s.current, s.compacted, k.* FROM ${state}
    LEFT JOIN LATERAL (
      SELECT * FROM (
        SELECT DISTINCT ON (k.name) ${cols} FROM edgeos_kv k
         WHERE k.name >= $1 AND k.name < $2 ${atRevision}
         ORDER BY k.name, k.id DESC
      ) l WHERE NOT l.deleted ORDER BY l.name LIMIT $3
    ) k ON ${atRevision ? '$4 <= s.current AND $4 >= s.compacted' : 'true'}`;
}

export const statements = {
  revision: q('revision', `SELECT rev FROM edgeos_revision`),
  compacted: q('compacted', `SELECT value FROM edgeos_meta WHERE key = 'compact_revision'`),
  latest: q('latest', `SELECT ${cols} FROM edgeos_kv k WHERE k.name = $1 ORDER BY k.id DESC LIMIT 1`),
  // $2 is checked against the state first; the key is read only when $2 is readable.
  atRevision: q(
    'at_revision',
    `SELECT s.current, s.compacted, k.* FROM ${state}
       LEFT JOIN LATERAL (SELECT ${cols} FROM edgeos_kv k WHERE k.name = $1 AND k.id <= $2 ORDER BY k.id DESC LIMIT 1) k
         ON $2 <= s.current AND $2 >= s.compacted`,
  ),
  // The newest row of every key in [$1, $2) as of now (list) or of revision $4 (listAt), live keys
  // only, in key order, at most $3 (NULL: all). DISTINCT ON walks the (name, id DESC) index in
  // order, so there is no sort and LIMIT stops the walk early. The state is the only outer row of
  // a nested loop, so the rows come out in the lateral subquery's (key) order.
  list: q('list', listSql('')),
  // Not prepared: planned with the actual revision each time. A generic plan guesses that
  // "id <= $4" keeps a third of the table and walks the primary key instead (~40x slower).
  listAt: { text: listSql('AND k.id <= $4') },
  count: q(
    'count',
    `SELECT count(*)::bigint AS n FROM (
       SELECT DISTINCT ON (k.name) k.deleted FROM edgeos_kv k WHERE k.name >= $1 AND k.name < $2 ORDER BY k.name, k.id DESC
     ) l WHERE NOT l.deleted`,
  ),
  // Rows with revision in ($1, $2] for keys in [$3, $4), with the rows they replaced (prevKv), at
  // most $5 — or none when $1 is below the compacted revision (the caller then reports it).
  history: q(
    'history',
    `SELECT s.current, s.compacted, k.*, p.create_revision AS prev_create_revision, p.expires_at AS prev_expires_at, p.value AS prev_value
       FROM ${state}
       LEFT JOIN LATERAL (
         SELECT ${cols} FROM edgeos_kv k WHERE k.id > $1 AND k.id <= $2 AND k.name >= $3 AND k.name < $4 ORDER BY k.id LIMIT $5
       ) k ON $1 >= s.compacted
       LEFT JOIN edgeos_kv p ON p.id = k.prev_revision AND NOT k.created
     ORDER BY k.id`,
  ),
  write: q('write', `SELECT * FROM edgeos_write($1::text[], $2::text[], $3::bytea[], $4::bigint[], $5::bigint[])`),
  expire: q('expire', `SELECT edgeos_expire($1) AS n`),
  compactChunk: q('compact_chunk', `SELECT edgeos_compact($1, $2) AS n`),
  compactCursor: q('compact_cursor', `SELECT value FROM edgeos_meta WHERE key = 'compact_cursor'`),
  // Records the new compacted revision (never lower) and tells every server.
  setCompacted: q(
    'set_compacted',
    `WITH u AS (UPDATE edgeos_meta SET value = greatest(value, $1) WHERE key = 'compact_revision' RETURNING value)
     SELECT u.value, pg_notify('edgeos', 'c' || u.value) FROM u`,
  ),
  tryLock: q('try_lock', `SELECT pg_try_advisory_lock($1, $2) AS ok`),
  stats: q(
    'stats',
    `SELECT (SELECT count(*) FROM edgeos_kv)::bigint AS rows, pg_total_relation_size('edgeos_kv')::bigint AS bytes`,
  ),
};
