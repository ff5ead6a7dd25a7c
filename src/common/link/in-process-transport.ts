/**
 * Two link transports joined in memory, for an agent that runs inside the server's process (the
 * local agent of `edgeos server`): the same messages, streams and keepalive as over a WebSocket,
 * without a socket, TLS, or a client certificate. Like a socket it delivers asynchronously and in
 * order (never inside the sender's call), answers a ping with a pong, and reports a close to both
 * ends with the closing end's code and reason.
 */
import type { LinkTransport, LinkTransportHandlers } from './transport.ts';

/** WebSocket's "abnormal closure": what `terminate` reports. */
const ABNORMAL = 1006;

type Delivery = (h: LinkTransportHandlers) => void;

class InProcessEnd implements LinkTransport {
  other!: InProcessEnd;
  private handlers: LinkTransportHandlers | undefined;
  private readonly inbox: Delivery[] = [];
  private scheduled = false;
  private state: { open: boolean };

  constructor(state: { open: boolean }) {
    this.state = state;
  }

  attach(h: LinkTransportHandlers): void {
    this.handlers = h;
    this.schedule();
  }

  get open(): boolean {
    return this.state.open;
  }

  /** Delivery is a queued call in this process, never a socket that could back up. */
  get bufferedBytes(): number {
    return 0;
  }

  sendText(data: string): void {
    if (this.state.open) this.other.deliver((h) => h.text(data));
  }

  sendBinary(frame: Buffer): void {
    if (this.state.open) this.other.deliver((h) => h.binary(frame));
  }

  ping(): void {
    if (!this.state.open) return;
    this.other.deliver((h) => h.heard());
    // The other end answers with a pong, as a WebSocket does on its own.
    this.deliver((h) => h.heard());
  }

  close(code: number, reason: string): void {
    if (!this.state.open) return;
    this.state.open = false;
    this.deliver((h) => h.closed(code, reason));
    this.other.deliver((h) => h.closed(code, reason));
  }

  terminate(): void {
    this.close(ABNORMAL, '');
  }

  private deliver(d: Delivery): void {
    this.inbox.push(d);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.handlers || this.inbox.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const h = this.handlers!;
      // What arrives while these run waits for the next turn, as bytes on a socket would.
      for (const d of this.inbox.splice(0)) d(h);
    });
  }
}

/** [agent end, server end]. */
export function inProcessLinkPair(): [LinkTransport, LinkTransport] {
  const state = { open: true };
  const a = new InProcessEnd(state);
  const b = new InProcessEnd(state);
  a.other = b;
  b.other = a;
  return [a, b];
}
