import { renameSync, rmSync, statSync } from 'node:fs';
import type { Database as Db, Transaction } from 'better-sqlite3';
import type { Logger } from '../../common/log.ts';
import {
  ClosedError,
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  NotFoundError,
  StoreError,
} from '../errors.ts';
import { checkKey, checkOps, checkPrefix, checkRevision, prefixEnd } from '../keys.ts';
import { ownBytes } from '../../common/own-bytes.ts';
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
import { describeSqliteError } from './open.ts';
import { prepareStatements } from './statements.ts';
import type { Row, Statements } from './statements.ts';

export interface BackendOptions {
  db: Db;
  file: string;
  log: Logger;
  progressIntervalMs: number;
}

function toKv(r: Row, modRevision = r.id): KeyValue {
  const kv: { -readonly [K in keyof KeyValue]: KeyValue[K] } = {
    key: r.name,
    value: r.value,
    createRevision: r.create_revision,
    modRevision,
  };
  if (r.expires_at !== null) kv.expiresAt = r.expires_at;
  return kv;
}

/**
 * The Store on one SQLite connection. better-sqlite3 is synchronous and this process is the only
 * writer (the file is opened with an exclusive lock), so each operation's read-check-append runs
 * as one uninterrupted transaction: compare-and-swap needs no retry loop and "database is locked"
 * cannot happen.
 */
export class SqliteBackend implements Store {
  readonly #db: Db;
  readonly #file: string;
  readonly #log: Logger;
  readonly #st: Statements;
  readonly hub: WatchHub;
  #rev: number;
  #compactRev: number;
  #closed = false;
  /** Revisions written since compaction last looked; it paces itself to keep up (compact.ts). */
  #writesSinceCompactStep = 0;
  /** The write transaction, built once: better-sqlite3's transaction() wrapper is costly to create. */
  readonly #applyOps: Transaction<(ops: readonly TxnOp[], now: number) => { rev: number; results: KeyValue[]; events: WatchEvent[] }>;

  constructor(opts: BackendOptions) {
    this.#db = opts.db;
    this.#file = opts.file;
    this.#log = opts.log;
    this.#st = prepareStatements(opts.db);
    this.#applyOps = this.#db.transaction((ops: readonly TxnOp[], now: number) => this.#apply(ops, now));
    this.#compactRev = this.#st.getMeta.get('compact_revision')?.value ?? 0;
    this.#rev = Math.max(this.#st.maxId.get()?.seq ?? 0, this.#compactRev);
    this.hub = new WatchHub({
      history: { readHistory: async (p, e, a, u, l) => this.#readHistory(p, e, a, u, l) },
      currentRevision: () => this.#rev,
      compactRevision: () => this.#compactRev,
      progressIntervalMs: opts.progressIntervalMs,
      log: opts.log,
    });
  }

  get db(): Db {
    this.#open();
    return this.#db;
  }

  get statements(): Statements {
    return this.#st;
  }

  get revision(): number {
    return this.#rev;
  }

  get compactedRevision(): number {
    return this.#compactRev;
  }

  async currentRevision(): Promise<number> {
    this.#open();
    return this.#rev;
  }

  async compactRevision(): Promise<number> {
    this.#open();
    return this.#compactRev;
  }

  async get(key: string, opts: GetOptions = {}): Promise<KeyValue | undefined> {
    this.#open();
    checkKey(key);
    const row = this.#sql('get', () =>
      opts.revision === undefined ? this.#st.latest.get(key) : this.#st.atRevision.get(key, this.#readRevision(opts.revision)),
    );
    return row && !row.deleted ? toKv(row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.#open();
    checkPrefix(prefix);
    const revision = opts.revision === undefined || opts.revision === 0 ? this.#rev : this.#readRevision(opts.revision);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    // Keys are printable ASCII (0x21–0x7e), so "after K" is exactly ">= K + '\x21'".
    const start = opts.startAfter !== undefined && opts.startAfter >= prefix ? opts.startAfter + '\x21' : prefix;
    const rowsInRange = this.#sql('list', () =>
      this.#st.list.all(start, prefixEnd(prefix), revision, limit === -1 ? -1 : limit + 1),
    );
    const more = limit !== -1 && rowsInRange.length > limit;
    const kvs = (more ? rowsInRange.slice(0, limit) : rowsInRange).map((r) => toKv(r));
    return { kvs, revision, more };
  }

  async count(prefix: string): Promise<number> {
    this.#open();
    checkPrefix(prefix);
    return this.#sql('count', () => this.#st.count.get(prefix, prefixEnd(prefix))!.n);
  }

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
    return this.txnSync(ops);
  }

  /** The synchronous core of every write, also used by the TTL sweeper. */
  txnSync(ops: readonly TxnOp[]): KeyValue[] {
    this.#open();
    checkOps(ops);
    const { rev, results, events } = this.#sql('write', () => this.#applyOps.immediate(ops, Date.now()));
    this.#writesSinceCompactStep += rev - this.#rev;
    this.#rev = rev;
    this.hub.publish(events);
    return results;
  }

  /** Appends one row per operation; runs inside one SQLite transaction (#applyOps). */
  #apply(ops: readonly TxnOp[], now: number): { rev: number; results: KeyValue[]; events: WatchEvent[] } {
    const events: WatchEvent[] = [];
    const results: KeyValue[] = [];
    let rev = this.#rev;
    for (const op of ops) {
      // Published values get memory of their own (own-bytes.ts): watchers keep them (a watch cache's
      // objects, the link hub's recent events), and a small Buffer is a view of a 64 KiB slab.
      const o = op.op === 'delete' ? op : { ...op, value: ownBytes(op.value) };
      const prev = this.#st.latest.get(o.key);
      const live = prev && !prev.deleted ? prev : undefined;
      const id = ++rev;
      if (o.op === 'create') {
        if (live) throw new KeyExistsError(o.key);
        const exp = o.ttlSeconds ? now + o.ttlSeconds * 1000 : null;
        this.#st.insert.run(id, o.key, 1, 0, id, prev?.id ?? 0, exp, o.value);
        const kv = toKv({ id, name: o.key, created: 1, deleted: 0, create_revision: id, prev_revision: prev?.id ?? 0, expires_at: exp, value: o.value });
        results.push(kv);
        events.push({ type: 'ADDED', kv });
        continue;
      }
      if (!live) throw new NotFoundError(o.key);
      if (o.expectedModRevision !== undefined && o.expectedModRevision !== live.id) {
        throw new ConflictError(o.key, o.expectedModRevision, live.id);
      }
      const prevKv = toKv(live);
      if (o.op === 'update') {
        const exp = o.ttlSeconds ? now + o.ttlSeconds * 1000 : null;
        this.#st.insert.run(id, o.key, 0, 0, live.create_revision, live.id, exp, o.value);
        const kv = toKv({ ...live, id, created: 0, prev_revision: live.id, expires_at: exp, value: o.value });
        results.push(kv);
        events.push({ type: 'MODIFIED', kv, prevKv });
      } else {
        this.#st.insert.run(id, o.key, 0, 1, live.create_revision, live.id, null, live.value);
        const kv = toKv({ ...live, id, expires_at: null }, id);
        results.push(kv);
        events.push({ type: 'DELETED', kv, prevKv });
      }
    }
    return { rev, results, events };
  }

  watch(prefix: string, opts: WatchOptions, onMessage: (msg: WatchMessage) => void): Watch {
    this.#open();
    return this.hub.watch(prefix, opts, onMessage);
  }

  async compact(revision: number): Promise<void> {
    const { compactTo } = await import('./compact.ts');
    await compactTo(this, revision, { log: this.#log });
  }

  /** One process owns the file (locking_mode EXCLUSIVE): it always does the maintenance. */
  async lead(): Promise<boolean> {
    return !this.#closed;
  }

  async interruptedCompaction(): Promise<number | undefined> {
    return (this.#st.getMeta.get('compact_cursor')?.value ?? 0) < this.#compactRev ? this.#compactRev : undefined;
  }

  /** Deletes keys whose TTL has passed, as ordinary deletes that watchers see. */
  async sweepExpired(): Promise<number> {
    let total = 0;
    while (!this.#closed) {
      const due = this.#st.expired.all(Date.now(), 500);
      if (due.length === 0) break;
      this.txnSync(due.map((d) => ({ op: 'delete', key: d.name, expectedModRevision: d.id })));
      total += due.length;
      if (due.length < 500) break;
    }
    return total;
  }

  /** Revisions written since the last call (compaction's pacing input). */
  takeWriteCount(): number {
    const n = this.#writesSinceCompactStep;
    this.#writesSinceCompactStep = 0;
    return n;
  }

  /** Records a new compacted revision before rows are removed (reads at or below it now fail). */
  setCompactRevision(revision: number): void {
    this.#st.setMeta.run('compact_revision', revision);
    this.#compactRev = revision;
  }

  async snapshot(path: string): Promise<number> {
    this.#open();
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      // SQLite's online backup copies page by page between event-loop turns; writes made on this
      // connection meanwhile are folded into the copy, so the result is one consistent revision:
      // the one current when the backup completes.
      await this.#db.backup(tmp);
      const revision = this.#rev;
      renameSync(tmp, path);
      return revision;
    } catch (err) {
      rmSync(tmp, { force: true });
      throw describeSqliteError(path, err, 'snapshot') ??
        new StoreError('STORE_SNAPSHOT_FAILED', `snapshot to ${path} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async stats(): Promise<StoreStats> {
    this.#open();
    const size = (p: string) => statSync(p, { throwIfNoEntry: false })?.size ?? 0;
    return {
      currentRevision: this.#rev,
      compactRevision: this.#compactRev,
      rows: this.#st.rowCount.get()!.n,
      dbBytes: this.#file === ':memory:' ? 0 : size(this.#file),
      walBytes: this.#file === ':memory:' ? 0 : size(`${this.#file}-wal`),
      watchers: this.hub.size,
    };
  }

  /** A local file: it goes away only with the process, which then fails loudly on its own. */
  unavailable(): string | undefined {
    return this.#closed ? 'the store is closed' : undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.hub.close();
    try {
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.#log.warn({ err }, 'final WAL checkpoint failed');
    }
    this.#db.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #readHistory(prefix: string, end: string, after: number, upTo: number, limit: number): WatchEvent[] {
    if (after < this.#compactRev) throw new CompactedError(after, this.#compactRev);
    const rows = this.#sql('watch', () => this.#st.history.all(after, upTo, prefix, end, limit));
    return rows.map((r) => {
      const kv = toKv(r);
      if (r.created) return { type: 'ADDED', kv };
      const p = this.#st.byId.get(r.prev_revision);
      const prevKv = p ? toKv(p) : undefined;
      const type = r.deleted ? 'DELETED' : 'MODIFIED';
      return prevKv ? { type, kv, prevKv } : { type, kv };
    });
  }

  #readRevision(revision: number): number {
    checkRevision(revision);
    if (revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
    if (revision < this.#compactRev) throw new CompactedError(revision, this.#compactRev);
    return revision;
  }

  #open(): void {
    if (this.#closed) throw new ClosedError();
  }

  /** Runs SQL, turning SQLite failures into errors that name the file. */
  #sql<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw describeSqliteError(this.#file, err, doing) ?? err;
    }
  }
}
