/**
 * One connected agent: the WebSocket, its node-scoped feed, the node's writes, the tunnel
 * streams, usage requests and the keepalive. Requests of the agent are answered with acks;
 * requests of the server (stream opens, stats requests) wait for the agent's ack (accepted, or
 * refused with a message).
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import { errorMessage } from '../../common/errors.ts';
import { EdgeosError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { LinkError } from '../../common/link/errors.ts';
import { Keepalive } from '../../common/link/keepalive.ts';
import { LINK_PROTOCOL_VERSION, MAX_SILENT_INTERVALS, PING_INTERVAL_MS, parseAgentMessage, unknownMessageError } from '../../common/link/protocol.ts';
import type { AckMessage, AgentMessage, NodeStatsReport, ServerMessage, WithoutId } from '../../common/link/protocol.ts';
import { StreamMux } from '../../common/link/stream-mux.ts';
import type { TunnelOpen } from '../../common/tunnel.ts';
import type { Store } from '../../store/types.ts';
import { startNodeFeed } from './node-feed.ts';
import type { NodeFeed } from './node-feed.ts';
import type { NodeWrites } from './node-writes.ts';

export interface LinkSessionOptions {
  readonly ws: WebSocket;
  readonly node: string;
  readonly store: Store;
  readonly writes: NodeWrites;
  readonly signNodeCsr: (csrPem: string, nodeName: string) => Promise<string>;
  readonly log: Logger;
  readonly pingIntervalMs?: number;
  /** The cluster's Service networking, told to the agent in the hello's ack. */
  readonly network?: ClusterNetwork;
  /** Called once when the session ended, for the registry. */
  readonly onClose: (session: LinkSession) => void;
}

interface PendingRequest {
  resolve(ack: AckMessage): void;
  reject(err: Error): void;
}

export class LinkSession {
  readonly node: string;
  readonly connectedAt = Date.now();
  private readonly o: LinkSessionOptions;
  private readonly log: Logger;
  private readonly mux: StreamMux;
  private nextId = 1;
  private nextStream = 1;
  /** The server's requests awaiting the agent's ack, by message id. */
  private readonly pending = new Map<number, PendingRequest>();
  private feed: NodeFeed | undefined;
  private closed = false;
  private readonly keepalive: Keepalive;

  constructor(o: LinkSessionOptions) {
    this.o = o;
    this.node = o.node;
    this.log = o.log;
    this.mux = new StreamMux({
      sendControl: (m) => this.send(m),
      sendFrame: (f) => this.sendRaw(f),
    });
    this.keepalive = new Keepalive({
      intervalMs: o.pingIntervalMs ?? PING_INTERVAL_MS,
      maxSilent: MAX_SILENT_INTERVALS,
      ping: () => {
        try {
          this.o.ws.ping();
        } catch {
          /* the close handler finishes the session */
        }
      },
      dead: (silent) => {
        this.log.warn({ node: this.node, silentIntervals: silent }, 'agent stopped answering pings: dropping the link');
        this.o.ws.terminate();
        this.finish('ping timeout');
      },
    });
    const heard = () => this.keepalive.heard();
    o.ws.on('message', (data, isBinary) => {
      heard();
      this.onMessage(data as Buffer, isBinary);
    });
    o.ws.on('pong', heard);
    o.ws.on('ping', heard);
    o.ws.on('close', (code, reason) => this.finish(`closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    o.ws.on('error', (err) => this.log.debug({ err: errorMessage(err) }, 'link socket error'));
  }

  private sendRaw(data: Buffer | string): void {
    if (this.closed || this.o.ws.readyState !== this.o.ws.OPEN) return;
    this.o.ws.send(data);
  }

  send(m: WithoutId<ServerMessage>): number {
    const id = this.nextId++;
    this.sendRaw(JSON.stringify({ ...m, id }));
    return id;
  }

  private ack(id: number, extra: Omit<AckMessage, 'type' | 'id'> = {}): void {
    this.sendRaw(JSON.stringify({ type: 'ack', id, ...extra }));
  }

  private nack(id: number, err: unknown): void {
    const code = err instanceof EdgeosError ? err.code : 'LINK_REFUSED';
    this.ack(id, { error: { code, message: errorMessage(err) } });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.mux.onFrame(data);
      return;
    }
    const parsed = parseAgentMessage(data.toString('utf8'));
    if (parsed.kind === 'unknown') {
      // A newer agent: its request fails with a clear error, the link stays up.
      this.log.warn({ node: this.node, type: parsed.type }, 'agent sent a message type this server does not know: refused');
      this.ack(parsed.id, { error: unknownMessageError(parsed.type, 'server') });
      return;
    }
    if (parsed.kind === 'invalid') {
      this.log.warn({ node: this.node }, 'agent sent a message that is not part of the link protocol: closing');
      this.o.ws.close(4002, 'protocol error');
      return;
    }
    this.dispatch(parsed.message);
  }

  private dispatch(msg: AgentMessage): void {
    switch (msg.type) {
      case 'hello':
        void this.hello(msg);
        return;
      case 'ack': {
        // An ack of a request that timed out or was cancelled finds nothing.
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg);
        return;
      }
      case 'stream-end':
      case 'stream-reset':
      case 'stream-credit':
        this.mux.onControl(msg);
        return;
      case 'pod-status':
        this.answer(msg.id, () => this.o.writes.podStatus(msg.namespace, msg.name, msg.uid, msg.status));
        return;
      case 'pod-terminated':
        this.answer(msg.id, () => this.o.writes.podTerminated(msg.namespace, msg.name, msg.uid));
        return;
      case 'node-status':
        this.answer(msg.id, () => this.o.writes.nodeStatus(msg.status));
        return;
      case 'event':
        this.answer(msg.id, () => this.o.writes.event(msg.event));
        return;
      case 'lease':
        this.answer(msg.id, () => this.o.writes.renewLease(msg.durationSeconds));
        return;
      case 'renew-certificate':
        this.o.signNodeCsr(msg.csr, this.node).then(
          (certificate) => {
            this.log.info({ node: this.node }, 'issued a renewed node client certificate');
            this.ack(msg.id, { certificate });
          },
          (err: unknown) => this.nack(msg.id, err),
        );
        return;
    }
  }

  private answer(id: number, work: () => Promise<void>): void {
    work().then(
      () => this.ack(id),
      (err: unknown) => {
        this.log.debug({ node: this.node, err: errorMessage(err) }, 'agent request refused');
        this.nack(id, err);
      },
    );
  }

  private async hello(msg: Extract<AgentMessage, { type: 'hello' }>): Promise<void> {
    if (msg.protocol !== LINK_PROTOCOL_VERSION) {
      this.nack(msg.id, new LinkError('LINK_PROTOCOL', `this server speaks link protocol ${LINK_PROTOCOL_VERSION}, the agent ${msg.protocol}`));
      this.o.ws.close(4003, 'protocol version');
      return;
    }
    if (this.feed) {
      this.nack(msg.id, new LinkError('LINK_PROTOCOL', 'hello was already sent on this link'));
      return;
    }
    try {
      if (msg.register) await this.o.writes.register(msg.register); // a no-op once the Node exists
      const from = msg.fromRevision !== undefined && /^\d+$/.test(msg.fromRevision) ? Number(msg.fromRevision) : undefined;
      // The ack goes before the feed's first message so the agent knows how the watch starts.
      let acked = false;
      const ackOnce = (start: 'resume' | 'relist') => {
        if (acked) return;
        acked = true;
        this.ack(msg.id, { start, ...(this.o.network ? { network: this.o.network } : {}) });
      };
      const feed = await startNodeFeed({
        store: this.o.store,
        node: this.node,
        fromRevision: from,
        log: this.log,
        sink: {
          snapshot: (revision, objects) => {
            ackOnce('relist');
            this.send({ type: 'snapshot', revision: String(revision), objects });
          },
          changes: (revision, changes) => {
            ackOnce('resume');
            this.send({ type: 'changes', revision: String(revision), changes });
          },
          bookmark: (revision) => {
            ackOnce('resume');
            this.send({ type: 'bookmark', revision: String(revision) });
          },
          failed: () => this.o.ws.close(1011, 'node feed failed'),
        },
      });
      ackOnce(feed.start);
      if (this.closed) feed.stop();
      else this.feed = feed;
      this.log.info({ node: this.node, start: feed.start, fromRevision: msg.fromRevision }, feed.start === 'resume' ? 'agent resumed its watch' : 'agent relisted');
    } catch (err) {
      this.log.error({ node: this.node, err: errorMessage(err) }, 'cannot start the link');
      this.nack(msg.id, err);
      this.o.ws.close(1011, 'cannot start');
    }
  }

  /**
   * Asks the agent for a usage sample (metrics.k8s.io). Rejects when the agent cannot sample
   * (STATS_UNAVAILABLE), the link closes, or it did not answer within `timeoutMs`
   * (STATS_TIMEOUT); a late answer is then ignored.
   */
  requestStats(timeoutMs: number): Promise<NodeStatsReport> {
    if (this.closed) return Promise.reject(new LinkError('TUNNEL_NO_AGENT', `the agent of node ${this.node} is not connected`));
    return new Promise<NodeStatsReport>((resolve, reject) => {
      const id = this.send({ type: 'stats-request' });
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LinkError('STATS_TIMEOUT', `the agent of node ${this.node} did not answer a stats request within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, {
        resolve: (ack) => {
          clearTimeout(timer);
          if (ack.error) reject(new LinkError('STATS_UNAVAILABLE', ack.error.message));
          else if (!ack.stats || typeof ack.stats !== 'object') reject(new LinkError('LINK_PROTOCOL', `the agent of node ${this.node} answered a stats request without stats`));
          else resolve(ack.stats);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  /** NodeTunnel.open on this link. */
  openStream(open: TunnelOpen, signal?: AbortSignal): Promise<Duplex> {
    if (this.closed) return Promise.reject(new LinkError('TUNNEL_NO_AGENT', `the agent of node ${this.node} is not connected`));
    signal?.throwIfAborted();
    const streamId = this.nextStream++;
    const stream = this.mux.open(streamId);
    return new Promise<Duplex>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        stream.destroy();
        reject(signal?.reason instanceof Error ? signal.reason : new LinkError('TUNNEL_FAILED', 'the request was cancelled'));
      };
      const id = this.send({
        type: 'stream-open',
        stream: streamId,
        request: open.request,
        ...(open.httpHead ? { httpHead: open.httpHead.toString('base64') } : {}),
      });
      this.pending.set(id, {
        resolve: (ack) => {
          signal?.removeEventListener('abort', onAbort);
          if (!ack.error) {
            resolve(stream);
            return;
          }
          this.mux.forget(streamId);
          stream.destroy();
          reject(new LinkError('TUNNEL_FAILED', ack.error.message));
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          this.mux.forget(streamId);
          stream.destroy();
          reject(err);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get streams(): number {
    return this.mux.size;
  }

  /** Closes the link (a newer link of the same node replaced it, or the server stops). */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.o.ws.close(code, reason);
    this.finish(reason);
  }

  private finish(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.keepalive.stop();
    this.feed?.stop();
    this.mux.closeAll(`the link to node ${this.node} closed`);
    for (const p of this.pending.values()) p.reject(new LinkError('TUNNEL_NO_AGENT', `the link to node ${this.node} closed: ${why}`));
    this.pending.clear();
    // A terminated socket may never emit close; make sure it is gone.
    setTimeout(() => this.o.ws.terminate(), 2000).unref();
    this.o.onClose(this);
    this.log.debug({ node: this.node, why }, 'link session ended');
  }
}
