/**
 * The agent's reconnect loop: one connection at a time, for ever, with exponential backoff and
 * equal jitter between attempts (backoff.ts), trying the cluster's servers in turn: after a link
 * drops or an attempt fails, the next attempt goes to the next server, so an agent whose server
 * died is on another one after one backoff step (docs/ha.md). A server that turned the link away
 * with Retry-After (a start storm: docs/link.md) is not tried again before that time. A
 * connection that stayed up STABLE_MS starts the backoff over.
 */
import { errorMessage } from '../../common/errors.ts';
import { LinkError } from '../../common/link/errors.ts';
import type { Logger } from '../../common/log.ts';
import { reconnectDelay } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';

/** A connection that stayed up this long resets the backoff. */
const STABLE_MS = 10_000;

export interface ReconnectLoopOptions {
  /** Read before every attempt: the list may change while the agent runs (the cluster's servers). */
  readonly servers: () => readonly string[];
  readonly backoff: BackoffOptions;
  /**
   * One connection to `server`: resolves when it ended, rejects when it could not be made or
   * failed. It calls `up` once the connection is open (the stable time counts from there).
   */
  readonly connect: (server: string, signal: AbortSignal, up: () => void) => Promise<void>;
  /** A connection attempt failed or a link ended. */
  readonly onDisconnect: () => void;
  readonly log: Logger;
}

export interface ReconnectLoop {
  /** Resolves once stopped. */
  readonly done: Promise<void>;
  /** Stops after the current connection (the caller closes it); a wait between attempts ends at once. */
  stop(): void;
}

export function startReconnectLoop(o: ReconnectLoopOptions): ReconnectLoop {
  const abort = new AbortController();
  let wake: (() => void) | undefined;

  async function run(): Promise<void> {
    const signal = abort.signal;
    let attempt = 0;
    let next = 0;
    while (!signal.aborted) {
      const list = o.servers();
      const server = list[next % list.length]!;
      let upAt: number | undefined;
      let serverSays: number | undefined;
      try {
        await o.connect(server, signal, () => (upAt = Date.now()));
      } catch (err) {
        if (!signal.aborted) o.log.warn({ server, err: errorMessage(err) }, 'link attempt failed');
        if (err instanceof LinkError) serverSays = err.retryAfterMs;
      }
      if (signal.aborted) break;
      o.onDisconnect();
      if (upAt !== undefined && Date.now() - upAt >= STABLE_MS) attempt = 0;
      // The server that just failed or dropped the link is tried again last (the list may have changed meanwhile).
      const now = o.servers();
      next = (Math.max(0, now.indexOf(server)) + 1) % now.length;
      // A busy server's Retry-After (whole seconds, already spread by the server) plus up to a
      // second of jitter of our own, so agents told the same second do not come back together. It
      // speaks for that server only: when the next attempt goes to another server, plain backoff.
      const again = now[next] === server;
      const delay =
        serverSays !== undefined && again
          ? Math.max(reconnectDelay(attempt, o.backoff), serverSays + Math.round(Math.random() * 1000))
          : reconnectDelay(attempt, o.backoff);
      attempt++;
      o.log.info({ delayMs: delay, attempt }, 'reconnecting to the server');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  const done = run();
  return {
    done,
    stop() {
      abort.abort();
      wake?.();
    },
  };
}
