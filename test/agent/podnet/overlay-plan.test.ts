// The pod network's pure parts: which Nodes are peers, the VTEP MAC, what a sync asks of
// iproute2 for a given device state, the masquerade table, and the CIDR bookkeeping of the
// server's node-ipam controller.
import { describe, expect, it } from 'vitest';
import { gatewayOf, nativeDevOf, planOverlay, readLocalSubnets, staleNativeRoutes } from '../../../src/agent/podnet/overlay.ts';
import type { DeviceState } from '../../../src/agent/podnet/overlay.ts';
import { masqueradeScript } from '../../../src/agent/podnet/masquerade.ts';
import { peersOf, vtepMacOf } from '../../../src/agent/podnet/peers.ts';
import { resolveClusterNetwork, parseClusterNetwork, DEFAULT_CLUSTER_NETWORK } from '../../../src/common/cluster-network.ts';
import { CidrSet } from '../../../src/server/controllers/node-ipam/cidr-set.ts';

const node = (name: string, podCIDR?: string, ip?: string, mac?: string) => ({
  metadata: { name, annotations: { ...(ip ? { 'network.edgeos.io/vtep-ip': ip } : {}), ...(mac ? { 'network.edgeos.io/vtep-mac': mac } : {}) } },
  spec: podCIDR ? { podCIDR } : {},
});
const local = { device: 'eosv1', vtepIp: '192.0.2.1', vtepMac: '02:00:00:00:00:01', mtu: 1450, podCidr: '10.42.0.0/24' };
const none: DeviceState = { exists: false, routes: [], neighbours: [], fdb: [] };

describe('pod network peers', () => {
  it('takes nodes with a pod CIDR and both annotations, not itself and not nodes on its own host', () => {
    const peers = peersOf([
      node('self', '10.42.0.0/24', '192.0.2.1', '02:00:00:00:00:01'),
      node('b', '10.42.1.0/24', '192.0.2.2', '02:00:00:00:00:02'),
      node('same-host', '10.42.2.0/24', '192.0.2.1', '02:00:00:00:00:03'),
      node('no-cidr', undefined, '192.0.2.4', '02:00:00:00:00:04'),
      node('no-vtep', '10.42.5.0/24'),
      node('bad-mac', '10.42.6.0/24', '192.0.2.6', 'nonsense'),
    ], { node: 'self', vtepIp: '192.0.2.1' });
    expect(peers).toEqual([{ node: 'b', podCidr: '10.42.1.0/24', vtepIp: '192.0.2.2', vtepMac: '02:00:00:00:00:02' }]);
  });

  it('derives a stable, locally administered unicast MAC per node', () => {
    const mac = vtepMacOf('edge-1');
    expect(mac).toBe(vtepMacOf('edge-1'));
    expect(mac).not.toBe(vtepMacOf('edge-2'));
    const first = parseInt(mac.slice(0, 2), 16);
    expect(first & 1).toBe(0);
    expect(first & 2).toBe(2);
  });
});

describe('overlay plan', () => {
  const b = { node: 'b', podCidr: '10.42.1.0/24', vtepIp: '192.0.2.2', vtepMac: '02:00:00:00:00:02' };

  it('creates the device and programs route, neighbour and forwarding entry per peer', () => {
    const plan = planOverlay(local, [b], none);
    expect(plan.ip).toEqual([
      'link add eosv1 type vxlan id 1 local 192.0.2.1 dstport 8472 nolearning',
      'link set eosv1 address 02:00:00:00:00:01 mtu 1450 up',
      'addr replace 10.42.0.0/32 dev eosv1',
      'neigh replace 10.42.1.0 lladdr 02:00:00:00:00:02 dev eosv1 nud permanent',
      'route replace 10.42.1.0/24 via 10.42.1.0 dev eosv1 onlink',
    ]);
    expect(plan.bridge).toEqual(['fdb replace 02:00:00:00:00:02 dev eosv1 dst 192.0.2.2 self permanent']);
  });

  it('keeps a matching device and removes what belongs to nodes that are gone', () => {
    const have: DeviceState = {
      exists: true, vxlan: { id: 1, local: '192.0.2.1', port: 8472 }, mac: local.vtepMac, mtu: 1450,
      routes: [{ dst: '10.42.1.0/24', gateway: '10.42.1.0' }, { dst: '10.42.7.0/24', gateway: '10.42.7.0' }],
      neighbours: [{ dst: '10.42.1.0', lladdr: b.vtepMac }, { dst: '10.42.7.0', lladdr: '02:00:00:00:00:07' }],
      fdb: [{ mac: b.vtepMac, dst: b.vtepIp }, { mac: '02:00:00:00:00:07', dst: '192.0.2.7' }],
    };
    const plan = planOverlay(local, [b], have);
    expect(plan.ip.filter((l) => l.startsWith('link '))).toEqual(['link set eosv1 up']);
    expect(plan.ip).toContain('route del 10.42.7.0/24 dev eosv1');
    expect(plan.ip).toContain('neigh del 10.42.7.0 dev eosv1');
    expect(plan.bridge).toContain('fdb del 02:00:00:00:00:07 dev eosv1 self dst 192.0.2.7');
    expect(plan.ip.some((l) => l.includes('10.42.1.0/24') && l.startsWith('route del'))).toBe(false);
  });

  it('routes a native peer to its node address on the shared interface, with the native probe\'s /32 route, and VXLAN peers as before', () => {
    const relayed = { ...local, relayAddr: '169.254.9.9', underlayDevice: 'eth0', relayDevice: 'eosr1' };
    const c = { node: 'c', podCidr: '10.42.2.0/24', vtepIp: '192.0.2.3', vtepMac: '02:00:00:00:00:03', nativeDev: 'eth0' };
    const plan = planOverlay(relayed, [{ ...b, via: 'direct' as const }, { ...c, via: 'native' as const }, { ...c, node: 'd', podCidr: '10.42.3.0/24', via: 'direct' as const }], none, none);
    expect(plan.ip.filter((l) => l.startsWith('route replace 10.42.'))).toEqual([
      'route replace 10.42.2.0/32 via 192.0.2.3 dev eth0 proto 75',
      'route replace 10.42.3.0/32 via 192.0.2.3 dev eth0 proto 75',
      'route replace 10.42.1.0/24 via 10.42.1.0 dev eosv1 onlink',
      'route replace 10.42.2.0/24 via 192.0.2.3 dev eth0 proto 75',
      // A candidate the probe has not confirmed (or that stopped answering) stays on VXLAN.
      'route replace 10.42.3.0/24 via 10.42.3.0 dev eosv1 onlink',
    ]);
    // VXLAN and the relay still know the native peer: falling back is one route replace.
    expect(plan.bridge).toContain('fdb replace 02:00:00:00:00:03 dev eosv1 dst 192.0.2.3 self permanent');
  });

  it('removes native routes of peers gone or off the shared subnet, leaves a prefix a peer still routes to its own replace, and never touches routes outside the cluster CIDR', () => {
    const have = [
      { dst: '10.42.2.0/24', gateway: '192.0.2.3', dev: 'eth0' },
      { dst: '10.42.2.0', gateway: '192.0.2.3', dev: 'eth0' },
      { dst: '10.42.4.0/24', gateway: '192.0.2.4', dev: 'eth0' },
      { dst: '10.42.4.0', gateway: '192.0.2.4', dev: 'eth0' },
      { dst: '10.42.5.0', gateway: '192.0.2.5', dev: 'eth0' },
      { dst: '172.16.0.0/16', gateway: '192.0.2.9', dev: 'eth0' },
    ];
    const peers = [
      { node: 'c', podCidr: '10.42.2.0/24', vtepIp: '192.0.2.3', vtepMac: '02:00:00:00:00:03', nativeDev: 'eth0', via: 'native' as const },
      // Moved to another subnet: no longer a native candidate; its CIDR route is replaced through VXLAN.
      { node: 'e', podCidr: '10.42.5.0/24', vtepIp: '198.51.100.5', vtepMac: '02:00:00:00:00:05', via: 'direct' as const },
    ];
    expect(staleNativeRoutes(have, peers, '10.42.0.0/16')).toEqual([
      'route del 10.42.4.0/24 proto 75 dev eth0',
      'route del 10.42.4.0/32 proto 75 dev eth0',
      'route del 10.42.5.0/32 proto 75 dev eth0',
    ]);
  });

  it('finds the interface whose subnet holds a peer\'s address, skipping loopback, down links, the pod network\'s devices and /32s', async () => {
    const addrs = [
      { ifname: 'lo', flags: ['LOOPBACK', 'UP'], addr_info: [{ local: '127.0.0.1', prefixlen: 8 }] },
      { ifname: 'eth0', flags: ['BROADCAST', 'UP'], addr_info: [{ local: '192.0.2.1', prefixlen: 24 }] },
      { ifname: 'eth1', flags: ['BROADCAST', 'UP'], addr_info: [{ local: '192.0.2.130', prefixlen: 25 }] },
      { ifname: 'eth2', flags: ['BROADCAST'], addr_info: [{ local: '198.51.100.1', prefixlen: 24 }] },
      { ifname: 'eosv1', flags: ['UP'], addr_info: [{ local: '10.42.0.0', prefixlen: 32 }] },
      { ifname: 'eos1', flags: ['UP'], addr_info: [{ local: '10.42.0.1', prefixlen: 24 }] },
      { ifname: 'wg0', flags: ['UP'], addr_info: [{ local: '203.0.113.1', prefixlen: 32 }] },
    ];
    const subnets = await readLocalSubnets(async () => ({ code: 0, stdout: JSON.stringify(addrs), stderr: '' }), (d) => d.startsWith('eos'));
    expect(nativeDevOf(subnets, '192.0.2.7')).toBe('eth0');
    expect(nativeDevOf(subnets, '192.0.2.200')).toBe('eth1');
    expect(nativeDevOf(subnets, '198.51.100.7')).toBeUndefined();
    expect(nativeDevOf(subnets, '10.42.0.7')).toBeUndefined();
    expect(nativeDevOf(subnets, '127.0.0.2')).toBeUndefined();
    expect(nativeDevOf(subnets, '203.0.113.1')).toBeUndefined();
  });

  it('gives the relay a VXLAN device of its own, and a relayed peer its route through it (the relay address routed through the underlay, never lo)', () => {
    const relayed = { ...local, relayAddr: '169.254.9.9', underlayDevice: 'eth0', relayDevice: 'eosr1' };
    const c = { node: 'c', podCidr: '10.42.2.0/24', vtepIp: '198.51.100.3', vtepMac: '02:00:00:00:00:03', via: 'relay' as const };
    const plan = planOverlay(relayed, [{ ...b, via: 'direct' }, c], none, none);
    // Both devices know every peer: the overlay's sends to its VTEP, the relay's to the relay address.
    expect(plan.bridge).toEqual([
      'fdb replace 02:00:00:00:00:02 dev eosv1 dst 192.0.2.2 self permanent',
      'fdb replace 02:00:00:00:00:03 dev eosv1 dst 198.51.100.3 self permanent',
      'fdb replace 02:00:00:00:00:02 dev eosr1 dst 169.254.9.9 self permanent',
      'fdb replace 02:00:00:00:00:03 dev eosr1 dst 169.254.9.9 self permanent',
    ]);
    expect(plan.ip).toContain('link add eosr1 type vxlan id 2 local 192.0.2.1 dstport 8472 nolearning');
    expect(plan.ip).toContain('addr replace 10.42.0.0/32 dev eosr1');
    expect(plan.ip).toContain('neigh replace 10.42.2.0 lladdr 02:00:00:00:00:03 dev eosr1 nud permanent');
    expect(plan.ip).toContain('route replace 169.254.9.9/32 dev eth0');
    // The route says the path: switching is one `route replace`.
    expect(plan.ip).toContain('route replace 10.42.1.0/24 via 10.42.1.0 dev eosv1 onlink');
    expect(plan.ip).toContain('route replace 10.42.2.0/24 via 10.42.2.0 dev eosr1 onlink');
    expect(plan.ip.filter((l) => l.startsWith('route del'))).toEqual([]);
    // No relay: no relay device, every route through the overlay.
    const direct = planOverlay(relayed, [b, c], none);
    expect(direct.ip.some((l) => l.includes('eosr1') || l.includes('169.254.9.9'))).toBe(false);
    expect(direct.ip).toContain('route replace 10.42.2.0/24 via 10.42.2.0 dev eosv1 onlink');
    const s = masqueradeScript('edgeos-podnet-x', '10.42.0.0/24', '10.42.0.0/16', { relay: { addr: '169.254.9.9', vtepIp: '192.0.2.1', port: 40000 } });
    expect(s).toContain('type nat hook output priority -100; policy accept;');
    expect(s).toContain('ip daddr 169.254.9.9 udp dport 8472 dnat to 192.0.2.1:40000');
    expect(masqueradeScript('edgeos-podnet-x', '10.42.0.0/24', '10.42.0.0/16')).not.toContain('dnat');
  });

  it('removes a peer gone from the relay device too', () => {
    const relayed = { ...local, relayAddr: '169.254.9.9', underlayDevice: 'eth0', relayDevice: 'eosr1' };
    const relayHave: DeviceState = {
      exists: true, vxlan: { id: 2, local: '192.0.2.1', port: 8472 }, mac: local.vtepMac, mtu: 1450,
      routes: [{ dst: '10.42.7.0/24', gateway: '10.42.7.0' }], neighbours: [{ dst: '10.42.7.0', lladdr: '02:00:00:00:00:07' }], fdb: [{ mac: '02:00:00:00:00:07', dst: '169.254.9.9' }],
    };
    const plan = planOverlay(relayed, [b], none, relayHave);
    expect(plan.ip).toContain('route del 10.42.7.0/24 dev eosr1');
    expect(plan.ip).toContain('neigh del 10.42.7.0 dev eosr1');
    expect(plan.bridge).toContain('fdb del 02:00:00:00:00:07 dev eosr1 self dst 169.254.9.9');
    expect(plan.ip.some((l) => l.startsWith('link add eosr1'))).toBe(false);
  });

  it('recreates a device whose underlay address changed', () => {
    const have: DeviceState = { exists: true, vxlan: { id: 1, local: '192.0.2.99', port: 8472 }, mac: local.vtepMac, mtu: 1450, routes: [], neighbours: [], fdb: [] };
    expect(planOverlay(local, [], have).ip.slice(0, 2)).toEqual(['link del eosv1', 'link add eosv1 type vxlan id 1 local 192.0.2.1 dstport 8472 nolearning']);
    expect(gatewayOf('10.42.3.0/24')).toBe('10.42.3.0');
  });

  it('masquerades what leaves the cluster CIDR only, replacing the table in one transaction', () => {
    const s = masqueradeScript('edgeos-podnet-x', '10.42.0.0/24', '10.42.0.0/16');
    expect(s.split('\n').slice(0, 2)).toEqual(['table ip edgeos-podnet-x', 'delete table ip edgeos-podnet-x']);
    expect(s).toContain('ip saddr 10.42.0.0/24 ip daddr != 10.42.0.0/16 ip daddr != 224.0.0.0/4 masquerade');
    expect(s).not.toContain('notrack');
  });

  it("leaves the overlay's own VXLAN packets untracked, except those to the relay address", () => {
    const s = masqueradeScript('edgeos-podnet-x', '10.42.0.0/24', '10.42.0.0/16', { overlay: { vtepIp: '192.0.2.1', relayAddr: '169.254.9.9' } });
    expect(s).toContain('type filter hook prerouting priority raw; policy accept;');
    expect(s).toContain('ip daddr 192.0.2.1 udp dport 8472 notrack');
    expect(s).toContain('type filter hook output priority raw; policy accept;');
    expect(s).toContain('ip saddr 192.0.2.1 udp dport 8472 ip daddr != 169.254.9.9 notrack');
    expect(masqueradeScript('edgeos-podnet-x', '10.42.0.0/24', '10.42.0.0/16', { overlay: { vtepIp: '192.0.2.1' } })).toContain('ip saddr 192.0.2.1 udp dport 8472 notrack');
  });
});

describe('cluster CIDR settings and bookkeeping', () => {
  const from = { serviceCidr: '--service-cidr', clusterDns: '--cluster-dns', clusterDomain: '--cluster-domain', nodePortRange: '--service-node-port-range' };

  it('defaults to 10.42.0.0/16 in /24s, validates naming the flag, and reads older kept networks', () => {
    expect(resolveClusterNetwork({}, from)).toMatchObject({ clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 24 });
    expect(() => resolveClusterNetwork({ clusterCidr: '10.43.0.0/16' }, from)).toThrow('--cluster-cidr: 10.43.0.0/16 overlaps --service-cidr 10.43.0.0/16');
    expect(() => resolveClusterNetwork({ clusterCidr: 'x' }, from)).toThrow(/^--cluster-cidr: "x" is not an IPv4 CIDR/);
    expect(() => resolveClusterNetwork({ nodeCidrMaskSize: '12' }, from)).toThrow('--node-cidr-mask-size: "12" must be a prefix length between 16 (--cluster-cidr) and 29');
    const { clusterCidr: _c, nodeCidrMaskSize: _m, ...older } = DEFAULT_CLUSTER_NETWORK;
    expect(parseClusterNetwork(JSON.parse(JSON.stringify(older)))).toEqual(DEFAULT_CLUSTER_NETWORK);
  });

  it('occupies, allocates the lowest free block, releases, and refuses foreign or doubled blocks', () => {
    const set = new CidrSet('10.99.0.0/23', 24);
    expect(set.occupy('x', '10.99.1.0/24')).toEqual({ ok: true });
    expect(set.allocate('y')).toBe('10.99.0.0/24');
    expect(set.allocate('y')).toBe('10.99.0.0/24');
    expect(set.allocate('z')).toBeUndefined();
    expect(set.occupy('z', '10.99.1.0/24')).toEqual({ ok: false, reason: "10.99.1.0/24 is already node x's" });
    expect(set.occupy('z', '10.98.0.0/24')).toEqual({ ok: false, reason: '10.98.0.0/24 is outside the cluster CIDR 10.99.0.0/23' });
    expect(set.occupy('z', '10.99.0.0/25')).toEqual({ ok: false, reason: '10.99.0.0/25 is not a /24 block' });
    set.release('x');
    expect(set.allocate('z')).toBe('10.99.1.0/24');
  });
});
