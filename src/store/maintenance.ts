import type { Logger } from '../common/log.ts';

export interface RetentionPolicy {
  /** Keep at least the last N revisions of history. */
  retainRevisions: number;
  /** Keep at least the history of the last T ms (0: revisions only). */
  retainMs: number;
  compactIntervalMs: number;
  ttlSweepIntervalMs: number;
}

/**
 * Like the Kubernetes apiserver's 5-minute etcd compaction, plus a revision floor so that a burst
 * of writes does not strip history that reconnecting watches still need.
 */
export const retentionDefaults: RetentionPolicy = {
  retainRevisions: 10_000,
  retainMs: 5 * 60_000,
  compactIntervalMs: 30_000,
  ttlSweepIntervalMs: 1000,
};

/** What a backend offers its background maintenance (compaction and TTL expiry). */
export interface MaintenanceTarget {
  /** The latest revision this process knows of. */
  readonly revision: number;
  readonly compactedRevision: number;
  readonly closed: boolean;
  /**
   * Whether this process does the maintenance now: always for SQLite (one process owns the file);
   * for PostgreSQL the one server holding the maintenance lock, which this call tries to take.
   */
  lead(): Promise<boolean>;
  /** The target of a compaction pass a crash interrupted, to resume it; undefined when none. */
  interruptedCompaction(): Promise<number | undefined>;
  /** Compacts history up to `target` (the Store verb). */
  compact(target: number): Promise<unknown>;
  /** Deletes expired keys as ordinary deletes; returns how many. */
  sweepExpired(): Promise<number>;
}

/**
 * The background work of a store: compaction on a retention policy and expiry of TTL keys. A
 * revision is kept while it is within the last `retainRevisions` OR younger than `retainMs`, so
 * history is bounded in steady state by max(N, writes per T) rows plus one row per live key.
 * Every process samples (time, revision), so a server that takes over maintenance already knows
 * which revision is "T ago"; only the one that leads compacts and expires.
 */
export class Maintenance {
  readonly #b: MaintenanceTarget;
  readonly #policy: RetentionPolicy;
  readonly #log: Logger;
  /** (time, revision) samples, to translate "T ms ago" into a revision. */
  readonly #samples: Array<{ at: number; rev: number }> = [];
  #timers: NodeJS.Timeout[] = [];
  #compacting: Promise<unknown> | undefined;
  #sweeping: Promise<number> | undefined;
  #leadFailing = false;

  constructor(b: MaintenanceTarget, policy: RetentionPolicy, log: Logger) {
    this.#b = b;
    this.#policy = policy;
    this.#log = log;
  }

  /** Starts the timers; resolves once this process knows whether it leads (and resumed a pass). */
  async start(): Promise<void> {
    this.#sample();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#policy.compactIntervalMs, () => void this.tick());
    // 0: this store never writes a key with a TTL (the agent's cache): nothing to sweep.
    if (this.#policy.ttlSweepIntervalMs > 0) every(this.#policy.ttlSweepIntervalMs, () => void this.sweepExpired());
    if (await this.#lead()) {
      // A compaction interrupted by a crash resumes now (its revision was already recorded).
      const resume = await this.#b.interruptedCompaction();
      if (resume !== undefined) this.#compact(resume);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#compacting;
    await this.#sweeping;
  }

  /** One compaction decision: what the retention policy allows, now. Resolves when it is done. */
  async tick(): Promise<void> {
    this.#sample();
    const byRevisions = this.#b.revision - this.#policy.retainRevisions;
    const byTime = this.#policy.retainMs > 0 ? this.#revisionAt(Date.now() - this.#policy.retainMs) : Number.MAX_SAFE_INTEGER;
    const target = Math.min(byRevisions, byTime);
    if (this.#b.closed || !(await this.#lead())) return;
    await this.#compacting; // a pass in flight finishes first; then the newer target
    if (target > this.#b.compactedRevision) this.#compact(target);
    await this.#compacting;
  }

  /** Deletes keys whose TTL has passed (when this process leads); one sweep at a time. */
  async sweepExpired(): Promise<number> {
    if (this.#sweeping) return this.#sweeping;
    this.#sweeping = (async () => {
      if (this.#b.closed || !(await this.#lead())) return 0;
      return this.#b.sweepExpired();
    })()
      .catch((err: unknown) => {
        if (!this.#b.closed) this.#log.error({ err }, 'expiring TTL keys failed; will retry');
        return 0;
      })
      .finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #lead(): Promise<boolean> {
    try {
      const leads = await this.#b.lead();
      this.#leadFailing = false;
      return leads;
    } catch (err) {
      // Once per outage, not once per tick: the store's own health says the rest.
      if (!this.#b.closed && !this.#leadFailing) this.#log.warn({ err: (err as Error).message }, 'cannot tell whether this process leads maintenance; will retry');
      this.#leadFailing = true;
      return false;
    }
  }

  #compact(target: number): void {
    if (this.#compacting || this.#b.closed) return;
    this.#compacting = this.#b
      .compact(target)
      .catch((err: unknown) => {
        if (!this.#b.closed) this.#log.error({ err }, 'compaction failed; will retry');
      })
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

export interface PacedCompaction {
  /** Rows in (cursor, goal] are compacted, the cursor being where a previous pass stopped. */
  readonly cursor: number;
  readonly goal: number;
  /** Removes what the rows in (lo, hi] superseded, in one short transaction; returns rows removed. */
  readonly chunk: (lo: number, hi: number) => number | Promise<number>;
  /** Revisions written since the previous call (the writer compaction must outpace). */
  readonly takeWriteCount: () => number;
  readonly closed: () => boolean;
  /** Longest a chunk should take; chunks adapt to stay under it. */
  readonly maxChunkMs: number;
}

export interface CompactResult {
  readonly target: number;
  readonly removed: number;
  readonly chunks: number;
  readonly maxChunkMs: number;
}

const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * The chunk loop both backends compact with. Chunks aim at half the time budget (growing while
 * cheap, shrinking when slow) with an event-loop turn between them, so writers wait at most one
 * chunk; and a chunk never covers fewer revisions than twice what was written since the previous
 * one, so a pass always gains on a steady writer instead of falling further behind.
 */
export async function compactPaced(p: PacedCompaction): Promise<CompactResult> {
  let lo = p.cursor;
  let size = 1000;
  let removed = 0;
  let chunks = 0;
  let worst = 0;
  p.takeWriteCount();
  while (lo < p.goal && !p.closed()) {
    const hi = Math.min(lo + Math.max(size, 2 * p.takeWriteCount()), p.goal);
    const t0 = performance.now();
    removed += await p.chunk(lo, hi);
    const ms = performance.now() - t0;
    worst = Math.max(worst, ms);
    chunks++;
    lo = hi;
    if (ms < p.maxChunkMs / 4) size = Math.min(size * 2, 100_000);
    else if (ms > p.maxChunkMs / 2) size = Math.max(100, Math.floor(size / 2));
    await yieldTurn();
  }
  return { target: p.goal, removed, chunks, maxChunkMs: worst };
}
