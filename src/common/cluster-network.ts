/**
 * The cluster's networking, decided by the server (`--cluster-cidr`, `--node-cidr-mask-size`,
 * `--service-cidr`, `--cluster-dns`, `--cluster-domain`, `--service-node-port-range`, K3s's and
 * kube-controller-manager's flags and defaults) and handed to every
 * agent in the link's hello answer, which keeps it on disk so a node restarted offline programs
 * the same datapath and DNS (docs/services.md).
 */
import { InvalidInputError } from './errors.ts';

export interface ClusterNetwork {
  /** Pod addresses of every node come from here (IPv4 CIDR); each node gets one block of it. */
  readonly clusterCidr: string;
  /** The prefix length of each node's block (`node.spec.podCIDR`). */
  readonly nodeCidrMaskSize: number;
  /** ClusterIPs come from here (IPv4 CIDR). */
  readonly serviceCidr: string;
  /** The address pods use as their nameserver; the agent answers on it itself. */
  readonly clusterDns: string;
  /** The cluster domain (kubelet --cluster-domain). */
  readonly clusterDomain: string;
  /** NodePorts come from this inclusive range. */
  readonly nodePortRange: { readonly min: number; readonly max: number };
}

export const DEFAULT_CLUSTER_NETWORK: ClusterNetwork = Object.freeze({
  clusterCidr: '10.42.0.0/16',
  nodeCidrMaskSize: 24,
  serviceCidr: '10.43.0.0/16',
  clusterDns: '10.43.0.10',
  clusterDomain: 'cluster.local',
  nodePortRange: Object.freeze({ min: 30000, max: 32767 }),
});

export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** "a.b.c.d/n" as network address and size, or undefined. */
export function parseIpv4Cidr(cidr: string): { base: number; prefix: number; size: number } | undefined {
  const [addr = '', bits = ''] = cidr.split('/');
  const ip = ipv4ToInt(addr);
  const prefix = /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix, size };
}

/** True when two CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseIpv4Cidr(a);
  const y = parseIpv4Cidr(b);
  if (!x || !y) return false;
  return x.base < y.base + y.size && y.base < x.base + x.size;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseIpv4Cidr(cidr);
  const n = ipv4ToInt(ip);
  return !!c && n !== undefined && n >= c.base && n < c.base + c.size;
}

/** The first address of the Service CIDR: the `kubernetes` Service's ClusterIP (as kube-apiserver). */
export function kubernetesServiceIp(n: Pick<ClusterNetwork, 'serviceCidr'>): string {
  return intToIpv4(parseIpv4Cidr(n.serviceCidr)!.base + 1);
}

const domainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** At most 2^16 node blocks in the cluster CIDR (kube-controller-manager's clusterSubnetMaxDiff). */
export const MAX_NODE_CIDR_BITS = 16;

/**
 * The server's own check of its flags (not of a network an agent receives, which an earlier server
 * may have allowed): kube-controller-manager's cidrset refuses more than 16 bits between the
 * cluster CIDR and the node mask size (65,536 blocks); its allocator, like ours, keeps the blocks
 * in memory. Returns how many nodes the cluster CIDR holds.
 */
export function checkNodeCidrBlocks(n: Pick<ClusterNetwork, 'clusterCidr' | 'nodeCidrMaskSize'>, from: { clusterCidr: string; nodeCidrMaskSize: string }): number {
  const prefix = parseIpv4Cidr(n.clusterCidr)!.prefix;
  const bits = n.nodeCidrMaskSize - prefix;
  if (bits > MAX_NODE_CIDR_BITS) {
    throw new InvalidInputError(
      `${from.nodeCidrMaskSize}: /${n.nodeCidrMaskSize} splits ${from.clusterCidr} ${n.clusterCidr} into ${2 ** bits} node blocks; at most ${2 ** MAX_NODE_CIDR_BITS} are allowed (a mask size up to ${prefix + MAX_NODE_CIDR_BITS}), as kube-controller-manager allows`,
    );
  }
  return 2 ** bits;
}

/**
 * Validates raw values into a ClusterNetwork; `from` names the flag (or variable) of each setting
 * so an error says what to fix.
 */
export function resolveClusterNetwork(
  raw: { clusterCidr?: string; nodeCidrMaskSize?: string; serviceCidr?: string; clusterDns?: string; clusterDomain?: string; nodePortRange?: string },
  from: { clusterCidr?: string; nodeCidrMaskSize?: string; serviceCidr: string; clusterDns: string; clusterDomain: string; nodePortRange: string },
): ClusterNetwork {
  const d = DEFAULT_CLUSTER_NETWORK;
  const clusterFrom = from.clusterCidr ?? '--cluster-cidr';
  const maskFrom = from.nodeCidrMaskSize ?? '--node-cidr-mask-size';
  const clusterCidr = raw.clusterCidr?.trim() ?? d.clusterCidr;
  const pc = parseIpv4Cidr(clusterCidr);
  if (!pc || pc.prefix < 8 || pc.prefix > 28) throw new InvalidInputError(`${clusterFrom}: ${JSON.stringify(clusterCidr)} is not an IPv4 CIDR between /8 and /28 such as 10.42.0.0/16`);
  const maskText = raw.nodeCidrMaskSize?.trim() ?? String(d.nodeCidrMaskSize);
  const nodeCidrMaskSize = /^\d{1,2}$/.test(maskText) ? Number(maskText) : NaN;
  // A node needs its gateway, at least one pod and the broadcast address: /29 is the smallest.
  if (!(nodeCidrMaskSize >= pc.prefix && nodeCidrMaskSize <= 29)) {
    throw new InvalidInputError(`${maskFrom}: ${JSON.stringify(maskText)} must be a prefix length between ${pc.prefix} (${clusterFrom}) and 29`);
  }
  const serviceCidr = raw.serviceCidr?.trim() ?? d.serviceCidr;
  const c = parseIpv4Cidr(serviceCidr);
  if (!c || c.prefix < 8 || c.prefix > 28) throw new InvalidInputError(`${from.serviceCidr}: ${JSON.stringify(serviceCidr)} is not an IPv4 CIDR between /8 and /28 such as 10.43.0.0/16`);
  const normalized = `${intToIpv4(c.base)}/${c.prefix}`;
  const clusterNormalized = `${intToIpv4(pc.base)}/${pc.prefix}`;
  if (cidrsOverlap(clusterNormalized, normalized)) throw new InvalidInputError(`${clusterFrom}: ${clusterNormalized} overlaps ${from.serviceCidr} ${normalized}`);
  // K3s's default: the tenth address of the range.
  const clusterDns = raw.clusterDns?.trim() ?? (raw.serviceCidr ? intToIpv4(c.base + 10) : d.clusterDns);
  const dnsIp = ipv4ToInt(clusterDns);
  if (dnsIp === undefined) throw new InvalidInputError(`${from.clusterDns}: ${JSON.stringify(clusterDns)} is not an IPv4 address`);
  if (!(dnsIp > c.base + 1 && dnsIp < c.base + c.size - 1)) {
    throw new InvalidInputError(`${from.clusterDns}: ${clusterDns} must be inside ${from.serviceCidr} ${normalized} and not its first address (the kubernetes Service's)`);
  }
  const clusterDomain = (raw.clusterDomain?.trim() ?? d.clusterDomain).toLowerCase().replace(/\.$/, '');
  if (clusterDomain.length > 200 || !domainRe.test(clusterDomain)) throw new InvalidInputError(`${from.clusterDomain}: ${JSON.stringify(raw.clusterDomain)} is not a DNS domain such as cluster.local`);
  let nodePortRange = d.nodePortRange;
  if (raw.nodePortRange !== undefined) {
    const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(raw.nodePortRange);
    const min = Number(m?.[1]);
    const max = Number(m?.[2]);
    if (!m || min < 1 || max > 65535 || min > max) throw new InvalidInputError(`${from.nodePortRange}: ${JSON.stringify(raw.nodePortRange)} is not a port range such as 30000-32767`);
    nodePortRange = Object.freeze({ min, max });
  }
  return Object.freeze({ clusterCidr: clusterNormalized, nodeCidrMaskSize, serviceCidr: normalized, clusterDns, clusterDomain, nodePortRange });
}

/**
 * Checks a ClusterNetwork that arrived over the link or from disk; undefined when it is not one.
 * One kept by an agent of an earlier version has no pod network settings: the defaults apply.
 */
export function parseClusterNetwork(v: unknown): ClusterNetwork | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const r = o.nodePortRange as { min?: unknown; max?: unknown } | undefined;
  try {
    return resolveClusterNetwork(
      {
        ...(o.clusterCidr !== undefined ? { clusterCidr: String(o.clusterCidr) } : {}),
        ...(o.nodeCidrMaskSize !== undefined ? { nodeCidrMaskSize: String(o.nodeCidrMaskSize) } : {}),
        serviceCidr: String(o.serviceCidr),
        clusterDns: String(o.clusterDns),
        clusterDomain: String(o.clusterDomain),
        nodePortRange: `${String(r?.min)}-${String(r?.max)}`,
      },
      { serviceCidr: 'serviceCidr', clusterDns: 'clusterDns', clusterDomain: 'clusterDomain', nodePortRange: 'nodePortRange' },
    );
  } catch {
    return undefined;
  }
}
