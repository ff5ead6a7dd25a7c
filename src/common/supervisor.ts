/**
 * One supervisor for every edgeos component (STYLE.md §6; the shape of k3s's agent and server):
 * components start in the order they were added and stop in reverse; a background failure of any
 * of them becomes an orderly shutdown that the owner hears about (never swallowed); a component that
 * does not stop within its deadline is logged and abandoned so the process can still exit.
 * Supervisors nest: a supervisor is itself a Component. `runInForeground` adds what only a process's
 * main needs: SIGTERM/SIGINT once → graceful stop, a second one → exit at once.
 */
import { errorMessage } from './errors.ts';
import type { Logger } from './log.ts';

/** The lifecycle every edgeos component shares. `AbortSignal` plays the role of Go's ctx. */
export interface Component {
  /** Names the component in logs ("store", "link"). */
  readonly name: string;
  /**
   * Brings the component up and resolves once it runs; rejects when it cannot start. `signal`
   * aborts a start in progress and later tells background loops to wind down.
   */
  start(signal: AbortSignal): Promise<void>;
  /**
   * Optional: resolves once the component does its job (the API's bootstrap, the link's first
   * sync). Read after start() resolved. A rejection is a background failure.
   */
  readonly ready?: Promise<void>;
  /**
   * Releases everything the component holds. Called once per start() — also after a start that
   * failed or was cut short — so it must cope with a partial start; it should be idempotent.
   */
  stop(): Promise<void>;
  /** How long stop() may take before it is abandoned (default: the supervisor's). */
  readonly stopDeadlineMs?: number;
}

export interface StopReport {
  /** The failure that caused the stop (a background failure or a failed start); undefined when asked to stop. */
  readonly failure: Error | undefined;
  /** Components that did not stop within their deadline and were left behind. */
  readonly abandoned: readonly string[];
}

export interface Supervisor extends Component {
  /** Adds a component, started after every one added before it. Only before start(). */
  add(component: Component): void;
  /**
   * A component failed in the background: logged, and everything stops in reverse order (by the
   * owner given as `onFailure`, else at once). Only the first failure counts; later ones are logged.
   */
  fail(component: string, err: unknown): void;
  /** True once a stop began (asked for, by the start signal, or by a failure). */
  readonly stopping: boolean;
  /** Resolves when the start finished and every component's `ready` resolved. Never rejects. */
  readonly ready: Promise<void>;
  /** Resolves when everything stopped, with why. */
  readonly stopped: Promise<StopReport>;
  /** The sum of the components' deadlines: a parent never abandons a supervisor still within its own. */
  readonly stopDeadlineMs: number;
}

export interface SupervisorOptions {
  readonly name: string;
  /** The supervisor logs with key `part` (the component), so `log` may already bind `component`. */
  readonly log: Logger;
  /** Default stop deadline of each component (10 s: containerd's own SIGTERM → SIGKILL grace fits). */
  readonly stopDeadlineMs?: number;
  /**
   * The owner of this supervisor, told about its first background failure (a parent supervisor's
   * fail). The owner must then stop it — a parent does so in its reverse order. Without an owner
   * the supervisor stops itself.
   */
  readonly onFailure?: (err: Error) => void;
}

export const DEFAULT_STOP_DEADLINE_MS = 10_000;

const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Settles with true when `p` settled within `ms`, false when the deadline passed first. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

export function createSupervisor(o: SupervisorOptions): Supervisor {
  const log = o.log;
  const components: Component[] = [];
  /** Components whose start() was called, in order. */
  const started: Component[] = [];
  const readies: Promise<void>[] = [];
  /**
   * Each component gets its own signal, aborted just before its stop(): components that wind down
   * on abort (most do) then still stop one by one in reverse order, not all at once.
   */
  const signals = new Map<Component, AbortController>();
  const deadlineOf = (c: Component) => c.stopDeadlineMs ?? o.stopDeadlineMs ?? DEFAULT_STOP_DEADLINE_MS;
  let startCalled = false;
  /** The start step in progress, and its component. */
  let current: { component: Component; settled: Promise<unknown> } | undefined;
  let failure: Error | undefined;
  let stopping: Promise<StopReport> | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  let markStopped!: (r: StopReport) => void;
  const stopped = new Promise<StopReport>((r) => (markStopped = r));

  function add(c: Component): void {
    if (startCalled) throw new Error(`${o.name}: component ${c.name} added after start`);
    components.push(c);
  }

  function watchReady(c: Component): void {
    const r = c.ready;
    if (!r) return;
    // A component that fails to become ready is a failure; the supervisor's ready then never resolves.
    readies.push(r.then(undefined, (err: unknown) => {
      fail(c.name, err);
      return new Promise<void>(() => undefined);
    }));
  }

  async function start(signal: AbortSignal): Promise<void> {
    if (startCalled) throw new Error(`${o.name}: started twice`);
    startCalled = true;
    if (signal.aborted) {
      await stopNow();
      return;
    }
    signal.addEventListener('abort', () => void stopNow(), { once: true });
    for (const c of components) {
      if (stopping) break;
      started.push(c);
      const ctl = new AbortController();
      signals.set(c, ctl);
      log.debug({ part: c.name }, 'starting');
      let step: Promise<void>;
      try {
        step = c.start(ctl.signal);
      } catch (err) {
        step = Promise.reject(err);
      }
      current = { component: c, settled: step.catch(() => undefined) };
      try {
        await step;
      } catch (err) {
        // A start cut short by a stop is no failure of its own.
        if (stopping) break;
        failure ??= toError(err);
        log.error({ part: c.name, err: errorMessage(err) }, 'failed to start');
        await stopNow();
        throw err;
      } finally {
        current = undefined;
      }
      watchReady(c);
    }
    if (stopping) return;
    void Promise.all(readies).then(() => {
      if (!stopping) markReady();
    });
  }

  function fail(component: string, err: unknown): void {
    if (stopping || failure) {
      log.warn({ part: component, err: errorMessage(err) }, stopping ? 'failed while stopping' : 'failed after an earlier failure');
      return;
    }
    const e = toError(err);
    failure = e;
    log.error({ part: component, err: e.message }, 'failed: shutting down');
    // With an owner, the owner stops us in its own order (a parent stops its components in
    // reverse); on our own, we stop now.
    if (o.onFailure) o.onFailure(e);
    else void stopNow();
  }

  function stopNow(): Promise<StopReport> {
    stopping ??= (async () => {
      const inProgress = current;
      if (inProgress) signals.get(inProgress.component)?.abort();
      if (inProgress && !(await within(inProgress.settled, deadlineOf(inProgress.component)))) {
        log.error({ part: inProgress.component.name }, 'still starting at the stop deadline');
      }
      const abandoned: string[] = [];
      for (const c of started.splice(0).reverse()) {
        signals.get(c)?.abort();
        let step: Promise<void>;
        try {
          step = c.stop();
        } catch (err) {
          step = Promise.reject(err);
        }
        step.catch((err: unknown) => log.error({ part: c.name, err: errorMessage(err) }, 'failed to stop'));
        const ms = deadlineOf(c);
        if (!(await within(step, ms))) {
          abandoned.push(c.name);
          log.error({ part: c.name, deadlineMs: ms }, 'did not stop in time: abandoned');
        }
      }
      const report: StopReport = { failure, abandoned };
      markStopped(report);
      return report;
    })();
    return stopping;
  }

  return {
    name: o.name,
    add,
    fail,
    start,
    ready,
    stopped,
    stop: async () => {
      await stopNow();
    },
    get stopping() {
      return stopping !== undefined;
    },
    get stopDeadlineMs() {
      return components.reduce((sum, c) => sum + deadlineOf(c), 0) || (o.stopDeadlineMs ?? DEFAULT_STOP_DEADLINE_MS);
    },
  };
}

/**
 * A component started in the background once `gate` resolves (the server's controllers and local
 * agent wait for the API's bootstrap): its start() returns at once, so the owner's start does not
 * wait. A failure to start goes to `onFailure`; a gate that rejects is its owner's failure to report.
 * stop() waits for a start in progress (the supervisor aborted its signal first).
 */
export function startWhen(gate: () => Promise<void>, c: Component, onFailure: (err: Error) => void): Component {
  let run: Promise<void> = Promise.resolve();
  let startedInner = false;
  return {
    name: c.name,
    get stopDeadlineMs() {
      return c.stopDeadlineMs;
    },
    start: async (signal) => {
      const aborted = new Promise<boolean>((r) => signal.addEventListener('abort', () => r(false), { once: true }));
      const open = gate().then(() => true, () => false);
      run = Promise.race([open, aborted]).then(async (go) => {
        if (!go || signal.aborted) return;
        startedInner = true;
        await c.start(signal).catch((err: unknown) => {
          if (!signal.aborted) onFailure(toError(err));
        });
      });
    },
    stop: async () => {
      await run;
      if (startedInner) await c.stop();
    },
  };
}

export interface ForegroundOptions {
  readonly log: Logger;
  /** Called once everything started (not when a stop came first). */
  readonly onStarted?: () => void;
}

/**
 * A process's main: starts `supervisor`, stops it on the first SIGTERM or SIGINT and exits at once
 * on a second. Resolves with the stop report when everything stopped; rejects with a start failure.
 * Afterwards the process gets a moment to exit by itself; if something abandoned (at any depth)
 * still holds the event loop, it exits anyway with the exit code set so far. CLI only: never call
 * this inside a process that must outlive it (a test runner).
 */
export async function runInForeground(supervisor: Supervisor, o: ForegroundOptions): Promise<StopReport> {
  const ctl = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (ctl.signal.aborted) {
      o.log.warn({ signal }, 'second signal: exiting now');
      o.log.flush(() => process.exit(1));
      return;
    }
    o.log.info({ signal }, 'shutting down');
    ctl.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // The process lives until it is stopped, even while no component holds the event loop.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await supervisor.start(ctl.signal);
    if (!supervisor.stopping) o.onStarted?.();
    return await supervisor.stopped;
  } finally {
    clearInterval(keepAlive);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    setTimeout(() => {
      o.log.error(`handles are still open ${EXIT_GRACE_MS} ms after the stop: exiting`);
      o.log.flush(() => process.exit());
    }, EXIT_GRACE_MS).unref();
  }
}

/** How long a stopped process may take to exit by itself before runInForeground ends it. */
const EXIT_GRACE_MS = 2000;
