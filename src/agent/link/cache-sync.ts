/**
 * Keeps the AgentCache in step with the node-scoped feed: each snapshot, changes or bookmark
 * message becomes one cache update (its objects and its revision in one transaction), applied one
 * at a time in the order they arrived. A message that cannot be applied fails its connection:
 * nothing after it on that connection is applied (its revision would skip the failed one), and
 * the next connection resumes from the last revision the cache holds.
 */
import type { BookmarkMessage, ChangesMessage, SnapshotMessage } from '../../common/link/protocol.ts';
import type { AgentCache, CacheUpdate } from '../types.ts';

export type FeedMessage = SnapshotMessage | ChangesMessage | BookmarkMessage;

/** One connection's share of the feed: once one of its messages failed, the rest are dropped. */
export interface FeedConnection {
  failed: boolean;
}

export function cacheUpdateOf(m: FeedMessage): CacheUpdate {
  switch (m.type) {
    case 'snapshot':
      return {
        revision: m.revision,
        replace: true,
        writes: m.objects.map(({ kind, object }) => {
          const meta = (object.metadata ?? {}) as { namespace?: string; name?: string };
          return { kind, namespace: meta.namespace ?? '', name: meta.name ?? '', object };
        }),
      };
    case 'changes':
      return { revision: m.revision, writes: m.changes };
    case 'bookmark':
      return { revision: m.revision, writes: [] };
  }
}

export class CacheSync {
  private readonly cache: AgentCache;
  private tail: Promise<void> = Promise.resolve();

  constructor(cache: AgentCache) {
    this.cache = cache;
  }

  /** The revision the next connection resumes from (undefined: relist). */
  resumeRevision(): Promise<string | undefined> {
    return this.tail.then(() => this.cache.resumeRevision());
  }

  /** Queues `m`; resolves once it is in the cache, rejects when it could not be applied. */
  receive(m: FeedMessage, conn: FeedConnection): Promise<void> {
    const run = this.tail.then(async () => {
      if (conn.failed) return;
      try {
        await this.cache.apply(cacheUpdateOf(m));
      } catch (err) {
        conn.failed = true;
        throw err;
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Resolves once everything received so far is applied (or dropped). */
  settled(): Promise<void> {
    return this.tail;
  }
}
