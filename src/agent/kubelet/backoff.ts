/**
 * The kubelet's back-off (client-go flowcontrol.Backoff as used for crash loops and image pulls):
 * the first failure is retried at once and sets a 10 s delay; while now − lastFailure < delay the
 * item is "in back-off"; each retry doubles the delay up to 5 min; an entry not retried for
 * 2 × max (10 min, i.e. the container ran that long) starts over.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const crashLoopBackoff: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };
export const imagePullBackoff: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();
  private readonly policy: BackoffPolicy;
  private readonly now: () => number;

  constructor(policy: BackoffPolicy, now: () => number = Date.now) {
    this.policy = policy;
    this.now = now;
  }

  /** The current delay for `key`, or 0 when there is none. */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** True while `key` must wait: less than its delay has passed since `sinceMs` (the failure). */
  inBackoffSince(key: string, sinceMs: number): boolean {
    const e = this.entries.get(key);
    if (!e || this.expired(e)) return false;
    return this.now() - sinceMs < e.delayMs;
  }

  /** When `key` may be retried, given the failure time (0 when it may be now). */
  retryAt(key: string, sinceMs: number): number {
    const e = this.entries.get(key);
    if (!e || this.expired(e)) return 0;
    return sinceMs + e.delayMs;
  }

  /** Records a retry: the next failure waits twice as long (capped). */
  next(key: string): void {
    const now = this.now();
    const e = this.entries.get(key);
    if (!e || this.expired(e)) {
      this.entries.set(key, { delayMs: this.policy.initialMs, lastUpdateMs: now });
      return;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.policy.maxMs);
    e.lastUpdateMs = now;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key starting with `prefix` (a pod's containers when the pod goes away). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  private expired(e: Entry): boolean {
    return this.now() - e.lastUpdateMs > 2 * this.policy.maxMs;
  }
}
