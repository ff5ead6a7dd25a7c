/**
 * The events the feed hub routed lately, kept for resumes (FeedHub.recentAfter): a link that comes
 * back within RECENT_MS replays them from memory instead of reading the store's history of all of
 * `/registry/` (every Lease and Event write included) with a watch of its own — which, 1,000 agents
 * reconnecting at once, was a quarter of the server's CPU and most of its garbage. Bounded by count
 * too (RECENT_MAX).
 */

export const RECENT_MS = 150_000;
export const RECENT_MAX = 100_000;

/** What is kept: an event with its revision. */
interface Revisioned {
  readonly ev: { readonly kv: { readonly modRevision: number } };
}

/** A routed event and who it went to: one node's feed (`node`), or every feed (undefined). */
interface Kept<E> {
  readonly e: E;
  readonly node: string | undefined;
  readonly at: number;
}

export class RecentEvents<E extends Revisioned> {
  /** In revision order; the live ones start at #head. */
  #list: Kept<E>[] = [];
  #head = 0;
  #from = Number.POSITIVE_INFINITY;

  /** Every event after this revision is held (infinity: none yet). */
  get from(): number {
    return this.#from;
  }

  /** Forgets everything; from now on everything after `from` is held. */
  reset(from = Number.POSITIVE_INFINITY): void {
    this.#list = [];
    this.#head = 0;
    this.#from = from;
  }

  push(e: E, node: string | undefined, at: number): void {
    this.#list.push({ e, node, at });
  }

  /** What went to `node`'s feed (or to all) after `revision`; undefined when that is not all held. */
  after(node: string, revision: number): E[] | undefined {
    if (revision < this.#from) return undefined;
    const list = this.#list;
    const out: E[] = [];
    // Kept in revision order: start at the first event after `revision` (binary search).
    let lo = this.#head;
    for (let hi = list.length; lo < hi; ) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.e.ev.kv.modRevision > revision) hi = mid;
      else lo = mid + 1;
    }
    for (let i = lo; i < list.length; i++) {
      const r = list[i]!;
      if (r.node === undefined || r.node === node) out.push(r.e);
    }
    return out;
  }

  /** Drops events older than RECENT_MS or past RECENT_MAX; `from` follows. */
  trim(now: number): void {
    const list = this.#list;
    let head = this.#head;
    while (head < list.length && (list.length - head > RECENT_MAX || now - list[head]!.at > RECENT_MS)) {
      this.#from = Math.max(this.#from, list[head]!.e.ev.kv.modRevision);
      head++;
    }
    // Every event of a revision goes at once (a store batch may hold several of one transaction).
    while (head < list.length && list[head]!.e.ev.kv.modRevision <= this.#from) head++;
    if (head > 4096 && head * 2 > list.length) {
      this.#list = list.slice(head);
      head = 0;
    }
    this.#head = head;
  }
}
