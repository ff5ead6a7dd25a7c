/**
 * What a link peer (peer.ts) runs over: text frames for the protocol's messages, binary frames for
 * stream bytes, pings for liveness. Two implementations: a WebSocket (ws-transport.ts, every
 * joined agent) and an in-process pair (in-process-transport.ts, the local agent of `edgeos
 * server`, which needs no socket and no TLS to reach the server it runs in).
 */

/** What a transport delivers; the peer attaches once, right after the transport is open. */
export interface LinkTransportHandlers {
  text(data: string): void;
  binary(frame: Buffer): void;
  /** A ping or a pong arrived: liveness only. */
  heard(): void;
  /** The transport closed (either end, or the connection broke); called once. */
  closed(code: number, reason: string): void;
}

export interface LinkTransport {
  /** Starts delivering to `handlers`. */
  attach(handlers: LinkTransportHandlers): void;
  readonly open: boolean;
  /** Bytes handed to send but not yet written to the connection (a slow or dead reader's backlog). */
  readonly bufferedBytes: number;
  /** Both sends drop silently once the transport is no longer open. */
  sendText(data: string): void;
  sendBinary(frame: Buffer): void;
  /** Asks the other end for a pong (which arrives as `heard`). */
  ping(): void;
  /** An orderly close with a WebSocket close code; the other end sees the same code and reason. */
  close(code: number, reason: string): void;
  /** Drops the connection at once (a dead peer). */
  terminate(): void;
  /** Set by a dialer over TLS: the connection resumed an earlier TLS session (no full handshake). */
  readonly tlsSessionReused?: boolean;
}

/**
 * The agent's way to a server: a transport once it is open. Rejects (with a LinkError saying
 * why) when the server cannot be reached or refuses the link.
 */
export type LinkDialer = (server: string, signal: AbortSignal) => Promise<LinkTransport>;

/** What a tap (tapTransport) is told of the traffic that crosses a transport. */
export interface TransportTap {
  /** A text or binary frame arrived, `bytes` of payload. */
  received?(bytes: number): void;
  /** A text or binary frame was handed to the open transport, `bytes` of payload. */
  sent?(bytes: number): void;
  /** A ping or pong arrived. */
  heard?(): void;
  /** The transport closed. */
  closed?(code: number, reason: string): void;
}

/**
 * `transport`, with `tap` told of every frame each way. Only the send and receive paths are
 * overridden; every other member (`open`, `bufferedBytes`, `tlsSessionReused` and whatever a
 * transport reports in the future) is the transport's own, read through, so a wrapper can never
 * hide what a dialer set — the bug two hand-written wrappers had, each re-listing the members.
 */
export function tapTransport(transport: LinkTransport, tap: TransportTap): LinkTransport {
  const own: Partial<Record<keyof LinkTransport, unknown>> = {
    attach: (h: LinkTransportHandlers) =>
      transport.attach({
        ...h,
        text: (data) => {
          tap.received?.(Buffer.byteLength(data));
          h.text(data);
        },
        binary: (frame) => {
          tap.received?.(frame.length);
          h.binary(frame);
        },
        heard: () => {
          tap.heard?.();
          h.heard();
        },
        closed: (code, reason) => {
          tap.closed?.(code, reason);
          h.closed(code, reason);
        },
      }),
    sendText: (data: string) => {
      if (transport.open) tap.sent?.(Buffer.byteLength(data));
      transport.sendText(data);
    },
    sendBinary: (frame: Buffer) => {
      if (transport.open) tap.sent?.(frame.length);
      transport.sendBinary(frame);
    },
  };
  return new Proxy(transport, {
    get(target, prop) {
      if (Object.hasOwn(own, prop)) return own[prop as keyof LinkTransport];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
