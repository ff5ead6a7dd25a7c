import type { Database as Db } from 'better-sqlite3';
import type { Logger } from '../../common/log.ts';
import { compactPaced } from '../maintenance.ts';
import type { CompactResult } from '../maintenance.ts';
import type { Statements } from './statements.ts';

/** What compaction needs of the backend (SqliteBackend satisfies it; no import back, no cycle). */
export interface CompactionTarget {
  readonly db: Db;
  readonly statements: Statements;
  readonly hub: { pinnedRevision(): number | undefined };
  readonly revision: number;
  readonly compactedRevision: number;
  readonly closed: boolean;
  setCompactRevision(revision: number): void;
  /** Revisions written since the last call (the pacing input). */
  takeWriteCount(): number;
}

export interface CompactOptions {
  log: Logger;
  /** Longest a single chunk may hold the writer (the event loop); chunks adapt to stay under it. */
  maxChunkMs?: number;
}

const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Compacts history up to `requested` (capped by the current revision and by watches still
 * replaying). The new compact revision is recorded first, so reads below it fail cleanly instead of
 * seeing a half-compacted past; then rows are removed in short transactions in revision order
 * (compactPaced), yielding between them so writers wait at most one chunk. A cursor in `meta` lets
 * an interrupted compaction resume after a crash. Freed pages go back to the file system and the
 * WAL is truncated.
 */
export async function compactTo(b: CompactionTarget, requested: number, opts: CompactOptions): Promise<CompactResult> {
  const st = b.statements;
  const pinned = b.hub.pinnedRevision();
  const target = Math.min(requested, b.revision, pinned ?? Number.MAX_SAFE_INTEGER);
  const cursor = st.getMeta.get('compact_cursor')?.value ?? 0;
  if (target > b.compactedRevision) b.setCompactRevision(target);
  const maxChunkMs = opts.maxChunkMs ?? 5;
  const chunk = b.db.transaction((from: number, to: number) => {
    const n = st.compactPrev.run(from, to).changes + st.compactTombstones.run(from, to).changes;
    st.setMeta.run('compact_cursor', to);
    return n;
  });
  const result = await compactPaced({
    cursor,
    goal: b.compactedRevision,
    chunk: (lo, hi) => chunk.immediate(lo, hi),
    takeWriteCount: () => b.takeWriteCount(),
    closed: () => b.closed,
    maxChunkMs,
  });
  if (!b.closed && result.removed > 0) await reclaim(b, maxChunkMs);
  if (result.chunks > 0) {
    opts.log.debug({ target: result.target, removed: result.removed, chunks: result.chunks, maxChunkMs: Math.round(result.maxChunkMs * 100) / 100 }, 'compacted');
  }
  return result;
}

/** Returns free pages to the file system a few at a time, then truncates the WAL. */
async function reclaim(b: CompactionTarget, maxChunkMs: number): Promise<void> {
  let pages = 256;
  while (!b.closed && b.statements.freelist.get()!.freelist_count > 0) {
    const t0 = performance.now();
    b.db.pragma(`incremental_vacuum(${pages})`);
    const ms = performance.now() - t0;
    if (ms < maxChunkMs / 4) pages = Math.min(pages * 2, 16_384);
    else if (ms > maxChunkMs / 2) pages = Math.max(16, pages >> 1);
    await yieldTurn();
  }
  if (!b.closed) b.db.pragma('wal_checkpoint(TRUNCATE)');
}
