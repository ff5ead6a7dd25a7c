/**
 * The storage contract of edgeos: a revisioned key/value log with watch, in the manner of kine.
 *
 * Every write gets a new global revision (a monotonic integer, which the API server exposes as
 * `resourceVersion`). Each key carries the revision that created it and the one that last
 * modified it. History is kept until compaction, so reads and watches can start at a past
 * revision. Implementations: SQLite (sqlite/) and PostgreSQL (postgres/). Every implementation
 * must pass test/store/conformance.ts.
 *
 * The contract is asynchronous even though SQLite answers synchronously: a network backend cannot.
 */
import type { StoreError } from './errors.ts';

export interface KeyValue {
  readonly key: string;
  /** Opaque bytes; the API server stores JSON. */
  readonly value: Buffer;
  /** Revision of the write that created this incarnation of the key. */
  readonly createRevision: number;
  /** Revision of the write that produced this value. */
  readonly modRevision: number;
  /** Absolute expiry time in ms since the epoch, for keys written with a TTL. */
  readonly expiresAt?: number;
}

export interface WriteOptions {
  /** Seconds until the key deletes itself (Events, join tokens, leases). */
  ttlSeconds?: number;
}

export interface UpdateOptions extends WriteOptions {
  /** Compare-and-swap: fail with a ConflictError unless the key's modRevision equals this. */
  expectedModRevision?: number;
}

export interface DeleteOptions {
  /** Compare-and-swap: fail with a ConflictError unless the key's modRevision equals this. */
  expectedModRevision?: number;
}

export interface GetOptions {
  /** Read the value as of this revision (must not be compacted away). Default: latest. */
  revision?: number;
}

export interface ListOptions {
  /** At most this many keys; 0 or absent means all. */
  limit?: number;
  /** Return only keys strictly greater than this one (the continue position). */
  startAfter?: string;
  /**
   * Read as of this revision, so that pages of one list are consistent. Default: the current
   * revision, which the result reports so a caller can pass it for the next page.
   */
  revision?: number;
}

export interface ListResult {
  readonly kvs: KeyValue[];
  /** The revision the list was read at. */
  readonly revision: number;
  /** True when keys after the last returned one exist (at that revision). */
  readonly more: boolean;
}

export type TxnOp =
  | { readonly op: 'create'; readonly key: string; readonly value: Buffer; readonly ttlSeconds?: number }
  | {
      readonly op: 'update';
      readonly key: string;
      readonly value: Buffer;
      readonly expectedModRevision?: number;
      readonly ttlSeconds?: number;
    }
  | { readonly op: 'delete'; readonly key: string; readonly expectedModRevision?: number };

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  readonly type: EventType;
  /** For DELETED: the key with value = last value and modRevision = the delete's revision. */
  readonly kv: KeyValue;
  /** The value before this event, for MODIFIED and DELETED. */
  readonly prevKv?: KeyValue;
}

export type WatchMessage =
  /** Events in revision order; a batch never splits one transaction. */
  | { readonly kind: 'events'; readonly events: readonly WatchEvent[] }
  /** No events for this watch up to `revision` (a bookmark for idle watches). */
  | { readonly kind: 'progress'; readonly revision: number }
  /** The watch ended (e.g. it fell behind compaction); no further messages follow. */
  | { readonly kind: 'error'; readonly error: StoreError };

export interface WatchOptions {
  /**
   * Deliver every change with revision > fromRevision: history first, then live events. 0 means
   * "from now" (live only). A revision below the compacted revision fails with CompactedError.
   */
  fromRevision: number;
  /** Send a progress message after this many ms without events. Default: the backend's setting. */
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

export interface Watch {
  /** The revision the watch started after (fromRevision, or the current revision for 0). */
  readonly startRevision: number;
  close(): void;
}

export interface StoreStats {
  readonly currentRevision: number;
  readonly compactRevision: number;
  /** Rows of history currently kept (all revisions of all keys). */
  readonly rows: number;
  readonly dbBytes: number;
  readonly walBytes: number;
  readonly watchers: number;
}

export interface Store {
  /** The latest committed revision (0 for an empty store). */
  currentRevision(): Promise<number>;
  /** Revisions at or below this one have been compacted: history reads and watches start above it. */
  compactRevision(): Promise<number>;

  get(key: string, opts?: GetOptions): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix`, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Number of live keys starting with `prefix` at the current revision. */
  count(prefix: string): Promise<number>;

  /** Fails with KeyExistsError if the key exists. */
  create(key: string, value: Buffer, opts?: WriteOptions): Promise<KeyValue>;
  /** Fails with NotFoundError if the key does not exist, ConflictError on a CAS mismatch. */
  update(key: string, value: Buffer, opts?: UpdateOptions): Promise<KeyValue>;
  /** Returns the deleted key-value with modRevision = the delete's revision. */
  delete(key: string, opts?: DeleteOptions): Promise<KeyValue>;
  /** All operations commit together or none does; each gets its own consecutive revision. */
  txn(ops: readonly TxnOp[]): Promise<KeyValue[]>;

  watch(prefix: string, opts: WatchOptions, onMessage: (msg: WatchMessage) => void): Watch;

  /** Compact history up to `revision` now (normally the background compactor does this). */
  compact(revision: number): Promise<void>;
  /** A consistent copy of the whole store, taken while serving, written to `path`; resolves with its revision. */
  snapshot(path: string): Promise<number>;
  stats(): Promise<StoreStats>;
  /**
   * Why the store cannot serve right now (its database went away), or undefined while it can: the
   * server's /readyz. A backend that loses its database reconnects by itself.
   */
  unavailable(): string | undefined;
  close(): Promise<void>;
}
