/**
 * The node's part of the one pod network (docs/podnet.md), as an agent component: the VXLAN
 * overlay to every other node and the masquerade of traffic leaving the cluster CIDR, both
 * programmed from the agent's cache (the Node objects of every node, this node's pod CIDR, the
 * cluster network the server last told), so they come back after an agent restart or a reboot
 * with the server unreachable. Resynced on every Node change and every 30 s (a device someone
 * removed comes back). stop() removes the masquerade table, as the Services datapath removes its
 * own, and leaves the overlay in place: pods keep running while the agent is down, and so does
 * their traffic to other nodes.
 */
import { writeFileSync } from 'node:fs';
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { runTool } from '../services/tools.ts';
import type { AgentCache } from '../types.ts';
import { masqueradeScript } from './masquerade.ts';
import { applyOverlay, nativeDevOf, peerRoute, planOverlay, readDevice, readLocalSubnets, readNativeRoutes, staleNativeRoutes } from './overlay.ts';
import type { DeviceState } from './overlay.ts';
import { peersOf } from './peers.ts';
import { PodRelay } from './relay.ts';
import type { RelayCounters } from './relay.ts';
import type { CommandRunner, LocalEnd, Peer, PeerPath, PodNetworkBackend } from './types.ts';
import { dataDirDigest, dataDirSuffix } from '../../common/data-dir-names.ts';

export interface PodNetworkOptions {
  readonly dataDir: string;
  readonly nodeName: string;
  readonly cache: AgentCache;
  /** This node's end: device, VTEP address and MAC, MTU, pod CIDR. */
  readonly local: LocalEnd;
  /** The cluster network as last told by the server (or kept on disk). */
  readonly network: () => ClusterNetwork;
  readonly log: Logger;
  /** A Warning about this node (an Event on the Node). */
  readonly warn: (reason: string, message: string) => void;
  /** Runs ip/bridge/nft (tests: inside a namespace). */
  readonly run?: CommandRunner;
  /**
   * The link's relay channel (relay.ts): puts a frame on the link, false when dropped. Without it
   * every peer is reached directly.
   */
  readonly relaySend?: (frame: Buffer) => boolean;
  /** Whether the link is up (relay.ts RelayOptions.relayUp); without it the relay counts as up. */
  readonly relayUp?: () => boolean;
  /**
   * `--pod-network-backend` (default `auto`): `vxlan` routes no peer natively, even one on a shared
   * subnet (its native routes from an earlier run are removed).
   */
  readonly backend?: PodNetworkBackend;
}

export interface PodNetwork {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Resync now (the cluster network changed). */
  resync(): void;
  /** The peers the last successful sync programmed, each with its path. */
  readonly peers: readonly Peer[];
  /** A frame of the link's relay channel from the server: packets for this node's pods. */
  deliverRelay(frame: Buffer): void;
  /** What the relay carried (undefined while no peer exists: the relay costs nothing then). */
  readonly relayCounters: Readonly<RelayCounters> | undefined;
}

const RESYNC_MS = 30_000;

/** Per data dir, as the bridge and the Services table: several agents on one host keep apart. */
export function podNetworkNames(dataDir: string): { device: string; relayDevice: string; table: string; relayAddr: string } {
  const h = dataDirDigest(dataDir);
  const suffix = dataDirSuffix(dataDir);
  // 169.254.0.0/16 minus its first and last /24 (reserved by RFC 3927), never a .0 or .255.
  return { device: `eosv${suffix}`, relayDevice: `eosr${suffix}`, table: `edgeos-podnet-${suffix}`, relayAddr: `169.254.${1 + (h[4]! % 253)}.${1 + (h[5]! % 254)}` };
}

export function createPodNetwork(o: PodNetworkOptions): PodNetwork {
  const log = o.log.child({ component: 'pod-network' });
  const run: CommandRunner = o.run ?? ((argv, input) => runTool(argv, input));
  const { table, relayDevice } = podNetworkNames(o.dataDir);
  /** This node's end with the relay's device (planned only while the relay exists). */
  const local = { ...o.local, relayDevice };
  let programmed: readonly Peer[] = [];
  let lastMasquerade = '';
  let lastError = '';
  /** The last read found no device and there was no peer. */
  let noDevice = false;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  /** Exists while there are peers and a link to relay over. */
  let relay: PodRelay | undefined;
  /** The relay's VXLAN device computes inner checksums itself (set once per device, see below). */
  let checksumsInSoftware = false;
  /** Whether the relay's device may exist (read once per agent run, then known). */
  let relayDeviceMayExist = true;
  /** The last sync programmed the relay's device: a path change is one route away. */
  let relayProgrammed = false;

  /** `peers`: whether this node has any (a lone node's packets pass no chain of the overlay's). */
  async function masquerade(peers: boolean): Promise<void> {
    const relayDnat = relay?.port && o.local.relayAddr ? { addr: o.local.relayAddr, vtepIp: o.local.vtepIp, port: relay.port } : undefined;
    const overlay = peers ? { overlay: { vtepIp: o.local.vtepIp, ...(o.local.relayAddr ? { relayAddr: o.local.relayAddr } : {}) } } : {};
    const script = masqueradeScript(table, o.local.podCidr, o.network().clusterCidr, { ...(relayDnat ? { relay: relayDnat } : {}), ...overlay });
    if (script === lastMasquerade) return;
    const r = await run(['nft', '-f', '-'], script);
    if (r.code !== 0) throw new Error(`nft: ${r.stderr.trim()}`);
    lastMasquerade = script;
    log.info({ table, podCidr: o.local.podCidr, clusterCidr: o.network().clusterCidr, relayPort: relayDnat?.port ?? null }, 'pod network masquerade programmed');
  }

  /** Not the pod network's own devices (eosv…, eosr…, and eos… the pods' bridge, which holds the pod CIDR). */
  const ownDevice = (dev: string) => dev.startsWith('eos');

  async function syncOnce(): Promise<void> {
    let found = peersOf(await o.cache.list('Node'), { node: o.nodeName, vtepIp: o.local.vtepIp });
    // Peers on a subnet of one of this node's interfaces may be routed natively (the probe decides).
    // The native probe lives in the relay (relay.ts): without it no peer is routed natively.
    const native = o.backend !== 'vxlan' && o.relaySend !== undefined && o.local.relayAddr !== undefined;
    if (native && found.length > 0) {
      const subnets = await readLocalSubnets(run, ownDevice);
      found = found.map((p) => {
        const dev = nativeDevOf(subnets, p.vtepIp);
        return dev ? { ...p, nativeDev: dev } : p;
      });
    }
    // The relay exists only while there is a peer: a lone node pays nothing for it.
    if (found.length > 0 && o.relaySend && o.local.relayAddr && !relay && !stopped) {
      relay = new PodRelay({ local: o.local, send: o.relaySend, ...(o.relayUp ? { relayUp: o.relayUp } : {}), onPathChange: (changed) => switchPaths(changed), log });
      await relay.open();
    } else if (found.length === 0 && relay) {
      relay.close();
      relay = undefined;
      relayProgrammed = false;
    }
    await masquerade(found.length > 0);
    // No device until there is another node to reach: a single node (or agents sharing one test
    // host) needs no overlay, and once it is known to have none, its resyncs start no process.
    if (found.length === 0 && noDevice) return;
    const have = await readDevice(run, o.local.device);
    noDevice = !have.exists && found.length === 0;
    if (noDevice) return;
    const nativeHave = await readNativeRoutes(run);
    let peers: Peer[] = found;
    let relayHave: DeviceState | undefined;
    if (relay) {
      relayHave = await readDevice(run, relayDevice);
      // What the kernel already has is where a known peer starts (an agent restart changes no
      // path): a route on the relay's device is a relayed peer.
      const onRelay = new Set(relayHave.routes.map((r) => r.dst));
      const onOverlay = new Set(have.routes.map((r) => r.dst));
      const onNative = new Set(nativeHave.map((r) => r.dst));
      // An agent before the relay had its own device pointed a relayed peer's forwarding entry on
      // the overlay's device at the relay address (and turned that device's offloads off).
      const oldRelayed = new Set(have.fdb.filter((e) => e.dst === o.local.relayAddr).map((e) => e.mac));
      if (oldRelayed.size > 0) await run(['ethtool', '-K', o.local.device, 'tx', 'on']).catch(() => undefined);
      const programmedPaths = new Map<string, PeerPath>();
      for (const p of found) {
        if (onRelay.has(p.podCidr) || oldRelayed.has(p.vtepMac)) programmedPaths.set(p.node, 'relay');
        else if (onOverlay.has(p.podCidr)) programmedPaths.set(p.node, 'direct');
        else if (onNative.has(p.podCidr)) programmedPaths.set(p.node, 'native');
      }
      relay.setPeers(found, programmedPaths);
      const r = relay;
      peers = found.map((p) => ({ ...p, via: r.pathOf(p.node) ?? 'relay' }));
    } else if (relayDeviceMayExist) {
      // No relay (any more): its device goes (one read per agent run when there never was one).
      if ((await readDevice(run, relayDevice)).exists) await run(['ip', 'link', 'del', relayDevice]);
      relayDeviceMayExist = false;
      relayProgrammed = false;
    }
    const plan = planOverlay(local, peers, have, relayHave, staleNativeRoutes(nativeHave, peers, o.network().clusterCidr));
    // A new relay device starts with the kernel's default offloads.
    if (plan.ip.some((l) => l.startsWith(`link add ${relayDevice} `))) checksumsInSoftware = false;
    await applyOverlay(run, plan);
    relay?.setNativeReady(peers.filter((p) => p.nativeDev).map((p) => p.node));
    if (relay) {
      relayDeviceMayExist = true;
      relayProgrammed = true;
    }
    relay?.startProbing();
    if (relay && !checksumsInSoftware) {
      // A pod's TCP/UDP packet leaves its veth with the checksum left to the hardware (checksum
      // offload); VXLAN keeps it so on the way to the underlay's NIC. A packet the DNAT turns to the
      // relay socket never reaches a NIC: without this it is dropped, or relayed with a wrong
      // checksum. Off on the relay's own device, the kernel fills the checksum in before
      // encapsulating what goes to the relay; the overlay's device keeps its offloads (TSO and
      // checksums: the direct path's throughput).
      const r = await run(['ethtool', '-K', relayDevice, 'tx', 'off']).catch((err: unknown) => ({ code: 1, stdout: '', stderr: errorMessage(err) }));
      if (r.code !== 0) throw new Error(`ethtool -K ${relayDevice} tx off: ${r.stderr.trim() || `exit ${r.code}`} (the relay path needs ethtool: apt-get install ethtool)`);
      // Relayed packets come back in on the overlay's device while this node may send to that
      // peer through the relay's (or the other way round while paths change): strict reverse-path
      // filtering would drop them. Loose (2) still drops sources no route leads to.
      // (Written to /proc, not with sysctl: procps is not a dependency; with a runner of a test's
      // own the device lives in another namespace and is left alone.)
      if (!o.run) {
        try {
          writeFileSync(`/proc/sys/net/ipv4/conf/${o.local.device}/rp_filter`, '2');
        } catch (err) {
          log.warn({ device: o.local.device, err: errorMessage(err) }, 'cannot set loose reverse-path filtering on the overlay device');
        }
      }
      checksumsInSoftware = true;
    }
    const changed = JSON.stringify(peers) !== JSON.stringify(programmed);
    programmed = peers;
    if (changed) log.info({ device: o.local.device, peers: peers.map((p) => `${p.node}=${p.podCidr}@${p.vtepIp}${p.via ? `/${p.via}` : ''}`) }, 'pod network overlay programmed');
  }

  /**
   * The probe moved peers: their routes move at once (one `ip` run, each `route replace` atomic),
   * before the full sync that follows.
   */
  function switchPaths(changed: readonly Peer[]): void {
    if (relayProgrammed && !stopped) {
      const lines = changed.map((p) => peerRoute(p, p.via === 'relay' ? relayDevice : o.local.device));
      void run(['ip', '-force', '-batch', '-'], lines.join('\n') + '\n').then((r) => {
        if (r.code !== 0) log.warn({ err: r.stderr.trim() }, 'cannot move a peer\'s route: the next sync does');
      }, () => undefined).finally(() => sync());
      return;
    }
    sync();
  }

  function sync(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = syncOnce().then(() => {
      lastError = '';
    }, (err: unknown) => {
      const message = errorMessage(err);
      log.error({ err: message }, 'cannot program the pod network: retrying');
      if (message !== lastError) o.warn('PodNetworkFailed', `cannot program the pod network: ${message}`);
      lastError = message;
    }).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        sync();
      }
    });
  }

  return {
    async start() {
      unsubscribe = o.cache.subscribe((c) => {
        if (c.kind === 'Node') sync();
      });
      sync();
      await running;
      timer = setInterval(sync, RESYNC_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      clearInterval(timer);
      await running;
      // Peers reached directly keep this node there while it restarts (relay.ts, "Away").
      await relay?.goodbye();
      relay?.close();
      relay = undefined;
      if (!lastMasquerade) return;
      const r = await run(['nft', 'delete', 'table', 'ip', table]);
      if (r.code === 0) log.info({ table }, 'pod network masquerade removed');
    },
    resync: sync,
    get peers() {
      return programmed;
    },
    deliverRelay(frame) {
      relay?.deliver(frame);
    },
    get relayCounters() {
      return relay?.counters;
    },
  };
}
