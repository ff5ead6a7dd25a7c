/**
 * Spreads a reconnect storm (docs/link.md, "Storms"). After a server restart every agent comes
 * back within seconds, and each link's start reads the store (the node's pods at its revision,
 * then the history since). The gate runs at most `concurrency` starts at once and queues the rest
 * in arrival order; when the queue is longer than `maxWaiting`, new links are turned away before
 * the upgrade with 503 and a Retry-After spread over the time the queue needs to drain, so the
 * agents come back spread out instead of all piling onto the queue (the agent adds up to a second
 * of its own jitter: src/agent/link/reconnect-loop.ts).
 */
export interface StartGateOptions {
  readonly concurrency: number;
  readonly maxWaiting: number;
  readonly random?: () => number;
}

export class StartGate {
  private readonly o: StartGateOptions;
  private running = 0;
  private readonly queue: (() => void)[] = [];
  /** Starts finished per second, smoothed (how fast the queue drains). */
  private rate = 50;
  private lastDone = Date.now();

  constructor(o: StartGateOptions) {
    this.o = o;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Seconds a new link should wait before trying again, or undefined when it is welcome now. */
  retryAfterSeconds(): number | undefined {
    if (this.queue.length < this.o.maxWaiting) return undefined;
    const drainS = this.queue.length / Math.max(1, this.rate);
    return 1 + Math.floor((this.o.random ?? Math.random)() * Math.max(1, drainS * 2));
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.o.concurrency) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      const now = Date.now();
      const instant = 1000 / Math.max(1, now - this.lastDone);
      this.lastDone = now;
      this.rate = 0.9 * this.rate + 0.1 * Math.min(instant * this.o.concurrency, 10_000);
      this.queue.shift()?.();
    }
  }
}
