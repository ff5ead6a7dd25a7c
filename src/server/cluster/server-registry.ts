/**
 * The servers of a cluster, in the datastore: each server keeps its record (id and the URLs agents
 * and the other servers dial it at) under SERVERS_PREFIX with a TTL it renews, and watches the
 * prefix, so every server knows every live one within a watch event. Join tokens name them all
 * (a token minted on A names B), agents learn them in the link's hello and lease acks, and the
 * servers forward tunnels to each other at these URLs. A server that stops renewing (killed, cut
 * off from the database) drops out when its record expires; a graceful stop leaves the record to
 * expire too, so a rolling restart does not make agents forget the server for a moment.
 */
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { KeyExistsError, NotFoundError } from '../../store/errors.ts';
import type { Store, Watch, WatchMessage } from '../../store/types.ts';
import { SERVERS_PREFIX } from './keys.ts';
import type { ApiEndpoint, ServerRecord } from './types.ts';

export interface ServerRegistryOptions {
  readonly store: Store;
  readonly self: ServerRecord;
  readonly log: Logger;
  /** The record's TTL (default 60 s) … */
  readonly ttlSeconds?: number;
  /** … renewed this often (default 15 s). */
  readonly renewMs?: number;
}

const validApi = (api: ServerRecord['api']) => api === undefined || (typeof api.ip === 'string' && Number.isInteger(api.port));

const decode = (value: Buffer): ServerRecord | undefined => {
  try {
    const r = JSON.parse(value.toString('utf8')) as ServerRecord;
    return typeof r.id === 'string' && Array.isArray(r.urls) && r.urls.every((u) => typeof u === 'string') && validApi(r.api) ? r : undefined;
  } catch {
    return undefined;
  }
};

export class ServerRegistry {
  readonly #o: ServerRegistryOptions;
  readonly #records = new Map<string, ServerRecord>();
  readonly #listeners = new Set<() => void>();
  #watch: Watch | undefined;
  #renew: NodeJS.Timeout | undefined;
  #rewatch: NodeJS.Timeout | undefined;
  #renewFailing = false;
  #stopped = false;

  constructor(o: ServerRegistryOptions) {
    this.#o = o;
  }

  get self(): ServerRecord {
    return this.#o.self;
  }

  /** Registers this server and starts following the others. */
  async start(): Promise<void> {
    await this.#put();
    await this.#follow();
    this.#renew = setInterval(() => void this.#put().catch((err: unknown) => this.#renewFailed(err)), this.#o.renewMs ?? 15_000);
    this.#renew.unref();
  }

  /**
   * Every live server, by id: every server gives the same list, so an agent moving between them
   * does not see it change.
   */
  servers(): ServerRecord[] {
    const others = [...this.#records.values()].filter((r) => r.id !== this.#o.self.id);
    return [this.#o.self, ...others].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The URLs of every live server, without repeats. */
  urls(): string[] {
    return [...new Set(this.servers().flatMap((r) => r.urls))];
  }

  /** Where each live server's API is reached in-cluster, in the order of servers(). */
  apiEndpoints(): ApiEndpoint[] {
    return this.servers().flatMap((r) => (r.api ? [r.api] : []));
  }

  /** `listener` runs after a server joined, changed its record or dropped out; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  record(id: string): ServerRecord | undefined {
    return id === this.#o.self.id ? this.#o.self : this.#records.get(id);
  }

  stop(): void {
    this.#stopped = true;
    this.#listeners.clear();
    clearInterval(this.#renew);
    clearTimeout(this.#rewatch);
    this.#watch?.close();
  }

  async #put(): Promise<void> {
    const key = SERVERS_PREFIX + this.#o.self.id;
    const value = Buffer.from(JSON.stringify(this.#o.self));
    const ttlSeconds = this.#o.ttlSeconds ?? 60;
    try {
      await this.#o.store.update(key, value, { ttlSeconds });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      await this.#o.store.create(key, value, { ttlSeconds }).catch((e: unknown) => {
        if (!(e instanceof KeyExistsError)) throw e; // renewed by our own previous incarnation just now
      });
    }
    if (this.#renewFailing) this.#o.log.info('renewing this server\'s record in the servers registry again');
    this.#renewFailing = false;
  }

  #renewFailed(err: unknown): void {
    if (!this.#renewFailing) this.#o.log.warn({ err: errorMessage(err) }, "cannot renew this server's record in the servers registry; retrying");
    this.#renewFailing = true;
  }

  async #follow(): Promise<void> {
    const { kvs, revision } = await this.#o.store.list(SERVERS_PREFIX);
    this.#records.clear();
    for (const kv of kvs) {
      const r = decode(kv.value);
      if (r) this.#records.set(r.id, r);
    }
    this.#watch = this.#o.store.watch(SERVERS_PREFIX, { fromRevision: revision }, (m) => this.#onWatch(m));
    this.#changed();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  #onWatch(m: WatchMessage): void {
    if (m.kind === 'progress') return;
    if (m.kind === 'error') {
      // Fell behind compaction, or the store closed: list again a moment later (unless stopping).
      this.#watch = undefined;
      this.#refollow();
      return;
    }
    let changed = false;
    for (const e of m.events) {
      const id = e.kv.key.slice(SERVERS_PREFIX.length);
      const before = this.#records.get(id);
      if (e.type === 'DELETED') this.#records.delete(id);
      else {
        const r = decode(e.kv.value);
        if (r) this.#records.set(r.id, r);
      }
      // A renewal rewrites the same record every 15 s: only a different one is news.
      changed ||= JSON.stringify(before) !== JSON.stringify(this.#records.get(id));
    }
    if (changed) this.#changed();
  }

  #refollow(): void {
    if (this.#stopped) return;
    this.#rewatch = setTimeout(() => {
      this.#follow().catch((err: unknown) => {
        this.#o.log.debug({ err: errorMessage(err) }, 'cannot list the servers registry; retrying');
        this.#refollow();
      });
    }, 1000);
  }
}
