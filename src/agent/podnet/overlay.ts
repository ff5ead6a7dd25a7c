/**
 * The VXLAN overlay in the kernel, driven with iproute2 (`ip`, `bridge`) as flannel's vxlan
 * backend does with netlink: one VXLAN device without learning; per peer a route to its pod CIDR
 * through its gateway address (the peer's `.0`, onlink), a permanent neighbour entry giving that
 * gateway the peer's VTEP MAC, and a forwarding entry sending that MAC to the peer's underlay
 * address. Nothing is learnt or flooded, so nothing depends on multicast or ARP across sites.
 *
 * Each sync reads what the device holds, replaces every wanted entry (idempotent) and deletes
 * the rest, in one `ip -batch` and one `bridge -batch` run, so a sync costs three to five short
 * processes whatever the number of peers.
 */
import { intToIpv4, ipv4ToInt, parseIpv4Cidr } from '../../common/cluster-network.ts';
import { NATIVE_ROUTE_PROTO, RELAY_VXLAN_ID, VXLAN_ID, VXLAN_PORT } from './types.ts';
import type { CommandRunner, LocalEnd, Peer } from './types.ts';

/** The pod CIDR's first address: the gateway address a route to the CIDR goes through. */
export function gatewayOf(podCidr: string): string {
  return intToIpv4(parseIpv4Cidr(podCidr)!.base);
}

export interface DeviceState {
  readonly exists: boolean;
  readonly vxlan?: { id?: number; local?: string; port?: number };
  readonly mac?: string;
  readonly mtu?: number;
  readonly routes: readonly { dst: string; gateway?: string }[];
  readonly neighbours: readonly { dst: string; lladdr?: string }[];
  readonly fdb: readonly { mac: string; dst?: string }[];
}

async function json<T>(run: CommandRunner, argv: readonly string[]): Promise<T | undefined> {
  const r = await run(argv);
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(r.stdout || '[]') as T;
  } catch {
    return undefined;
  }
}

export async function readDevice(run: CommandRunner, device: string): Promise<DeviceState> {
  type Link = { address?: string; mtu?: number; linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number } } };
  const links = await json<Link[]>(run, ['ip', '-j', '-d', 'link', 'show', 'dev', device]);
  const link = links?.[0];
  if (!link) return { exists: false, routes: [], neighbours: [], fdb: [] };
  const routes = (await json<{ dst: string; gateway?: string }[]>(run, ['ip', '-j', 'route', 'show', 'dev', device])) ?? [];
  const neighbours = (await json<{ dst: string; lladdr?: string }[]>(run, ['ip', '-j', 'neigh', 'show', 'dev', device])) ?? [];
  const fdb = (await json<{ mac: string; dst?: string }[]>(run, ['bridge', '-j', 'fdb', 'show', 'dev', device])) ?? [];
  return {
    exists: true,
    ...(link.linkinfo?.info_data ? { vxlan: link.linkinfo.info_data } : {}),
    ...(link.address ? { mac: link.address } : {}),
    ...(link.mtu ? { mtu: link.mtu } : {}),
    routes,
    neighbours,
    fdb: fdb.filter((e) => e.mac !== '00:00:00:00:00:00' || e.dst),
  };
}

export interface OverlayPlan {
  /** Lines for `ip -force -batch -`. */
  readonly ip: string[];
  /** Lines for `bridge -force -batch -`. */
  readonly bridge: string[];
}

/**
 * The route that sends `peer`'s pod CIDR its way: natively to its node address on the shared
 * subnet (`via: 'native'`), or through `device` (the overlay's, or the relay's). All are one
 * `route replace` of the same prefix, so a path change never leaves the CIDR without a route.
 */
export function peerRoute(peer: Peer, device: string): string {
  if (peer.via === 'native' && peer.nativeDev) return `route replace ${peer.podCidr} via ${peer.vtepIp} dev ${peer.nativeDev} proto ${NATIVE_ROUTE_PROTO}`;
  const gw = gatewayOf(peer.podCidr);
  return `route replace ${peer.podCidr} via ${gw} dev ${device} onlink`;
}

/**
 * The route of the native probe (relay.ts): the peer's overlay address (`.0`) always natively,
 * whatever path its pod CIDR takes, so the probe tests the native path itself with a source and
 * a destination of the pod network, as a pod's packet has.
 */
export function nativeProbeRoute(peer: Peer): string | undefined {
  return peer.nativeDev ? `route replace ${gatewayOf(peer.podCidr)}/32 via ${peer.vtepIp} dev ${peer.nativeDev} proto ${NATIVE_ROUTE_PROTO}` : undefined;
}

export interface NativeRoute {
  /** A CIDR, or an address for a /32 (as `ip -j` prints it). */
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
}

/** The routes this agent programmed for native routing (any device), by their protocol number. */
export async function readNativeRoutes(run: CommandRunner): Promise<NativeRoute[]> {
  return (await json<NativeRoute[]>(run, ['ip', '-j', '-4', 'route', 'show', 'proto', String(NATIVE_ROUTE_PROTO)])) ?? [];
}

export interface LocalSubnet {
  readonly dev: string;
  readonly base: number;
  readonly mask: number;
}

/**
 * The IPv4 subnets on this node's interfaces where a peer can be a neighbour: not loopback, not
 * the pod network's own devices (`skip`: its VXLAN devices and the pods' bridge), not /32s.
 */
export async function readLocalSubnets(run: CommandRunner, skip: (dev: string) => boolean): Promise<LocalSubnet[]> {
  type Addr = { ifname?: string; flags?: string[]; addr_info?: { family?: string; local?: string; prefixlen?: number }[] };
  const all = (await json<Addr[]>(run, ['ip', '-j', '-4', 'addr', 'show'])) ?? [];
  const out: LocalSubnet[] = [];
  for (const i of all) {
    if (!i.ifname || i.flags?.includes('LOOPBACK') || !i.flags?.includes('UP') || skip(i.ifname)) continue;
    for (const a of i.addr_info ?? []) {
      const ip = a.local ? ipv4ToInt(a.local) : undefined;
      const prefix = a.prefixlen ?? 32;
      if (ip === undefined || prefix >= 31 || prefix < 8) continue;
      const mask = (0xffffffff << (32 - prefix)) >>> 0;
      out.push({ dev: i.ifname, base: (ip & mask) >>> 0, mask });
    }
  }
  return out;
}

/** The interface whose subnet holds `address` (the most specific), if any. */
export function nativeDevOf(subnets: readonly LocalSubnet[], address: string): string | undefined {
  const ip = ipv4ToInt(address);
  if (ip === undefined) return undefined;
  let best: LocalSubnet | undefined;
  for (const s of subnets) if (((ip & s.mask) >>> 0) === s.base && (!best || s.mask > best.mask)) best = s;
  return best?.dev;
}

/**
 * The lines that remove native routes no peer wants any more (a peer gone, moved to another
 * subnet, or `--pod-network-backend vxlan`). A peer whose CIDR route moves to a VXLAN device needs
 * none: its `route replace` takes the prefix over. Only routes inside `clusterCidr` are touched.
 */
export function staleNativeRoutes(have: readonly NativeRoute[], peers: readonly Peer[], clusterCidr: string): string[] {
  const cluster = parseIpv4Cidr(clusterCidr);
  const wanted = new Set<string>();
  const cidrs = new Set<string>();
  for (const p of peers) {
    cidrs.add(p.podCidr);
    if (p.nativeDev) wanted.add(`${gatewayOf(p.podCidr)}/32 ${p.vtepIp} ${p.nativeDev}`);
    if (p.nativeDev && p.via === 'native') wanted.add(`${p.podCidr} ${p.vtepIp} ${p.nativeDev}`);
  }
  const out: string[] = [];
  for (const r of have) {
    const dst = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    const c = parseIpv4Cidr(dst);
    if (!c || !cluster || c.prefix < cluster.prefix || c.base < cluster.base || c.base >= cluster.base + cluster.size) continue;
    if (wanted.has(`${dst} ${r.gateway ?? ''} ${r.dev ?? ''}`)) continue;
    // A pod CIDR that a peer still has is taken over by its own route (replace) in the same batch.
    if (cidrs.has(dst)) continue;
    out.push(`route del ${dst} proto ${NATIVE_ROUTE_PROTO}${r.dev ? ` dev ${r.dev}` : ''}`);
  }
  return out;
}

/** The device's lines, and the stale entries' removal, for one VXLAN device. */
function planDevice(
  dev: string,
  id: number,
  local: LocalEnd,
  peers: readonly Peer[],
  have: DeviceState,
  fdbDst: (p: Peer) => string,
  ip: string[],
  bridge: string[],
): void {
  const sameDevice = have.exists && have.vxlan?.id === id && have.vxlan.local === local.vtepIp && have.vxlan.port === VXLAN_PORT;
  if (have.exists && !sameDevice) ip.push(`link del ${dev}`);
  if (!sameDevice) ip.push(`link add ${dev} type vxlan id ${id} local ${local.vtepIp} dstport ${VXLAN_PORT} nolearning`);
  if (!sameDevice || have.mac !== local.vtepMac || have.mtu !== local.mtu) ip.push(`link set ${dev} address ${local.vtepMac} mtu ${local.mtu} up`);
  else ip.push(`link set ${dev} up`);
  // The device's own address: the source of what the node itself sends to other nodes' pods
  // (and what their replies come back to), inside this node's pod CIDR as flannel does.
  ip.push(`addr replace ${gatewayOf(local.podCidr)}/32 dev ${dev}`);
  const kept = sameDevice ? have : { routes: [], neighbours: [], fdb: [] };
  // A peer's route moves between the two devices with one `route replace` (never deleted on the way).
  const wantRoutes = new Set(peers.map((p) => p.podCidr));
  const wantNeigh = new Set(peers.map((p) => gatewayOf(p.podCidr)));
  const wantFdb = new Set(peers.map((p) => p.vtepMac));
  for (const r of kept.routes) if (!wantRoutes.has(r.dst)) ip.push(`route del ${r.dst} dev ${dev}`);
  for (const n of kept.neighbours) if (!wantNeigh.has(n.dst)) ip.push(`neigh del ${n.dst} dev ${dev}`);
  for (const e of kept.fdb) if (!wantFdb.has(e.mac)) bridge.push(`fdb del ${e.mac} dev ${dev} self${e.dst ? ` dst ${e.dst}` : ''}`);
  for (const p of peers) {
    ip.push(`neigh replace ${gatewayOf(p.podCidr)} lladdr ${p.vtepMac} dev ${dev} nud permanent`);
    bridge.push(`fdb replace ${p.vtepMac} dev ${dev} dst ${fdbDst(p)} self permanent`);
  }
}

/**
 * What turns `have` into the device for `local` reaching exactly `peers`; with `relayHave` (the
 * relay exists) also the relay's own VXLAN device `local.relayDevice`, whose forwarding entries all
 * point at the relay address. Both devices know every peer (neighbour and forwarding entry); the
 * peer's route says which one its packets take, so switching a path is one `route replace`. The
 * relay's device needs software checksums (pod-network.ts), the overlay's keeps its offloads.
 */
export function planOverlay(local: LocalEnd, peers: readonly Peer[], have: DeviceState, relayHave?: DeviceState, nativeStale: readonly string[] = []): OverlayPlan {
  const ip: string[] = [];
  const bridge: string[] = [];
  planDevice(local.device, VXLAN_ID, local, peers, have, (p) => p.vtepIp, ip, bridge);
  const relay = relayHave && local.relayDevice && local.relayAddr ? { dev: local.relayDevice, addr: local.relayAddr } : undefined;
  if (relay) {
    planDevice(relay.dev, RELAY_VXLAN_ID, local, peers, relayHave!, () => relay.addr, ip, bridge);
    // The relay device's VXLAN packets go to the relay address, which the DNAT turns to the agent.
    // Its route must not be through lo: the kernel would treat it as local and hand the packet
    // straight back to a VXLAN device ("local bypass") without the DNAT ever seeing it.
    if (local.underlayDevice) ip.push(`route replace ${relay.addr}/32 dev ${local.underlayDevice}`);
  }
  // The native probe's /32 routes, then each pod CIDR's route (native ones on the node's own
  // interface), then what no peer wants any more.
  for (const p of peers) {
    const probe = nativeProbeRoute(p);
    if (probe) ip.push(probe);
  }
  for (const p of peers) ip.push(peerRoute(p, p.via === 'relay' && relay ? relay.dev : local.device));
  ip.push(...nativeStale);
  return { ip, bridge };
}

/** Applies a plan; rejects with what the kernel refused (every other line is still applied). */
export async function applyOverlay(run: CommandRunner, plan: OverlayPlan): Promise<void> {
  const failures: string[] = [];
  // The link lines first (the bridge entries need the device), the routes after the fdb entries.
  const links = plan.ip.filter((l) => l.startsWith('link ') || l.startsWith('addr '));
  const rest = plan.ip.filter((l) => !links.includes(l));
  for (const [tool, lines] of [['ip', links], ['bridge', plan.bridge], ['ip', rest]] as const) {
    if (lines.length === 0) continue;
    const r = await run([tool, '-force', '-batch', '-'], lines.join('\n') + '\n');
    if (r.code !== 0) failures.push(`${tool}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  if (failures.length) throw new Error(failures.join('; '));
}

/** The MTU of the interface holding `address` (the underlay the overlay's packets leave by). */
export async function underlayInterface(run: CommandRunner, address: string): Promise<{ name: string; mtu?: number } | undefined> {
  type Addr = { ifname?: string; mtu?: number; addr_info?: { local?: string }[] };
  const all = await json<Addr[]>(run, ['ip', '-j', '-4', 'addr', 'show']);
  const i = all?.find((x) => x.addr_info?.some((a) => a.local === address));
  return i?.ifname ? { name: i.ifname, ...(i.mtu ? { mtu: i.mtu } : {}) } : undefined;
}

export async function underlayMtu(run: CommandRunner, address: string): Promise<number | undefined> {
  type Addr = { ifname?: string; mtu?: number; addr_info?: { local?: string }[] };
  const all = await json<Addr[]>(run, ['ip', '-j', '-4', 'addr', 'show']);
  return all?.find((i) => i.addr_info?.some((a) => a.local === address))?.mtu;
}
