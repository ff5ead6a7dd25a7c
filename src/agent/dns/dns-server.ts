/**
 * The cluster DNS, answered by the agent itself on the node-local cluster DNS address, over UDP
 * and TCP: the cluster zone from the ZoneIndex (kept current from the ServiceCatalog, so it answers
 * with the server gone), everything else through the Forwarder. A malformed query gets FORMERR,
 * never an exception out of the socket handler. Lifecycle: start(signal), ready, stop().
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Server, Socket as TcpSocket } from 'node:net';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { ServiceCatalog } from '../services/catalog.ts';
import { Forwarder } from './forwarder.ts';
import { ZoneIndex } from './records.ts';
import { DnsFormatError, RCODE, encodeQuery, encodeResponse, errorResponse, keptCopy, messageId, parseAnswers, parseQuery, udpLimit } from './wire.ts';
import type { Query } from './wire.ts';

export interface DnsServerOptions {
  readonly address: string;
  readonly port?: number;
  readonly zone: string;
  /** The Services and EndpointSlices of the cache (started by the caller). */
  readonly catalog: ServiceCatalog;
  /** The host's resolv.conf whose nameservers get names outside the zone. */
  readonly resolvConf: string;
  readonly log: Logger;
  /** Upstream timeout per nameserver (default 2 s). */
  readonly upstreamTimeoutMs?: number;
}

export interface DnsServer {
  start(signal: AbortSignal): Promise<void>;
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /** The bound port (tests bind 0). */
  readonly port: number;
  /** Queries answered from the zone, forwarded, and refused as malformed. */
  readonly stats: { zone: number; forwarded: number; formerr: number };
}

const TCP_IDLE_MS = 10_000;
/** Encoded zone answers kept by question bytes; emptied whenever the zone changes. */
const ANSWER_CACHE_ENTRIES = 4096;
const MAX_TCP_MESSAGE = 65535;

export function createDnsServer(o: DnsServerOptions): DnsServer {
  const log = o.log.child({ component: 'dns' });
  const index = new ZoneIndex(o.zone);
  const forwarder = new Forwarder({ resolvConf: o.resolvConf, exclude: [o.address], log, ...(o.upstreamTimeoutMs ? { timeoutMs: o.upstreamTimeoutMs } : {}) });
  const stats = { zone: 0, forwarded: 0, formerr: 0 };
  let udp: Socket | undefined;
  let tcp: Server | undefined;
  let unsubscribe: (() => void) | undefined;
  const conns = new Set<TcpSocket>();
  let port = o.port ?? 53;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));

  // The same question (bytes after the id, per transport) gets the same answer until the zone
  // changes: a hit costs a copy instead of a parse and an encode (the agent runs V8 in lite mode,
  // without an optimizing compiler, so the full path is what dominates a busy node's DNS latency).
  // One map per transport, so the key is the question bytes as they are, no prefix to concatenate.
  const answers = { udp: new Map<string, Buffer>(), tcp: new Map<string, Buffer>() };
  // The zone is rebuilt when a question needs it, not at every change: while pods start, the
  // EndpointSlices of every Service they back change one link message at a time (49 changes in
  // ~3 s for bench/services' 50 Services), and a zone built for each — kept until the next one, so
  // promoted to V8's old generation — was garbage the agent's RSS carried until the next full GC.
  // Now a burst of changes costs one rebuild, at the first question after it, or none.
  let stale = true;
  const invalidate = () => {
    stale = true;
    answers.udp.clear();
    answers.tcp.clear();
  };
  const zone = (): ZoneIndex => {
    if (stale) {
      stale = false;
      index.rebuild(o.catalog.services.values(), o.catalog.slices.values());
    }
    return index;
  };

  /** An ExternalName outside the zone: its target's records, resolved upstream, after the CNAME. */
  async function chase(q: Query, target: string): Promise<Awaited<ReturnType<typeof parseAnswers>>> {
    const answer = await forwarder.forward(encodeQuery(0, target, q.type), `${target.toLowerCase()}/${q.type}/1/u`, false);
    return answer ? parseAnswers(answer) : [];
  }

  /** A copy of a cached answer carrying the id of `msg`. */
  function withId(hit: Buffer, msg: Buffer): Buffer {
    const out = Buffer.allocUnsafe(hit.length);
    hit.copy(out, 2, 2);
    out[0] = msg[0]!;
    out[1] = msg[1]!;
    return out;
  }

  /** The cached answer to a question asked before (the id copied in), or undefined. */
  function repeated(msg: Buffer, key: string | undefined, viaTcp: boolean): Buffer | undefined {
    const hit = key === undefined ? undefined : (viaTcp ? answers.tcp : answers.udp).get(key);
    if (!hit) return undefined;
    stats.zone++;
    return withId(hit, msg);
  }

  const keyOf = (msg: Buffer) => (msg.length <= 512 && msg.length >= 12 ? msg.toString('latin1', 2) : undefined);

  async function answer(msg: Buffer, viaTcp: boolean, key = keyOf(msg)): Promise<Buffer | undefined> {
    const hit = repeated(msg, key, viaTcp);
    if (hit) return hit;
    let q: Query & { opcode: number };
    try {
      q = parseQuery(msg);
    } catch (err) {
      const id = messageId(msg);
      if (!(err instanceof DnsFormatError) || id === undefined || msg.length < 12 || msg[2]! & 0x80) return undefined;
      stats.formerr++;
      return errorResponse(id, RCODE.FORMERR);
    }
    if (q.opcode !== 0) return errorResponse(q.id, RCODE.NOTIMP, q);
    const limit = viaTcp ? undefined : udpLimit(q);
    const local = zone().lookup(q.name, q.type);
    if (local) {
      stats.zone++;
      if (!local.chase) {
        const out = encodeResponse(q, local.response, limit);
        if (key !== undefined) {
          const cache = viaTcp ? answers.tcp : answers.udp;
          if (cache.size >= ANSWER_CACHE_ENTRIES) cache.clear();
          // Its own copy: the UDP path below writes each query's id into the cached bytes (and one
          // with its own backing store: a pooled one would keep an 8 KB slab alive).
          cache.set(key, keptCopy(out));
        }
        return out;
      }
      const more = await chase(q, local.chase);
      return encodeResponse(q, { ...local.response, answers: [...local.response.answers, ...more] }, limit);
    }
    stats.forwarded++;
    const fwd = await forwarder.forward(msg, `${q.name.toLowerCase()}/${q.type}/${q.qclass}/${viaTcp ? 't' : 'u'}`, viaTcp);
    return fwd ?? encodeResponse(q, { rcode: RCODE.SERVFAIL, aa: false, answers: [] }, limit);
  }

  function onTcp(sock: TcpSocket): void {
    conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => undefined);
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (b: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, b]) : b;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) {
          if (len > MAX_TCP_MESSAGE) sock.destroy();
          return;
        }
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        answer(msg, true).then(
          (out) => {
            if (!out || sock.destroyed) return;
            const head = Buffer.alloc(2);
            head.writeUInt16BE(out.length);
            sock.write(Buffer.concat([head, out]));
          },
          (err: unknown) => log.warn({ err: errorMessage(err) }, 'answering a DNS query failed'),
        );
      }
    });
  }

  return {
    ready,
    stats,
    get port() {
      return port;
    },
    async start(signal) {
      unsubscribe = o.catalog.subscribe(invalidate);
      // The reply goes to the address the query came from, always an IP: no lookup (dgram's
      // default one defers every send by a tick to "resolve" it).
      const u = createSocket({ type: 'udp4', lookup: (address, _family, cb) => cb(null, address, 4) });
      u.on('message', (msg, rinfo) => {
        // A repeated question (nearly all of a node's DNS traffic) is answered in this callback,
        // without a promise and without allocating: every microsecond here is one the next query
        // waits, and every byte allocated brings the next young-generation GC (a pause of the
        // whole agent) closer.
        const key = keyOf(msg);
        const hit = key === undefined ? undefined : answers.udp.get(key);
        if (hit && key !== undefined) {
          stats.zone++;
          if (u.getSendQueueCount() !== 0) {
            // Earlier answers still wait for room in the socket's buffer, holding their bytes.
            u.send(withId(hit, msg), rinfo.port, rinfo.address);
            return;
          }
          // With nothing queued, Node writes the datagram at once (it tries the system call
          // before queueing), so the cached bytes can carry this query's id themselves.
          hit[0] = msg[0]!;
          hit[1] = msg[1]!;
          u.send(hit, rinfo.port, rinfo.address);
          // Queued after all (the buffer was full): that send owns these bytes until it is done.
          if (u.getSendQueueCount() !== 0 && answers.udp.get(key) === hit) answers.udp.set(key, keptCopy(hit));
          return;
        }
        answer(msg, false, key).then(
          (out) => {
            if (out) u.send(out, rinfo.port, rinfo.address);
          },
          (err: unknown) => log.warn({ err: errorMessage(err) }, 'answering a DNS query failed'),
        );
      });
      u.on('error', (err) => log.warn({ err: err.message }, 'DNS UDP socket error'));
      await new Promise<void>((resolve, reject) => {
        u.once('error', reject);
        u.bind(port, o.address, () => {
          u.off('error', reject);
          resolve();
        });
      });
      udp = u;
      port = u.address().port;
      const t = createServer(onTcp);
      await new Promise<void>((resolve, reject) => {
        t.once('error', reject);
        t.listen(port, o.address, () => {
          t.off('error', reject);
          resolve();
        });
      });
      tcp = t;
      log.info({ address: o.address, port, zone: o.zone }, 'cluster DNS serving');
      markReady();
      signal.addEventListener('abort', () => void this.stop(), { once: true });
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      forwarder.close();
      udp?.close();
      udp = undefined;
      for (const c of conns) c.destroy();
      const t = tcp;
      tcp = undefined;
      if (t) await new Promise<void>((r) => t.close(() => r()));
    },
  };
}
