/**
 * The agent component (`edgeos agent`, `edgeos join`, and the local agent of `edgeos server`):
 * the offline cache, the container runtime, the tunnel handler and the link, started in that order
 * and stopped in reverse. Lifecycle as every edgeos component: start(signal), ready, stop(). A
 * background failure (the runtime cannot be kept up) goes to onFailure so the supervisor stops.
 *
 * With a runtime, the kubelet (src/agent/kubelet) runs pods from the cache and reports through
 * `link.statusSink`; it starts without waiting for the link, so a node that boots while the server
 * is unreachable brings its cached pods back (edge autonomy). The node also provisions and deletes
 * its local volumes (src/agent/storage, docs/storage.md).
 */
import { join } from 'node:path';
import type { Logger } from '../common/log.ts';
import type { LinkDialer } from '../common/link/transport.ts';
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
import { webSocketDialer } from './link/dial.ts';
import { createLinkClient } from './link/link-client.ts';
import type { LinkClient } from './link/link-client.ts';
import type { BackoffOptions } from './link/backoff.ts';
import { LOCAL_STORAGE_PATH_ANNOTATION } from '../common/local-volumes.ts';
import { LocalVolumes } from './storage/local-volumes.ts';
import { createTunnelHandler } from './tunnel/index.ts';
import type { AgentCache } from './types.ts';

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
  /** Where local volumes are provisioned (`--default-local-storage-path`; default `<dataDir>/storage`). */
  readonly localStoragePath?: string;
  /** better-sqlite3's addon inside the single executable (src/common/sea.ts). */
  readonly nativeBinding?: object;
  /**
   * How the link reaches the server. Default: a WebSocket to the identity's servers with the
   * node certificate; the local agent of `edgeos server` gets the server's in-process transport.
   */
  readonly dial?: LinkDialer;
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
  let localVolumes: LocalVolumes | undefined;
  let renewal: CertRenewal | undefined;
  let runtimeConfig: RuntimeConfig | undefined;
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
      }
      const storageRoot = o.localStoragePath ?? join(o.dataDir, 'storage');
      link = createLinkClient({
        node,
        servers: identity.config.servers,
        dial: o.dial ?? webSocketDialer(() => ({ caPem: identity.caPem, certPem: identity.certPem, keyPem: identity.keyPem })),
        cache,
        ...(tunnel ? { tunnel } : {}),
        // A node that runs pods tells the provisioner where its local volumes go.
        register: runtime ? { ...identity.config.register, annotations: { [LOCAL_STORAGE_PATH_ANNOTATION]: storageRoot } } : identity.config.register,
        log,
        ...(o.pingIntervalMs ? { pingIntervalMs: o.pingIntervalMs } : {}),
        ...(o.leaseIntervalMs ? { leaseIntervalMs: o.leaseIntervalMs } : {}),
        ...(o.backoff ? { backoff: o.backoff } : {}),
      });
      await link.start(signal);
      if (runtime) {
        const request = link.request;
        // Its own component key (pino: each key once per line), so from the root logger.
        localVolumes = new LocalVolumes({ node, cache, root: storageRoot, release: (name) => request({ type: 'volume-released', name }), log: o.log.child({ node }) });
        await localVolumes.start();
        kubelet = createKubelet({
          nodeName: node,
          runtime,
          cache,
          status: link.statusSink,
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
    localVolumes?.stop();
    await kubelet?.stop().catch((err: unknown) => log.error({ err }, 'stopping the kubelet failed'));
    await link?.stop().catch((err: unknown) => log.error({ err }, 'stopping the link failed'));
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
