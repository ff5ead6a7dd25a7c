/**
 * The agent component (`edgeos agent`, `edgeos join`, and the local agent of `edgeos server`): a
 * supervisor (src/common/supervisor.ts) of the offline cache, the link, the container runtime, the
 * pod network (docs/podnet.md), Services and cluster DNS, the local volumes, the kubelet and
 * certificate renewal, started in that order and stopped in reverse. The link comes before the
 * runtime because a node joining for the first time learns its pod CIDR through it. A background
 * failure of any of them (the runtime cannot be kept up) stops the agent through its owner.
 *
 * With a runtime, the kubelet (src/agent/kubelet) runs pods from the cache and reports through
 * `link.statusSink`; it starts without waiting for the link, so a node that boots while the server
 * is unreachable brings its cached pods back (edge autonomy). The node also provisions and deletes
 * its local volumes (src/agent/storage, docs/storage.md).
 */
import { join } from 'node:path';
import type { ClusterNetwork } from '../common/cluster-network.ts';
import type { Logger } from '../common/log.ts';
import type { HeapCompactStats } from '../common/heap-compactor.ts';
import type { MallocTrimStats } from '../common/malloc.ts';
import type { LinkDialer } from '../common/link/transport.ts';
import { createSupervisor } from '../common/supervisor.ts';
import type { Component } from '../common/supervisor.ts';
import type { TunnelHandler } from '../common/tunnel.ts';
import { hostLocalPodIpKeeper } from '../runtime/cni/pod-ip-keeper.ts';
import { createContainerRuntime, readRoutes, resolvePodCidr, resolveRuntimeConfig } from '../runtime/index.ts';
import { AgentMetrics, countingDialer, instrumentRuntime } from './node-http/agent-metrics.ts';
import type { ContainerRuntime, EdgeContainerRuntime, RuntimeConfig, RuntimeOptions } from '../runtime/index.ts';
import { openAgentCache } from './cache/index.ts';
import { createKubelet } from './kubelet/index.ts';
import { createTokenManager } from './kubelet/token-manager.ts';
import type { Kubelet } from './kubelet/index.ts';
import { nodeDir, readIdentity, writeCertificate, writeNodeConfig } from './join/node-files.ts';
import type { NodeIdentity } from './join/node-files.ts';
import { startCertRenewal } from './link/cert-renewal.ts';
import type { CertRenewal } from './link/cert-renewal.ts';
import { webSocketDialer } from './link/dial.ts';
import { createLinkClient } from './link/link-client.ts';
import type { LinkClient } from './link/link-client.ts';
import type { BackoffOptions } from './link/backoff.ts';
import { LOCAL_STORAGE_PATH_ANNOTATION } from '../common/local-volumes.ts';
import { LocalVolumes } from './storage/local-volumes.ts';
import { createNodeServices, loadNetwork, networkFile } from './services/node-services.ts';
import { runTool } from './services/tools.ts';
import { nodeInternalIP } from './kubelet/node-info.ts';
import { kubepodsPath } from './kubelet/qos-cgroups.ts';
import { assignedPodCidr } from './podnet/assigned-cidr.ts';
import { underlayInterface } from './podnet/overlay.ts';
import { vtepMacOf } from './podnet/peers.ts';
import { createPodNetwork, podNetworkNames } from './podnet/pod-network.ts';
import type { PodNetwork } from './podnet/pod-network.ts';
import { VTEP_IP_ANNOTATION, VTEP_MAC_ANNOTATION, VXLAN_OVERHEAD } from './podnet/types.ts';
import type { PodNetworkBackend } from './podnet/types.ts';
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

/** Ethernet's MTU, when the underlay interface cannot be found. */
const DEFAULT_UNDERLAY_MTU = 1500;

export interface AgentOptions {
  readonly dataDir: string;
  readonly log: Logger;
  /**
   * The container runtime's settings (without dataDir), or false for an agent that only keeps
   * the link and the cache (tests of the link, and hosts where pods are not run).
   */
  readonly runtime: Omit<RuntimeOptions, 'dataDir'> | false | { readonly instance: ContainerRuntime };
  /** Serve tunnel streams with this handler instead of the runtime's (tests). */
  readonly tunnelHandler?: TunnelHandler;
  /**
   * The owner (a parent supervisor), told about a background failure; it must then stop the
   * agent. Without one the agent stops itself.
   */
  readonly onFailure?: (err: Error) => void;
  /** Link timing (tests shorten them). */
  readonly pingIntervalMs?: number;
  readonly leaseIntervalMs?: number;
  readonly backoff?: BackoffOptions;
  /** Where local volumes are provisioned (`--default-local-storage-path`; default `<dataDir>/storage`). */
  readonly localStoragePath?: string;
  /** better-sqlite3's addon inside the single executable (src/common/sea.ts). */
  readonly nativeBinding?: object;
  /** The process's malloc trimmer's figures, for the node's /metrics (src/common/malloc.ts). */
  readonly mallocStats?: () => MallocTrimStats;
  /** The process's V8 heap compactor's figures, for /metrics. */
  readonly heapCompactStats?: () => HeapCompactStats;
  /**
   * How the link reaches the server. Default: a WebSocket to the identity's servers with the
   * node certificate; the local agent of `edgeos server` gets the server's in-process transport.
   */
  readonly dial?: LinkDialer;
  /** --resolv-conf: upstream nameservers of the cluster DNS (default /etc/resolv.conf). */
  readonly resolvConf?: string;
  /**
   * --cgroup-root: the cgroup whose `kubepods` holds the pods' QoS cgroups (kubelet's flag;
   * default `/` for the default data dir, `/edgeos-<8 hex>` for another: docs/kubelet.md).
   */
  readonly cgroupRoot?: string;
  /** --sync-frequency: the kubelet's pod resync period (default 1 min: kubelet.ts DEFAULT_RESYNC_MS). */
  readonly resyncMs?: number;
  /** --pod-network-backend (docs/podnet.md): `vxlan` routes no peer natively; default `auto`. */
  readonly podNetworkBackend?: PodNetworkBackend;
  /** EDGEOS_POD_START_CONCURRENCY, resolved with the config (default: start-gate.ts defaultPodStartConcurrency). */
  readonly podStartConcurrency?: number;
}

export interface Agent extends Component {
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
  // Each part binds its own `component`; only `node` is shared, so every key appears once per line.
  const nodeLog = o.log.child({ node });
  const log = nodeLog.child({ component: 'agent' });
  const sup = createSupervisor({ name: 'agent', log, ...(o.onFailure ? { onFailure: o.onFailure } : {}) });
  let cache: AgentCache | undefined;
  let runtime: EdgeContainerRuntime | ContainerRuntime | undefined;
  let runtimeConfig: RuntimeConfig | undefined;
  let tunnel = o.tunnelHandler;
  let link: LinkClient | undefined;
  let kubelet: Kubelet | undefined;
  let localVolumes: LocalVolumes | undefined;
  let renewal: CertRenewal | undefined;
  const startedAt = Date.now();
  let services: NodeServices | undefined;
  let podNetwork: PodNetwork | undefined;
  let latestNetwork: ClusterNetwork | undefined;
  let podMtu = DEFAULT_UNDERLAY_MTU - VXLAN_OVERHEAD;
  let underlayDevice: string | undefined;
  // The node's /metrics (node proxy): runtime calls, PLEG and pod syncs, link traffic.
  const metrics = new AgentMetrics();
  metrics.malloc = o.mallocStats;
  metrics.heapCompact = o.heapCompactStats;

  sup.add({
    name: 'cache',
    start: async () => {
      cache = await openAgentCache({ file: join(o.dataDir, 'agent', 'cache.db'), log: nodeLog, ...(o.nativeBinding ? { nativeBinding: o.nativeBinding } : {}) });
    },
    stop: async () => cache?.close(),
  });

  const runtimeOptions = o.runtime;
  const storageRoot = o.localStoragePath ?? join(o.dataDir, 'storage');
  // A private containerd's pods are on edgeos's pod network; an external CRI endpoint brings its own.
  const podNetworkOn = runtimeOptions !== false && !('instance' in runtimeOptions) && !runtimeOptions.containerRuntimeEndpoint;
  let vtepIp = '';
  const vtepMac = vtepMacOf(node);
  const warn = (reason: string, message: string) => link?.statusSink.event({ involvedObject: { kind: 'Node', namespace: '', name: node, uid: node }, type: 'Warning', reason, message, at: Date.now() });
  // Before the runtime: a node joining for the first time gets its pod CIDR through the link.
  sup.add({
    name: 'link',
    get ready() {
      return link?.ready;
    },
    start: async (signal) => {
      if (podNetworkOn) vtepIp = await nodeInternalIP();
      link = createLinkClient({
        node,
        servers: identity.config.servers,
        // A joined agent follows the cluster's servers and keeps them (the local agent's link is in-process).
        ...(o.dial
          ? {}
          : {
              onServers: (servers: readonly string[]) => {
                identity = { ...identity, config: { ...identity.config, servers } };
                writeNodeConfig(nodeDir(o.dataDir), identity.config);
              },
            }),
        dial: countingDialer(o.dial ?? webSocketDialer(() => ({ caPem: identity.caPem, certPem: identity.certPem, keyPem: identity.keyPem })), metrics),
        cache: cache!,
        // The runtime starts after the link; a stream that arrives before it is refused.
        ...(tunnel || runtimeOptions !== false ? { tunnel: { handle: (open, stream) => (tunnel ? tunnel.handle(open, stream) : Promise.reject(new Error('the container runtime is not started yet'))) } satisfies TunnelHandler } : {}),
        // A node that runs pods tells the provisioner where its local volumes go, and its peers
        // where its end of the pod network is.
        register: runtimeOptions !== false
          ? {
              ...identity.config.register,
              annotations: {
                [LOCAL_STORAGE_PATH_ANNOTATION]: storageRoot,
                ...(podNetworkOn ? { [VTEP_IP_ANNOTATION]: vtepIp, [VTEP_MAC_ANNOTATION]: vtepMac } : {}),
              },
              ...(podNetworkOn && !('instance' in runtimeOptions) && runtimeOptions.podCidr ? { podCIDR: runtimeOptions.podCidr } : {}),
            }
          : identity.config.register,
        log: nodeLog,
        ...(o.pingIntervalMs ? { pingIntervalMs: o.pingIntervalMs } : {}),
        ...(o.leaseIntervalMs ? { leaseIntervalMs: o.leaseIntervalMs } : {}),
        ...(o.backoff ? { backoff: o.backoff } : {}),
        ...(runtimeOptions !== false
          ? {
              onRelay: (frame: Buffer) => podNetwork?.deliverRelay(frame),
              onNetwork: (n: ClusterNetwork) => {
                latestNetwork = n;
                services?.setNetwork(n);
                podNetwork?.resync();
              },
            }
          : {}),
      });
      await link.start(signal);
    },
    stop: async () => link?.stop(),
  });

  if (runtimeOptions !== false && 'instance' in runtimeOptions) {
    // A runtime made by the owner: the fleet simulator's in-memory one (bench/fleet), so
    // everything above the runtime is the real agent.
    sup.add({
      name: 'runtime',
      start: async (signal) => {
        runtime = runtimeOptions.instance;
        await runtime.start(signal);
        tunnel ??= createTunnelHandler({ runtime, log: nodeLog });
      },
      stop: async () => runtime?.stop(),
    });
  } else if (runtimeOptions !== false) {
    sup.add({
      name: 'runtime',
      get stopDeadlineMs() {
        return (runtime as EdgeContainerRuntime | undefined)?.stopDeadlineMs;
      },
      start: async (signal) => {
        // A private containerd's bridge gets the server's pod CIDR for this node (or --pod-cidr),
        // also claimed on this host; its pods' MTU leaves room for the overlay's headers.
        let podCidr = runtimeOptions.podCidr;
        if (podNetworkOn) {
          const assigned = podCidr ? undefined : await assignedPodCidr(cache!, node, signal, log);
          const { bridge } = resolveRuntimeConfig({ ...runtimeOptions, dataDir: o.dataDir }).cni;
          const choice = resolvePodCidr({ dataDir: o.dataDir, ...(podCidr ? { requested: podCidr } : {}), ...(assigned ? { assigned } : {}), routes: await readRoutes(), bridge });
          podCidr = choice.cidr;
          if (choice.assignedTakenBy !== undefined) {
            const message = `the pod CIDR ${assigned ?? ''} the server assigned is used by another agent on this host (${choice.assignedTakenBy}): this node's bridge uses ${choice.cidr}, which other nodes do not route to`;
            log.warn({ assigned, podCidr: choice.cidr }, message);
            warn('PodCIDRConflict', message);
          }
          const underlay = await underlayInterface((argv, input) => runTool(argv, input), vtepIp);
          underlayDevice = underlay?.name;
          podMtu = (underlay?.mtu ?? DEFAULT_UNDERLAY_MTU) - VXLAN_OVERHEAD;
        }
        runtimeConfig = resolveRuntimeConfig({
          ...runtimeOptions,
          dataDir: o.dataDir,
          ...(podCidr ? { podCidr } : {}),
          ...(podNetworkOn ? { podMtu, podMasquerade: false } : {}),
        });
        runtime = instrumentRuntime(createContainerRuntime(runtimeConfig, { log: nodeLog, onFailure: (err) => sup.fail('runtime', err) }), metrics);
        await runtime.start(signal);
        const rt = runtime;
        tunnel ??= createTunnelHandler({
          runtime: rt,
          log: nodeLog,
          nodeHttp: {
            nodeName: node,
            runtime: rt,
            pods: async () => (await cache!.list('Pod')).filter((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === node),
            sample: () => kubelet?.sampleStats(),
            startedAt,
            metrics,
            link: () => link,
          },
        });
      },
      stop: async () => runtime?.stop(),
    });

    if (podNetworkOn) {
      sup.add({
        name: 'pod-network',
        start: async (signal) => {
          podNetwork = createPodNetwork({
            dataDir: o.dataDir,
            nodeName: node,
            cache: cache!,
            local: {
              device: podNetworkNames(o.dataDir).device,
              vtepIp,
              vtepMac,
              mtu: podMtu,
              podCidr: runtimeConfig!.cni.podCidr,
              relayAddr: podNetworkNames(o.dataDir).relayAddr,
              ...(underlayDevice ? { underlayDevice } : {}),
            },
            // Peers without a direct path are reached through the server (docs/podnet.md).
            relaySend: (frame) => link?.sendRelay(frame) ?? false,
            relayUp: () => link?.connected ?? false,
            ...(o.podNetworkBackend ? { backend: o.podNetworkBackend } : {}),
            network: () => latestNetwork ?? loadNetwork(networkFile(o.dataDir), log),
            log: nodeLog,
            warn,
          });
          metrics.podRelay = () => podNetwork?.relayCounters;
          await podNetwork.start(signal);
        },
        stop: async () => podNetwork?.stop(),
      });
    }

    // Services and DNS from the cache, before the kubelet: offline they are back before pods start.
    sup.add({
      name: 'services',
      start: async (signal) => {
        services = createNodeServices({
          dataDir: o.dataDir,
          nodeName: node,
          cache: cache!,
          podCidr: runtimeConfig!.cni.podCidr,
          resolvConf: o.resolvConf ?? '/etc/resolv.conf',
          log: nodeLog,
          warn,
        });
        await services.start(signal);
        // The link may have told the cluster network before the Services existed.
        if (latestNetwork) services.setNetwork(latestNetwork);
      },
      stop: async () => services?.stop(),
    });
  }

  if (runtimeOptions !== false) {
    // Before the kubelet, which mounts the volumes this finds again from the cache.
    sup.add({
      name: 'local-volumes',
      start: async () => {
        const request = link!.request;
        localVolumes = new LocalVolumes({ node, cache: cache!, root: storageRoot, release: (name) => request({ type: 'volume-released', name }), log: nodeLog });
        await localVolumes.start();
      },
      stop: async () => localVolumes?.stop(),
    });
    sup.add({
      name: 'kubelet',
      start: async (signal) => {
        kubelet = createKubelet({
          nodeName: node,
          runtime: runtime!,
          cache: cache!,
          status: services ? withPodStatusTap(link!.statusSink, (pod, status) => services!.podStatus(pod.uid, status)) : link!.statusSink,
          ...(services ? { clusterDns: () => services!.clusterDns(), services: () => services!.services() } : {}),
          // Projected ServiceAccount tokens, asked for over the link as this node.
          tokenSource: createTokenManager({
            log: nodeLog,
            request: async (r) => {
              const ack = await link!.request({ type: 'service-account-token', ...r });
              if (typeof ack.token !== 'string') throw new Error('the server answered a token request without a token');
              return { token: ack.token };
            },
          }),
          log: nodeLog,
          observe: metrics,
          ...(o.resyncMs !== undefined ? { resyncMs: o.resyncMs } : {}),
          ...(o.podStartConcurrency !== undefined ? { podStartConcurrency: o.podStartConcurrency } : {}),
          rootDir: join(o.dataDir, 'agent', 'kubelet'),
          // Pods in a QoS cgroup tree of their own on edgeos's containerd (cgroupfs driver); not on
          // the owner's in-memory runtime, nor on a CRI endpoint whose cgroup driver is unknown.
          ...(runtimeConfig?.containerd ? { podCgroupRoot: kubepodsPath(o.dataDir, o.cgroupRoot) } : {}),
          // The kubelet removes a deleted pod's log directory only when it knows where they live.
          ...(runtimeConfig ? { podLogDir: runtimeConfig.podLogsDir, podIps: hostLocalPodIpKeeper(runtimeConfig.cni) } : {}),
        });
        await kubelet.start(signal);
      },
      stop: async () => kubelet?.stop(),
    });
  }

  sup.add({
    name: 'cert-renewal',
    start: async () => {
      const l = link!;
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
    },
    stop: async () => renewal?.stop(),
  });

  // Ready once the link synced the cache; the certificate is checked for renewal from then on.
  const ready = sup.ready.then(() => void renewal?.check());
  void sup.stopped.then(() => log.info('agent stopped'));

  return {
    name: 'agent',
    start: async (signal) => {
      await sup.start(signal);
      if (!sup.stopping) log.info({ servers: identity.config.servers }, 'agent started');
    },
    ready,
    stop: () => sup.stop(),
    get stopDeadlineMs() {
      return sup.stopDeadlineMs;
    },
    nodeName: node,
    get cache() {
      return cache;
    },
    get link() {
      return link;
    },
  };
}
