/**
 * Names outside the cluster zone go to the host's resolvers (the nameservers of `--resolv-conf`,
 * /etc/resolv.conf by default, re-read when it changes; the agent runs on the host, so a
 * loopback resolver such as systemd-resolved's 127.0.0.53 works), with a small answer cache.
 * An air-gapped host fails fast instead of making pods wait: no nameserver → SERVFAIL at once, and
 * a nameserver that did not answer is skipped for a while. Never a crash loop (k3s-io/k3s#6787).
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Logger } from '../../common/log.ts';
import { parseResolvConf } from '../kubelet/dns.ts';
import { cacheSeconds, keptCopy } from './wire.ts';

export interface ForwarderOptions {
  readonly resolvConf: string;
  /** Never forward to these (the cluster DNS address itself: a loop). */
  readonly exclude: readonly string[];
  readonly log: Logger;
  readonly timeoutMs?: number;
  readonly cacheEntries?: number;
  /** Answers are kept at most this long, whatever their TTL. */
  readonly maxCacheSeconds?: number;
}

interface Pending {
  resolve(b: Buffer | undefined): void;
  timer: NodeJS.Timeout;
}

const RESOLV_RECHECK_MS = 5000;
/** A nameserver that timed out is skipped this long (fail fast while it is down). */
const DOWN_MS = 10_000;

export class Forwarder {
  private readonly o: ForwarderOptions;
  private socket: Socket | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly cache = new Map<string, { until: number; bytes: Buffer }>();
  private readonly down = new Map<string, number>();
  private servers: string[] = [];
  private resolvMtime = -1;
  private resolvCheckedAt = 0;
  /** Answered from the cache / sent upstream / failed (tests and the benchmark read these). */
  readonly stats = { cached: 0, forwarded: 0, failed: 0 };

  constructor(o: ForwarderOptions) {
    this.o = o;
  }

  private async nameservers(): Promise<string[]> {
    const now = Date.now();
    if (now - this.resolvCheckedAt < RESOLV_RECHECK_MS) return this.servers;
    this.resolvCheckedAt = now;
    const mtime = await stat(this.o.resolvConf).then((s) => s.mtimeMs, () => 0);
    if (mtime !== this.resolvMtime) {
      this.resolvMtime = mtime;
      const text = mtime ? await readFile(this.o.resolvConf, 'utf8').catch(() => '') : '';
      this.servers = parseResolvConf(text).servers.filter((s) => !this.o.exclude.includes(s));
      this.o.log.info({ resolvConf: this.o.resolvConf, nameservers: this.servers }, this.servers.length ? 'upstream nameservers' : 'no upstream nameserver: names outside the cluster fail at once');
    }
    return this.servers;
  }

  private udp(): Socket {
    if (this.socket) return this.socket;
    const s = createSocket('udp4');
    s.on('message', (msg) => {
      if (msg.length < 2) return;
      const p = this.pending.get(msg.readUInt16BE(0));
      if (!p) return;
      this.pending.delete(msg.readUInt16BE(0));
      clearTimeout(p.timer);
      p.resolve(msg);
    });
    s.on('error', (err) => this.o.log.warn({ err: err.message }, 'upstream DNS socket error'));
    s.unref();
    this.socket = s;
    return s;
  }

  private freeId(): number {
    for (;;) {
      const id = (Math.random() * 0x10000) | 0;
      if (!this.pending.has(id)) return id;
    }
  }

  private askUdp(server: string, query: Buffer): Promise<Buffer | undefined> {
    const id = this.freeId();
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.down.set(server, Date.now() + DOWN_MS);
        resolve(undefined);
      }, this.o.timeoutMs ?? 2000);
      this.pending.set(id, { resolve, timer });
      this.udp().send(out, 53, server, (err) => {
        if (!err) return;
        // Unreachable network (an air-gapped host): fail now, not after the timeout.
        clearTimeout(timer);
        this.pending.delete(id);
        this.down.set(server, Date.now() + DOWN_MS);
        resolve(undefined);
      });
    });
  }

  private askTcp(server: string, query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = connect({ host: server, port: 53, timeout: this.o.timeoutMs ?? 2000 });
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      let got = Buffer.alloc(0);
      const done = (b: Buffer | undefined) => {
        sock.destroy();
        resolve(b);
      };
      sock.on('connect', () => sock.end(Buffer.concat([len, query])));
      sock.on('data', (b: Buffer) => {
        got = Buffer.concat([got, b]);
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) done(got.subarray(2, 2 + got.readUInt16BE(0)));
      });
      sock.on('timeout', () => done(undefined));
      sock.on('error', () => done(undefined));
      sock.on('close', () => done(undefined));
    });
  }

  /**
   * The upstream answer to `query` (a client's message, answered with the client's id), or
   * undefined when no nameserver answered: the caller answers SERVFAIL.
   */
  async forward(query: Buffer, key: string, tcp: boolean): Promise<Buffer | undefined> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) {
      this.stats.cached++;
      return withId(hit.bytes, query.readUInt16BE(0));
    }
    if (hit) this.cache.delete(key);
    const servers = (await this.nameservers()).filter((s) => (this.down.get(s) ?? 0) <= now);
    for (const server of servers) {
      const answer = tcp ? await this.askTcp(server, query) : await this.askUdp(server, query);
      if (!answer) continue;
      this.stats.forwarded++;
      this.remember(key, answer);
      return withId(answer, query.readUInt16BE(0));
    }
    this.stats.failed++;
    return undefined;
  }

  private remember(key: string, answer: Buffer): void {
    // A truncated answer is not worth keeping: the client comes back over TCP.
    if (answer.length < 4 || answer[2]! & 0x02) return;
    const ttl = Math.min(cacheSeconds(answer) ?? 0, this.o.maxCacheSeconds ?? 30);
    if (ttl <= 0) return;
    this.cache.set(key, { until: Date.now() + ttl * 1000, bytes: keptCopy(answer) });
    // Oldest first out (Map keeps insertion order).
    if (this.cache.size > (this.o.cacheEntries ?? 1000)) this.cache.delete(this.cache.keys().next().value!);
  }

  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.pending.clear();
    this.socket?.close();
    this.socket = undefined;
  }
}

function withId(b: Buffer, id: number): Buffer {
  const out = Buffer.from(b);
  out.writeUInt16BE(id, 0);
  return out;
}
