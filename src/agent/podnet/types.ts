/**
 * The pod network's contract (docs/podnet.md): every node publishes where its VXLAN endpoint is
 * in annotations on its Node (set at registration and reconciled at every hello, as the agent's
 * other annotations), the server gives each node a pod CIDR (node.spec.podCIDR), and each agent
 * programs routes, neighbour and forwarding entries to every other node from those Node objects.
 */

/** The node's underlay address the other nodes send VXLAN packets to (flannel's public-ip). */
export const VTEP_IP_ANNOTATION = 'network.edgeos.io/vtep-ip';
/** The MAC of the node's VXLAN device (flannel's backend-data VtepMAC). */
export const VTEP_MAC_ANNOTATION = 'network.edgeos.io/vtep-mac';

/** VXLAN network id and UDP port: the kernel's and flannel's defaults. */
export const VXLAN_ID = 1;
/**
 * The relay's own VXLAN device (its packets only ever reach the agent's socket, through the DNAT):
 * a second VNI on the same port, as the kernel refuses two devices with one VNI on one port.
 */
export const RELAY_VXLAN_ID = 2;
export const VXLAN_PORT = 8472;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
export const VXLAN_OVERHEAD = 50;

/**
 * How a peer is reached: `native`, routed without encapsulation to its node address (the two
 * nodes share an L2 subnet; flannel's DirectRouting, Calico's CrossSubnet); `direct`, VXLAN
 * straight to its VTEP; or `relay`, through the server over the link (relay.ts).
 */
export type PeerPath = 'native' | 'direct' | 'relay';

export type { PodNetworkBackend } from '../../common/pod-network-backend.ts';

/**
 * The routing protocol number the agent's native routes carry (`ip route … proto 75`): how a sync
 * finds the routes it programmed on the node's own interfaces (any device) to remove stale ones.
 * Not one of iproute2's reserved numbers (/etc/iproute2/rt_protos).
 */
export const NATIVE_ROUTE_PROTO = 75;

/** Another node as the overlay reaches it. */
export interface Peer {
  readonly node: string;
  readonly podCidr: string;
  readonly vtepIp: string;
  readonly vtepMac: string;
  /**
   * The interface of this node on whose subnet the peer's vtepIp lies (absent: none, or
   * `--pod-network-backend vxlan`): the peer may be routed natively through it.
   */
  readonly nativeDev?: string;
  /** Absent: direct. */
  readonly via?: PeerPath;
}

/** This node's end of the overlay. */
export interface LocalEnd {
  /** The VXLAN device's name. */
  readonly device: string;
  readonly vtepIp: string;
  readonly vtepMac: string;
  readonly mtu: number;
  readonly podCidr: string;
  /**
   * Where the forwarding entry of a relayed peer points (a link-local address of this node's own):
   * the masquerade table's DNAT sends VXLAN packets for it to the agent's relay socket.
   */
  readonly relayAddr?: string;
  /** The relay's VXLAN device (set by the pod network while the relay exists). */
  readonly relayDevice?: string;
  /** The interface holding vtepIp: the relay address's route goes through it (never lo, see relay.ts). */
  readonly underlayDevice?: string;
}

/** Runs `argv` with `input` on stdin (tests prefix it with nsenter). */
export type CommandRunner = (argv: readonly string[], input?: string) => Promise<{ code: number; stdout: string; stderr: string }>;
