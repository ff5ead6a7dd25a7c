/**
 * The agent's answers to the server's requests: a tunnel stream (`stream-open`), handed to the
 * TunnelHandler and acked before its first byte or end goes out, so a handler that throws before
 * writing becomes TUNNEL_FAILED with its message; and a usage sample (`stats-request`), answered
 * from the kubelet's sampler, or STATS_UNAVAILABLE without one.
 */
import type { Duplex } from 'node:stream';
import { errorMessage } from '../../common/errors.ts';
import { LinkErrorCode, ackError } from '../../common/link/errors.ts';
import type { LinkPeer } from '../../common/link/peer.ts';
import type { AgentMessage, ServerMessage, StreamOpenMessage } from '../../common/link/protocol.ts';
import type { TunnelHandler } from '../../common/tunnel.ts';
import type { UsageSampler } from '../types.ts';

export type AgentPeer = LinkPeer<ServerMessage, AgentMessage>;

export interface RespondersOptions {
  readonly node: string;
  readonly tunnel?: TunnelHandler;
  /** A stats request answered with a sample. */
  readonly onStatsServed: () => void;
}

export class Responders {
  private readonly o: RespondersOptions;
  private sampler: UsageSampler | undefined;

  constructor(o: RespondersOptions) {
    this.o = o;
  }

  /** The kubelet's sampler (StatusSink.serveStats). */
  serveStats(sampler: UsageSampler): void {
    this.sampler = sampler;
  }

  stats(peer: AgentPeer, id: number): void {
    const sampler = this.sampler;
    if (!sampler) {
      peer.refuse(id, { code: LinkErrorCode.STATS_UNAVAILABLE, message: `node ${this.o.node} runs no container runtime: it has no resource usage` });
      return;
    }
    sampler().then(
      (report) => {
        this.o.onStatsServed();
        peer.ack(id, { stats: report });
      },
      (err: unknown) => peer.refuse(id, { code: LinkErrorCode.STATS_UNAVAILABLE, message: `node ${this.o.node} cannot sample resource usage: ${errorMessage(err)}` }),
    );
  }

  streamOpen(peer: AgentPeer, m: StreamOpenMessage): void {
    const tunnel = this.o.tunnel;
    if (!tunnel) {
      peer.refuse(m.id, { code: LinkErrorCode.TUNNEL_FAILED, message: `the agent of node ${this.o.node} serves no tunnel streams` });
      return;
    }
    let answered = false;
    let stream: Duplex;
    try {
      stream = peer.openStream(m.stream, () => {
        answered = true;
        peer.ack(m.id);
      });
    } catch (err) {
      peer.refuse(m.id, ackError(err, LinkErrorCode.TUNNEL_FAILED));
      return;
    }
    const open = { request: m.request, ...(m.httpHead ? { httpHead: Buffer.from(m.httpHead, 'base64') } : {}) };
    tunnel.handle(open, stream).then(
      () => {
        if (!stream.writableEnded && !stream.destroyed) stream.end();
      },
      (err: unknown) => {
        if (answered) {
          stream.destroy(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        answered = true;
        peer.refuse(m.id, ackError(err, LinkErrorCode.TUNNEL_FAILED));
        peer.mux.forget(m.stream);
        stream.destroy();
      },
    );
  }
}
