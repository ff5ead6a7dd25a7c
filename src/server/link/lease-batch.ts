/**
 * The Lease renewals of every link that arrive within one short window, written in ONE store
 * transaction (docs/link.md, "Lease writes"). After the link's first, a renewal is a
 * compare-and-swap of the node's Lease (lease-store.ts); one transaction each was ~18 % of the
 * server's CPU at 6,000 idle linked nodes — nearly all of it SQLite's per-transaction work (begin,
 * the WAL append and commit) — and 10,000 nodes renew 500 Leases a second. Batched, a commit
 * carries every renewal of the window, and the feed hub gets them as one batch of events.
 *
 * Each renewal keeps its own condition: a batch whose transaction fails on one Lease's condition
 * (someone else changed or deleted it) is written again one renewal at a time, so only that one
 * fails (and goes through the API again) and the others land. The ack of a renewal waits for its
 * commit: at most `windowMs` later than alone, nothing next to the 40 s the lifecycle controller
 * allows, and the Lease's renewTime is the agent's beat, not the commit.
 */
import type { KeyValue, Store } from '../../store/types.ts';
import { ConflictError, NotFoundError } from '../../store/errors.ts';
import { writeWindow } from './write-window.ts';

/** A conditional update of one key (the store's update with expectedModRevision). */
export type ConditionalUpdate = (key: string, value: Buffer, expectedModRevision: number) => Promise<KeyValue>;

interface Pending {
  readonly key: string;
  readonly value: Buffer;
  readonly rev: number;
  resolve(kv: KeyValue): void;
  reject(err: unknown): void;
}

export interface LeaseBatch {
  readonly update: ConditionalUpdate;
  /** Writes what waits now (the server is stopping); later updates are written alone. */
  close(): Promise<void>;
}

export function leaseBatch(store: Store, o: { windowMs?: number; maxOps?: number } = {}): LeaseBatch {
  let closed = false;
  const window = writeWindow<Pending>({ windowMs: o.windowMs ?? 100, maxItems: o.maxOps ?? 1000, write: flush });

  async function flush(batch: Pending[]): Promise<void> {
    try {
      const kvs = await store.txn(batch.map((p) => ({ op: 'update', key: p.key, value: p.value, expectedModRevision: p.rev })));
      batch.forEach((p, i) => p.resolve(kvs[i]!));
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) {
        for (const p of batch) p.reject(err);
        return;
      }
    }
    // One condition failed and the transaction wrote nothing: each on its own, so only that one fails.
    for (const p of batch) await store.update(p.key, p.value, { expectedModRevision: p.rev }).then(p.resolve, p.reject);
  }

  return {
    update(key, value, rev) {
      if (closed) return store.update(key, value, { expectedModRevision: rev });
      return new Promise<KeyValue>((resolve, reject) => window.add({ key, value, rev, resolve, reject }));
    },
    async close() {
      closed = true;
      await window.close();
    },
  };
}
