/**
 * Leader election on a coordination.k8s.io Lease, as kube-controller-manager and kube-scheduler
 * elect with client-go's leaderelection package: with several servers on one datastore, the
 * controllers and the scheduler run on one of them at a time (docs/ha.md).
 *
 * - A candidate reads the Lease every retry period. It may take it when nobody holds it, when it
 *   holds it itself (a restart of the same server), or when the holder has not renewed for the
 *   lease's duration — measured with the candidate's own clock from when it last saw the Lease
 *   change (client-go's observedTime), so clocks of different servers never meet.
 * - Taking and renewing are updates with the read resourceVersion: of two candidates, one wins,
 *   the other gets a Conflict and stays a candidate.
 * - The leader renews every retry period. If no renewal succeeded for the renew deadline, it stops
 *   leading (its controllers stop) before anyone else may take over: renew deadline < lease
 *   duration is the margin that keeps two leaders from overlapping.
 * - A leader that stops gracefully releases the Lease (empty holder), so another server takes it
 *   within one retry period instead of a lease duration.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../common/log.ts';
import { errorMessage } from '../../common/errors.ts';
import { AlreadyExistsError, ConflictError, NotFoundError, resources } from './types.ts';
import type { KubeClient, KubeObject } from './types.ts';

export interface LeaderElectionTimings {
  /** How long a Lease that is not renewed keeps others out (the Lease's leaseDurationSeconds). */
  readonly leaseDurationMs: number;
  /** How long a leader keeps leading without a successful renewal. */
  readonly renewDeadlineMs: number;
  /** How often candidates try to take the Lease and the leader renews it. */
  readonly retryPeriodMs: number;
}

/**
 * Faster than kube-controller-manager's 15 s / 10 s / 2 s, for a handover well inside 15 s after a
 * leader is killed (docs/ha.md "Leader election"): a candidate takes an abandoned Lease 6–7 s after
 * the last renewal; a leader steps down after 4 s without one — four renewal attempts, where a
 * healthy server's renewal is one local API write of a few milliseconds — 2 s before anyone may
 * take over.
 */
export const leaderElectionDefaults: LeaderElectionTimings = { leaseDurationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000 };

export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  /** This candidate's identity: the server's id, stable across its restarts. */
  readonly identity: string;
  readonly timings?: LeaderElectionTimings;
  readonly log: Logger;
  /** Starts leading; resolves with how to stop (called when leadership ends or the elector stops). */
  readonly lead: () => Promise<() => Promise<void>>;
  readonly now?: () => number;
}

export interface LeaderElector {
  /** Starts campaigning in the background; resolves at once. */
  start(signal: AbortSignal): Promise<void>;
  /** Stops leading (if it does) and releases the Lease. */
  stop(): Promise<void>;
  readonly leading: boolean;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
type Lease = KubeObject & { spec?: LeaseSpec };

/** metav1.MicroTime: RFC 3339 with microseconds. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Waits `ms`, or less when `signal` aborts; never rejects. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal }).catch(() => undefined);

export function createLeaderElector(o: LeaderElectionOptions): LeaderElector {
  const t = o.timings ?? leaderElectionDefaults;
  const now = o.now ?? Date.now;
  const log = o.log.child({ component: 'leader-election' });
  const ref = { ...resources.leases, namespace: o.namespace };
  const durationSeconds = Math.max(1, Math.ceil(t.leaseDurationMs / 1000));
  let observedVersion = '';
  let observedAt = 0;
  let leading = false;
  let stopLeading: (() => Promise<void>) | undefined;
  let loop: Promise<void> | undefined;
  const abort = new AbortController();

  /** One attempt to take or renew the Lease; true when this candidate holds it afterwards. */
  async function tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const at = now();
    let lease: Lease;
    try {
      lease = await o.client.get<Lease>(ref, o.name, { signal });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      const spec: LeaseSpec = { holderIdentity: o.identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(at), renewTime: microTime(at), leaseTransitions: 0 };
      try {
        const created = await o.client.create<Lease>(ref, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: o.name, namespace: o.namespace }, spec }, { signal });
        observedVersion = created.metadata.resourceVersion ?? '';
        observedAt = at;
        return true;
      } catch (e) {
        if (e instanceof AlreadyExistsError) return false;
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const version = lease.metadata.resourceVersion ?? '';
    if (version !== observedVersion) {
      observedVersion = version;
      observedAt = at;
    }
    const holder = spec.holderIdentity ?? '';
    const heldFor = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder !== '' && holder !== o.identity && observedAt + heldFor > at) return false;
    const ours = holder === o.identity;
    const next: Lease = {
      ...lease,
      spec: {
        holderIdentity: o.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: ours && spec.acquireTime ? spec.acquireTime : microTime(at),
        renewTime: microTime(at),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      },
    };
    try {
      const updated = await o.client.update<Lease>(ref, next, { signal });
      observedVersion = updated.metadata.resourceVersion ?? '';
      observedAt = at;
      if (!ours) log.info({ lease: `${o.namespace}/${o.name}`, previous: holder || undefined }, 'took the lease');
      return true;
    } catch (err) {
      if (err instanceof ConflictError) return false; // another candidate was faster
      throw err;
    }
  }

  const attempt = (signal: AbortSignal) =>
    tryAcquireOrRenew(AbortSignal.any([signal, AbortSignal.timeout(t.renewDeadlineMs)])).catch((err: unknown) => {
      if (!signal.aborted) log.debug({ err: errorMessage(err) }, 'lease attempt failed');
      return false;
    });

  async function campaign(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!(await attempt(signal))) {
        await sleep(t.retryPeriodMs, signal);
        continue;
      }
      if (signal.aborted) break;
      leading = true;
      log.info({ lease: `${o.namespace}/${o.name}`, identity: o.identity }, 'leading: starting the controllers');
      try {
        stopLeading = await o.lead();
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'the controllers failed to start; giving up the lease');
        leading = false;
        await release();
        await sleep(t.leaseDurationMs, signal);
        continue;
      }
      let lastRenew = now();
      while (!signal.aborted) {
        await sleep(t.retryPeriodMs, signal);
        if (signal.aborted) break;
        if (await attempt(signal)) lastRenew = now();
        else if (now() - lastRenew > t.renewDeadlineMs) {
          log.warn({ sinceRenewMs: now() - lastRenew }, 'could not renew the lease within the renew deadline: stopping the controllers');
          break;
        }
      }
      leading = false;
      const stop = stopLeading;
      stopLeading = undefined;
      await stop?.();
    }
  }

  /** An empty holder lets the next candidate take the Lease at its next attempt. */
  async function release(): Promise<void> {
    try {
      const lease = await o.client.get<Lease>(ref, o.name, { signal: AbortSignal.timeout(t.renewDeadlineMs) });
      if (lease.spec?.holderIdentity !== o.identity) return;
      const at = microTime(now());
      await o.client.update<Lease>(ref, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: at, renewTime: at } }, { signal: AbortSignal.timeout(t.renewDeadlineMs) });
      log.info('released the lease');
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'could not release the lease; another server takes it once it expires');
    }
  }

  return {
    async start(signal) {
      signal.addEventListener('abort', () => abort.abort(), { once: true });
      loop = campaign(abort.signal);
    },
    async stop() {
      const wasLeading = leading || stopLeading !== undefined;
      abort.abort();
      await loop;
      if (wasLeading) await release();
    },
    get leading() {
      return leading;
    },
  };
}
