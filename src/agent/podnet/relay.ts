/**
 * The node's half of the pod network relay and the probe that chooses, per peer, between the
 * direct path and the relay (docs/podnet.md, "The relay path").
 *
 * **Datapath.** The kernel's VXLAN device stays the one way out for every peer: a relayed peer's
 * forwarding entry points its MAC at the relay address (a link-local address of this node's own,
 * RELAY_ADDR_PREFIX), and an nftables DNAT in the output hook (masquerade.ts) turns those VXLAN
 * packets towards this agent's UDP socket. The agent strips the VXLAN and Ethernet headers and
 * sends the IPv4 packets, batched, on its link's relay channel (src/common/link/relay.ts); packets
 * the server relays to it are wrapped in VXLAN again and handed to the node's own VXLAN port,
 * where the kernel decapsulates and routes them to the pod. No TUN device: Node.js cannot attach one
 * (it takes an ioctl), and the kernel's own encapsulation gives the same packets on a plain UDP
 * socket, epoll-driven like the rest of the agent's I/O.
 *
 * **Probe.** Twice a second each peer gets a probe through the direct path itself: a UDP datagram
 * between the two nodes' overlay addresses (their pod CIDRs' `.0`) in a VXLAN packet this agent
 * builds and sends straight to the peer's VTEP on UDP 8472 (so a firewall dropping VXLAN drops the
 * probe too). The peer's kernel decapsulates it to the peer agent's probe socket, which answers the
 * same way, straight to our VTEP. A peer is reached directly while it answers; once its probes
 * stay unanswered for DEAD_AFTER_MS (probed every PROBE_RETRY_MS from the first unanswered one),
 * through the relay, and directly again at its first answer. The probe tests both directions, so a pair uses the direct path
 * only when it works both ways. A new peer starts on the relay (traffic flows while the first probe
 * is out, ~a millisecond on a LAN); a peer already programmed in the kernel keeps its path until a
 * probe says otherwise (an agent restart changes nothing).
 *
 * **Native.** A peer on a subnet this node shares (Peer.nativeDev) also gets a native probe: kind
 * 'N' from this node's `.0` to the peer's `.0`, sent by the probe socket itself, which the kernel
 * routes without encapsulation through the /32 route overlay.ts keeps for it, and answered ('M')
 * the same way. Source and destination are pod network addresses, as a pod's packets have, so a
 * LAN or a cloud network that drops foreign addresses drops the probe too. A peer answers 'N'
 * only once its own /32 route to the asker is programmed (its answer must not take a VXLAN or
 * relay route), and an agent of an earlier version or one with `--pod-network-backend vxlan`
 * never does: the pair stays on VXLAN. A peer is routed natively from its first native answer;
 * once its native probes stay unanswered for DEAD_AFTER_MS it goes to VXLAN if that answers (both
 * are probed every round), else to the relay.
 *
 * **Away.** The direct path is the kernel's: it keeps working while a node's agent restarts, but
 * nothing answers probes then, and the relay cannot carry anything to that node either (its agent
 * is what hands relayed packets to its kernel). So an agent that stops tells every peer it reaches
 * directly that it is going away (one probe packet of kind 'B', straight to their VTEPs); a peer
 * told so keeps it on the direct path for up to AWAY_GRACE_MS, until its new agent answers a
 * probe. An agent that dies without stopping (SIGKILL, a crash) sends nothing: its peers move it
 * to the relay after DEAD_AFTER_MS as before.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { parseIpv4Cidr } from '../../common/cluster-network.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { RELAY_BATCH_BYTES, decodeRelayFrame, encodeRelayFrame } from '../../common/link/relay.ts';
import { gatewayOf } from './overlay.ts';
import { ETH_HEADER, MAGIC, PROBE_PORT, VXLAN_HEADER, macBytes, probePacket, probePayload, vxlanHeader } from './probe-packet.ts';
import { VXLAN_PORT } from './types.ts';
import type { LocalEnd, Peer, PeerPath } from './types.ts';

/** A peer that answers is probed this often. */
export const PROBE_INTERVAL_MS = 500;
/** A peer whose last probe is unanswered is probed this often (so a broken path shows at once). */
export const PROBE_RETRY_MS = 100;
/**
 * A peer whose probes stay unanswered this long (from the first unanswered one: at least ten
 * probes) is reached through the relay.
 */
export const DEAD_AFTER_MS = 1000;
/**
 * How long a peer whose agent said it is going away (stopping: a restart, an upgrade) keeps the
 * direct path without answering probes. Its kernel forwards meanwhile; the relay could not reach
 * it. An agent restart takes seconds (more on a loaded device); past this, unanswered probes move
 * it to the relay as usual.
 */
export const AWAY_GRACE_MS = 30_000;
/** Source MAC of the frames the relay hands to the kernel (any unicast MAC but the device's own). */
const RELAY_SOURCE_MAC = Buffer.from([0x02, 0x65, 0x6f, 0x73, 0x72, 0x6c]);

export interface RelayOptions {
  readonly local: LocalEnd;
  /** Puts a relay frame on the link; false when it was dropped (no link, or backed up). */
  readonly send: (frame: Buffer) => boolean;
  /**
   * Whether the relay can carry anything now (the link is up). While it cannot, a peer whose
   * probes go unanswered keeps the direct path: it may still work (the peer's agent restarting:
   * its kernel still forwards), the relay certainly does not.
   */
  readonly relayUp?: () => boolean;
  /** Some peers' paths changed (`changed`, each with its new path): the overlay must be programmed again. */
  readonly onPathChange: (changed: readonly Peer[]) => void;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface RelayCounters {
  /** Packets sent on / received from the link's relay channel. */
  sent: number;
  received: number;
  /** Dropped: the link was down or backed up; or a packet from the server not for this node's pods. */
  dropped: number;
}

interface PeerState {
  peer: Peer;
  via: PeerPath;
  /** When it last answered a probe (0: never). */
  lastReply: number;
  /** When the first probe since its last answer was sent (0: none unanswered). */
  pending: number;
  /** When it gets its next probe. */
  nextProbe: number;
  /** Until when it keeps the direct path unanswered: its agent said it is going away (0: not away). */
  awayUntil: number;
  /** The native probe's: when it last answered, since when it is unanswered (0: none). */
  nativeReply: number;
  nativePending: number;
  mac: Buffer;
}

export class PodRelay {
  readonly counters: RelayCounters = { sent: 0, received: 0, dropped: 0 };
  private readonly o: RelayOptions;
  private readonly now: () => number;
  private readonly local: { vtepIp: string; gateway: string; mac: Buffer; base: number; mask: number };
  private readonly peers = new Map<string, PeerState>();
  /** Overlay address (peer's `.0`) → node. */
  private readonly byGateway = new Map<string, string>();
  /** Peers whose native /32 route the kernel has: only those get, and are answered, native probes. */
  private nativeReady = new Set<string>();
  private tunnel: Socket | undefined;
  /**
   * Connected to this node's own VXLAN port: what the server relays here goes to the kernel through
   * it. Connected, a send skips the address lookup and argument handling of an unconnected one
   * (one send per packet: the relay's hottest call on the receiving side).
   */
  private inject: Socket | undefined;
  /** The VXLAN and Ethernet header of every packet handed to the kernel (to our own MAC). */
  private readonly injectHeader: Buffer;
  private probe: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private seq = 0;
  private closed = false;
  /** The port the DNAT sends relayed VXLAN packets to (0 until the tunnel socket is bound). */
  port = 0;

  constructor(o: RelayOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    const c = parseIpv4Cidr(o.local.podCidr)!;
    this.local = { vtepIp: o.local.vtepIp, gateway: gatewayOf(o.local.podCidr), mac: macBytes(o.local.vtepMac), base: c.base, mask: c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0 };
    this.injectHeader = vxlanHeader(this.local.mac, RELAY_SOURCE_MAC);
  }

  /** Opens the tunnel socket (the DNAT's target) once; resolves with its port. */
  async open(): Promise<number> {
    if (this.tunnel) return this.port;
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    s.on('message', (m) => this.fromKernel(m));
    s.on('error', (err) => this.o.log.warn({ err: errorMessage(err) }, 'pod network relay socket error'));
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, this.local.vtepIp, () => {
        s.off('error', reject);
        resolve();
      });
    });
    const inject = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
    inject.on('error', (err) => this.o.log.warn({ err: errorMessage(err) }, 'pod network relay socket error'));
    await new Promise<void>((resolve, reject) => {
      inject.once('error', reject);
      inject.connect(VXLAN_PORT, this.local.vtepIp, () => {
        inject.off('error', reject);
        resolve();
      });
    });
    this.tunnel = s;
    this.inject = inject;
    this.port = s.address().port;
    return this.port;
  }

  /** The peers to reach, with the path the kernel has for those it already has (new ones start on the relay). */
  setPeers(peers: readonly Peer[], programmed: ReadonlyMap<string, PeerPath>): void {
    const now = this.now();
    const keep = new Set(peers.map((p) => p.node));
    for (const node of this.peers.keys()) if (!keep.has(node)) this.peers.delete(node);
    this.byGateway.clear();
    for (const p of peers) {
      this.byGateway.set(gatewayOf(p.podCidr), p.node);
      const s = this.peers.get(p.node);
      if (s && s.peer.vtepIp === p.vtepIp && s.peer.vtepMac === p.vtepMac) {
        if (s.peer.nativeDev !== p.nativeDev) {
          s.nativeReply = 0;
          s.nativePending = 0;
        }
        s.peer = p;
        // No longer on a shared subnet: VXLAN until its probes say otherwise.
        if (s.via === 'native' && !p.nativeDev) s.via = 'direct';
        continue;
      }
      let via = programmed.get(p.node) ?? 'relay';
      if (via === 'native' && !p.nativeDev) via = 'direct';
      this.peers.set(p.node, { peer: p, via, lastReply: 0, pending: 0, nextProbe: now, awayUntil: 0, nativeReply: 0, nativePending: 0, mac: macBytes(p.vtepMac) });
    }
  }

  /** The peers whose native probe route (overlay.ts nativeProbeRoute) the kernel now has. */
  setNativeReady(nodes: Iterable<string>): void {
    this.nativeReady = new Set(nodes);
  }

  /** Starts probing (once the overlay address exists: the probe socket binds to it). */
  startProbing(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.round(), PROBE_RETRY_MS);
    this.timer.unref();
    this.round();
  }

  /** The path each peer takes now. */
  pathOf(node: string): PeerPath | undefined {
    return this.peers.get(node)?.via;
  }

  /** A frame of the link's relay channel: its packets go to the kernel's VXLAN port. */
  deliver(frame: Buffer): void {
    const t = this.inject;
    const packets = decodeRelayFrame(frame);
    if (!t || !packets) return;
    const { mask, base } = this.local;
    const header = this.injectHeader;
    let received = 0;
    for (const p of packets) {
      // Only for this node's pods (the server checks too): never a way into anything else.
      if (p.length < 20 || p[0]! >> 4 !== 4 || ((p.readUInt32BE(16) & mask) >>> 0) !== base) {
        this.counters.dropped++;
        continue;
      }
      received++;
      t.send([header, p]);
    }
    this.counters.received += received;
  }

  /**
   * Tells every peer reached directly that this agent is going away (stopping), so that it keeps
   * this node on the direct path while no agent answers its probes (see "Away" above). Resolves
   * once the packets are sent (at most ~200 ms).
   */
  async goodbye(): Promise<void> {
    const direct = [...this.peers.values()].filter((s) => s.via !== 'relay');
    if (!this.tunnel || direct.length === 0) return;
    // Over VXLAN, and natively too to a native peer (a LAN may carry only one of them).
    const sent = Promise.all(direct.flatMap((s) => [
      new Promise<void>((resolve) => this.sendProbe(s, 'B', 0, () => resolve())),
      ...(s.via === 'native' ? [new Promise<void>((resolve) => this.sendNativeProbe(s, 'B', 0, () => resolve()))] : []),
    ]));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sent, new Promise<void>((resolve) => (timer = setTimeout(resolve, 200)))]);
    clearTimeout(timer);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.tunnel?.close();
    this.inject?.close();
    this.probe?.close();
    this.tunnel = undefined;
    this.inject = undefined;
    this.probe = undefined;
  }

  /** A VXLAN packet the DNAT sent here: a pod's packet for a relayed peer. */
  private fromKernel(m: Buffer): void {
    if (m.length <= VXLAN_HEADER + ETH_HEADER || m.readUInt16BE(VXLAN_HEADER + 12) !== 0x0800) return;
    const packet = m.subarray(VXLAN_HEADER + ETH_HEADER);
    this.batch.push(packet);
    this.batchBytes += packet.length;
    if (this.batchBytes >= RELAY_BATCH_BYTES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const packets = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    if (this.o.send(encodeRelayFrame(packets))) this.counters.sent += packets.length;
    else this.counters.dropped += packets.length;
  }

  // ---- the probe ----

  /**
   * Every PROBE_RETRY_MS: probes the peers that are due, then (once the event loop has read what
   * arrived meanwhile: an answer waiting in the socket after a stall must count) moves each peer
   * whose probes went unanswered for DEAD_AFTER_MS to the relay. A path inherited from the kernel
   * gets the same time to be confirmed.
   */
  private round(): void {
    if (this.closed) return;
    this.ensureProbeSocket();
    const now = this.now();
    for (const s of this.peers.values()) {
      if (now < s.nextProbe) continue;
      if (s.pending === 0) s.pending = now;
      // Again soon unless it answers (onProbe puts the next one PROBE_INTERVAL_MS on); a peer
      // already on the relay only every PROBE_INTERVAL_MS (its first answer brings it back).
      s.nextProbe = now + (s.via === 'relay' ? PROBE_INTERVAL_MS : PROBE_RETRY_MS);
      this.sendProbe(s, 'Q');
      if (this.nativeReady.has(s.peer.node)) {
        if (s.nativePending === 0) s.nativePending = now;
        this.sendNativeProbe(s, 'N');
      }
    }
    setImmediate(() => this.judge());
  }

  private judge(): void {
    if (this.closed) return;
    const relayUp = !this.o.relayUp || this.o.relayUp();
    const now = this.now();
    const dead = (since: number) => since !== 0 && now - since >= DEAD_AFTER_MS;
    const changed: Peer[] = [];
    for (const s of this.peers.values()) {
      // Its agent is restarting: its kernel still forwards, and the relay could not reach it.
      if (s.via === 'relay' || now < s.awayUntil) continue;
      let next: PeerPath;
      if (s.via === 'native') {
        if (!dead(s.nativePending) && this.nativeReady.has(s.peer.node)) continue;
        next = dead(s.pending) ? 'relay' : 'direct';
      } else {
        if (!dead(s.pending)) continue;
        next = 'relay';
      }
      // The link is down: the relay carries nothing, and the path may still work.
      if (next === 'relay' && !relayUp) continue;
      if (next === 'relay') this.o.log.info({ peer: s.peer.node, via: 'relay', lastReplyMs: s.lastReply ? now - s.lastReply : null }, 'pod network path to a peer goes through the relay');
      else this.o.log.info({ peer: s.peer.node, via: 'direct', lastReplyMs: s.nativeReply ? now - s.nativeReply : null }, 'pod network path to a peer goes over VXLAN: its native path does not answer');
      s.via = next;
      changed.push({ ...s.peer, via: next });
    }
    if (changed.length) this.o.onPathChange(changed);
  }

  private ensureProbeSocket(): void {
    if (this.probe) return;
    const s = dgram.createSocket('udp4');
    s.on('message', (m, from) => this.onProbe(m, from.address));
    s.on('error', () => {
      // The overlay address is not there yet (first sync still running): try again next round.
      if (this.probe === s) this.probe = undefined;
      s.close();
    });
    this.probe = s;
    s.bind(PROBE_PORT, this.local.gateway);
  }

  private sendProbe(s: PeerState, kind: 'Q' | 'R' | 'B', seq = ++this.seq, sent?: () => void): void {
    const t = this.tunnel;
    if (!t) {
      sent?.();
      return;
    }
    const packet = probePacket(this.local.gateway, gatewayOf(s.peer.podCidr), probePayload(kind, seq));
    t.send([vxlanHeader(s.mac, this.local.mac), packet], VXLAN_PORT, s.peer.vtepIp, sent && (() => sent()));
  }

  /** A probe packet from this node's `.0` to the peer's, routed natively by the kernel (its /32 route). */
  private sendNativeProbe(s: PeerState, kind: 'N' | 'M' | 'B', seq = ++this.seq, sent?: () => void): void {
    const socket = this.probe;
    if (!socket) {
      sent?.();
      return;
    }
    socket.send(probePayload(kind, seq), PROBE_PORT, gatewayOf(s.peer.podCidr), sent && (() => sent()));
  }

  private onProbe(m: Buffer, from: string): void {
    if (m.length !== MAGIC.length + 5 || !m.subarray(0, MAGIC.length).equals(MAGIC)) return;
    const node = this.byGateway.get(from);
    const s = node ? this.peers.get(node) : undefined;
    if (!s) return;
    const kind = String.fromCharCode(m[MAGIC.length]!);
    if (kind === 'Q') {
      // Answered straight to the asker's VTEP, never through the relay.
      this.sendProbe(s, 'R', m.readUInt32BE(MAGIC.length + 1));
      return;
    }
    // Answered natively only over our own native route to the asker (never a VXLAN or relay route).
    const nativeReady = this.nativeReady.has(s.peer.node);
    if (kind === 'N') {
      if (nativeReady) this.sendNativeProbe(s, 'M', m.readUInt32BE(MAGIC.length + 1));
      return;
    }
    const now = this.now();
    if (kind === 'M') {
      if (!nativeReady) return;
      s.nativeReply = now;
      s.awayUntil = 0;
      if (s.via === 'native' && s.nativePending) s.nextProbe = s.nativePending + PROBE_INTERVAL_MS;
      s.nativePending = 0;
      if (s.via !== 'native') {
        this.o.log.info({ peer: s.peer.node, via: 'native', dev: s.peer.nativeDev }, 'pod network path to a peer is native');
        s.via = 'native';
        this.o.onPathChange([{ ...s.peer, via: 'native' }]);
      }
      return;
    }
    if (kind === 'B') {
      // Its agent is stopping (a restart): keep the direct path its kernel still serves.
      if (s.via === 'relay') return;
      s.awayUntil = now + AWAY_GRACE_MS;
      this.o.log.info({ peer: s.peer.node, graceMs: AWAY_GRACE_MS }, 'pod network peer\'s agent is going away: its direct path is kept until it answers again');
      return;
    }
    if (kind !== 'R') return;
    s.lastReply = now;
    s.awayUntil = 0;
    // Answered: the next probe PROBE_INTERVAL_MS after the first unanswered one (a native peer's
    // schedule follows its native probe).
    if (s.pending && s.via !== 'native') s.nextProbe = s.pending + PROBE_INTERVAL_MS;
    s.pending = 0;
    if (s.via === 'relay') {
      // Back at once rather than at the next round.
      this.o.log.info({ peer: s.peer.node, via: 'direct' }, 'pod network path to a peer is direct');
      s.via = 'direct';
      this.o.onPathChange([{ ...s.peer, via: 'direct' }]);
    }
  }
}
