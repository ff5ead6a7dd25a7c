import type { Logger } from '../../common/log.ts';
import type { TxnOp } from '../types.ts';
import type { SqliteBackend } from './backend.ts';
import { compactTo } from './compact.ts';

export interface RetentionPolicy {
  /** Keep at least the last N revisions of history. */
  retainRevisions: number;
  /** Keep at least the history of the last T ms (0: revisions only). */
  retainMs: number;
  compactIntervalMs: number;
  ttlSweepIntervalMs: number;
}

/**
 * The background work of a SQLite store: compaction on a retention policy and expiry of TTL keys.
 * A revision is kept while it is within the last `retainRevisions` OR younger than `retainMs`, so
 * history is bounded in steady state by max(N, writes per T) rows plus one row per live key.
 */
export class Maintenance {
  readonly #b: SqliteBackend;
  readonly #policy: RetentionPolicy;
  readonly #log: Logger;
  /** (time, revision) samples, to translate "T ms ago" into a revision. */
  readonly #samples: Array<{ at: number; rev: number }> = [];
  #timers: NodeJS.Timeout[] = [];
  #compacting: Promise<unknown> | undefined;

  constructor(b: SqliteBackend, policy: RetentionPolicy, log: Logger) {
    this.#b = b;
    this.#policy = policy;
    this.#log = log;
  }

  start(): void {
    this.#sample();
    // A compaction interrupted by a crash resumes now (its revision was already recorded).
    if ((this.#b.statements.getMeta.get('compact_cursor')?.value ?? 0) < this.#b.compactedRevision) {
      this.#compact(this.#b.compactedRevision);
    }
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#policy.compactIntervalMs, () => void this.tick());
    every(this.#policy.ttlSweepIntervalMs, () => this.sweepExpired());
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#compacting;
  }

  /** One compaction decision: what the retention policy allows, now. Resolves when it is done. */
  async tick(): Promise<void> {
    this.#sample();
    const byRevisions = this.#b.revision - this.#policy.retainRevisions;
    const byTime = this.#policy.retainMs > 0 ? this.#revisionAt(Date.now() - this.#policy.retainMs) : Number.MAX_SAFE_INTEGER;
    const target = Math.min(byRevisions, byTime);
    await this.#compacting; // a pass in flight finishes first; then the newer target
    if (target > this.#b.compactedRevision) this.#compact(target);
    await this.#compacting;
  }

  /** Deletes keys whose TTL has passed, as ordinary deletes that watchers see. */
  sweepExpired(): number {
    if (this.#b.closed) return 0;
    let total = 0;
    try {
      for (;;) {
        const due = this.#b.statements.expired.all(Date.now(), 500);
        if (due.length === 0) break;
        const ops: TxnOp[] = due.map((d) => ({ op: 'delete', key: d.name, expectedModRevision: d.id }));
        this.#b.txnSync(ops);
        total += due.length;
        if (due.length < 500) break;
      }
    } catch (err) {
      this.#log.error({ err }, 'expiring TTL keys failed; will retry');
    }
    return total;
  }

  #compact(target: number): void {
    if (this.#compacting || this.#b.closed) return;
    this.#compacting = compactTo(this.#b, target, { log: this.#log })
      .catch((err: unknown) => this.#log.error({ err }, 'compaction failed; will retry'))
      .finally(() => (this.#compacting = undefined));
  }

  #sample(): void {
    const now = Date.now();
    this.#samples.push({ at: now, rev: this.#b.revision });
    // Keep one sample older than the window (the answer for "T ago") and everything newer.
    const horizon = now - this.#policy.retainMs;
    while (this.#samples.length > 1 && this.#samples[1]!.at <= horizon) this.#samples.shift();
  }

  /** The newest sampled revision at or before `t`; 0 when none is that old (nothing to compact). */
  #revisionAt(t: number): number {
    let rev = 0;
    for (const s of this.#samples) if (s.at <= t) rev = s.rev;
    return rev;
  }
}
