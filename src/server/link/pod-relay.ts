/**
 * The server's half of the pod network relay (docs/podnet.md, "The relay path"): packets a node's
 * agent sends on its link's relay channel (src/common/link/relay.ts) go out on the link of the node
 * whose pod CIDR holds their destination. Least privilege: a packet is relayed only when its source
 * lies in the sending node's own pod CIDR and its destination in another node's, so a node can
 * neither spoof another node's pods nor use the server to reach anything but pods. Everything else
 * is dropped and counted; so is a packet for a node not linked to this server, or whose link is
 * backed up (RELAY_MAX_BUFFERED_BYTES: packets are never queued).
 *
 * The pod CIDRs come from the Node objects the link's feed hub already decodes (feed-hub.ts); the
 * index costs one map entry per node with a pod CIDR.
 */
import { parseIpv4Cidr } from '../../common/cluster-network.ts';
import { decodeRelayFrame, encodeRelayFrame, ipv4Ends } from '../../common/link/relay.ts';

/** node → pod CIDR, and an address → the node whose pod CIDR holds it. */
export class PodCidrIndex {
  private readonly byNode = new Map<string, { base: number; mask: number; prefix: number }>();
  /** Per prefix length: network base → node. */
  private readonly byBase = new Map<number, Map<number, string>>();

  /** Records a node's pod CIDR (undefined: none, or the node was deleted). */
  set(node: string, podCidr: string | undefined): void {
    const old = this.byNode.get(node);
    const c = podCidr ? parseIpv4Cidr(podCidr) : undefined;
    if (old && c && old.base === c.base && old.prefix === c.prefix) return;
    if (old) {
      const m = this.byBase.get(old.prefix);
      if (m?.get(old.base) === node) m.delete(old.base);
      if (m?.size === 0) this.byBase.delete(old.prefix);
      this.byNode.delete(node);
    }
    if (!c) return;
    const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
    this.byNode.set(node, { base: c.base, mask, prefix: c.prefix });
    let m = this.byBase.get(c.prefix);
    if (!m) this.byBase.set(c.prefix, (m = new Map()));
    m.set(c.base, node);
  }

  /** Whether `ip` lies in `node`'s pod CIDR. */
  holds(node: string, ip: number): boolean {
    const c = this.byNode.get(node);
    return c !== undefined && ((ip & c.mask) >>> 0) === c.base;
  }

  nodeOf(ip: number): string | undefined {
    for (const [prefix, m] of this.byBase) {
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const n = m.get((ip & mask) >>> 0);
      if (n) return n;
    }
    return undefined;
  }

  get size(): number {
    return this.byNode.size;
  }
}

export interface RelayCounters {
  /** Packets forwarded to the destination node's link. */
  packets: number;
  bytes: number;
  /** Dropped: not from the sender's pod CIDR, or not to another node's pod CIDR (or malformed). */
  refused: number;
  /** Dropped: the destination node has no link here, or its link is backed up. */
  undeliverable: number;
}

/** How long a node pair counts as relayed (edgeos_link_relays) after its last packet. */
const PAIR_ACTIVE_MS = 10_000;

export class PodRelay {
  readonly counters: RelayCounters = { packets: 0, bytes: 0, refused: 0, undeliverable: 0 };
  private readonly index: PodCidrIndex;
  private readonly send: (node: string, frame: Buffer) => boolean;
  private readonly now: () => number;
  /** "from\0to" → when a packet last went that way. */
  private readonly pairs = new Map<string, number>();

  /** `send` puts a relay frame on the node's link (false: not linked here, or backed up). */
  constructor(index: PodCidrIndex, send: (node: string, frame: Buffer) => boolean, now: () => number = Date.now) {
    this.index = index;
    this.send = send;
    this.now = now;
  }

  /** A relay frame from `from`'s agent. */
  forward(from: string, frame: Buffer): void {
    const packets = decodeRelayFrame(frame);
    if (!packets) {
      this.counters.refused++;
      return;
    }
    // Most frames carry one flow's packets: grouped by destination node, sent as one frame each.
    let single: string | undefined;
    let groups: Map<string, Buffer[]> | undefined;
    for (const p of packets) {
      const ends = ipv4Ends(p);
      const to = ends && this.index.holds(from, ends.src) ? this.index.nodeOf(ends.dst) : undefined;
      if (!to || to === from) {
        this.counters.refused++;
        groups ??= new Map(single ? [[single, packets.slice(0, packets.indexOf(p))]] : []);
        continue;
      }
      if (groups) {
        const g = groups.get(to);
        if (g) g.push(p);
        else groups.set(to, [p]);
      } else if (single === undefined || single === to) {
        single = to;
      } else {
        groups = new Map([[single, packets.slice(0, packets.indexOf(p))], [to, [p]]]);
      }
    }
    if (!groups) {
      if (single !== undefined) this.deliver(from, single, frame, packets.length);
      return;
    }
    for (const [to, list] of groups) if (list.length) this.deliver(from, to, encodeRelayFrame(list), list.length);
  }

  private deliver(from: string, to: string, frame: Buffer, count: number): void {
    if (!this.send(to, frame)) {
      this.counters.undeliverable += count;
      return;
    }
    this.counters.packets += count;
    this.counters.bytes += frame.length - 4 - 2 * count;
    this.pairs.set(`${from}\0${to}`, this.now());
  }

  /** Node pairs (one direction each) this server relayed packets for in the last 10 s. */
  activePairs(): number {
    const since = this.now() - PAIR_ACTIVE_MS;
    let n = 0;
    for (const [k, at] of this.pairs) {
      if (at >= since) n++;
      else this.pairs.delete(k);
    }
    return n;
  }
}
