/**
 * Masquerade for traffic leaving the pod network, in an nftables table of the pod network's own:
 * what a pod sends to an address outside the cluster CIDR leaves with the node's address, and
 * pod-to-pod traffic across nodes keeps its pod source address (the bridge plugin's ipMasq would
 * hide it behind the node's, which breaks NetworkPolicy-style reasoning and replies that must
 * reach the pod). Multicast is left alone, as the bridge plugin does. Written as one `nft -f`
 * transaction that replaces the whole table.
 */
export function masqueradeScript(table: string, podCidr: string, clusterCidr: string, relay?: { addr: string; vtepIp: string; port: number }): string {
  // The relay (relay.ts): VXLAN packets the overlay sends to the relay address go to the agent's socket.
  const relayChain = relay
    ? [
        '  chain relay {',
        '    type nat hook output priority -100; policy accept;',
        `    ip daddr ${relay.addr} udp dport 8472 dnat to ${relay.vtepIp}:${relay.port}`,
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
    '}',
    '',
  ].join('\n');
}
