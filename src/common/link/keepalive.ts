/**
 * Half-open detection for one end of the link, pinging only when the link is silent (gRPC's
 * keepalive does the same: pings only after a period without activity). Every `intervalMs` it
 * looks whether anything arrived from the other end since it last looked (a message, a stream
 * frame, a ping or a pong — the caller reports each with `heard()`). A silent interval sends a
 * WebSocket ping; `maxSilent` silent intervals in a row mean the peer is gone (frozen, or a NAT
 * forgot the flow) and `dead` is called once. On an idle link the lease (agent → server) and its
 * ack (server → agent) every 10 s are the traffic, so with the 15 s interval no ping is ever sent
 * and detection still takes at most (maxSilent + 1) intervals.
 */
export interface KeepaliveOptions {
  readonly intervalMs: number;
  readonly maxSilent: number;
  readonly ping: () => void;
  readonly dead: (silentIntervals: number) => void;
}

export class Keepalive {
  private heardSince = false;
  private silent = 0;
  private pingCount = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly o: KeepaliveOptions;

  constructor(o: KeepaliveOptions) {
    this.o = o;
    this.timer = setInterval(() => this.check(), o.intervalMs);
    this.timer.unref();
  }

  /** Something arrived from the other end. */
  heard(): void {
    this.heardSince = true;
  }

  /** Pings sent so far (only silent intervals send one). */
  get pings(): number {
    return this.pingCount;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    if (this.heardSince) {
      this.heardSince = false;
      this.silent = 0;
      return;
    }
    this.silent++;
    if (this.silent >= this.o.maxSilent) {
      this.stop();
      this.o.dead(this.silent);
      return;
    }
    this.pingCount++;
    this.o.ping();
  }
}
