/**
 * Test wiring, not a product: a NodeTunnel that hands each stream to an agent's TunnelHandler in
 * the same process over a pair of connected Duplex streams, with the contract's semantics (src/common/tunnel.ts):
 * open() resolves once the agent wrote its first byte or finished, rejects with TUNNEL_FAILED and
 * the agent's message when the handler threw before writing, and with TUNNEL_NO_AGENT for a node
 * without an agent. An end travels as an end (like the link's stream-end); a stream torn down
 * on one side is torn down on the other (stream-reset). The real NodeTunnel is src/server/link,
 * which link-tunnel.test.ts drives.
 */
import { Duplex } from 'node:stream';
import { EdgeosError } from '../../src/common/errors.ts';
import type { NodeTunnel, TunnelHandler, TunnelOpen } from '../../src/common/tunnel.ts';

/**
 * One end of an in-memory byte pipe pair. Unlike `stream.duplexPair()`, whose destroy() ends the
 * other side as if it had finished cleanly, a side torn down before it finished tears the other
 * down too (a reset), so tests see truncation the way the real link's stream-reset shows it.
 */
class PairSide extends Duplex {
  other: PairSide | undefined;
  /** Our write waiting for the other side's reader (backpressure). */
  private blocked: (() => void) | undefined;

  override _read(): void {
    const release = this.other?.blocked;
    if (this.other) this.other.blocked = undefined;
    release?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.other!.push(chunk)) cb();
    else this.blocked = () => cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.other!.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const clean = !err && this.readableEnded && this.writableFinished;
    if (!clean && this.other && !this.other.destroyed) this.other.destroy();
    this.blocked?.();
    cb(err);
  }
}

export function streamPair(): [Duplex, Duplex] {
  const a = new PairSide();
  const b = new PairSide();
  a.other = b;
  b.other = a;
  return [a, b];
}

export class StreamPairTunnel implements NodeTunnel {
  /** Every open() in order: tests assert what crossed the tunnel (request, head). */
  readonly opened: { node: string; open: TunnelOpen }[] = [];
  private readonly agents: ReadonlyMap<string, TunnelHandler>;

  constructor(agents: Record<string, TunnelHandler>) {
    this.agents = new Map(Object.entries(agents));
  }

  open(node: string, open: TunnelOpen, signal?: AbortSignal): Promise<Duplex> {
    const handler = this.agents.get(node);
    if (!handler) return Promise.reject(new EdgeosError('TUNNEL_NO_AGENT', `node "${node}" has no agent connected`));
    this.opened.push({ node, open });
    const [server, agent] = streamPair();
    return new Promise<Duplex>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => refuse(new Error('the client went away'));
      const accept = (): void => {
        if (settled) return;
        settled = true;
        server.off('readable', accept);
        signal?.removeEventListener('abort', onAbort);
        resolve(server);
      };
      function refuse(err: unknown): void {
        if (settled) return;
        settled = true;
        server.off('readable', accept);
        signal?.removeEventListener('abort', onAbort);
        server.destroy();
        agent.destroy();
        reject(new EdgeosError('TUNNEL_FAILED', err instanceof Error ? err.message : String(err)));
      }
      // 'readable' fires for the first byte and for an end without bytes; nothing is consumed.
      server.once('readable', accept);
      signal?.addEventListener('abort', onAbort, { once: true });
      handler.handle(open, agent).then(accept, (err: unknown) => {
        if (!settled) refuse(err);
        else agent.destroy();
      });
    });
  }
}
