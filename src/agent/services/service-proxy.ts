/**
 * The Service datapath component (the agent's kube-proxy): keeps the node's nftables table equal
 * to what the AgentCache's Services and EndpointSlices ask for, corrected by what the kubelet knows
 * of this node's pods (readiness and IP, newer than the slices the server last sent — and the
 * only truth while the server is unreachable). It starts from the cache alone, so after an agent
 * restart or a reboot without the server the rules are back before the kubelet starts pods.
 * Changes arriving together (one link message, or several while a sync runs) are one sync and one
 * transaction. No minimum period between syncs (kube-proxy's minSyncPeriod): one of 200 ms took
 * ~0.25 MB of promoted garbage out of a pod start but put up to 200 ms on every change's latency
 * (bench/services/README.md, session 8).
 * Lifecycle: start(signal), ready, stop() — stop removes the table and the node-local address.
 */
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { KubeJson } from '../types.ts';
import { NftApplier } from './applier.ts';
import type { Refusal } from './applier.ts';
import { flushConntrack, staleUdpFlows } from './conntrack.ts';
import { ensureHostNetwork, removeHostNetwork } from './host-network.ts';
import type { ServiceCatalog } from './catalog.ts';
import { createPlanner, localPodState } from './plan.ts';
import type { LocalPodState } from './plan.ts';
import { createRenderer } from './render.ts';
import { checkNft, nftRunner } from './tools.ts';
import type { DatapathSettings, ServicePortPlan } from './types.ts';

export interface ServiceProxyOptions {
  readonly nodeName: string;
  /** The Services and EndpointSlices of the cache (started by the caller). */
  readonly catalog: ServiceCatalog;
  readonly settings: DatapathSettings;
  /** The interface holding the cluster DNS address (host-network.ts). */
  readonly iface: string;
  readonly log: Logger;
  /** A Service whose rules the kernel refused (the agent records an Event on the node). */
  readonly onRefused?: (service: string, message: string) => void;
  /** Called after each applied sync with how long the change took to reach the kernel. */
  readonly onSynced?: (info: { ms: number; ports: number }) => void;
  /** Runs the tools through this prefix (tests: `ip netns exec <ns>`). */
  readonly toolPrefix?: readonly string[];
}

export interface ServiceProxy {
  start(signal: AbortSignal): Promise<void>;
  /** Resolves after the first sync from the cache is in the kernel. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /** The kubelet's latest status of one of this node's pods (undefined: the pod is gone). */
  podStatus(uid: string, status: KubeJson | undefined): void;
  /** A new cluster network (from the server): readdresses (resolved then) and resyncs. */
  setSettings(settings: DatapathSettings): Promise<void>;
}

export function createServiceProxy(o: ServiceProxyOptions): ServiceProxy {
  const log = o.log.child({ component: 'services' });
  const prefix = o.toolPrefix ?? [];
  const { catalog } = o;
  const localPods = new Map<string, LocalPodState>();
  let settings = o.settings;
  let applier = new NftApplier(settings.table, nftRunner(prefix));
  let plans: ServicePortPlan[] = [];
  const plan = createPlanner();
  const render = createRenderer();
  let unsubscribe: (() => void) | undefined;
  let stopped = false;
  let markReady!: () => void;
  let failReady!: (err: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    markReady = res;
    failReady = rej;
  });
  ready.catch(() => undefined);

  // One sync at a time; changes during a sync make exactly one more.
  let running: Promise<void> | undefined;
  let again = false;
  let since: number | undefined;

  /** `first`: a refused table is an error (there is no previous one to keep). */
  async function syncOnce(first = false): Promise<void> {
    const started = since ?? performance.now();
    since = undefined;
    const next = plan({ services: [...catalog.services.values()], slices: [...catalog.slices.values()], nodeName: o.nodeName, clusterDns: settings.clusterDns, localPods });
    let refused: Refusal[];
    try {
      refused = await applier.apply(render(next, settings));
    } catch (err) {
      if (first) throw err;
      log.error({ err: errorMessage(err) }, 'the kernel refused the Service table: the previous one stays');
      return;
    }
    for (const r of refused) {
      const service = r.id.split('/').slice(0, 2).join('/');
      log.error({ service, port: r.id, err: r.message }, 'the kernel refused the rules of a Service: its previous rules stay');
      o.onRefused?.(service, r.message);
    }
    const flows = staleUdpFlows(plans, next);
    plans = next;
    if (flows.length > 0) await flushConntrack(flows, log, prefix);
    o.onSynced?.({ ms: performance.now() - started, ports: next.length });
  }

  function schedule(): void {
    if (stopped) return;
    since ??= performance.now();
    if (running) {
      again = true;
      return;
    }
    running = syncOnce()
      .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'Service sync failed'))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  return {
    ready,
    async start(signal) {
      try {
        await checkNft(prefix);
        await ensureHostNetwork({ iface: o.iface, clusterDns: settings.clusterDns, serviceCidr: settings.serviceCidr, log, prefix });
        unsubscribe = catalog.subscribe(schedule);
        const t0 = performance.now();
        await syncOnce(true);
        log.info({ servicePorts: plans.length, table: settings.table, ms: Math.round(performance.now() - t0) }, 'Service rules programmed');
        markReady();
      } catch (err) {
        failReady(err as Error);
        throw err;
      }
      signal.addEventListener('abort', () => void this.stop(), { once: true });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe?.();
      await running;
      await applier.remove().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'cannot remove the Service table'));
      await removeHostNetwork({ iface: o.iface, prefix });
      log.info('Service rules removed');
    },
    podStatus(uid, status) {
      const before = localPods.get(uid);
      if (status) localPods.set(uid, localPodState(status));
      else localPods.delete(uid);
      const after = localPods.get(uid);
      // Only a pod an EndpointSlice names can change a plan (the others are not endpoints yet; when
      // a slice names one, that change syncs). While 20 pods start, 18 of them backing no Service,
      // each turning ready was a whole sync: plan, render, compare, for nothing.
      if ((before?.ready !== after?.ready || before?.ip !== after?.ip) && plan.localTargets.has(uid)) schedule();
    },
    async setSettings(next) {
      if (JSON.stringify(next) === JSON.stringify(settings)) return;
      const old = settings;
      settings = next;
      log.info({ serviceCidr: next.serviceCidr, clusterDns: next.clusterDns }, 'the cluster network changed: reprogramming');
      try {
        await running;
        if (old.table !== next.table) {
          await applier.remove().catch(() => undefined);
          applier = new NftApplier(next.table, nftRunner(prefix));
        }
        await removeHostNetwork({ iface: o.iface, prefix });
        await ensureHostNetwork({ iface: o.iface, clusterDns: next.clusterDns, serviceCidr: next.serviceCidr, log, prefix });
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'cannot apply the new cluster network');
      }
      schedule();
    },
  };
}
