/**
 * What the datapath needs of the node besides its table: an interface of the agent's own holding
 * the cluster DNS address (NodeLocal DNSCache's approach: the DNS server listens on a
 * local address, no DNAT in the query path) and the route of the Service CIDR, so a node process
 * dialling a ClusterIP is routed (the nat output hook runs after routing) even on a host without
 * a default route, and a packet to an unused ClusterIP never leaves the node; and the sysctls
 * Service traffic between pods of one bridge relies on. The interface is a bridge without ports
 * rather than a `dummy` one: the dummy module is not everywhere (these build machines lack it),
 * the bridge module is wherever pods run (the CNI bridge plugin needs it), and a portless bridge
 * behaves the same — its addresses are local, what is routed out of it is dropped.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Logger } from '../../common/log.ts';
import { ip } from './tools.ts';

export interface HostNetworkOptions {
  /** The interface's name (per agent, so several test agents on one host keep apart). */
  readonly iface: string;
  readonly clusterDns: string;
  readonly serviceCidr: string;
  readonly log: Logger;
  /** Runs `ip` through this prefix (tests: `ip netns exec <ns>`). */
  readonly prefix?: readonly string[];
}

async function sysctl(path: string, want: string, log: Logger): Promise<void> {
  const file = `/proc/sys/${path.replaceAll('.', '/')}`;
  const now = (await readFile(file, 'utf8').catch(() => undefined))?.trim();
  if (now === undefined) {
    // No br_netfilter: replies between two pods of one bridge bypass conntrack and arrive from
    // the pod's own address instead of the ClusterIP.
    log.warn({ sysctl: path }, 'sysctl missing: load br_netfilter (modprobe br_netfilter) for Service traffic between pods of one node');
    return;
  }
  if (now === want) return;
  await writeFile(file, want).catch((err: unknown) => log.warn({ sysctl: path, err: String(err) }, 'cannot set sysctl'));
}

export async function ensureHostNetwork(o: HostNetworkOptions): Promise<void> {
  const p = o.prefix ?? [];
  await ip(['link', 'add', o.iface, 'type', 'bridge'], p).catch((err: unknown) => {
    if (!String(err).includes('File exists')) throw err;
  });
  await ip(['link', 'set', o.iface, 'up'], p);
  await ip(['addr', 'replace', `${o.clusterDns}/32`, 'dev', o.iface], p);
  await ip(['route', 'replace', o.serviceCidr, 'dev', o.iface, 'src', o.clusterDns], p);
  if (p.length === 0) {
    await sysctl('net.bridge.bridge-nf-call-iptables', '1', o.log);
    await sysctl('net.ipv4.ip_forward', '1', o.log);
  }
}

/** Removes the interface; its address and the Service CIDR route go with it. */
export async function removeHostNetwork(o: Pick<HostNetworkOptions, 'iface' | 'prefix'>): Promise<void> {
  await ip(['link', 'del', o.iface], o.prefix ?? []).catch(() => undefined);
}
