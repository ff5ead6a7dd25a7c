/**
 * Services and cluster DNS on this node, as one agent component: the catalog of the cache's
 * Services and EndpointSlices, the nftables datapath, and the DNS server on the cluster DNS
 * address — all from the local cache, so they come back after a restart with the server gone.
 * The cluster network (Service CIDR, DNS address, domain) is the server's: the link hands it over
 * at every connect, and it is kept in `<data-dir>/agent/cluster-network.json` for offline starts.
 * Lifecycle: start(signal), ready, stop(); stop removes the table and the DNS address.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { DEFAULT_CLUSTER_NETWORK, parseClusterNetwork } from '../../common/cluster-network.ts';
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { createDnsServer } from '../dns/dns-server.ts';
import type { DnsServer } from '../dns/dns-server.ts';
import type { AgentCache, KubeJson } from '../types.ts';
import { createServiceCatalog } from './catalog.ts';
import { createServiceProxy } from './service-proxy.ts';
import type { ServiceJson } from './plan.ts';
import type { DatapathSettings } from './types.ts';
import { dataDirSuffix } from '../../common/data-dir-names.ts';

export interface NodeServicesOptions {
  readonly dataDir: string;
  readonly nodeName: string;
  readonly cache: AgentCache;
  /** This node's pod CIDR (masquerade decisions). */
  readonly podCidr: string;
  /** --resolv-conf: the upstream nameservers of names outside the cluster. */
  readonly resolvConf: string;
  readonly log: Logger;
  /** A Warning about this node (the agent records it as an Event on the Node). */
  readonly warn: (reason: string, message: string) => void;
  /** DNS port (tests); 53 otherwise. */
  readonly dnsPort?: number;
}

export interface NodeServices {
  start(signal: AbortSignal): Promise<void>;
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /** The kubelet's latest status of one of this node's pods. */
  podStatus(uid: string, status: KubeJson): void;
  /** The server's cluster network, as the link's hello answer tells it. */
  setNetwork(network: ClusterNetwork): void;
  /** The nameserver and domain pods get in their resolv.conf (kubelet --cluster-dns/--cluster-domain). */
  clusterDns(): { servers: string[]; domain: string };
  /** The cluster's Services as the cache holds them (the kubelet's service environment variables). */
  services(): Iterable<ServiceJson>;
}

/** How often a DNS address that could not be bound is tried again. */
const DNS_RETRY_MS = 10_000;

export function networkFile(dataDir: string): string {
  return join(dataDir, 'agent', 'cluster-network.json');
}

/** The cluster network kept in `file` (networkFile), or the defaults. */
export function loadNetwork(file: string, log: Logger): ClusterNetwork {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return DEFAULT_CLUSTER_NETWORK;
  }
  try {
    const n = parseClusterNetwork(JSON.parse(text));
    if (n) return n;
  } catch {
    // fall through
  }
  log.warn({ file }, 'the saved cluster network is unreadable: using the defaults until the server tells it again');
  return DEFAULT_CLUSTER_NETWORK;
}

export function createNodeServices(o: NodeServicesOptions): NodeServices {
  const log = o.log.child({ component: 'node-services' });
  const file = networkFile(o.dataDir);
  let network = loadNetwork(file, log);
  // Per data dir, as the CNI bridge's name: several agents on one host (tests) keep apart.
  const suffix = dataDirSuffix(o.dataDir);
  const settingsOf = (n: ClusterNetwork): DatapathSettings => ({ table: `edgeos-${suffix}`, serviceCidr: n.serviceCidr, clusterDns: n.clusterDns, podCidr: o.podCidr });
  const catalog = createServiceCatalog(o.cache);
  const proxy = createServiceProxy({
    nodeName: o.nodeName,
    catalog,
    settings: settingsOf(network),
    iface: `eosd${suffix}`,
    log: o.log,
    onRefused: (service, message) => o.warn('FailedToProgramService', `the kernel refused the rules of Service ${service}; its previous rules stay: ${message}`),
  });
  let dns: DnsServer | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  let signal: AbortSignal | undefined;

  async function startDns(): Promise<void> {
    const n = network;
    const server = createDnsServer({ address: n.clusterDns, port: o.dnsPort ?? 53, zone: n.clusterDomain, catalog, resolvConf: o.resolvConf, log: o.log });
    try {
      await server.start(signal!);
      if (stopped || n !== network) await server.stop();
      else dns = server;
    } catch (err) {
      await server.stop();
      // Another DNS server on the address (a second agent on a test host): keep trying, do not fail the node.
      log.error({ address: `${n.clusterDns}:${o.dnsPort ?? 53}`, err: errorMessage(err) }, `cannot serve cluster DNS: retrying every ${DNS_RETRY_MS / 1000} s`);
      o.warn('ClusterDNSUnavailable', `cannot serve cluster DNS on ${n.clusterDns}: ${errorMessage(err)}`);
      retry = setTimeout(() => void startDns(), DNS_RETRY_MS);
    }
  }

  return {
    ready: proxy.ready,
    async start(s) {
      signal = s;
      await catalog.start();
      await proxy.start(s);
      await startDns();
      s.addEventListener('abort', () => void this.stop(), { once: true });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(retry);
      await dns?.stop();
      await proxy.stop();
      catalog.stop();
    },
    podStatus(uid, status) {
      proxy.podStatus(uid, status);
    },
    setNetwork(next) {
      if (JSON.stringify(next) === JSON.stringify(network)) return;
      network = next;
      try {
        writeFileAtomic(file, JSON.stringify(next) + '\n', 0o644);
      } catch (err) {
        log.warn({ file, err: errorMessage(err) }, 'cannot keep the cluster network for offline starts');
      }
      const moved = proxy.setSettings(settingsOf(next));
      if (stopped || !signal) return;
      clearTimeout(retry);
      const old = dns;
      dns = undefined;
      void (async () => {
        await old?.stop();
        // The DNS address moves with the proxy's interface: bind once it is there.
        await moved;
        await startDns();
      })();
    },
    clusterDns: () => ({ servers: [network.clusterDns], domain: network.clusterDomain }),
    services: () => catalog.services.values(),
  };
}
