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
