/**
 * The pod network's nftables table: masquerade for traffic leaving the pod network, the relay's
 * DNAT, and no connection tracking for the overlay's own VXLAN packets.
 * What a pod sends to an address outside the cluster CIDR leaves with the node's address, and
 * pod-to-pod traffic across nodes keeps its pod source address (the bridge plugin's ipMasq would
 * hide it behind the node's, which breaks NetworkPolicy-style reasoning and replies that must
 * reach the pod). Multicast is left alone, as the bridge plugin does. Written as one `nft -f`
 * transaction that replaces the whole table.
 */
import { VXLAN_PORT } from './types.ts';

export interface PodNetworkTable {
  /** The relay (relay.ts): VXLAN packets the overlay sends to `addr` go to the agent's socket at `vtepIp:port`. */
  readonly relay?: { addr: string; vtepIp: string; port: number };
  /**
   * This node's VTEP (and its relay address, whose packets must stay tracked for the DNAT): the
   * encapsulated packets it sends and receives on the VXLAN port are left untracked.
   */
  readonly overlay?: { vtepIp: string; relayAddr?: string };
}

export function masqueradeScript(table: string, podCidr: string, clusterCidr: string, o: PodNetworkTable = {}): string {
  const { relay, overlay } = o;
  const relayChain = relay
    ? [
        '  chain relay {',
        '    type nat hook output priority -100; policy accept;',
        `    ip daddr ${relay.addr} udp dport ${VXLAN_PORT} dnat to ${relay.vtepIp}:${relay.port}`,
        '  }',
      ]
    : [];
  // Every pod packet between nodes crosses netfilter twice on each node: the pod's own packet
  // (conntrack needs it: a Service's DNAT is undone on the client's node from its entry) and the
  // VXLAN packet carrying it, whose entry serves nothing (no NAT, no policy matches it). Leaving
  // the outer packet untracked saves a conntrack lookup and update per packet on each side
  // (docs/podnet.md, "Per-packet cost"). The kernel's VXLAN device resets the tracking of what it
  // decapsulates, so the inner packet is still tracked. Packets to the relay address stay tracked:
  // their DNAT to the agent's socket needs an entry.
  const untracked = overlay
    ? [
        '  chain overlay-untracked-in {',
        '    type filter hook prerouting priority raw; policy accept;',
        `    ip daddr ${overlay.vtepIp} udp dport ${VXLAN_PORT} notrack`,
        '  }',
        '  chain overlay-untracked-out {',
        '    type filter hook output priority raw; policy accept;',
        `    ip saddr ${overlay.vtepIp} udp dport ${VXLAN_PORT}${overlay.relayAddr ? ` ip daddr != ${overlay.relayAddr}` : ''} notrack`,
        '  }',
      ]
    : [];
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${podCidr} ip daddr != ${clusterCidr} ip daddr != 224.0.0.0/4 masquerade`,
    '  }',
    ...relayChain,
    ...untracked,
    '}',
    '',
  ].join('\n');
}
