// The controller manager inside `edgeos server` (kube-controller-manager + kube-scheduler): one
// loopback API client, shared informers and the controllers, started in that order and stopped in
// reverse by a supervisor (src/common/supervisor.ts); with several servers, informers and
// controllers run only while this server leads (leader-election.ts). Each controller runs in a loop that logs its
// failure and restarts it with backoff — a crashed controller never takes the server down, and
// never dies silently.
import { hostname } from 'node:os';
import type { Logger } from '../../common/log.ts';
import { createSupervisor } from '../../common/supervisor.ts';
import type { Duplex } from 'node:stream';
import { createKubeClient } from './client/kube-client.ts';
import type { ClosableKubeClient } from './client/kube-client.ts';
import { createEventRecorder } from './event-recorder.ts';
import { createLeaderElector } from './leader-election.ts';
import type { LeaderElectionTimings, LeaderElector } from './leader-election.ts';
import { createSharedInformers } from './informers/shared-informers.ts';
import type { RunnableSharedInformers } from './informers/shared-informers.ts';
import type { Clock, ControllerContext, ControllerDescriptor, ControllerOptions } from './types.ts';

export interface ControllerManagerDeps {
  /** The server's own URL, e.g. https://127.0.0.1:6443. */
  readonly url: string;
  readonly caPem: string;
  /** The in-memory loopback bearer token; never logged. */
  readonly token: string;
  readonly log: Logger;
  readonly options: ControllerOptions;
  readonly descriptors: readonly ControllerDescriptor[];
  readonly clock?: Clock;
  /**
   * With several servers on one datastore: run the controllers only while this server holds the
   * kube-system Lease `edgeos-controllers` (leader-election.ts); `identity` is the server's id.
   */
  readonly leaderElection?: { readonly identity: string; readonly timings?: LeaderElectionTimings };
  /** A new in-process connection to the server's API, used instead of HTTPS to `url` (in-process-api.ts). */
  readonly connect?: () => Duplex;
}

/** The kube-system Lease the servers of a cluster elect the controllers' leader with. */
export const CONTROLLERS_LEASE = 'edgeos-controllers';

export interface ControllerManager {
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once every controller has started for the first time (or failed to). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /** Objects in the controllers' informer caches, per resource (empty while not leading). */
  cacheSizes(): ReadonlyMap<string, number>;
}

const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 60_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

export function createControllerManager(deps: ControllerManagerDeps): ControllerManager {
  const log = deps.log.child({ component: 'controller-manager' });
  const clock: Clock = deps.clock ?? { now: () => Date.now() };
  const sup = createSupervisor({ name: 'controller-manager', log });
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  let client: ClosableKubeClient | undefined;
  const host = hostname();
  // The informers of the running term (none while another server leads).
  let liveInformers: RunnableSharedInformers | undefined;

  /** Runs one controller until `signal` aborts, restarting it with backoff whenever it fails or ends. */
  async function runWithRestarts(d: ControllerDescriptor, c: ClosableKubeClient, inf: RunnableSharedInformers, signal: AbortSignal, started: () => void): Promise<void> {
    const clog = deps.log.child({ component: 'controller', controller: d.name });
    let delay = RESTART_MIN_MS;
    let first = true;
    while (!signal.aborted) {
      const ctx: ControllerContext = {
        client: c,
        informers: inf,
        recorder: createEventRecorder({ client: c, component: d.name === 'scheduler' ? 'default-scheduler' : `${d.name}-controller`, clock, log: clog, host }),
        log: clog,
        clock,
        options: deps.options,
      };
      const startedAt = Date.now();
      try {
        const controller = d.create(ctx);
        try {
          await controller.start(signal);
          if (first) started();
          first = false;
          await controller.done;
          if (signal.aborted) return;
          clog.error('the controller stopped by itself; restarting it');
        } finally {
          await controller.stop();
        }
      } catch (err) {
        if (signal.aborted) return;
        clog.error({ err }, 'the controller failed; restarting it');
      }
      if (first) started();
      first = false;
      if (Date.now() - startedAt > RESTART_MAX_MS) delay = RESTART_MIN_MS;
      await sleep(delay, signal);
      delay = Math.min(delay * 2, RESTART_MAX_MS);
    }
  }

  /** Informers, then the controllers: what runs while this server may run controllers. */
  function createTerm(c: ClosableKubeClient) {
    const term = createSupervisor({ name: 'controllers', log });
    let informers: RunnableSharedInformers | undefined;
    let loops: Promise<void>[] = [];
    term.add({
      name: 'informers',
      start: async (signal) => {
        informers = createSharedInformers(c, deps.log);
        liveInformers = informers;
        informers.start(signal);
      },
      stop: async () => {
        if (liveInformers === informers) liveInformers = undefined;
        await informers?.stopped();
      },
    });
    term.add({
      name: 'controllers',
      start: async (signal) => {
        let pending = deps.descriptors.length;
        const one = () => {
          if (--pending === 0) markReady();
        };
        if (pending === 0) markReady();
        loops = deps.descriptors.map((d) => runWithRestarts(d, c, informers!, signal, one));
        log.info({ controllers: deps.descriptors.map((d) => d.name) }, 'controllers starting');
      },
      stop: async () => {
        await Promise.all(loops);
      },
    });
    return term;
  }

  sup.add({
    name: 'client',
    start: async () => {
      client = createKubeClient({ url: deps.url, caPem: deps.caPem, token: deps.token, userAgent: 'edgeos-controller-manager', ...(deps.connect ? { connect: deps.connect } : {}) });
    },
    stop: async () => client?.close(),
  });
  const election = deps.leaderElection;
  if (election) {
    // Several servers: the controllers run only on the one holding the Lease (leader-election.ts).
    let elector: LeaderElector | undefined;
    sup.add({
      name: 'leader-election',
      start: async (signal) => {
        elector = createLeaderElector({
          client: client!,
          namespace: 'kube-system',
          name: CONTROLLERS_LEASE,
          identity: election.identity,
          ...(election.timings ? { timings: election.timings } : {}),
          log: deps.log,
          lead: async () => {
            const term = createTerm(client!);
            const ac = new AbortController();
            await term.start(ac.signal);
            return async () => {
              ac.abort();
              await term.stop();
            };
          },
        });
        await elector.start(signal);
      },
      stop: async () => elector?.stop(),
    });
  } else {
    let term: ReturnType<typeof createTerm> | undefined;
    sup.add({
      name: 'term',
      start: async (signal) => {
        term = createTerm(client!);
        await term.start(signal);
      },
      stop: async () => term?.stop(),
    });
  }
  void sup.stopped.then(() => log.info('controllers stopped'));

  return { start: (signal) => sup.start(signal), ready, stop: () => sup.stop(), cacheSizes: () => liveInformers?.cacheSizes() ?? new Map() };
}
