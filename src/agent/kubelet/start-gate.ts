import { availableParallelism } from 'node:os';
import { POD_START_CONCURRENCY, readEnvSetting } from '../../common/env-settings.ts';

/**
 * At most `limit` pod starts at a time: RunPodSandbox, and CreateContainer + StartContainer, each
 * hold one slot while they run; the rest wait in order of arrival. Every other runtime call (PLEG
 * relists, status reads, stops) passes freely.
 *
 * The kubelet starts every pod's sandbox at once. On a small device that is a burst of runc,
 * CNI and shim starts that its CPU works through together, each slower the more there are, and
 * with a 2-minute CRI deadline a burst that takes longer fails as a whole and starts over (an
 * emulated 2-vCPU arm64 gateway at host load ~14: 20 sandboxes, every one `Deadline exceeded` after
 * 137–184 s, again and again, none Running after 15 minutes — docs/arm64.md). The agent also holds
 * each waiting call's state (pod workers' passes, gRPC streams and their buffers) for the whole
 * burst: its memory after 20 pods is the high-water mark of that overlap (docs/arm64.md, "Memory").
 * Queued, each start takes what a start alone takes and the deadline counts from when it runs.
 */
export class StartGate {
  readonly limit: number;
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(limit: number) {
    this.limit = Math.max(1, Math.floor(limit));
  }

  /** Starts now or in turn; the slot is freed when `work` settles, whatever its outcome. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((r) => this.queue.push(r));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Starts waiting for a slot now (for tests and metrics). */
  get waiting(): number {
    return this.queue.length;
  }
}

/**
 * The agent's default: as many starts as the host has CPUs, at least 2 (a start also waits on
 * runc's and the shim's processes, so one per CPU keeps them busy). `EDGEOS_POD_START_CONCURRENCY`
 * sets another number (0: unbounded, the kubelet's behaviour); the commands resolve it with their
 * configuration and refuse a bad value (common/env-settings.ts), this reads it for a kubelet made
 * without one (tests, benches) and refuses it the same way.
 */
export function defaultPodStartConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  return readEnvSetting(env, POD_START_CONCURRENCY) ?? Math.max(2, availableParallelism());
}
