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
import { createHash } from 'node:crypto';
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { runTool } from '../services/tools.ts';
import type { AgentCache } from '../types.ts';
import { masqueradeScript } from './masquerade.ts';
import { applyOverlay, planOverlay, readDevice } from './overlay.ts';
import { peersOf } from './peers.ts';
import { PodRelay } from './relay.ts';
import type { RelayCounters } from './relay.ts';
import type { CommandRunner, LocalEnd, Peer, PeerPath } from './types.ts';

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
export function podNetworkNames(dataDir: string): { device: string; table: string; relayAddr: string } {
  const h = createHash('sha256').update(dataDir).digest();
  const suffix = h.toString('hex').slice(0, 8);
  // 169.254.0.0/16 minus its first and last /24 (reserved by RFC 3927), never a .0 or .255.
  return { device: `eosv${suffix}`, table: `edgeos-podnet-${suffix}`, relayAddr: `169.254.${1 + (h[4]! % 253)}.${1 + (h[5]! % 254)}` };
}

export function createPodNetwork(o: PodNetworkOptions): PodNetwork {
  const log = o.log.child({ component: 'pod-network' });
  const run: CommandRunner = o.run ?? ((argv, input) => runTool(argv, input));
  const { table } = podNetworkNames(o.dataDir);
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
  /** The VXLAN device computes inner checksums itself (set once per agent run, see below). */
  let checksumsInSoftware = false;

  async function masquerade(): Promise<void> {
    const relayDnat = relay?.port && o.local.relayAddr ? { addr: o.local.relayAddr, vtepIp: o.local.vtepIp, port: relay.port } : undefined;
    const script = masqueradeScript(table, o.local.podCidr, o.network().clusterCidr, relayDnat);
    if (script === lastMasquerade) return;
    const r = await run(['nft', '-f', '-'], script);
    if (r.code !== 0) throw new Error(`nft: ${r.stderr.trim()}`);
    lastMasquerade = script;
    log.info({ table, podCidr: o.local.podCidr, clusterCidr: o.network().clusterCidr, relayPort: relayDnat?.port ?? null }, 'pod network masquerade programmed');
  }

  async function syncOnce(): Promise<void> {
    const found = peersOf(await o.cache.list('Node'), { node: o.nodeName, vtepIp: o.local.vtepIp });
    // The relay exists only while there is a peer: a lone node pays nothing for it.
    if (found.length > 0 && o.relaySend && o.local.relayAddr && !relay && !stopped) {
      relay = new PodRelay({ local: o.local, send: o.relaySend, onPathChange: () => sync(), log });
      await relay.open();
    } else if (found.length === 0 && relay) {
      relay.close();
      relay = undefined;
    }
    await masquerade();
    // No device until there is another node to reach: a single node (or agents sharing one test
    // host) needs no overlay, and once it is known to have none, its resyncs start no process.
    if (found.length === 0 && noDevice) return;
    const have = await readDevice(run, o.local.device);
    noDevice = !have.exists && found.length === 0;
    if (noDevice) return;
    let peers: Peer[] = found;
    if (relay) {
      // What the kernel already has is where a known peer starts (an agent restart changes no path).
      const inKernel = new Map<string, PeerPath>();
      for (const e of have.fdb) if (e.dst) inKernel.set(e.mac, e.dst === o.local.relayAddr ? 'relay' : 'direct');
      const programmedPaths = new Map<string, PeerPath>();
      for (const p of found) {
        const via = inKernel.get(p.vtepMac);
        if (via) programmedPaths.set(p.node, via);
      }
      relay.setPeers(found, programmedPaths);
      const r = relay;
      peers = found.map((p) => ({ ...p, via: r.pathOf(p.node) ?? 'relay' }));
    }
    const plan = planOverlay(o.local, peers, have);
    // A new device starts with the kernel's default offloads.
    if (plan.ip.some((l) => l.startsWith('link add '))) checksumsInSoftware = false;
    await applyOverlay(run, plan);
    relay?.startProbing();
    if (relay && !checksumsInSoftware) {
      // A pod's TCP/UDP packet leaves its veth with the checksum left to the hardware (checksum
      // offload); VXLAN keeps it so on the way to the underlay's NIC. A packet the DNAT turns to the
      // relay socket never reaches a NIC: without this it is dropped, or relayed with a wrong
      // checksum. Off, the kernel fills the checksum in before encapsulating (a software checksum
      // per packet, also on the direct path).
      const r = await run(['ethtool', '-K', o.local.device, 'tx', 'off']).catch((err: unknown) => ({ code: 1, stdout: '', stderr: errorMessage(err) }));
      if (r.code !== 0) throw new Error(`ethtool -K ${o.local.device} tx off: ${r.stderr.trim() || `exit ${r.code}`} (the relay path needs ethtool: apt-get install ethtool)`);
      checksumsInSoftware = true;
    }
    const changed = JSON.stringify(peers) !== JSON.stringify(programmed);
    programmed = peers;
    if (changed) log.info({ device: o.local.device, peers: peers.map((p) => `${p.node}=${p.podCidr}@${p.vtepIp}${p.via ? `/${p.via}` : ''}`) }, 'pod network overlay programmed');
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
