/**
 * Plans → the node's nftables table, pure. The shape is kube-proxy's nftables mode
 * (pkg/proxy/nftables/proxier.go), written afresh: one `ip` table of our own; a verdict map from
 * `address . protocol . port` to a chain per Service port, so finding the Service costs one map
 * lookup however many Services there are; `numgen random` picks an endpoint; ClientIP affinity is
 * a dynamic set per endpoint with a timeout; a mark asks postrouting to masquerade. A Service
 * without endpoints is rejected in the filter hooks (before routing could send the packet off the
 * node), and so is any other address of the Service CIDR.
 */
import { createHash } from 'node:crypto';
import type { Chain, DatapathSettings, EndpointTarget, Fragment, Ruleset, ServicePortPlan } from './types.ts';

const MASQ_MARK = '0x4000';

/** Short, stable chain/set names: kube-proxy also hashes (its names carry the Service too). */
function short(prefix: string, text: string): string {
  return `${prefix}-${createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
}

/** The comment on a Service port's chains says which one it is (`nft list table` reads like the API). */
const comment = (text: string) => `comment ${JSON.stringify(text.slice(0, 120))}`;

class FragmentBuilder {
  readonly chains = new Map<string, Chain>();
  readonly containers = new Map<string, { kind: 'map' | 'set'; body: string }>();
  readonly elements = new Map<string, { container: string; key: string; value: string }>();

  chain(name: string, rules: string[], hook?: string): void {
    this.chains.set(name, hook ? { hook, rules } : { rules });
  }

  element(container: string, key: string, value = ''): void {
    this.elements.set(`${container} ${key}`, { container, key, value });
  }

  done(): Fragment {
    return { chains: this.chains, containers: this.containers, elements: this.elements };
  }
}

/** The fixed part: hooks, dispatch, masquerade, rejection, and the DNS address left untracked. */
export function baseFragment(s: DatapathSettings): Fragment {
  const f = new FragmentBuilder();
  const vmap3 = 'type ipv4_addr . inet_proto . inet_service : verdict;';
  const vmap2 = 'type inet_proto . inet_service : verdict;';
  f.containers.set('services', { kind: 'map', body: `${vmap3} comment "ClusterIP, external and load-balancer IP . protocol . port";` });
  f.containers.set('nodeports', { kind: 'map', body: `${vmap2} comment "NodePorts on every local address";` });
  f.containers.set('no-endpoints', { kind: 'map', body: `${vmap3} comment "Service ports without endpoints: rejected";` });
  f.containers.set('no-endpoint-nodeports', { kind: 'map', body: `${vmap2} comment "NodePorts without endpoints: rejected";` });
  f.containers.set('cluster-ips', { kind: 'set', body: 'type ipv4_addr; comment "Every ClusterIP in use";' });

  f.chain('nat-prerouting', ['jump services'], 'type nat hook prerouting priority dstnat; policy accept;');
  // A locally generated packet is routed before this hook; the agent's route for the Service
  // CIDR (docs/services.md) gives it a route even on a host without a default one.
  f.chain('nat-output', ['jump services'], 'type nat hook output priority -100; policy accept;');
  f.chain('nat-postrouting', ['jump masquerading'], 'type nat hook postrouting priority srcnat; policy accept;');
  f.chain('services', [
    'ip daddr . meta l4proto . th dport vmap @services',
    // 127/8 would need route_localnet; kube-proxy leaves loopback NodePorts out the same way.
    'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @nodeports',
  ]);
  f.chain('mark-for-masquerade', [`meta mark set meta mark | ${MASQ_MARK}`]);
  f.chain('masquerading', [`meta mark & ${MASQ_MARK} == 0 return`, `meta mark set meta mark ^ ${MASQ_MARK}`, 'masquerade fully-random']);

  // Per packet, the filter hooks cost one test of the conntrack state: established flows (all
  // but the first packet of a connection) skip everything else.
  f.chain('filter-input', ['ct state new jump endpoint-checks'], 'type filter hook input priority filter - 5; policy accept;');
  f.chain('filter-forward', ['ct state new jump new-connection-checks'], 'type filter hook forward priority filter - 5; policy accept;');
  f.chain('filter-output', ['ct state new jump new-connection-checks'], 'type filter hook output priority filter - 5; policy accept;');
  f.chain('new-connection-checks', ['jump endpoint-checks', 'jump cluster-ip-checks']);
  f.chain('endpoint-checks', [
    'ip daddr . meta l4proto . th dport vmap @no-endpoints',
    'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports',
  ]);
  f.chain('cluster-ip-checks', [
    `ip daddr ${s.clusterDns} return`,
    `ip daddr @cluster-ips reject ${comment('a port this Service does not have')}`,
    `ip daddr ${s.serviceCidr} reject ${comment('no Service has this address')}`,
  ]);
  f.chain('reject-chain', ['reject']);
  // The cluster DNS is a local address (NodeLocal DNSCache's trick): no NAT to do, so no
  // conntrack entry per query either (no conntrack races, no table filling with UDP entries).
  // These hooks see every packet of the node, so each rule tests the port first: the address
  // alone also matches every packet of the node's own connections to ClusterIPs (their source is
  // the cluster DNS address, the Service CIDR route's), both ways.
  f.chain('raw-prerouting', [`th dport 53 ip daddr ${s.clusterDns} meta l4proto { tcp, udp } notrack`], 'type filter hook prerouting priority raw; policy accept;');
  f.chain('raw-output', [
    `th dport 53 ip daddr ${s.clusterDns} meta l4proto { tcp, udp } notrack`,
    `th sport 53 ip saddr ${s.clusterDns} meta l4proto { tcp, udp } notrack`,
  ], 'type filter hook output priority raw; policy accept;');
  return f.done();
}

function pick(eps: readonly EndpointTarget[], epChain: (e: EndpointTarget) => string, affinitySet: (e: EndpointTarget) => string | undefined): string[] {
  const rules: string[] = [];
  for (const e of eps) {
    const set = affinitySet(e);
    if (set) rules.push(`ip saddr @${set} goto ${epChain(e)}`);
  }
  if (eps.length === 1) rules.push(`goto ${epChain(eps[0]!)}`);
  else rules.push(`numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${epChain(e)}`).join(', ')} }`);
  return rules;
}

/** One Service port's chains and map elements. */
export function portFragment(p: ServicePortPlan, s: DatapathSettings): Fragment {
  const f = new FragmentBuilder();
  const note = comment(`${p.service}:${p.port}/${p.protocol}`);
  const svcChain = short('svc', p.id);
  const extChain = short('ext', p.id);
  const epChain = (e: EndpointTarget) => short('ep', `${p.id} ${e.ip}:${e.port}`);
  // The timeout is part of the name, so a changed timeout is a new set, never a changed one.
  const affinitySet = (e: EndpointTarget) => (p.affinitySeconds ? short('aff', `${p.id} ${e.ip}:${e.port} ${p.affinitySeconds}`) : undefined);
  const endpoints = new Map<string, EndpointTarget>();
  for (const e of [...p.clusterEndpoints, ...(p.externalLocal ? p.localEndpoints : [])]) endpoints.set(`${e.ip}:${e.port}`, e);
  for (const e of endpoints.values()) {
    const set = affinitySet(e);
    if (set) f.containers.set(set, { kind: 'set', body: `type ipv4_addr; flags dynamic,timeout; timeout ${p.affinitySeconds}s;` });
    f.chain(epChain(e), [
      // Hairpin: a pod reaching itself through its Service must not see its own address answer.
      `ip saddr ${e.ip} jump mark-for-masquerade ${note}`,
      // The node itself dialling an endpoint on another node: its source (the Service CIDR
      // route's, the cluster DNS address) is on every node, so the answer must come back here.
      ...(e.local ? [] : [`ip saddr != ${s.podCidr} fib saddr type local jump mark-for-masquerade ${note}`]),
      ...(set ? [`update @${set} { ip saddr }`] : []),
      `meta l4proto ${p.protocol} dnat to ${e.ip}:${e.port}`,
    ]);
  }
  const l4 = `${p.protocol} . ${p.port}`;
  const hasCluster = p.clusterEndpoints.length > 0;
  if (p.clusterIP) {
    f.element('cluster-ips', p.clusterIP);
    if (hasCluster) f.element('services', `${p.clusterIP} . ${l4}`, `goto ${svcChain}`);
    else f.element('no-endpoints', `${p.clusterIP} . ${l4}`, 'goto reject-chain');
  }
  if (hasCluster) {
    f.chain(svcChain, [
      // From another host: answers must come back through this node. The node's own traffic to a
      // local endpoint needs no masquerade (the pod answers through this node anyway): keeping
      // its source address and port keeps a rewritten port off the pod's TIME_WAIT connections,
      // where the client's timestamps (the kernel derives their offset from the ports) run
      // backwards and the SYN is refused — a 1 s retransmission (docs/services.md, "Masquerade").
      `ip saddr != ${s.podCidr} fib saddr type != local jump mark-for-masquerade ${note}`,
      ...pick(p.clusterEndpoints, epChain, affinitySet),
    ]);
  }
  const external = p.externalIPs.length > 0 || p.nodePort !== undefined;
  if (!external) return f.done();
  const reachable = p.externalLocal ? hasCluster || p.localEndpoints.length > 0 : hasCluster;
  if (!reachable) {
    for (const ip of p.externalIPs) f.element('no-endpoints', `${ip} . ${l4}`, 'goto reject-chain');
    if (p.nodePort) f.element('no-endpoint-nodeports', `${p.protocol} . ${p.nodePort}`, 'goto reject-chain');
    return f.done();
  }
  if (!p.externalLocal) f.chain(extChain, [`jump mark-for-masquerade ${note}`, `goto ${svcChain}`]);
  else {
    const toCluster = hasCluster ? `goto ${svcChain}` : 'goto reject-chain';
    f.chain(extChain, [
      // Pods and the node itself are not "external": they keep the cluster-wide behaviour.
      `ip saddr ${s.podCidr} ${toCluster} ${note}`,
      'fib saddr type local jump mark-for-masquerade',
      `fib saddr type local ${toCluster}`,
      ...(p.localEndpoints.length > 0 ? pick(p.localEndpoints, epChain, affinitySet) : [`drop ${comment('externalTrafficPolicy Local: no endpoint on this node')}`]),
    ]);
  }
  for (const ip of p.externalIPs) f.element('services', `${ip} . ${l4}`, `goto ${extChain}`);
  if (p.nodePort) f.element('nodeports', `${p.protocol} . ${p.nodePort}`, `goto ${extChain}`);
  return f.done();
}

/**
 * Renders plans, reusing the fragment of a plan that did not change since the last call with the
 * same renderer (hashing names and building rule text for 1,000 Services is most of a sync's
 * time on a node whose V8 has no optimizing compiler; a change touches one or two plans). A plan
 * object seen last time (createPlanner keeps the plans of unchanged Services) is its fragment at
 * once; a new plan object is compared by content with the last plan of the same port only. When
 * every plan is the one of last time, the last Ruleset itself comes back (the applier then has
 * nothing to do).
 */
export function createRenderer(): (plans: readonly ServicePortPlan[], s: DatapathSettings) => Ruleset {
  let byId = new Map<string, { plan: ServicePortPlan; fragment: Fragment; key?: string }>();
  let base: { key: string; fragment: Fragment } | undefined;
  let last: Ruleset | undefined;
  return (plans, s) => {
    const settingsKey = JSON.stringify(s);
    if (base?.key !== settingsKey) {
      base = { key: settingsKey, fragment: baseFragment(s) };
      byId = new Map();
      last = undefined;
    }
    if (last && plans.length === byId.size && plans.every((p) => byId.get(p.id)?.plan === p)) return last;
    const next = new Map<string, { plan: ServicePortPlan; fragment: Fragment; key?: string }>();
    const ports = new Map<string, Fragment>();
    for (const p of plans) {
      const old = byId.get(p.id);
      let entry = old;
      if (old?.plan !== p) {
        const key = JSON.stringify(p);
        entry = old && (old.key ??= JSON.stringify(old.plan)) === key ? { plan: p, fragment: old.fragment, key } : { plan: p, fragment: portFragment(p, s), key };
      }
      next.set(p.id, entry!);
      ports.set(p.id, entry!.fragment);
    }
    byId = next;
    last = { base: base.fragment, ports };
    return last;
  };
}

export function renderRuleset(plans: readonly ServicePortPlan[], s: DatapathSettings): Ruleset {
  return createRenderer()(plans, s);
}
