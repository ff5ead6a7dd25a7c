/**
 * The agent end of the link: dials the server, keeps the AgentCache in step with the node-scoped
 * feed, delivers the StatusSink's reports, renews the node Lease every 10 s, serves the tunnel
 * streams the server opens and answers its stats requests from the kubelet's sampler. It
 * reconnects for ever with exponential backoff and jitter, resuming from the last revision it
 * stored; the keepalive detects a half-open connection (a server that froze or a path that
 * silently drops packets) within a few ping intervals, pinging only when the link is silent.
 */
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import { EdgeosError, errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { LinkError } from '../../common/link/errors.ts';
import { Keepalive } from '../../common/link/keepalive.ts';
import {
  LEASE_DURATION_SECONDS,
  LEASE_RENEW_INTERVAL_MS,
  LINK_PATH,
  LINK_PROTOCOL_VERSION,
  LINK_SUBPROTOCOL,
  MAX_MESSAGE_BYTES,
  MAX_SILENT_INTERVALS,
  PING_INTERVAL_MS,
  parseServerMessage,
  unknownMessageError,
} from '../../common/link/protocol.ts';
import type { AckMessage, AgentMessage, NodeRegistration, ServerMessage, WithoutId } from '../../common/link/protocol.ts';
import { StreamMux } from '../../common/link/stream-mux.ts';
import type { TunnelHandler } from '../../common/tunnel.ts';
import type { AgentCache, CachedKind, StatusSink, UsageSampler } from '../types.ts';
import { DEFAULT_BACKOFF, reconnectDelay } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { StatusQueue } from './status-queue.ts';
import type { QueuedReport } from './status-queue.ts';

const KINDS: readonly CachedKind[] = ['Pod', 'ConfigMap', 'Secret', 'ServiceAccount', 'Node', 'Service', 'EndpointSlice'];
/** The revision the link resumes from is stored under this kind (the feed has one revision for all). */
const RESUME_KIND: CachedKind = 'Pod';
/** Undelivered reports are retried this often while connected. */
const RETRY_MS = 5000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A connection that stayed up this long resets the backoff. */
const STABLE_MS = 10_000;

export interface LinkCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface LinkClientOptions {
  readonly node: string;
  /** Tried in turn on successive attempts. */
  readonly servers: readonly string[];
  /** Read at every connect, so a renewed certificate is used from the next connection on. */
  readonly credentials: () => LinkCredentials;
  readonly cache: AgentCache;
  readonly tunnel?: TunnelHandler;
  readonly register?: NodeRegistration;
  readonly log: Logger;
  readonly backoff?: BackoffOptions;
  readonly pingIntervalMs?: number;
  readonly leaseIntervalMs?: number;
  /** The cluster's Service networking, as the server's answer to each hello tells it. */
  readonly onNetwork?: (network: ClusterNetwork) => void;
}

export interface LinkStats {
  /** Connections whose hello was accepted. */
  connects: number;
  /** Times the server sent a snapshot (first sync, or history compacted). */
  relists: number;
  /** Times the watch resumed from the stored revision. */
  resumes: number;
  /** Lease renewals the server confirmed. */
  leaseRenewals: number;
  /** Connection attempts that failed or links that dropped. */
  disconnects: number;
  /** Keepalive pings sent (only after an interval in which nothing arrived from the server). */
  pings: number;
  /** Stats requests of the server answered with a sample. */
  statsServed: number;
}

export interface LinkClient {
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once the first sync (snapshot or resume) completed. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  readonly statusSink: StatusSink;
  readonly stats: Readonly<LinkStats>;
  readonly connected: boolean;
  /** Sends a request and resolves with its ack (rejects when refused or the link drops). */
  request(msg: WithoutId<Exclude<AgentMessage, AckMessage>>): Promise<AckMessage>;
}

interface Connection {
  readonly ws: WebSocket;
  readonly mux: StreamMux;
  readonly pending: Map<number, { resolve(a: AckMessage): void; reject(e: Error): void }>;
  synced: boolean;
  /** Resolves when a snapshot of this connection is in the cache. */
  snapshotApplied: Promise<void>;
  onSnapshotApplied: () => void;
}

export function createLinkClient(o: LinkClientOptions): LinkClient {
  const log = o.log.child({ component: 'link' });
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  const stats: LinkStats = { connects: 0, relists: 0, resumes: 0, leaseRenewals: 0, disconnects: 0, pings: 0, statsServed: 0 };
  let sampleUsage: UsageSampler | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  let conn: Connection | undefined;
  let nextId = 1;
  let stopped = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const inFlight = new Set<string>();
  const queue = new StatusQueue(() => flush());
  // Cache writes happen one message at a time, in order.
  let applying: Promise<void> = Promise.resolve();

  function rawSend(c: Connection, data: string | Buffer): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(data);
  }

  function send(c: Connection, m: WithoutId<AgentMessage> | AckMessage): number {
    const id = 'id' in m ? m.id : nextId++;
    rawSend(c, JSON.stringify({ ...m, id }));
    return id;
  }

  function request(msg: WithoutId<Exclude<AgentMessage, AckMessage>>): Promise<AckMessage> {
    const c = conn;
    if (!c || !c.synced) return Promise.reject(new LinkError('LINK_CLOSED', 'the link to the server is down'));
    return requestOn(c, msg);
  }

  function requestOn(c: Connection, msg: WithoutId<Exclude<AgentMessage, AckMessage>>): Promise<AckMessage> {
    return new Promise((resolve, reject) => {
      const id = send(c, msg);
      c.pending.set(id, {
        resolve: (a) => (a.error ? reject(new LinkError('LINK_REFUSED', a.error.message)) : resolve(a)),
        reject,
      });
    });
  }

  // ---- status reports ----

  function deliver(c: Connection, r: QueuedReport): Promise<AckMessage> {
    switch (r.kind) {
      case 'pod':
        return requestOn(c, { type: 'pod-status', namespace: r.pod.namespace, name: r.pod.name, uid: r.pod.uid, status: r.status });
      case 'terminated':
        return requestOn(c, { type: 'pod-terminated', namespace: r.pod.namespace, name: r.pod.name, uid: r.pod.uid });
      case 'node':
        return requestOn(c, { type: 'node-status', status: r.status });
      case 'event':
        return requestOn(c, { type: 'event', event: r.event });
    }
  }

  function flush(): void {
    const c = conn;
    if (!c || !c.synced) return;
    for (const r of queue.pending(inFlight)) {
      inFlight.add(r.key);
      deliver(c, r).then(
        () => {
          inFlight.delete(r.key);
          queue.delivered(r);
        },
        (err: unknown) => {
          inFlight.delete(r.key);
          if (err instanceof LinkError && err.code === 'LINK_REFUSED') {
            // The server answered: the report cannot be applied (the pod is gone, or was replaced).
            log.debug({ report: r.key, err: errorMessage(err) }, 'the server refused a report: dropping it');
            queue.delivered(r);
          }
        },
      );
    }
  }

  const statusSink: StatusSink = {
    podStatus: (pod, status) => queue.podStatus(pod, status),
    podTerminated: (pod) => queue.podTerminated(pod),
    nodeStatus: (status) => queue.nodeStatus(status),
    event: (e) => queue.event(e),
    serveStats: (sampler) => (sampleUsage = sampler),
  };

  /** A stats request: the usage sample in the ack, or an error ack when there is no sampler or it failed. */
  function answerStats(c: Connection, id: number): void {
    const sampler = sampleUsage;
    if (!sampler) {
      send(c, { type: 'ack', id, error: { code: 'STATS_UNAVAILABLE', message: `node ${o.node} runs no container runtime: it has no resource usage` } });
      return;
    }
    sampler().then(
      (report) => {
        stats.statsServed++;
        send(c, { type: 'ack', id, stats: report });
      },
      (err: unknown) => send(c, { type: 'ack', id, error: { code: 'STATS_UNAVAILABLE', message: `node ${o.node} cannot sample resource usage: ${errorMessage(err)}` } }),
    );
  }

  // ---- the desired state ----

  async function applySnapshot(m: Extract<ServerMessage, { type: 'snapshot' }>): Promise<void> {
    const keep = new Map<CachedKind, Set<string>>(KINDS.map((k) => [k, new Set<string>()]));
    for (const { kind, object } of m.objects) {
      const meta = (object.metadata ?? {}) as { namespace?: string; name?: string };
      keep.get(kind)?.add(`${meta.namespace ?? ''}/${meta.name ?? ''}`);
      await o.cache.put(kind, object);
    }
    for (const kind of KINDS) {
      for (const obj of await o.cache.list(kind)) {
        const meta = (obj.metadata ?? {}) as { namespace?: string; name?: string };
        if (!keep.get(kind)!.has(`${meta.namespace ?? ''}/${meta.name ?? ''}`)) await o.cache.delete(kind, meta.namespace ?? '', meta.name ?? '');
      }
    }
    await setRevision(m.revision);
  }

  /**
   * One revision for the whole feed, stored once: each cache write is an fsync on the agent's
   * event loop (which also answers cluster DNS), and it used to be one per cached kind.
   */
  async function setRevision(revision: string): Promise<void> {
    await o.cache.setResumeVersion(RESUME_KIND, revision);
  }

  async function onServerMessage(c: Connection, m: ServerMessage): Promise<void> {
    switch (m.type) {
      case 'ack': {
        const p = c.pending.get(m.id);
        c.pending.delete(m.id);
        p?.resolve(m);
        return;
      }
      case 'stream-end':
      case 'stream-reset':
      case 'stream-credit':
        c.mux.onControl(m);
        return;
      case 'stream-open':
        openStream(c, m);
        return;
      case 'stats-request':
        answerStats(c, m.id);
        return;
      case 'snapshot':
        stats.relists++;
        applying = applying.then(() => applySnapshot(m)).then(() => c.onSnapshotApplied());
        return;
      case 'changes':
        applying = applying.then(async () => {
          for (const ch of m.changes) {
            if (ch.object) await o.cache.put(ch.kind, ch.object);
            else await o.cache.delete(ch.kind, ch.namespace, ch.name);
          }
          await setRevision(m.revision);
        });
        return;
      case 'bookmark':
        applying = applying.then(() => setRevision(m.revision));
        return;
    }
  }

  // ---- tunnel streams ----

  function openStream(c: Connection, m: Extract<ServerMessage, { type: 'stream-open' }>): void {
    if (!o.tunnel) {
      send(c, { type: 'ack', id: m.id, error: { code: 'TUNNEL_FAILED', message: `the agent of node ${o.node} serves no tunnel streams` } });
      return;
    }
    let answered = false;
    let stream: Duplex;
    try {
      stream = c.mux.open(m.stream, () => {
        answered = true;
        send(c, { type: 'ack', id: m.id });
      });
    } catch (err) {
      send(c, { type: 'ack', id: m.id, error: { code: 'TUNNEL_FAILED', message: errorMessage(err) } });
      return;
    }
    const open = { request: m.request, ...(m.httpHead ? { httpHead: Buffer.from(m.httpHead, 'base64') } : {}) };
    o.tunnel.handle(open, stream).then(
      () => {
        if (!stream.writableEnded && !stream.destroyed) stream.end();
      },
      (err: unknown) => {
        if (!answered) {
          answered = true;
          const code = err instanceof EdgeosError ? err.code : 'TUNNEL_FAILED';
          send(c, { type: 'ack', id: m.id, error: { code, message: errorMessage(err) } });
          c.mux.forget(m.stream);
          stream.destroy();
        } else stream.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  // ---- one connection ----

  async function connectOnce(url: string, signal: AbortSignal): Promise<void> {
    const creds = o.credentials();
    const target = new URL(LINK_PATH, url);
    target.protocol = 'wss:';
    const ws = new WebSocket(target, LINK_SUBPROTOCOL, {
      ca: creds.caPem,
      cert: creds.certPem,
      key: creds.keyPem,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
    });
    const c: Connection = {
      ws,
      mux: new StreamMux({ sendControl: (m) => send(c, m), sendFrame: (f) => rawSend(c, f) }),
      pending: new Map(),
      synced: false,
      snapshotApplied: Promise.resolve(),
      onSnapshotApplied: () => undefined,
    };
    c.snapshotApplied = new Promise<void>((r) => (c.onSnapshotApplied = r));
    ws.on('error', () => undefined); // the close handler reports
    const onAbort = () => ws.terminate();
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('close', () => signal.removeEventListener('abort', onAbort));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => {
          let message = body;
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? body;
          } catch {
            /* not a Status */
          }
          reject(new LinkError('LINK_REFUSED', `the server refused the link (HTTP ${res.statusCode}): ${message}`));
        });
      });
      ws.once('close', () => reject(new LinkError('LINK_CLOSED', 'the connection closed before the link was up')));
      ws.once('error', (err) => reject(new LinkError('LINK_CLOSED', `cannot reach ${url}: ${err.message}`, { cause: err })));
    });

    conn = c;
    const openedAt = Date.now();
    const keepalive = new Keepalive({
      intervalMs: o.pingIntervalMs ?? PING_INTERVAL_MS,
      maxSilent: MAX_SILENT_INTERVALS,
      ping: () => {
        stats.pings++;
        try {
          ws.ping();
        } catch {
          /* closing: the close handler reconnects */
        }
      },
      dead: (silent) => {
        log.warn({ server: url, silentIntervals: silent }, 'the server stopped answering pings: reconnecting');
        ws.terminate();
      },
    });
    const heard = () => keepalive.heard();
    ws.on('pong', heard);
    ws.on('ping', heard);
    let leaseTimer: NodeJS.Timeout | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));

    ws.on('message', (data, isBinary) => {
      heard();
      if (isBinary) {
        c.mux.onFrame(data as Buffer);
        return;
      }
      const parsed = parseServerMessage((data as Buffer).toString('utf8'));
      if (parsed.kind === 'unknown') {
        // A newer server: its request fails with a clear error, the link stays up.
        log.warn({ type: parsed.type }, 'the server sent a message type this agent does not know: refused');
        send(c, { type: 'ack', id: parsed.id, error: unknownMessageError(parsed.type, 'agent') });
        return;
      }
      if (parsed.kind === 'invalid') {
        log.warn('the server sent a message that is not part of the link protocol: reconnecting');
        ws.close(4002, 'protocol error');
        return;
      }
      const m = parsed.message;
      onServerMessage(c, m).catch((err: unknown) => log.error({ err: errorMessage(err) }, 'handling a server message failed'));
    });

    try {
      const fromRevision = await o.cache.getResumeVersion(RESUME_KIND);
      const hello = requestOn(c, { type: 'hello', protocol: LINK_PROTOCOL_VERSION, ...(fromRevision ? { fromRevision } : {}), ...(o.register ? { register: o.register } : {}) });
      const ack = await Promise.race([hello, closed.then(() => Promise.reject(new LinkError('LINK_CLOSED', 'the link closed during hello')))]);
      if (ack.start === 'resume') stats.resumes++;
      if (ack.network) o.onNetwork?.(ack.network);
      stats.connects++;
      log.info({ server: url, start: ack.start, fromRevision }, 'linked to the server');
      const renew = () =>
        requestOn(c, { type: 'lease', durationSeconds: LEASE_DURATION_SECONDS }).then(
          () => stats.leaseRenewals++,
          (err: unknown) => log.warn({ err: errorMessage(err) }, 'lease renewal failed'),
        );
      // A relist is synced once its snapshot is in the cache.
      if (ack.start === 'relist') await Promise.race([c.snapshotApplied, closed]);
      await applying;
      if (ws.readyState !== WebSocket.OPEN) return;
      c.synced = true;
      markReady();
      void renew();
      leaseTimer = setInterval(() => void renew(), o.leaseIntervalMs ?? LEASE_RENEW_INTERVAL_MS);
      retryTimer = setInterval(flush, RETRY_MS);
      flush();
      await closed;
    } finally {
      keepalive.stop();
      clearInterval(leaseTimer);
      clearInterval(retryTimer);
      if (conn === c) conn = undefined;
      c.synced = false;
      c.mux.closeAll('the link to the server closed');
      for (const p of c.pending.values()) p.reject(new LinkError('LINK_CLOSED', 'the link to the server closed'));
      c.pending.clear();
      inFlight.clear();
      ws.terminate();
      if (Date.now() - openedAt >= STABLE_MS) attemptReset = true;
    }
  }

  let attemptReset = false;

  async function run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!stopped && !signal.aborted) {
      const url = o.servers[attempt % o.servers.length]!;
      try {
        await connectOnce(url, signal);
      } catch (err) {
        if (!stopped) log.warn({ server: url, err: errorMessage(err) }, 'link attempt failed');
      }
      if (stopped || signal.aborted) break;
      stats.disconnects++;
      if (attemptReset) {
        attempt = 0;
        attemptReset = false;
      }
      const delay = reconnectDelay(attempt, backoff);
      attempt++;
      log.info({ delayMs: delay, attempt }, 'reconnecting to the server');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  const abort = new AbortController();

  return {
    async start(signal) {
      signal.addEventListener('abort', () => void this.stop(), { once: true });
      loop = run(abort.signal);
    },
    ready,
    async stop() {
      if (stopped) return loop;
      stopped = true;
      abort.abort();
      wake?.();
      conn?.ws.close(1001, 'the agent is stopping');
      await loop;
      await applying.catch(() => undefined);
    },
    statusSink,
    stats,
    get connected() {
      return conn?.synced ?? false;
    },
    request,
  };
}
