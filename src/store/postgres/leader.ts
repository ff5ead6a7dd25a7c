/**
 * Compaction and TTL expiry run on exactly one server at a time: the one holding a session-level
 * advisory lock (pg_try_advisory_lock) on its maintenance connection. The work itself runs on that
 * same connection, so it can only ever execute while the lock is held: if the connection dies, the
 * lock and the work stop together, and PostgreSQL releases the lock for the next server. Standby
 * servers retry the lock on every TTL tick (1 s), so a crashed leader is replaced within about a
 * second of PostgreSQL noticing (at once for a killed process: the kernel closes its socket).
 */
import pg from 'pg';
import type { Logger } from '../../common/log.ts';
import { compactPaced } from '../maintenance.ts';
import type { CompactResult } from '../maintenance.ts';
import { connectFailure } from './connect.ts';
import type { Connection } from './connect.ts';
import { LOCK_CLASS, MAINTENANCE_LOCK } from './schema.ts';
import { statements } from './statements.ts';

export interface LeaderOptions {
  connection: Connection;
  log: Logger;
}

/** Expired keys deleted per transaction. */
const EXPIRE_BATCH = 500;

export class MaintenanceLeader {
  readonly #o: LeaderOptions;
  #client: pg.Client | undefined;
  #leading = false;
  #attempt: Promise<boolean> | undefined;
  #closed = false;

  constructor(o: LeaderOptions) {
    this.#o = o;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** True when this server holds the maintenance lock; tries to take it when it does not. */
  async lead(): Promise<boolean> {
    if (this.#closed) return false;
    if (this.#leading) return true;
    this.#attempt ??= this.#tryLock().finally(() => (this.#attempt = undefined));
    return this.#attempt;
  }

  async #tryLock(): Promise<boolean> {
    let client = this.#client;
    if (!client) {
      const c = new pg.Client(this.#o.connection.config);
      const lost = (err: unknown) => {
        if (this.#client !== c) return;
        this.#client = undefined;
        if (this.#leading) {
          this.#o.log.warn({ reason: connectFailure(err, this.#o.connection) }, 'lost the maintenance connection: this server no longer compacts or expires keys');
        }
        this.#leading = false;
        c.end().catch(() => {});
      };
      c.on('error', lost);
      c.on('end', () => lost(new Error('the connection was closed')));
      await c.connect().catch((err: unknown) => {
        c.end().catch(() => {});
        throw err;
      });
      this.#client = client = c;
    }
    const { rows } = await client.query<{ ok: boolean }>({ ...statements.tryLock, values: [LOCK_CLASS, MAINTENANCE_LOCK] });
    this.#leading = rows[0]!.ok && this.#client === client && !this.#closed;
    if (this.#leading) this.#o.log.info('this server now compacts history and expires TTL keys (it holds the maintenance lock)');
    return this.#leading;
  }

  /** The maintenance connection, only while it holds the lock. */
  #held(): pg.Client {
    const c = this.#client;
    if (!this.#leading || !c) throw new Error('this server no longer holds the maintenance lock');
    return c;
  }

  /** The target of a pass a crash interrupted (cursor below the compacted revision), if any. */
  async interruptedCompaction(): Promise<number | undefined> {
    const c = this.#held();
    // One after the other: node-postgres deprecates a query sent while the client runs another (pg@9 refuses it).
    const cursor = await c.query<{ value: number }>(statements.compactCursor);
    const compacted = await c.query<{ value: number }>(statements.compacted);
    const target = compacted.rows[0]!.value;
    return cursor.rows[0]!.value < target ? target : undefined;
  }

  /**
   * Records `target` as compacted (reads and watches below it now fail cleanly), then removes what
   * it superseded in paced chunks. Deletes never block writers in PostgreSQL, so the budget only
   * keeps each transaction short (kine's single DELETE over the whole range is what times out on
   * big tables, k3s-io/kine#754).
   */
  async compact(target: number, pacing: { takeWriteCount: () => number; closed: () => boolean }, maxChunkMs = 50): Promise<CompactResult & { compacted: number }> {
    const c = this.#held();
    const { rows } = await c.query<{ value: number }>({ ...statements.setCompacted, values: [target] });
    const goal = rows[0]!.value;
    const cursor = (await c.query<{ value: number }>(statements.compactCursor)).rows[0]!.value;
    const result = await compactPaced({
      cursor,
      goal,
      chunk: async (lo, hi) => (await this.#held().query<{ n: number }>({ ...statements.compactChunk, values: [lo, hi] })).rows[0]!.n,
      takeWriteCount: pacing.takeWriteCount,
      closed: () => pacing.closed() || !this.#leading,
      maxChunkMs,
    });
    if (result.chunks > 0) {
      this.#o.log.debug({ target: goal, removed: result.removed, chunks: result.chunks, maxChunkMs: Math.round(result.maxChunkMs * 100) / 100 }, 'compacted');
    }
    return { ...result, compacted: goal };
  }

  /** Deletes expired keys in transactions of up to 500 (edgeos_expire); returns how many. */
  async expire(): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows } = await this.#held().query<{ n: number }>({ ...statements.expire, values: [EXPIRE_BATCH] });
      total += rows[0]!.n;
      if (rows[0]!.n < EXPIRE_BATCH || this.#closed) return total;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#leading = false;
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => {}); // ending the session releases the lock
  }
}
