/**
 * The server's registry of connected agents (node → live link) and the NodeTunnel the API uses to
 * reach them. A node has at most one link: a new connection replaces the old one (the agent
 * reconnected before the server noticed the old link was dead). Connects and disconnects are logged.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.ts';
import { LinkError, LinkErrorCode } from '../../common/link/errors.ts';
import { LinkCloseCode } from '../../common/link/protocol.ts';
import type { NodeStatsReport } from '../../common/link/protocol.ts';
import type { NodeTunnel, TunnelOpen } from '../../common/tunnel.ts';
import type { LinkSession } from './link-session.ts';

export class AgentRegistry implements NodeTunnel {
  private readonly sessions = new Map<string, LinkSession>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  add(session: LinkSession, remote: string | undefined): void {
    const old = this.sessions.get(session.node);
    this.sessions.set(session.node, session);
    this.log.info({ node: session.node, remote, replaced: Boolean(old) }, 'agent connected');
    old?.close(LinkCloseCode.REPLACED, 'replaced by a newer link of the same node');
  }

  remove(session: LinkSession): void {
    if (this.sessions.get(session.node) !== session) return;
    this.sessions.delete(session.node);
    this.log.info({ node: session.node, connectedMs: Date.now() - session.connectedAt }, 'agent disconnected');
  }

  /** Nodes with a live link. */
  connected(): string[] {
    return [...this.sessions.keys()].sort();
  }

  get size(): number {
    return this.sessions.size;
  }

  isConnected(node: string): boolean {
    return this.sessions.has(node);
  }

  /** A usage sample of the node's agent (LinkSession.requestStats). */
  requestStats(node: string, timeoutMs: number): Promise<NodeStatsReport> {
    const s = this.sessions.get(node);
    if (!s) return Promise.reject(new LinkError(LinkErrorCode.TUNNEL_NO_AGENT, `node ${node} has no connected agent`));
    return s.requestStats(timeoutMs);
  }

  open(node: string, open: TunnelOpen, signal?: AbortSignal): Promise<Duplex> {
    const s = this.sessions.get(node);
    if (!s) return Promise.reject(new LinkError(LinkErrorCode.TUNNEL_NO_AGENT, `node ${node} has no connected agent`));
    return s.openStream(open, signal);
  }

  /** A relay frame for the node's agent: false when it has no link here or its link is backed up. */
  sendRelay(node: string, frame: Buffer): boolean {
    return this.sessions.get(node)?.sendRelay(frame) ?? false;
  }

  closeAll(reason: string): void {
    for (const s of [...this.sessions.values()]) s.close(LinkCloseCode.GOING_AWAY, reason);
  }
}
