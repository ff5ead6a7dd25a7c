/**
 * Half-open detection for one end of the link, pinging only when the link is silent (gRPC's
 * keepalive does the same: pings only after a period without activity). The caller reports
 * everything that arrives from the other end with `heard()` (a message, a stream frame, a ping or
 * a pong). After `pingAfterMs` of silence one WebSocket ping goes out; after `deadAfterMs` of
 * silence the peer is gone (frozen, or a NAT forgot the flow) and `dead` is called once.
 *
 * On an idle link the lease (agent → server) and its ack (server → agent) every 10 s are the
 * traffic, so with pingAfterMs 12 s no ping is ever sent, and a link that went half-open is
 * noticed at most deadAfterMs + one check (≤ 17 s) after the last thing it carried.
 *
 * The silence is looked at every `checkMs` (≤ 1 s). A check that runs much later than planned
 * means this process was not running (an overloaded event loop, a suspended laptop): what the
 * other end sent meanwhile may still be unread in the socket, so that check pings instead of
 * declaring the peer dead.
 */
export interface KeepaliveOptions {
  readonly pingAfterMs: number;
  readonly deadAfterMs: number;
  readonly ping: () => void;
  readonly dead: (silentMs: number) => void;
  readonly now?: () => number;
}

export class Keepalive {
  private lastHeard: number;
  private lastCheck: number;
  private pingedSince = false;
  private pingCount = 0;
  private readonly checkMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly o: KeepaliveOptions;
  private readonly now: () => number;

  constructor(o: KeepaliveOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.lastHeard = this.lastCheck = this.now();
    this.checkMs = Math.max(10, Math.min(1000, Math.floor(o.pingAfterMs / 4)));
    this.timer = setInterval(() => this.check(), this.checkMs);
    this.timer.unref();
  }

  /** Something arrived from the other end. */
  heard(): void {
    this.lastHeard = this.now();
    this.pingedSince = false;
  }

  /** Pings sent so far (only silent periods send one). */
  get pings(): number {
    return this.pingCount;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const now = this.now();
    const late = now - this.lastCheck > this.checkMs + 1000;
    this.lastCheck = now;
    const silent = now - this.lastHeard;
    if (silent >= this.o.deadAfterMs && !late) {
      this.stop();
      this.o.dead(silent);
      return;
    }
    if (silent >= this.o.pingAfterMs && !this.pingedSince) {
      this.pingedSince = true;
      this.pingCount++;
      this.o.ping();
    }
  }
}
