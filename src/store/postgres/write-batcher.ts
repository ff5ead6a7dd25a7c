/**
 * Group commit for this server's single-key writes (docs/store.md, "Group commit"). Every write
 * takes the database's revision lock until its commit is flushed, so writes to one database run one
 * commit (one WAL flush) at a time: on a disk whose fsync takes 8 ms no design of one write per
 * transaction exceeds ~125 writes/s. Instead, the creates, updates and deletes that arrive while
 * this server's previous write is in flight go together as one edgeos_write call: one transaction,
 * one flush, each operation still its own consecutive revision with its own checks, in arrival
 * order. A lone write goes at once, as before.
 *
 * A failed check (the key exists, is missing, or changed) aborts the whole transaction, naming its
 * key; that operation alone fails with it and the others go again without it. A batch never holds
 * two operations on one key, so the key names the operation, and every operation is judged against
 * the state its predecessors in arrival order left, as if the writes had run one by one. Any other
 * failure (the connection was lost) fails the whole batch: none of it was acknowledged.
 */
import { ConflictError, KeyExistsError, NotFoundError } from '../errors.ts';
import type { KeyValue, TxnOp } from '../types.ts';

/** Operations per transaction at most (each is one row and one revision). */
const MAX_BATCH = 64;

interface Pending {
  readonly op: TxnOp;
  resolve(kv: KeyValue): void;
  reject(err: unknown): void;
}

const checkFailureKey = (err: unknown): string | undefined =>
  err instanceof KeyExistsError || err instanceof NotFoundError || err instanceof ConflictError ? err.key : undefined;

export class WriteBatcher {
  readonly #run: (ops: readonly TxnOp[]) => Promise<KeyValue[]>;
  readonly #queue: Pending[] = [];
  #running = false;

  /** `run` writes its operations in one transaction (PostgresBackend.txn). */
  constructor(run: (ops: readonly TxnOp[]) => Promise<KeyValue[]>) {
    this.#run = run;
  }

  write(op: TxnOp): Promise<KeyValue> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /** The next batch: queued operations in order, up to a repeated key or MAX_BATCH. */
  #take(): Pending[] {
    const keys = new Set<string>();
    let n = 0;
    while (n < this.#queue.length && n < MAX_BATCH && !keys.has(this.#queue[n]!.op.key)) keys.add(this.#queue[n++]!.op.key);
    return this.#queue.splice(0, n);
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        let batch = this.#take();
        while (batch.length > 0) {
          try {
            const kvs = await this.#run(batch.map((p) => p.op));
            batch.forEach((p, i) => p.resolve(kvs[i]!));
            batch = [];
          } catch (err) {
            const key = batch.length > 1 ? checkFailureKey(err) : undefined;
            const failed = key === undefined ? -1 : batch.findIndex((p) => p.op.key === key);
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
