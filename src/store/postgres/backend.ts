import pg from 'pg';
import type { Logger } from '../../common/log.ts';
import {
  ClosedError,
  CompactedError,
  ConflictError,
  DatabaseError,
  FutureRevisionError,
  KeyExistsError,
  NotFoundError,
  StoreError,
} from '../errors.ts';
import { checkKey, checkOps, checkPrefix, checkRevision, prefixEnd } from '../keys.ts';
import type { MaintenanceTarget } from '../maintenance.ts';
import type {
  DeleteOptions,
  GetOptions,
  KeyValue,
  ListOptions,
  ListResult,
  Store,
  StoreStats,
  TxnOp,
  UpdateOptions,
  Watch,
  WatchEvent,
  WatchMessage,
  WatchOptions,
  WriteOptions,
} from '../types.ts';
import { WatchHub } from '../watch-hub.ts';
import { connectFailure } from './connect.ts';
import type { Connection } from './connect.ts';
import { WatchFeed } from './feed.ts';
import { MaintenanceLeader } from './leader.ts';
import { toEvent, toKv, writeOutcome } from './rows.ts';
import { WriteBatcher } from './write-batcher.ts';
import { statements } from './statements.ts';
import type { CheckedRow, HistoryRow, Row, WriteRow } from './statements.ts';

export interface PostgresBackendOptions {
  connection: Connection;
  pool: pg.Pool;
  log: Logger;
  progressIntervalMs: number;
  heartbeatMs: number;
  /** The better-sqlite3 addon that snapshots are written with (the single executable carries its own). */
  sqliteBinding?: () => object | undefined;
}

/** SQLSTATEs that mean "the database is not there" rather than "this statement is wrong". */
const unavailableStates = /^(08|53|57P0)/;

/** A failure of the connection or the server, not of the statement. */
function isConnectionFailure(err: unknown): boolean {
  return !(err instanceof pg.DatabaseError) || unavailableStates.test(err.code ?? '');
}

/**
 * The Store on PostgreSQL, for one server among possibly several sharing the database. Writes are
 * single calls of edgeos_write (schema.ts), so the database serializes them under its revision
 * lock and compare-and-swap needs no retry loop here; reads are single statements checked in
 * their own snapshot; watches come from the feed (feed.ts).
 */
export class PostgresBackend implements Store, MaintenanceTarget {
  readonly #c: Connection;
  readonly #pool: pg.Pool;
  readonly #log: Logger;
  readonly #sqliteBinding: () => object | undefined;
  readonly feed: WatchFeed;
  readonly hub: WatchHub;
  readonly leader: MaintenanceLeader;
  #closed = false;
  readonly #batcher = new WriteBatcher((ops) => this.#write(ops));

  constructor(o: PostgresBackendOptions) {
    this.#c = o.connection;
    this.#pool = o.pool;
    this.#log = o.log;
    this.#sqliteBinding = o.sqliteBinding ?? (() => undefined);
    this.feed = new WatchFeed({ connection: o.connection, pool: o.pool, log: o.log, heartbeatMs: o.heartbeatMs });
    this.hub = new WatchHub({
      history: { readHistory: (p, e, a, u, l) => this.#readHistory(p, e, a, u, l) },
      // What the feed has published: a bookmark can never overtake an event still being read.
      currentRevision: () => this.feed.seen,
      compactRevision: () => this.feed.compacted,
      progressIntervalMs: o.progressIntervalMs,
      log: o.log,
    });
    this.leader = new MaintenanceLeader({ connection: o.connection, log: o.log });
  }

  async start(): Promise<void> {
    await this.feed.start(this.hub);
  }

  // --- MaintenanceTarget
  get revision(): number {
    return this.feed.seen;
  }

  get compactedRevision(): number {
    return this.feed.compacted;
  }

  get closed(): boolean {
    return this.#closed;
  }

  lead(): Promise<boolean> {
    return this.leader.lead();
  }

  interruptedCompaction(): Promise<number | undefined> {
    return this.#sql('compact', () => this.leader.interruptedCompaction());
  }

  sweepExpired(): Promise<number> {
    return this.#sql('expire keys', () => this.leader.expire());
  }

  // --- Store
  async currentRevision(): Promise<number> {
    this.#open();
    const rev = (await this.#query<{ rev: number }>('read the revision', statements.revision, []))[0]!.rev;
    this.feed.observe(rev);
    return rev;
  }

  async compactRevision(): Promise<number> {
    this.#open();
    const rev = (await this.#query<{ value: number }>('read the compacted revision', statements.compacted, []))[0]!.value;
    this.feed.observeCompacted(rev);
    return rev;
  }

  async get(key: string, opts: GetOptions = {}): Promise<KeyValue | undefined> {
    this.#open();
    checkKey(key);
    if (opts.revision === undefined) {
      const row = (await this.#query<Row>('get', statements.latest, [key]))[0];
      return row && !row.deleted ? toKv(row) : undefined;
    }
    const revision = checkRevision(opts.revision);
    const row = (await this.#query<CheckedRow>('get', statements.atRevision, [key, revision]))[0]!;
    this.#checkReadable(revision, row);
    return row.id !== null && !row.deleted ? toKv(row as Row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#open();
    checkPrefix(prefix);
    const revision = opts.revision === undefined || opts.revision === 0 ? null : checkRevision(opts.revision);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : null;
    // Keys are printable ASCII (0x21–0x7e), so "after K" is exactly ">= K + '\x21'".
    const start = opts.startAfter !== undefined && opts.startAfter >= prefix ? opts.startAfter + '\x21' : prefix;
    const bounds = [start, prefixEnd(prefix), limit === null ? null : limit + 1];
    const rows =
      revision === null
        ? await this.#query<CheckedRow>('list', statements.list, bounds)
        : await this.#query<CheckedRow>('list', statements.listAt, [...bounds, revision]);
    const state = rows[0]!;
    if (revision !== null) this.#checkReadable(revision, state);
    this.feed.observe(state.current);
    const found = rows.filter((r) => r.id !== null) as Row[];
    const more = limit !== null && found.length > limit;
    return { kvs: (more ? found.slice(0, limit) : found).map(toKv), revision: revision ?? state.current, more };
  }

  async count(prefix: string): Promise<number> {
    this.#open();
    checkPrefix(prefix);
    return (await this.#query<{ n: number }>('count', statements.count, [prefix, prefixEnd(prefix)]))[0]!.n;
  }

  // Writes share transactions with the ones that arrive meanwhile (write-batcher.ts).
  async create(key: string, value: Buffer, opts: WriteOptions = {}): Promise<KeyValue> {
    return (await this.txn([{ op: 'create', key, value, ttlSeconds: opts.ttlSeconds }]))[0]!;
  }

  async update(key: string, value: Buffer, opts: UpdateOptions = {}): Promise<KeyValue> {
    return (await this.txn([{ op: 'update', key, value, expectedModRevision: opts.expectedModRevision, ttlSeconds: opts.ttlSeconds }]))[0]!;
  }

  async delete(key: string, opts: DeleteOptions = {}): Promise<KeyValue> {
    return (await this.txn([{ op: 'delete', key, expectedModRevision: opts.expectedModRevision }]))[0]!;
  }

  async txn(ops: readonly TxnOp[]): Promise<KeyValue[]> {
    this.#open();
    checkOps(ops);
    if (ops.length === 0) return [];
    return this.#batcher.write(ops);
  }

  /** One edgeos_write call: `ops` (one or several writes) in one transaction. */
  async #write(ops: readonly TxnOp[]): Promise<KeyValue[]> {
    this.#open();
    const rows = await this.#query<WriteRow>('write', statements.write, [
      ops.map((o) => o.op),
      ops.map((o) => o.key),
      ops.map((o) => (o.op === 'delete' ? null : o.value)),
      ops.map((o) => (o.op === 'create' ? null : (o.expectedModRevision ?? null))),
      ops.map((o) => (o.op !== 'delete' && o.ttlSeconds ? Math.round(o.ttlSeconds * 1000) : null)),
    ]);
    const { results, events } = writeOutcome(ops, rows);
    this.feed.committed(rows[0]!.o_id, rows[rows.length - 1]!.o_id, events);
    return results;
  }

  watch(prefix: string, opts: WatchOptions, onMessage: (msg: WatchMessage) => void): Watch {
    this.#open();
    return this.hub.watch(prefix, opts, onMessage);
  }

  /** Compacts now; only the server that leads maintenance may (the others leave it to that one). */
  async compact(revision: number): Promise<void> {
    this.#open();
    if (!(await this.leader.lead())) {
      throw new StoreError('STORE_NOT_LEADER', `another server holds the maintenance lock on ${this.#c.description} and compacts by the retention policy`);
    }
    const current = await this.currentRevision();
    // Not past what watches here still have to receive: replays in progress, and the feed itself,
    // which normally trails the database by a read; give it a moment to get there.
    const want = Math.min(revision, current);
    for (let waited = 0; this.hub.size > 0 && this.feed.seen < want && waited < 5000 && !this.#closed; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const pinned = Math.min(this.hub.pinnedRevision() ?? Number.MAX_SAFE_INTEGER, this.hub.size > 0 ? this.feed.seen : Number.MAX_SAFE_INTEGER);
    const target = Math.min(want, pinned);
    const { compacted } = await this.#sql('compact', () =>
      this.leader.compact(target, { takeWriteCount: () => this.feed.takeWriteCount(), closed: () => this.#closed }),
    );
    this.feed.observeCompacted(compacted);
  }

  /** Writes a SQLite store file of one consistent revision (snapshot.ts). */
  async snapshot(path: string): Promise<number> {
    this.#open();
    const { snapshotToSqlite } = await import('./snapshot.ts');
    return this.#sql('snapshot', () => snapshotToSqlite(this.#pool, path, this.#sqliteBinding()));
  }

  async stats(): Promise<StoreStats> {
    this.#open();
    const [s, current] = await Promise.all([this.#query<{ rows: number; bytes: number }>('stats', statements.stats, []), this.currentRevision()]);
    return {
      currentRevision: current,
      compactRevision: await this.compactRevision(),
      rows: s[0]!.rows,
      dbBytes: s[0]!.bytes,
      walBytes: 0,
      watchers: this.hub.size,
    };
  }

  unavailable(): string | undefined {
    return this.#closed ? 'the store is closed' : this.feed.problem;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.hub.close();
    await Promise.all([this.feed.close(), this.leader.close()]);
    await this.#pool.end().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'closing the database pool failed'));
  }

  async #readHistory(prefix: string, end: string, after: number, upTo: number, limit: number): Promise<WatchEvent[]> {
    const rows = await this.#query<HistoryRow & Row>('watch', statements.history, [after, upTo, prefix, end, limit]);
    if (after < rows[0]!.compacted) throw new CompactedError(after, rows[0]!.compacted);
    return rows.filter((r) => r.id !== null).map(toEvent);
  }

  #checkReadable(revision: number, state: CheckedRow): void {
    this.feed.observeCompacted(state.compacted);
    if (revision > state.current) throw new FutureRevisionError(revision, state.current);
    if (revision < state.compacted) throw new CompactedError(revision, state.compacted);
  }

  #open(): void {
    if (this.#closed) throw new ClosedError();
  }

  /**
   * One statement on a pooled connection. A read is tried once more on a fresh connection when the
   * first one turned out dead (the database restarted since it was pooled); a write never is, since
   * its commit may have happened before the connection broke.
   */
  async #query<T extends object>(doing: string, statement: { name?: string; text: string }, values: unknown[]): Promise<T[]> {
    const run = async () => (await this.#pool.query<T>({ ...statement, values })).rows;
    return this.#sql(doing, async () => {
      if (statement === statements.write) return run();
      try {
        return await run();
      } catch (err) {
        if (this.#closed || !isConnectionFailure(err)) throw err;
        return run();
      }
    });
  }

  /** Runs database work, turning its failures into store errors that name the server, never a password. */
  async #sql<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#translate(err, doing);
    }
  }

  #translate(err: unknown, doing: string): Error {
    if (err instanceof StoreError) return err;
    if (err instanceof pg.DatabaseError) {
      const key = err.message;
      if (err.code === 'EG001') return new KeyExistsError(key);
      if (err.code === 'EG002') return new NotFoundError(key);
      if (err.code === 'EG003') {
        const [actual, expected] = (err.detail ?? '').split(' ').map(Number);
        return new ConflictError(key, expected!, actual!);
      }
      if (!isConnectionFailure(err)) {
        return new StoreError('STORE_QUERY_FAILED', `${doing} on ${this.#c.description}: ${err.message}`, { cause: err });
      }
    }
    if (this.#closed) return new ClosedError();
    return new DatabaseError('STORE_UNAVAILABLE', this.#c.description, `${doing}: ${this.#c.description} is unavailable: ${connectFailure(err, this.#c)}`, { cause: err });
  }
}
