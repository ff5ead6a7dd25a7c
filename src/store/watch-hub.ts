import type { Logger } from '../common/log.ts';
import { ClosedError, CompactedError, StoreError } from './errors.ts';
import { checkPrefix, prefixEnd } from './keys.ts';
import type { Watch, WatchEvent, WatchMessage, WatchOptions } from './types.ts';

/** Where a backend's past events come from, for watches that start in the past. */
export interface HistoryReader {
  /** Events with revision in (after, upTo] for keys in [prefix, end), in order, at most `limit`. */
  readHistory(prefix: string, end: string, after: number, upTo: number, limit: number): Promise<WatchEvent[]>;
}

export interface WatchHubOptions {
  history: HistoryReader;
  currentRevision: () => number;
  compactRevision: () => number;
  progressIntervalMs: number;
  log: Logger;
}

const REPLAY_BATCH = 1000;

interface Watcher {
  readonly prefix: string;
  readonly end: string;
  readonly onMessage: (msg: WatchMessage) => void;
  readonly progressIntervalMs: number;
  /** Highest revision delivered (or skipped as "before the start"); later events only. */
  delivered: number;
  /** While replaying history, live events wait here. */
  buffer: WatchEvent[] | undefined;
  lastSentAt: number;
  closed: boolean;
  cleanup: () => void;
}

/**
 * Fans committed events out to watches. Writers call publish() right after commit; delivery runs
 * on the next turn of the event loop, so a slow consumer never holds a writer. A watch from a past
 * revision first replays history (in batches, yielding between them) while live events are
 * buffered, then switches to live delivery: no gap, no duplicate, revision order throughout.
 */
export class WatchHub {
  readonly #opts: WatchHubOptions;
  readonly #watchers = new Set<Watcher>();
  #pending: WatchEvent[] = [];
  #flushScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: WatchHubOptions) {
    this.#opts = opts;
    const tick = Math.max(50, Math.min(1000, opts.progressIntervalMs));
    this.#timer = setInterval(() => this.#sendProgress(), tick);
    this.#timer.unref();
  }

  get size(): number {
    return this.#watchers.size;
  }

  /** Events of one or more committed transactions, in revision order. */
  publish(events: readonly WatchEvent[]): void {
    if (events.length === 0 || this.#watchers.size === 0) return;
    for (const e of events) this.#pending.push(e);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /**
   * The lowest revision a replaying watch still has to read. Compaction must not go past it, or
   * the replay would miss superseded rows it has not read yet.
   */
  pinnedRevision(): number | undefined {
    let min: number | undefined;
    for (const w of this.#watchers) {
      if (w.buffer !== undefined && (min === undefined || w.delivered < min)) min = w.delivered;
    }
    return min;
  }

  watch(prefix: string, opts: WatchOptions, onMessage: (msg: WatchMessage) => void): Watch {
    if (this.#closed) throw new ClosedError();
    checkPrefix(prefix);
    const current = this.#opts.currentRevision();
    const from = opts.fromRevision;
    if (!Number.isInteger(from) || from < 0) throw new StoreError('STORE_INVALID_REVISION', `invalid watch revision ${from}`);
    if (from > 0 && from < this.#opts.compactRevision()) throw new CompactedError(from, this.#opts.compactRevision());
    const start = from === 0 ? current : from;
    const w: Watcher = {
      prefix,
      end: prefixEnd(prefix),
      onMessage,
      progressIntervalMs: opts.progressIntervalMs ?? this.#opts.progressIntervalMs,
      delivered: start,
      buffer: start < current ? [] : undefined,
      lastSentAt: Date.now(),
      closed: false,
      cleanup: () => {},
    };
    const close = () => this.#remove(w);
    if (opts.signal) {
      if (opts.signal.aborted) {
        return { startRevision: start, close };
      }
      opts.signal.addEventListener('abort', close, { once: true });
      w.cleanup = () => opts.signal!.removeEventListener('abort', close);
    }
    this.#watchers.add(w);
    if (w.buffer) void this.#replay(w, current);
    return { startRevision: start, close };
  }

  /**
   * Ends every watch with `error` (the store lost events it could not recover: they were compacted
   * while its database connection was down). Watchers re-list and watch again, as after a 410.
   */
  endAll(error: StoreError): void {
    this.#pending = [];
    for (const w of [...this.#watchers]) this.#end(w, error);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const w of [...this.#watchers]) this.#end(w, new ClosedError());
  }

  async #replay(w: Watcher, upTo: number): Promise<void> {
    try {
      while (!w.closed && w.delivered < upTo) {
        const batch = await this.#opts.history.readHistory(w.prefix, w.end, w.delivered, upTo, REPLAY_BATCH);
        if (w.closed) return;
        if (batch.length > 0) this.#deliver(w, batch);
        if (batch.length < REPLAY_BATCH) break;
        await new Promise<void>((r) => setImmediate(r)); // let writers and other watches run
      }
      if (w.closed) return;
      w.delivered = Math.max(w.delivered, upTo);
      const buffered = w.buffer ?? [];
      w.buffer = undefined;
      if (buffered.length > 0) this.#deliver(w, buffered);
    } catch (err) {
      const e = err instanceof StoreError ? err : new StoreError('STORE_WATCH_FAILED', `watch replay failed: ${String(err)}`, { cause: err });
      this.#opts.log.warn({ err, prefix: w.prefix }, 'watch replay failed');
      this.#end(w, e);
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const events = this.#pending;
    this.#pending = [];
    for (const w of this.#watchers) {
      let mine: WatchEvent[] | undefined;
      for (const e of events) {
        const k = e.kv.key;
        if (k >= w.prefix && k < w.end) (mine ??= []).push(e);
      }
      if (!mine) continue;
      if (w.buffer) w.buffer.push(...mine);
      else this.#deliver(w, mine);
    }
  }

  #deliver(w: Watcher, events: WatchEvent[]): void {
    const fresh = events.filter((e) => e.kv.modRevision > w.delivered);
    if (fresh.length === 0) return;
    w.delivered = fresh[fresh.length - 1]!.kv.modRevision;
    w.lastSentAt = Date.now();
    this.#call(w, { kind: 'events', events: fresh });
  }

  #sendProgress(): void {
    if (this.#pending.length > 0) return; // events in flight: a bookmark now could overtake them
    const now = Date.now();
    const rev = this.#opts.currentRevision();
    for (const w of this.#watchers) {
      if (w.buffer || now - w.lastSentAt < w.progressIntervalMs) continue;
      w.lastSentAt = now;
      if (rev > w.delivered) w.delivered = rev;
      this.#call(w, { kind: 'progress', revision: Math.max(rev, w.delivered) });
    }
  }

  #call(w: Watcher, msg: WatchMessage): void {
    try {
      w.onMessage(msg);
    } catch (err) {
      // A consumer bug must not break other watches or the writer that triggered delivery.
      this.#opts.log.error({ err, prefix: w.prefix }, 'watch consumer threw; closing that watch');
      this.#remove(w);
    }
  }

  #end(w: Watcher, error: StoreError): void {
    if (w.closed) return;
    this.#remove(w);
    try {
      w.onMessage({ kind: 'error', error });
    } catch {
      /* the watch is gone either way */
    }
  }

  #remove(w: Watcher): void {
    if (w.closed) return;
    w.closed = true;
    w.cleanup();
    this.#watchers.delete(w);
  }
}
