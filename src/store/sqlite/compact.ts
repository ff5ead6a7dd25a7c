import type { Database as Db } from 'better-sqlite3';
import type { Logger } from '../../common/log.ts';
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

export interface CompactResult {
  readonly target: number;
  readonly removed: number;
  readonly chunks: number;
  readonly maxChunkMs: number;
}

const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Compacts history up to `requested` (capped by the current revision and by watches still
 * replaying). The new compact revision is recorded first, so reads below it fail cleanly instead of
 * seeing a half-compacted past; then rows are removed in short transactions in revision order,
 * yielding between them so writers wait at most one chunk. Chunks aim at a few milliseconds, but
 * never cover fewer revisions than twice what was written meanwhile: compaction cannot fall behind. A cursor in `meta` lets an interrupted
 * compaction resume after a crash. Freed pages go back to the file system and the WAL is truncated.
 */
export async function compactTo(b: CompactionTarget, requested: number, opts: CompactOptions): Promise<CompactResult> {
  const st = b.statements;
  const pinned = b.hub.pinnedRevision();
  const target = Math.min(requested, b.revision, pinned ?? Number.MAX_SAFE_INTEGER);
  const cursor0 = st.getMeta.get('compact_cursor')?.value ?? 0;
  if (target > b.compactedRevision) b.setCompactRevision(target);
  const goal = b.compactedRevision;
  const maxChunkMs = opts.maxChunkMs ?? 5;
  let lo = cursor0;
  let size = 1000;
  let removed = 0;
  let chunks = 0;
  let worst = 0;
  const chunk = b.db.transaction((from: number, to: number) => {
    const n = st.compactPrev.run(from, to).changes + st.compactTombstones.run(from, to).changes;
    st.setMeta.run('compact_cursor', to);
    return n;
  });
  b.takeWriteCount();
  while (lo < goal && !b.closed) {
    // Pacing: a chunk covers at least twice the revisions written since the previous one, so a
    // pass always gains on a steady writer instead of falling further behind with every turn.
    const hi = Math.min(lo + Math.max(size, 2 * b.takeWriteCount()), goal);
    const t0 = performance.now();
    removed += chunk.immediate(lo, hi);
    const ms = performance.now() - t0;
    worst = Math.max(worst, ms);
    chunks++;
    lo = hi;
    // Aim each chunk at half the budget: grow while cheap, shrink when slow.
    if (ms < maxChunkMs / 4) size = Math.min(size * 2, 100_000);
    else if (ms > maxChunkMs / 2) size = Math.max(100, Math.floor(size / 2));
    await yieldTurn();
  }
  if (!b.closed && removed > 0) await reclaim(b, maxChunkMs);
  if (chunks > 0) opts.log.debug({ target: goal, removed, chunks, maxChunkMs: Math.round(worst * 100) / 100 }, 'compacted');
  return { target: goal, removed, chunks, maxChunkMs: worst };
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
