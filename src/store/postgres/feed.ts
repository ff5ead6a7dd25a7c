/**
 * How committed writes of every server reach this server's watches: pushed, not polled.
 *
 * One dedicated connection LISTENs on the `edgeos` channel. Every write transaction NOTIFYs its
 * last revision; PostgreSQL delivers notifications after commit, in commit order. Revisions are
 * gap-free and handed out in commit order (schema.ts), so "everything in (seen, notified]" is
 * exactly what is new: the feed reads that range (a catch-up read) and publishes it to the watch
 * hub in revision order. The same read closes any gap — a notification lost with a dropped
 * connection, events written while this server was disconnected — because it never asks "what
 * was notified" but "what lies between the last revision published and the newest one known".
 *
 * Writes made by this server skip the read: txn() hands over its events right after commit, and
 * they are published at once when they are next in line (otherwise they wait for the read that
 * brings the revisions before them).
 *
 * The connection is also the store's health: it is checked every `heartbeatMs`; when it fails the
 * store reports itself unavailable (/readyz), reconnects with backoff, and catches up.
 */
import pg from 'pg';
import type { Logger } from '../../common/log.ts';
import { CompactedError } from '../errors.ts';
import type { WatchEvent } from '../types.ts';
import type { WatchHub } from '../watch-hub.ts';
import { connectFailure } from './connect.ts';
import type { Connection } from './connect.ts';
import { toEvent } from './rows.ts';
import { CHANNEL } from './schema.ts';
import { statements } from './statements.ts';
import type { HistoryRow, Row } from './statements.ts';

export interface FeedOptions {
  connection: Connection;
  pool: pg.Pool;
  log: Logger;
  heartbeatMs: number;
}

/** Revisions read per catch-up query. */
const READ_BATCH = 500;
const MAX_BACKOFF_MS = 2000;

export class WatchFeed {
  readonly #o: FeedOptions;
  #hub: WatchHub | undefined;
  /** Highest revision published to the hub (or passed over while nobody watched). */
  #seen = 0;
  /** Highest revision known to be committed. */
  #target = 0;
  #compacted = 0;
  /** Revisions counted since compaction last asked (its pacing input). */
  #written = 0;
  /** Events of this server's own commits, by first revision, waiting for their turn. */
  readonly #local = new Map<number, { last: number; events: WatchEvent[] }>();
  #pumping = false;
  #client: pg.Client | undefined;
  #problem: string | undefined = 'the store is connecting to its database';
  #heartbeat: NodeJS.Timeout | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #backoffMs = 100;
  #connectedOnce = false;
  #closed = false;

  constructor(o: FeedOptions) {
    this.#o = o;
  }

  get seen(): number {
    return this.#seen;
  }

  get compacted(): number {
    return this.#compacted;
  }

  /** Why watches may be missing events right now, or undefined while connected. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** Revisions committed (anywhere) since the previous call. */
  takeWriteCount(): number {
    const n = this.#written;
    this.#written = 0;
    return n;
  }

  /** Connects and starts listening at the current revision; throws when the database cannot be used. */
  async start(hub: WatchHub): Promise<void> {
    this.#hub = hub;
    await this.#connect();
    this.#heartbeat = setInterval(() => void this.#check(), this.#o.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** A revision committed somewhere, learned from a read (currentRevision(), a list). */
  observe(revision: number): void {
    if (revision <= this.#target) return;
    this.#written += revision - this.#target;
    this.#target = revision;
    void this.#pump();
  }

  /** Records a compacted revision learned from a read or a notification. */
  observeCompacted(revision: number): void {
    if (revision > this.#compacted) this.#compacted = revision;
  }

  /** This server committed revisions first..last with these events. */
  committed(first: number, last: number, events: WatchEvent[]): void {
    if (last <= this.#seen) return;
    this.#local.set(first, { last, events });
    this.observe(last);
    void this.#pump(); // publishes at once when nothing older is outstanding
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#reconnect);
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#o.connection.config);
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('the connection was closed')));
    // Any connection's notification is true news (also one that arrives before this connection
    // is installed below, or on one being replaced): a revision that exists, or a compaction.
    client.on('notification', (n) => {
      if (this.#closed || n.payload === undefined) return;
      if (n.payload.startsWith('c')) this.observeCompacted(Number(n.payload.slice(1)));
      else this.observe(Number(n.payload));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      const { rows } = await client.query<{ current: number; compacted: number }>(
        `SELECT r.rev AS current, m.value AS compacted FROM edgeos_revision r, edgeos_meta m WHERE m.key = 'compact_revision'`,
      );
      this.#client = client;
      const { current, compacted } = rows[0]!;
      this.observeCompacted(compacted);
      // The first connection starts at the current revision (older history is read on demand by
      // watches that ask for it); a reconnection catches up from where it was.
      if (!this.#connectedOnce) this.#seen = this.#target = Math.max(current, this.#target);
      else this.observe(current);
      this.#connectedOnce = true;
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    this.#problem = undefined;
    this.#backoffMs = 100;
    void this.#pump();
  }

  /** The heartbeat: the connection answers, and no revision went by unnoticed. */
  async #check(): Promise<void> {
    const client = this.#client;
    if (!client || this.#closed) return;
    try {
      const r = await client.query<{ rev: number }>({ text: statements.revision.text, query_timeout: Math.max(1000, this.#o.heartbeatMs * 2) } as pg.QueryConfig);
      this.observe(r.rows[0]!.rev);
    } catch (err) {
      this.#lost(client, err);
    }
  }

  #lost(client: pg.Client, err: unknown): void {
    if (client !== this.#client || this.#closed) return;
    this.#client = undefined;
    client.end().catch(() => {});
    this.#problem = `lost the connection to ${this.#o.connection.description}: ${connectFailure(err, this.#o.connection)}; reconnecting`;
    this.#o.log.warn({ database: this.#o.connection.description, reason: connectFailure(err, this.#o.connection) }, 'lost the database connection; reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnect) return;
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      this.#connect().then(
        () => this.#o.log.info({ database: this.#o.connection.description, revision: this.#target }, 'database connection restored'),
        (err: unknown) => {
          this.#problem = `cannot reach ${this.#o.connection.description}: ${connectFailure(err, this.#o.connection)}; retrying`;
          this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
          this.#scheduleReconnect();
        },
      );
    }, this.#backoffMs);
    this.#reconnect.unref();
  }

  /** Publishes (seen, target] in revision order: this server's own events as they are, the rest read. */
  async #pump(): Promise<void> {
    if (this.#pumping || !this.#hub) return;
    this.#pumping = true;
    const hub = this.#hub;
    try {
      while (this.#seen < this.#target && !this.#closed) {
        const mine = this.#local.get(this.#seen + 1);
        if (mine) {
          this.#local.delete(this.#seen + 1);
          hub.publish(mine.events);
          this.#seen = mine.last;
          continue;
        }
        if (hub.size === 0) {
          // Nobody watches here: a watch started later replays what it needs from history.
          this.#seen = this.#target;
          break;
        }
        // Waiting for the database costs nothing when the notification of our own commit is on
        // its way anyway: read only what this server did not write.
        await this.#read(hub);
      }
    } catch (err) {
      if (!this.#closed) {
        this.#o.log.warn({ reason: connectFailure(err, this.#o.connection) }, 'reading new revisions failed; retrying after reconnecting');
        if (this.#client) this.#lost(this.#client, err);
      }
    } finally {
      for (const first of this.#local.keys()) if (first <= this.#seen) this.#local.delete(first);
      this.#pumping = false;
    }
    // Something arrived while the last read was in flight (and the loop had already ended).
    if (this.#seen < this.#target && !this.#closed && !this.#problem) void this.#pump();
  }

  async #read(hub: WatchHub): Promise<void> {
    const after = this.#seen;
    // Stop before a revision this server wrote itself: its events are already here.
    let upTo = Math.min(this.#target, after + READ_BATCH);
    for (const first of this.#local.keys()) if (first > after && first <= upTo) upTo = first - 1;
    const { rows } = await this.#o.pool.query<HistoryRow & Row>({
      ...statements.history,
      values: [after, upTo, '', '\x7f', READ_BATCH],
    });
    const compacted = rows[0]!.compacted;
    this.observeCompacted(compacted);
    if (after < compacted) {
      // These events are gone (compacted on another server while this one was cut off): every
      // watch here must re-list, as after a 410 from etcd.
      this.#o.log.warn({ seen: after, compacted }, 'events were compacted before this server could read them; ending all watches');
      hub.endAll(new CompactedError(after, compacted));
      this.#seen = Math.max(this.#target, compacted);
      return;
    }
    const events = rows.filter((r) => r.id !== null).map(toEvent);
    if (events.length > 0) hub.publish(events);
    this.#seen = upTo;
  }
}
