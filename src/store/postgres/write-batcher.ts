/**
 * Group commit for this server's writes (docs/store.md, "Group commit"). Every write takes the
 * database's revision lock until its commit is flushed, so writes to one database run one commit
 * (one WAL flush) at a time: on a disk whose fsync takes 8 ms no design of one write per
 * transaction exceeds ~125 writes/s, and the writes queued behind the lock hold pooled connections
 * that reads then wait for. Instead, the writes (single-key ones and txn()s alike) that arrive
 * while this server's previous write is in flight go together as one edgeos_write call: one
 * transaction, one flush, each operation still its own consecutive revision with its own checks,
 * in arrival order. A lone write goes at once, as before. Two batches may be in flight, so the
 * database starts the next commit as soon as one is flushed; a write that touches a key of a
 * batch in flight waits for it (and so does every write queued after it), so writes to one key
 * are judged in arrival order whatever happens to the batch before.
 *
 * A failed check (the key exists, is missing, or changed) aborts the whole transaction, naming its
 * key; the write that holds that key alone fails with it and the others go again without it. A
 * batch never holds two writes that touch one key, so the key names the write, and every write is
 * judged against the state its predecessors in arrival order left, as if the writes had run one by
 * one. Any other failure (the connection was lost) fails the whole batch: none of it was
 * acknowledged.
 */
import { ConflictError, KeyExistsError, NotFoundError } from '../errors.ts';
import type { KeyValue, TxnOp } from '../types.ts';

/** Operations per transaction at most (each is one row and one revision); a larger txn() goes alone. */
const MAX_BATCH = 64;
/**
 * Batches in flight at once: while one commits (holding the revision lock through its flush) the
 * next is already waiting for the lock in the database, so the database goes from one commit to
 * the next without waiting for this process to hear back and send again.
 */
const MAX_IN_FLIGHT = 2;

interface Pending {
  /** One write: a txn()'s operations, all or none (a single-key write is a txn of one). */
  readonly ops: readonly TxnOp[];
  resolve(kvs: KeyValue[]): void;
  reject(err: unknown): void;
}

const checkFailureKey = (err: unknown): string | undefined =>
  err instanceof KeyExistsError || err instanceof NotFoundError || err instanceof ConflictError ? err.key : undefined;

export class WriteBatcher {
  readonly #run: (ops: readonly TxnOp[]) => Promise<KeyValue[]>;
  readonly #queue: Pending[] = [];
  /** The keys of each batch in flight. */
  readonly #flying = new Set<ReadonlySet<string>>();

  /** `run` writes its operations in one transaction (edgeos_write), one result per operation. */
  constructor(run: (ops: readonly TxnOp[]) => Promise<KeyValue[]>) {
    this.#run = run;
  }

  /** Writes `ops` atomically, in a transaction it may share with other writes; one result per operation. */
  write(ops: readonly TxnOp[]): Promise<KeyValue[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, resolve, reject });
      this.#launch();
    });
  }

  #inFlight(key: string): boolean {
    for (const keys of this.#flying) if (keys.has(key)) return true;
    return false;
  }

  /**
   * The next batch: queued writes in order, up to one that touches a key already in it or in a
   * batch in flight, or MAX_BATCH operations. Empty when the first write touches a key in flight.
   */
  #take(): { batch: Pending[]; keys: Set<string> } {
    const keys = new Set<string>();
    let size = 0;
    let n = 0;
    for (; n < this.#queue.length; n++) {
      const { ops } = this.#queue[n]!;
      if (ops.some((o) => keys.has(o.key) || this.#inFlight(o.key))) break;
      if (n > 0 && size + ops.length > MAX_BATCH) break;
      for (const o of ops) keys.add(o.key);
      size += ops.length;
    }
    return { batch: this.#queue.splice(0, n), keys };
  }

  /** Starts batches while fewer than MAX_IN_FLIGHT are in flight. */
  #launch(): void {
    while (this.#flying.size < MAX_IN_FLIGHT && this.#queue.length > 0) {
      const { batch, keys } = this.#take();
      if (batch.length === 0) return;
      this.#flying.add(keys);
      void this.#commit(batch).finally(() => {
        this.#flying.delete(keys);
        this.#launch();
      });
    }
  }

  /** Commits `batch`; a write whose check fails is answered alone and the rest go again. */
  async #commit(batch: Pending[]): Promise<void> {
    while (batch.length > 0) {
      try {
        const kvs = await this.#run(batch.flatMap((p) => p.ops));
        let at = 0;
        for (const p of batch) p.resolve(kvs.slice(at, (at += p.ops.length)));
        return;
      } catch (err) {
        const key = batch.length > 1 ? checkFailureKey(err) : undefined;
        const failed = key === undefined ? -1 : batch.findIndex((p) => p.ops.some((o) => o.key === key));
        if (failed < 0) {
          for (const p of batch) p.reject(err);
          return;
        }
        batch[failed]!.reject(err);
        batch.splice(failed, 1);
      }
    }
  }
}
