// client-go's rate-limited work queue: a key is queued at most once; while a worker processes it,
// a new add marks it dirty and it runs once more afterwards, so one key never has two workers.
// Failures back off per key from 5 ms doubling up to 1000 s (ItemExponentialFailureRateLimiter).
import type { Logger } from '../../common/log.ts';
import type { WorkQueue } from './types.ts';

const BASE_DELAY_MS = 5;
const MAX_DELAY_MS = 1_000_000;

export function createWorkQueue(log: Logger): WorkQueue {
  const queue: string[] = [];
  let head = 0;
  const queued = new Set<string>();
  const processing = new Set<string>();
  const dirty = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  const waiters: Array<() => void> = [];
  // Keys a worker re-queued with backoff itself while processing: success must not reset them.
  const keepBackoff = new Set<string>();

  function add(key: string): void {
    if (processing.has(key)) {
      dirty.add(key);
      return;
    }
    if (queued.has(key)) return;
    queued.add(key);
    queue.push(key);
    waiters.shift()?.();
  }

  function addAfter(key: string, delayMs: number): void {
    if (delayMs <= 0) return add(key);
    const at = Date.now() + delayMs;
    const existing = timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      timers.delete(key);
      add(key);
    }, delayMs);
    timer.unref();
    timers.set(key, { at, timer });
  }

  function take(): string | undefined {
    if (head >= queue.length) return undefined;
    const key = queue[head++] as string;
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    queued.delete(key);
    return key;
  }

  async function loop(worker: (key: string) => Promise<void>, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const key = take();
      if (key === undefined) {
        await new Promise<void>((resolve) => waiters.push(resolve));
        continue;
      }
      processing.add(key);
      try {
        await worker(key);
        if (!keepBackoff.delete(key)) failures.delete(key);
      } catch (err) {
        if (!signal.aborted) {
          log.warn({ key, err: (err as Error).message, requeues: failures.get(key) ?? 0 }, 'sync failed; requeued with backoff');
          addRateLimitedAfterProcessing(key);
        }
      } finally {
        processing.delete(key);
        if (dirty.delete(key)) add(key);
      }
    }
  }

  function backoff(key: string): number {
    const n = failures.get(key) ?? 0;
    failures.set(key, n + 1);
    return Math.min(BASE_DELAY_MS * 2 ** n, MAX_DELAY_MS);
  }

  function addRateLimitedAfterProcessing(key: string): void {
    addAfter(key, backoff(key));
  }

  function addRateLimited(key: string): void {
    if (processing.has(key)) keepBackoff.add(key);
    addAfter(key, backoff(key));
  }

  return {
    add,
    addAfter,
    addRateLimited,
    forget: (key) => void failures.delete(key),
    numRequeues: (key) => failures.get(key) ?? 0,
    len: () => queue.length - head,
    async run(worker, opts) {
      const stopTimers = () => {
        for (const t of timers.values()) clearTimeout(t.timer);
        timers.clear();
        for (const w of waiters.splice(0)) w();
      };
      opts.signal.addEventListener('abort', stopTimers, { once: true });
      await Promise.all(Array.from({ length: Math.max(1, opts.workers) }, () => loop(worker, opts.signal)));
    },
  };
}
