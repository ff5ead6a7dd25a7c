/**
 * Which nodes the overlay reaches, from the Node objects in the agent's cache: those with a pod
 * CIDR and both VTEP annotations, except this node, and except nodes on this very host (a peer
 * with our own underlay address: several agents of one test host share its network namespace,
 * whose bridges are routed locally already; an overlay route would replace them).
 */
import { createHash } from 'node:crypto';
import { ipv4ToInt, parseIpv4Cidr } from '../../common/cluster-network.ts';
import type { KubeJson } from '../types.ts';
import { VTEP_IP_ANNOTATION, VTEP_MAC_ANNOTATION } from './types.ts';
import type { Peer } from './types.ts';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function peersOf(nodes: readonly KubeJson[], self: { node: string; vtepIp: string }): Peer[] {
  const out: Peer[] = [];
  for (const n of nodes) {
    const meta = n.metadata as { name?: string; annotations?: Record<string, string> } | undefined;
    const node = meta?.name ?? '';
    const podCidr = (n.spec as { podCIDR?: string } | undefined)?.podCIDR ?? '';
    const vtepIp = meta?.annotations?.[VTEP_IP_ANNOTATION] ?? '';
    const vtepMac = (meta?.annotations?.[VTEP_MAC_ANNOTATION] ?? '').toLowerCase();
    if (node === self.node || vtepIp === self.vtepIp) continue;
    if (!parseIpv4Cidr(podCidr) || ipv4ToInt(vtepIp) === undefined || !MAC_RE.test(vtepMac)) continue;
    out.push({ node, podCidr, vtepIp, vtepMac });
  }
  return out.sort((a, b) => a.node.localeCompare(b.node));
}

/**
 * The VXLAN device's MAC: fixed per node (a locally administered unicast address from its name),
 * so a restarted agent or a recreated device keeps what its peers hold.
 */
export function vtepMacOf(nodeName: string): string {
  const h = createHash('sha256').update(`edgeos vtep ${nodeName}`).digest();
  const bytes = [(h[0]! & 0xfc) | 0x02, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
