/**
 * The agent component (`edgeos agent`, `edgeos join`, and the local agent of `edgeos server`):
 * the offline cache, the container runtime, the tunnel handler and the link, started in that order
 * and stopped in reverse. Lifecycle as every edgeos component: start(signal), ready, stop(). A
 * background failure (the runtime cannot be kept up) goes to onFailure so the supervisor stops.
 *
 * With a runtime, the kubelet (src/agent/kubelet) runs pods from the cache and reports through
 * `link.statusSink`; it starts without waiting for the link, so a node that boots while the server
 * is unreachable brings its cached pods back (edge autonomy).
 */
import { join } from 'node:path';
import type { ClusterNetwork } from '../common/cluster-network.ts';
import type { Logger } from '../common/log.ts';
import type { TunnelHandler } from '../common/tunnel.ts';
import { createContainerRuntime, readRoutes, resolvePodCidr, resolveRuntimeConfig } from '../runtime/index.ts';
import type { EdgeContainerRuntime, RuntimeConfig, RuntimeOptions } from '../runtime/index.ts';
import { openAgentCache } from './cache/index.ts';
import { createKubelet } from './kubelet/index.ts';
import type { Kubelet } from './kubelet/index.ts';
import { nodeDir, readIdentity, writeCertificate } from './join/node-files.ts';
import type { NodeIdentity } from './join/node-files.ts';
import { startCertRenewal } from './link/cert-renewal.ts';
import type { CertRenewal } from './link/cert-renewal.ts';
import { createLinkClient } from './link/link-client.ts';
import type { LinkClient } from './link/link-client.ts';
import type { BackoffOptions } from './link/backoff.ts';
import { createNodeServices } from './services/node-services.ts';
import type { NodeServices } from './services/node-services.ts';
import { createTunnelHandler } from './tunnel/index.ts';
import type { AgentCache, KubeJson, StatusSink } from './types.ts';

/** The kubelet's sink, also telling `tap` every pod status (the datapath's view of local pods). */
function withPodStatusTap(sink: StatusSink, tap: (pod: { uid: string }, status: KubeJson) => void): StatusSink {
  return {
    ...sink,
    podStatus: (pod, status) => {
      tap(pod, status);
      sink.podStatus(pod, status);
    },
  };
}

export interface AgentOptions {
  readonly dataDir: string;
  readonly log: Logger;
  /**
   * The container runtime's settings (without dataDir), or false for an agent that only keeps
   * the link and the cache (tests of the link, and hosts where pods are not run).
   */
  readonly runtime: Omit<RuntimeOptions, 'dataDir'> | false;
  /** Serve tunnel streams with this handler instead of the runtime's (tests). */
  readonly tunnelHandler?: TunnelHandler;
  readonly onFailure: (err: Error) => void;
  /** Link timing (tests shorten them). */
  readonly pingIntervalMs?: number;
  readonly leaseIntervalMs?: number;
  readonly backoff?: BackoffOptions;
  /** better-sqlite3's addon inside the single executable (src/common/sea.ts). */
  readonly nativeBinding?: object;
  /** --resolv-conf: upstream nameservers of the cluster DNS (default /etc/resolv.conf). */
  readonly resolvConf?: string;
}

export interface Agent {
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once the link synced the cache for the first time. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  readonly nodeName: string;
  /** Set after start. */
  readonly cache: AgentCache | undefined;
  readonly link: LinkClient | undefined;
}

export function createAgent(o: AgentOptions): Agent {
  // Reading the identity first makes `edgeos agent` on an unjoined data dir fail before anything starts.
  let identity: NodeIdentity = readIdentity(o.dataDir);
  const node = identity.config.nodeName;
  const log = o.log.child({ component: 'agent', node });
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  let cache: AgentCache | undefined;
  let runtime: EdgeContainerRuntime | undefined;
  let link: LinkClient | undefined;
  let kubelet: Kubelet | undefined;
  let renewal: CertRenewal | undefined;
  let runtimeConfig: RuntimeConfig | undefined;
  let services: NodeServices | undefined;
  let stopping: Promise<void> | undefined;

  async function start(signal: AbortSignal): Promise<void> {
    try {
      cache = await openAgentCache({ file: join(o.dataDir, 'agent', 'cache.db'), log, ...(o.nativeBinding ? { nativeBinding: o.nativeBinding } : {}) });
      let tunnel = o.tunnelHandler;
      if (o.runtime !== false) {
        // A private containerd needs a bridge subnet of its own on this host (an external CRI
        // endpoint brings its own networking).
        const podCidr = o.runtime.containerRuntimeEndpoint
          ? o.runtime.podCidr
          : resolvePodCidr({ dataDir: o.dataDir, ...(o.runtime.podCidr ? { requested: o.runtime.podCidr } : {}), routes: await readRoutes() });
        runtimeConfig = resolveRuntimeConfig({ ...o.runtime, dataDir: o.dataDir, ...(podCidr ? { podCidr } : {}) });
        runtime = createContainerRuntime(runtimeConfig, { log, onFailure: o.onFailure });
        await runtime.start(signal);
        tunnel ??= createTunnelHandler({ runtime, log });
        // Services and DNS from the cache, before the link and the kubelet: offline they are back before pods start.
        services = createNodeServices({
          dataDir: o.dataDir,
          nodeName: node,
          cache,
          podCidr: runtimeConfig.cni.podCidr,
          resolvConf: o.resolvConf ?? '/etc/resolv.conf',
          log,
          warn: (reason, message) => link?.statusSink.event({ involvedObject: { kind: 'Node', namespace: '', name: node, uid: node }, type: 'Warning', reason, message, at: Date.now() }),
        });
        await services.start(signal);
      }
      link = createLinkClient({
        node,
        servers: identity.config.servers,
        credentials: () => ({ caPem: identity.caPem, certPem: identity.certPem, keyPem: identity.keyPem }),
        cache,
        ...(tunnel ? { tunnel } : {}),
        register: identity.config.register,
        log,
        ...(o.pingIntervalMs ? { pingIntervalMs: o.pingIntervalMs } : {}),
        ...(o.leaseIntervalMs ? { leaseIntervalMs: o.leaseIntervalMs } : {}),
        ...(o.backoff ? { backoff: o.backoff } : {}),
        ...(services ? { onNetwork: (n: ClusterNetwork) => services?.setNetwork(n) } : {}),
      });
      await link.start(signal);
      if (runtime) {
        const svc = services;
        kubelet = createKubelet({
          nodeName: node,
          runtime,
          cache,
          status: svc ? withPodStatusTap(link.statusSink, (pod, status) => svc.podStatus(pod.uid, status)) : link.statusSink,
          ...(svc ? { clusterDns: () => svc.clusterDns() } : {}),
          log,
          rootDir: join(o.dataDir, 'agent', 'kubelet'),
          // The kubelet removes a deleted pod's log directory only when it knows where they live.
          ...(runtimeConfig ? { podLogDir: runtimeConfig.podLogsDir } : {}),
        });
        await kubelet.start(signal);
      }
      const l = link;
      renewal = startCertRenewal({
        node,
        caPem: identity.caPem,
        currentCert: () => identity.certPem,
        request: (m) => l.request(m),
        save: (certPem, keyPem) => {
          writeCertificate(nodeDir(o.dataDir), certPem, keyPem);
          identity = { ...identity, certPem, keyPem };
        },
        log,
      });
      l.ready.then(
        () => {
          markReady();
          void renewal?.check();
        },
        () => undefined,
      );
    } catch (err) {
      await stop();
      throw err;
    }
    signal.addEventListener('abort', () => void stop(), { once: true });
    log.info({ servers: identity.config.servers }, 'agent started');
  }

  async function doStop(): Promise<void> {
    renewal?.stop();
    await kubelet?.stop().catch((err: unknown) => log.error({ err }, 'stopping the kubelet failed'));
    await link?.stop().catch((err: unknown) => log.error({ err }, 'stopping the link failed'));
    await services?.stop().catch((err: unknown) => log.error({ err }, 'stopping Services and DNS failed'));
    await runtime?.stop().catch((err: unknown) => log.error({ err }, 'stopping the runtime failed'));
    await cache?.close().catch((err: unknown) => log.error({ err }, 'closing the cache failed'));
    log.info('agent stopped');
  }

  function stop(): Promise<void> {
    stopping ??= doStop();
    return stopping;
  }

  return {
    start,
    ready,
    stop,
    nodeName: node,
    get cache() {
      return cache;
    },
    get link() {
      return link;
    },
  };
}
