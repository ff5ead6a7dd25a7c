/**
 * One connected agent: its LinkPeer (src/common/link/peer.ts: ids, acks, keepalive, streams), its
 * node-scoped feed and the node's writes. The agent's requests are answered with acks; the
 * server's own requests (stream opens, stats requests) wait for the agent's ack.
 */
import type { Duplex } from 'node:stream';
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import type { Logger } from '../../common/log.ts';
import { LinkError, LinkErrorCode, ackError } from '../../common/link/errors.ts';
import { LinkPeer } from '../../common/link/peer.ts';
import { LINK_PROTOCOL_VERSION, LinkCloseCode, PING_AFTER_MS, keepaliveOf, parseAgentMessage } from '../../common/link/protocol.ts';
import type { AgentMessage, HelloMessage, NodeStatsReport, ServerMessage } from '../../common/link/protocol.ts';
import type { LinkTransport } from '../../common/link/transport.ts';
import type { TunnelOpen } from '../../common/tunnel.ts';
import type { Store } from '../../store/types.ts';
import type { FeedHub } from './feed-hub.ts';
import { startNodeFeed } from './node-feed.ts';
import type { NodeFeed, NodeWrites } from './types.ts';

export interface LinkSessionOptions {
  readonly transport: LinkTransport;
  readonly node: string;
  readonly store: Store;
  readonly hub: FeedHub;
  readonly writes: NodeWrites;
  readonly signNodeCsr: (csrPem: string, nodeName: string) => Promise<string>;
  readonly log: Logger;
  readonly pingIntervalMs?: number;
  /** Runs the feed's start (a store read) when a slot is free: start-gate.ts. */
  readonly startGate?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Every server of the cluster (absent on a lone server): sent in the hello ack, and in a lease ack when it changed. */
  readonly servers?: () => readonly string[];
  /** The cluster's Service networking, told to the agent in the hello's ack. */
  readonly network?: ClusterNetwork;
  /** A frame of the pod network relay's channel from this node's agent (pod-relay.ts). */
  readonly relay?: (node: string, frame: Buffer) => void;
  /** Called once when the session ended, for the registry. */
  readonly onClose: (session: LinkSession) => void;
}

export class LinkSession {
  readonly node: string;
  readonly connectedAt = Date.now();
  private readonly o: LinkSessionOptions;
  private readonly log: Logger;
  private readonly peer: LinkPeer<AgentMessage, ServerMessage>;
  private nextStream = 1;
  private feed: NodeFeed | undefined;
  private helloSeen = false;
  /** The server list the agent last got from us. */
  private serversSent = '';

  constructor(o: LinkSessionOptions) {
    this.o = o;
    this.node = o.node;
    this.log = o.log.child({ node: o.node });
    this.peer = new LinkPeer<AgentMessage, ServerMessage>({
      transport: o.transport,
      self: 'server',
      other: 'agent',
      parse: parseAgentMessage,
      onMessage: (m) => this.dispatch(m),
      keepalive: keepaliveOf(o.pingIntervalMs ?? PING_AFTER_MS),
      closedError: (why) => new LinkError(LinkErrorCode.TUNNEL_NO_AGENT, `the link to node ${o.node} closed: ${why}`),
      streamsClosedMessage: `the link to node ${o.node} closed`,
      log: this.log,
      ...(o.relay ? { onRelay: (f: Buffer) => o.relay!(o.node, f) } : {}),
    });
    void this.peer.closed.then((why) => this.finish(why));
  }

  private dispatch(msg: Exclude<AgentMessage, { type: 'ack' | 'stream-end' | 'stream-reset' | 'stream-credit' }>): void {
    const w = this.o.writes;
    switch (msg.type) {
      case 'hello':
        void this.hello(msg);
        return;
      case 'pod-status':
        this.answer(msg.id, () => w.podStatus(msg.namespace, msg.name, msg.uid, msg.status));
        return;
      case 'pod-terminated':
        this.answer(msg.id, () => w.podTerminated(msg.namespace, msg.name, msg.uid));
        return;
      case 'node-status':
        this.answer(msg.id, () => w.nodeStatus(msg.status));
        return;
      case 'event':
        this.answer(msg.id, () => w.event(msg.event));
        return;
      case 'lease':
        this.answer(msg.id, () => w.renewLease(msg.durationSeconds), () => this.changedServers());
        return;
      case 'volume-released':
        this.answer(msg.id, () => w.volumeReleased(msg.name));
        return;
      case 'service-account-token': {
        const { type: _t, id: _i, ...req } = msg;
        w.serviceAccountToken(req).then(
          (t) => this.peer.ack(msg.id, t),
          (err: unknown) => this.peer.refuse(msg.id, ackError(err, LinkErrorCode.LINK_REFUSED)),
        );
        return;
      }
      case 'renew-certificate':
        this.o.signNodeCsr(msg.csr, this.node).then(
          (certificate) => {
            this.log.info('issued a renewed node client certificate');
            this.peer.ack(msg.id, { certificate });
          },
          (err: unknown) => this.peer.refuse(msg.id, ackError(err, LinkErrorCode.LINK_REFUSED)),
        );
        return;
    }
  }

  private answer(id: number, work: () => Promise<void>, extra: () => { servers?: readonly string[] } = () => ({})): void {
    work().then(
      () => this.peer.ack(id, extra()),
      (err: unknown) => {
        // Not an answer of the API about the request (that is a LinkError): the request did not
        // get through (the in-process API failed), so the agent is told to send it again.
        const refusal = ackError(err, LinkErrorCode.LINK_BUSY);
        this.log.debug({ err: refusal.message, code: refusal.code }, 'agent request refused');
        this.peer.refuse(id, refusal);
      },
    );
  }

  private async hello(msg: HelloMessage): Promise<void> {
    if (msg.protocol !== LINK_PROTOCOL_VERSION) {
      this.peer.refuse(msg.id, { code: LinkErrorCode.LINK_PROTOCOL, message: `this server speaks link protocol ${LINK_PROTOCOL_VERSION}, the agent ${msg.protocol}` });
      this.peer.close(LinkCloseCode.VERSION, 'protocol version');
      return;
    }
    if (this.helloSeen) {
      this.peer.refuse(msg.id, { code: LinkErrorCode.LINK_PROTOCOL, message: 'hello was already sent on this link' });
      return;
    }
    this.helloSeen = true;
    try {
      if (msg.register) await this.o.writes.register(msg.register); // a no-op once the Node exists
      const from = msg.fromRevision !== undefined && /^\d+$/.test(msg.fromRevision) ? Number(msg.fromRevision) : undefined;
      // The ack goes before the feed's first message so the agent knows how the watch starts.
      let acked = false;
      const ackOnce = (start: 'resume' | 'relist') => {
        if (acked) return;
        acked = true;
        this.peer.ack(msg.id, { start, ...this.changedServers(), ...(this.o.network ? { network: this.o.network } : {}) });
      };
      const gate = this.o.startGate ?? ((work) => work());
      const feed = await gate(() => startNodeFeed({
        store: this.o.store,
        hub: this.o.hub,
        node: this.node,
        fromRevision: from,
        log: this.log,
        sink: {
          snapshot: (revision, objects) => {
            ackOnce('relist');
            this.peer.send({ type: 'snapshot', revision: String(revision), objects });
          },
          changes: (revision, changes) => {
            ackOnce('resume');
            this.peer.send({ type: 'changes', revision: String(revision), changes });
          },
          bookmark: (revision) => {
            ackOnce('resume');
            this.peer.send({ type: 'bookmark', revision: String(revision) });
          },
          failed: () => this.peer.close(LinkCloseCode.INTERNAL, 'node feed failed'),
        },
      }));
      ackOnce(feed.start);
      if (!this.peer.open) feed.stop();
      else this.feed = feed;
      this.log.info({ start: feed.start, fromRevision: msg.fromRevision }, feed.start === 'resume' ? 'agent resumed its watch' : 'agent relisted');
    } catch (err) {
      const refusal = ackError(err, LinkErrorCode.LINK_REFUSED);
      this.log.error({ err: refusal.message }, 'cannot start the link');
      this.peer.refuse(msg.id, refusal);
      this.peer.close(LinkCloseCode.INTERNAL, 'cannot start');
    }
  }

  /** The cluster's servers when the agent has not got this list from us yet. */
  private changedServers(): { servers?: readonly string[] } {
    const servers = this.o.servers?.();
    if (!servers || servers.length === 0) return {};
    const key = servers.join('\n');
    if (key === this.serversSent) return {};
    this.serversSent = key;
    return { servers };
  }

  /**
   * Asks the agent for a usage sample (metrics.k8s.io). Rejects when the agent cannot sample
   * (STATS_UNAVAILABLE), the link closes, or it did not answer within `timeoutMs`
   * (STATS_TIMEOUT); a late answer is then ignored.
   */
  async requestStats(timeoutMs: number): Promise<NodeStatsReport> {
    this.mustBeOpen();
    const ack = await this.peer.request(
      { type: 'stats-request' },
      { timeoutMs, timeoutError: () => new LinkError(LinkErrorCode.STATS_TIMEOUT, `the agent of node ${this.node} did not answer a stats request within ${timeoutMs} ms`) },
    );
    if (ack.error) throw new LinkError(LinkErrorCode.STATS_UNAVAILABLE, ack.error.message);
    if (!ack.stats || typeof ack.stats !== 'object') throw new LinkError(LinkErrorCode.LINK_PROTOCOL, `the agent of node ${this.node} answered a stats request without stats`);
    return ack.stats;
  }

  /** NodeTunnel.open on this link. */
  async openStream(open: TunnelOpen, signal?: AbortSignal): Promise<Duplex> {
    this.mustBeOpen();
    signal?.throwIfAborted();
    const streamId = this.nextStream++;
    const stream = this.peer.openStream(streamId);
    const refused = (err: Error): Error => {
      this.peer.mux.forget(streamId);
      stream.destroy();
      return err;
    };
    const ack = await this.peer
      .request(
        { type: 'stream-open', stream: streamId, request: open.request, ...(open.httpHead ? { httpHead: open.httpHead.toString('base64') } : {}) },
        { ...(signal ? { signal } : {}), cancelledError: () => new LinkError(LinkErrorCode.TUNNEL_FAILED, 'the request was cancelled') },
      )
      .catch((err: Error) => Promise.reject(refused(err)));
    if (ack.error) throw refused(new LinkError(LinkErrorCode.TUNNEL_FAILED, ack.error.message));
    return stream;
  }

  /** A relay frame for this node's agent; false when dropped (link down or backed up). */
  sendRelay(frame: Buffer): boolean {
    return this.helloSeen && this.peer.sendRelay(frame);
  }

  get streams(): number {
    return this.peer.mux.size;
  }

  /** Closes the link (a newer link of the same node replaced it, or the server stops). */
  close(code: number, reason: string): void {
    this.peer.close(code, reason);
  }

  private mustBeOpen(): void {
    if (!this.peer.open) throw new LinkError(LinkErrorCode.TUNNEL_NO_AGENT, `the agent of node ${this.node} is not connected`);
  }

  private finish(why: string): void {
    this.feed?.stop();
    this.o.onClose(this);
    this.log.debug({ why }, 'link session ended');
  }
}
