/**
 * The PostgreSQL schema: the same append-only log as the SQLite backend (one row per revision,
 * never updated in place), plus what several servers writing at once need:
 *
 * - `edgeos_revision`, one row holding the last revision. Every write transaction takes its row
 *   lock first and adds the number of revisions it writes, so revisions are handed out in commit
 *   order and a rolled-back transaction gives its numbers back: gap-free and totally ordered across
 *   servers. (A sequence/bigserial is neither: numbers are taken before commit and not returned on
 *   rollback, which is why kine's watch has to detect and fill gaps.)
 * - Every write is one call of a PL/pgSQL function, so the lock is held only while the database
 *   itself runs the transaction: a client that dies or stalls between statements can never sit on
 *   the write lock of the whole cluster.
 * - The function sends NOTIFY edgeos, '<last revision>' in the same transaction; PostgreSQL
 *   delivers it after commit, in commit order, to every listening server (feed.ts).
 * - Names are COLLATE "C": key order and prefix ranges are byte order, as in SQLite.
 * - Expiry uses the database's clock, so servers with skewed clocks agree on when a key expires.
 */
export const SCHEMA_VERSION = 1;

/** pg_advisory_lock(LOCK_CLASS, …) keys: one namespace for edgeos's locks in a shared database. */
export const LOCK_CLASS = 0x65646765; // "edge"
export const SCHEMA_LOCK = 1;
/** Held for as long as a server is the one that compacts and expires keys (maintenance.ts). */
export const MAINTENANCE_LOCK = 2;

/** The NOTIFY channel: payload "<revision>" after writes, "c<revision>" after compaction. */
export const CHANNEL = 'edgeos';

export const tablesSql = `
CREATE TABLE IF NOT EXISTS edgeos_kv (
  id              bigint  PRIMARY KEY,
  name            text    COLLATE "C" NOT NULL,
  created         boolean NOT NULL,
  deleted         boolean NOT NULL,
  create_revision bigint  NOT NULL,
  prev_revision   bigint  NOT NULL,
  expires_at      bigint,
  value           bytea   NOT NULL
);
CREATE INDEX IF NOT EXISTS edgeos_kv_name_id ON edgeos_kv (name, id DESC);
CREATE INDEX IF NOT EXISTS edgeos_kv_expires ON edgeos_kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS edgeos_revision (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  rev bigint  NOT NULL
) WITH (fillfactor = 10);
INSERT INTO edgeos_revision (rev) VALUES (0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS edgeos_meta (
  key   text   PRIMARY KEY,
  value bigint NOT NULL
);
INSERT INTO edgeos_meta (key, value) VALUES ('compact_revision', 0), ('compact_cursor', 0) ON CONFLICT DO NOTHING;
`;

/**
 * edgeos_write(ops, keys, values, expected, ttl_ms): the store's txn(). Checks and appends one row
 * per operation under the revision lock and returns, per operation, the new row's revisions and the
 * row it replaced (for prevKv and the delete's value). A failed check raises EG001 (key exists),
 * EG002 (not found) or EG003 (conflict, DETAIL = '<actual> <expected>') and the transaction, counter
 * included, rolls back. Later operations see earlier ones of the same call (create then delete).
 *
 * edgeos_expire(limit): deletes keys whose newest row has expired, under the same lock (so no
 * compare-and-swap can race it), as ordinary tombstones that watchers see.
 *
 * edgeos_compact(lo, hi): removes, for the rows in (lo, hi], the rows they superseded and their
 * tombstones, and moves the cursor; one short transaction per chunk (maintenance.ts paces them).
 */
export const functionsSql = `
CREATE OR REPLACE FUNCTION edgeos_write(p_ops text[], p_keys text[], p_values bytea[], p_expected bigint[], p_ttl_ms bigint[])
RETURNS TABLE (o_id bigint, o_create_revision bigint, o_expires_at bigint,
               o_prev_id bigint, o_prev_create_revision bigint, o_prev_expires_at bigint, o_prev_value bytea)
LANGUAGE plpgsql AS $$
DECLARE
  n    int := coalesce(array_length(p_keys, 1), 0);
  v_rev  bigint;
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  prev record;
  live boolean;
  v_exp  bigint;
BEGIN
  IF n = 0 THEN RETURN; END IF;
  UPDATE edgeos_revision r SET rev = r.rev + n RETURNING r.rev - n INTO v_rev;
  FOR i IN 1..n LOOP
    SELECT k.id, k.deleted, k.create_revision, k.expires_at, k.value INTO prev
      FROM edgeos_kv k WHERE k.name = p_keys[i] ORDER BY k.id DESC LIMIT 1;
    live := FOUND AND NOT prev.deleted;
    v_rev := v_rev + 1;
    v_exp := CASE WHEN p_ttl_ms[i] IS NULL THEN NULL ELSE now_ms + p_ttl_ms[i] END;
    IF p_ops[i] = 'create' THEN
      IF live THEN RAISE EXCEPTION USING ERRCODE = 'EG001', MESSAGE = p_keys[i]; END IF;
      INSERT INTO edgeos_kv VALUES (v_rev, p_keys[i], true, false, v_rev, coalesce(prev.id, 0), v_exp, p_values[i]);
      o_id := v_rev; o_create_revision := v_rev; o_expires_at := v_exp;
      o_prev_id := NULL; o_prev_create_revision := NULL; o_prev_expires_at := NULL; o_prev_value := NULL;
    ELSE
      IF NOT live THEN RAISE EXCEPTION USING ERRCODE = 'EG002', MESSAGE = p_keys[i]; END IF;
      IF p_expected[i] IS NOT NULL AND p_expected[i] <> prev.id THEN
        RAISE EXCEPTION USING ERRCODE = 'EG003', MESSAGE = p_keys[i], DETAIL = prev.id || ' ' || p_expected[i];
      END IF;
      IF p_ops[i] = 'update' THEN
        INSERT INTO edgeos_kv VALUES (v_rev, p_keys[i], false, false, prev.create_revision, prev.id, v_exp, p_values[i]);
        o_expires_at := v_exp;
      ELSE
        INSERT INTO edgeos_kv VALUES (v_rev, p_keys[i], false, true, prev.create_revision, prev.id, NULL, prev.value);
        o_expires_at := NULL;
      END IF;
      o_id := v_rev; o_create_revision := prev.create_revision;
      o_prev_id := prev.id; o_prev_create_revision := prev.create_revision;
      o_prev_expires_at := prev.expires_at; o_prev_value := prev.value;
    END IF;
    RETURN NEXT;
  END LOOP;
  PERFORM pg_notify('${CHANNEL}', v_rev::text);
END $$;

CREATE OR REPLACE FUNCTION edgeos_expire(p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  v_rev  bigint;
  now_ms bigint;
  k    record;
  n    int := 0;
BEGIN
  SELECT r.rev INTO v_rev FROM edgeos_revision r FOR UPDATE;
  now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000);
  FOR k IN
    SELECT e.id, e.name, e.create_revision, e.value FROM edgeos_kv e
     WHERE e.expires_at IS NOT NULL AND e.expires_at <= now_ms AND NOT e.deleted
       AND NOT EXISTS (SELECT 1 FROM edgeos_kv l WHERE l.name = e.name AND l.id > e.id)
     ORDER BY e.expires_at LIMIT p_limit
  LOOP
    v_rev := v_rev + 1;
    n := n + 1;
    INSERT INTO edgeos_kv VALUES (v_rev, k.name, false, true, k.create_revision, k.id, NULL, k.value);
  END LOOP;
  IF n > 0 THEN
    UPDATE edgeos_revision SET rev = v_rev;
    PERFORM pg_notify('${CHANNEL}', v_rev::text);
  END IF;
  RETURN n;
END $$;

CREATE OR REPLACE FUNCTION edgeos_compact(p_lo bigint, p_hi bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  a bigint;
  b bigint;
BEGIN
  DELETE FROM edgeos_kv WHERE id IN (SELECT prev_revision FROM edgeos_kv WHERE id > p_lo AND id <= p_hi AND prev_revision > 0);
  GET DIAGNOSTICS a = ROW_COUNT;
  DELETE FROM edgeos_kv WHERE id > p_lo AND id <= p_hi AND deleted;
  GET DIAGNOSTICS b = ROW_COUNT;
  UPDATE edgeos_meta SET value = greatest(value, p_hi) WHERE key = 'compact_cursor';
  RETURN a + b;
END $$;
`;
