/**
 * The agent end of the link, composed of parts with one job each: the reconnect loop
 * (reconnect-loop.ts) dials the server (dial.ts, or the in-process transport of the local agent)
 * for ever; each connection is a LinkPeer (src/common/link/peer.ts: ids, acks, keepalive, streams)
 * that says hello with the revision the cache holds, then feeds the node-scoped watch into the
 * cache (cache-sync.ts), delivers the kubelet's reports and the Lease (report-delivery.ts) and
 * answers the server's stream and stats requests (responders.ts).
 */
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { LinkError, LinkErrorCode } from '../../common/link/errors.ts';
import { LinkPeer } from '../../common/link/peer.ts';
import { LINK_PROTOCOL_VERSION, LinkCloseCode, PING_AFTER_MS, keepaliveOf, parseServerMessage } from '../../common/link/protocol.ts';
import type { AckMessage, AgentMessage, NodeRegistration, ServerMessage } from '../../common/link/protocol.ts';
import type { LinkDialer } from '../../common/link/transport.ts';
import type { TunnelHandler } from '../../common/tunnel.ts';
import type { AgentCache, StatusSink } from '../types.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { CacheSync } from './cache-sync.ts';
import type { FeedConnection } from './cache-sync.ts';
import { startReconnectLoop } from './reconnect-loop.ts';
import type { ReconnectLoop } from './reconnect-loop.ts';
import { ReportDelivery } from './report-delivery.ts';
import type { AgentRequest } from './report-delivery.ts';
import { Responders } from './responders.ts';
import type { AgentPeer } from './responders.ts';

export interface LinkClientOptions {
  readonly node: string;
  /** Tried in turn on successive attempts. */
  readonly servers: readonly string[];
  /**
   * Follow the cluster's servers: a server's hello or lease ack that names them replaces the list
   * (the next attempts use it), and this is told so the agent keeps it (docs/ha.md).
   */
  readonly onServers?: (servers: readonly string[]) => void;
  /** How a server is reached (webSocketDialer, or the server's in-process transport). */
  readonly dial: LinkDialer;
  readonly cache: AgentCache;
  readonly tunnel?: TunnelHandler;
  readonly register?: NodeRegistration;
  readonly log: Logger;
  readonly backoff?: BackoffOptions;
  readonly pingIntervalMs?: number;
  readonly leaseIntervalMs?: number;
  /** The cluster's Service networking, as the server's answer to each hello tells it. */
  readonly onNetwork?: (network: ClusterNetwork) => void;
  /** Frames of the pod network relay's channel (src/common/link/relay.ts) from the server. */
  readonly onRelay?: (frame: Buffer) => void;
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
  /** Links whose TLS session was resumed (docs/link.md, "TLS session resumption"). */
  tlsResumptions: number;
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
  request: AgentRequest;
  /** Puts a frame on the relay channel; false when dropped (no synced link, or it is backed up). */
  sendRelay(frame: Buffer): boolean;
}

/** A server list from an ack, if it is one: 1–64 https URLs. */
function serverList(v: unknown): string[] | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > 64) return undefined;
  return v.every((u) => typeof u === 'string' && /^https:\/\/[^\s]+$/.test(u)) ? (v as string[]) : undefined;
}

const linkDown = () => new LinkError(LinkErrorCode.LINK_CLOSED, 'the link to the server is down');

/** A request whose error ack becomes a LinkError with the server's message: LINK_BUSY when the server said so, else LINK_REFUSED. */
async function requestOn(peer: AgentPeer, m: Parameters<AgentRequest>[0]): Promise<AckMessage> {
  const ack = await peer.request(m);
  if (ack.error) throw new LinkError(ack.error.code === LinkErrorCode.LINK_BUSY ? LinkErrorCode.LINK_BUSY : LinkErrorCode.LINK_REFUSED, ack.error.message);
  return ack;
}

export function createLinkClient(o: LinkClientOptions): LinkClient {
  const log = o.log.child({ component: 'link' });
  const stats: LinkStats = { connects: 0, relists: 0, resumes: 0, leaseRenewals: 0, disconnects: 0, pings: 0, statsServed: 0, tlsResumptions: 0 };
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const sync = new CacheSync(o.cache);
  const reports = new ReportDelivery({ log, ...(o.leaseIntervalMs ? { leaseIntervalMs: o.leaseIntervalMs } : {}), onLeaseRenewed: () => stats.leaseRenewals++ });
  const responders = new Responders({ node: o.node, ...(o.tunnel ? { tunnel: o.tunnel } : {}), onStatsServed: () => stats.statsServed++ });
  /** The connection whose first sync is done (requests go over it). */
  let synced: AgentPeer | undefined;
  let current: AgentPeer | undefined;
  let loop: ReconnectLoop | undefined;
  let servers: readonly string[] = o.servers;
  const onServers = o.onServers;
  const follow = onServers
    ? (ack: AckMessage) => {
        const list = serverList(ack.servers);
        if (!list || list.join('\n') === servers.join('\n')) return;
        servers = list;
        log.info({ servers: list }, "the cluster's servers changed");
        onServers(list);
      }
    : () => undefined;

  async function connect(server: string, signal: AbortSignal, up: () => void): Promise<void> {
    const transport = await o.dial(server, signal);
    up();
    const feed: FeedConnection = { failed: false };
    let snapshotApplied!: () => void;
    const firstSnapshot = new Promise<void>((r) => (snapshotApplied = r));
    const peer: AgentPeer = new LinkPeer<ServerMessage, AgentMessage>({
      transport,
      self: 'agent',
      other: 'server',
      parse: parseServerMessage,
      keepalive: keepaliveOf(o.pingIntervalMs ?? PING_AFTER_MS),
      onPing: () => stats.pings++,
      closedError: () => new LinkError(LinkErrorCode.LINK_CLOSED, 'the link to the server closed'),
      streamsClosedMessage: 'the link to the server closed',
      log,
      ...(o.onRelay ? { onRelay: o.onRelay } : {}),
      onMessage: (m) => {
        switch (m.type) {
          case 'snapshot':
          case 'changes':
          case 'bookmark': {
            if (m.type === 'snapshot') stats.relists++;
            sync.receive(m, feed).then(() => {
              if (m.type === 'snapshot') snapshotApplied();
            }, (err: unknown) => {
              log.error({ err: errorMessage(err), revision: m.revision }, 'cannot store the node state the server sent: reconnecting');
              peer.close(LinkCloseCode.INTERNAL, 'cannot apply the node state');
            });
            return;
          }
          case 'stream-open':
            responders.streamOpen(peer, m);
            return;
          case 'stats-request':
            responders.stats(peer, m.id);
            return;
        }
      },
    });
    current = peer;
    if (signal.aborted) peer.close(LinkCloseCode.GOING_AWAY, 'the agent is stopping');
    try {
      const fromRevision = await sync.resumeRevision();
      const hello = requestOn(peer, { type: 'hello', protocol: LINK_PROTOCOL_VERSION, ...(fromRevision ? { fromRevision } : {}), ...(o.register ? { register: o.register } : {}) });
      const ack = await hello;
      follow(ack);
      if (ack.start === 'resume') stats.resumes++;
      if (ack.network) o.onNetwork?.(ack.network);
      stats.connects++;
      if (transport.tlsSessionReused) stats.tlsResumptions++;
      log.info({ server, start: ack.start, fromRevision, tlsResumed: transport.tlsSessionReused ?? false }, 'linked to the server');
      // A relist is synced once its snapshot is in the cache.
      if (ack.start === 'relist') await Promise.race([firstSnapshot, peer.closed]);
      await sync.settled();
      if (!peer.open || feed.failed) return;
      synced = peer;
      markReady();
      reports.attach(async (m) => {
        const a = await requestOn(peer, m);
        follow(a);
        return a;
      });
      await peer.closed;
    } finally {
      if (synced === peer) {
        synced = undefined;
        reports.detach();
      }
      if (current === peer) current = undefined;
      // Hello failed or was refused: drop the connection (a closed one is already gone).
      if (peer.open) peer.terminate('the connection ended');
    }
  }

  return {
    async start(signal) {
      signal.addEventListener('abort', () => void this.stop(), { once: true });
      loop = startReconnectLoop({ servers: () => servers, backoff: o.backoff ?? DEFAULT_BACKOFF, connect, onDisconnect: () => stats.disconnects++, log });
    },
    ready,
    async stop() {
      if (!loop) return;
      const l = loop;
      l.stop();
      current?.close(LinkCloseCode.GOING_AWAY, 'the agent is stopping');
      await l.done;
      await sync.settled();
    },
    statusSink: { ...reports.sink, serveStats: (sampler) => responders.serveStats(sampler) },
    stats,
    get connected() {
      return synced !== undefined;
    },
    request: (m) => (synced ? requestOn(synced, m) : Promise.reject(linkDown())),
    sendRelay: (frame) => synced?.sendRelay(frame) ?? false,
  };
}
