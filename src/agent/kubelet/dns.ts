import { readFile } from 'node:fs/promises';
import type { Pod } from 'kubernetes-types/core/v1';
import type { DnsConfig } from '../../runtime/types.ts';
import { SharedReading } from './host-reading.ts';

export interface ClusterDns {
  /** Cluster DNS server addresses (kubelet --cluster-dns); empty when the node has none. */
  servers: string[];
  /** Cluster domain (kubelet --cluster-domain). */
  domain: string;
}

/** nameserver/search/options of a resolv.conf. */
export function parseResolvConf(text: string): DnsConfig {
  const out: DnsConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const [key, ...rest] = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

export async function hostResolvConf(file = '/etc/resolv.conf'): Promise<DnsConfig> {
  return parseResolvConf(await readFile(file, 'utf8').catch(() => ''));
}

/**
 * The host's /etc/resolv.conf as every pod pass of this process reads it (a pass builds the pod's
 * DNS settings): read at most once a second, however many pods and agents ask.
 */
export const hostResolvConfReader = new SharedReading(() => hostResolvConf(), { maxAgeMs: 1000 });

const uniq = (a: string[]): string[] => [...new Set(a)];

/**
 * kubelet's GetPodDNS (pkg/kubelet/network/dns): ClusterFirst uses the cluster DNS with the
 * <ns>.svc.<domain> search path and ndots:5 — without a cluster DNS the kubelet falls back to
 * Default and says so (`missingClusterDns`); Default copies the host's resolv.conf; None uses only
 * spec.dnsConfig; dnsConfig is merged into the others. Host-network pods with ClusterFirst use the
 * host's settings unless the policy is ClusterFirstWithHostNet.
 */
export function podDns(pod: Pod, host: DnsConfig, cluster: ClusterDns): { config: DnsConfig; missingClusterDns: boolean } {
  const spec = pod.spec ?? { containers: [] };
  let policy = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  let missingClusterDns = false;
  if (policy === 'ClusterFirst' && cluster.servers.length === 0) {
    policy = 'Default';
    missingClusterDns = true;
  }
  let cfg: DnsConfig;
  if (policy === 'None') cfg = { servers: [], searches: [], options: [] };
  else if (policy === 'Default') cfg = { servers: [...host.servers], searches: [...host.searches], options: [...host.options] };
  else {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = cluster.domain;
    cfg = { servers: [...cluster.servers], searches: [`${ns}.svc.${d}`, `svc.${d}`, d, ...host.searches], options: ['ndots:5'] };
  }
  const extra = spec.dnsConfig;
  if (extra) {
    cfg.servers = uniq([...cfg.servers, ...(extra.nameservers ?? [])]);
    cfg.searches = uniq([...cfg.searches, ...(extra.searches ?? [])]);
    const opts = new Map(cfg.options.map((o) => [o.split(':')[0]!, o]));
    for (const o of extra.options ?? []) opts.set(o.name ?? '', o.value !== undefined ? `${o.name}:${o.value}` : (o.name ?? ''));
    cfg.options = [...opts.values()];
  }
  // glibc honours at most 3 nameservers and 6 search domains (kubelet truncates the same way).
  cfg.servers = cfg.servers.slice(0, 3);
  cfg.searches = cfg.searches.slice(0, 32);
  return { config: cfg, missingClusterDns };
}
