/**
 * Group commit for this server's writes (docs/store.md, "Group commit"). Every write takes the
 * database's revision lock until its commit is flushed, so writes to one database run one commit
 * (one WAL flush) at a time: on a disk whose fsync takes 8 ms no design of one write per
 * transaction exceeds ~125 writes/s, and the writes queued behind the lock hold pooled connections
 * that reads then wait for. Instead, the writes (single-key ones and txn()s alike) that arrive
 * while this server's previous write is in flight go together as one edgeos_write call: one
 * transaction, one flush, one connection, each operation still its own consecutive revision with
 * its own checks, in arrival order. A lone write goes at once, as before.
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
  #running = false;

  /** `run` writes its operations in one transaction (edgeos_write), one result per operation. */
  constructor(run: (ops: readonly TxnOp[]) => Promise<KeyValue[]>) {
    this.#run = run;
  }

  /** Writes `ops` atomically, in a transaction it may share with other writes; one result per operation. */
  write(ops: readonly TxnOp[]): Promise<KeyValue[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /** The next batch: queued writes in order, up to one that touches a key already in it or MAX_BATCH operations. */
  #take(): Pending[] {
    const keys = new Set<string>();
    let size = 0;
    let n = 0;
    for (; n < this.#queue.length; n++) {
      const { ops } = this.#queue[n]!;
      if (n > 0 && (size + ops.length > MAX_BATCH || ops.some((o) => keys.has(o.key)))) break;
      for (const o of ops) keys.add(o.key);
      size += ops.length;
    }
    return this.#queue.splice(0, n);
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        let batch = this.#take();
        while (batch.length > 0) {
          try {
            const kvs = await this.#run(batch.flatMap((p) => p.ops));
            let at = 0;
            for (const p of batch) p.resolve(kvs.slice(at, (at += p.ops.length)));
            batch = [];
          } catch (err) {
            const key = batch.length > 1 ? checkFailureKey(err) : undefined;
            const failed = key === undefined ? -1 : batch.findIndex((p) => p.ops.some((o) => o.key === key));
            if (failed < 0) {
              for (const p of batch) p.reject(err);
              batch = [];
            } else {
              batch[failed]!.reject(err);
              batch.splice(failed, 1);
            }
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
