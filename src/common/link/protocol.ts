/**
 * The agent ↔ server link protocol (docs/link.md): one WebSocket at LINK_PATH over the API port,
 * authenticated by the node's client certificate. Control messages are JSON text frames, a
 * discriminated union on `type`, every one with an `id`; requests are answered by an `ack` with
 * the same id. Stream bytes travel as binary frames (see stream-mux.ts) so they are never
 * base64-inflated.
 */
import type { ClusterNetwork } from '../cluster-network.ts';
import type { TunnelOpen } from '../tunnel.ts';
import { LinkErrorCode } from './error-codes.ts';

export const LINK_PATH = '/edgeos/v1/link';
/**
 * Bumped on incompatible changes: the server refuses the upgrade of another version's subprotocol
 * (and a hello with another version). 2: usage is asked for (`stats-request`), no longer pushed.
 * 3: the feed carries Services and EndpointSlices; the hello's ack carries the cluster network;
 * `service-account-token` asks for a pod's ServiceAccount token.
 */
export const LINK_PROTOCOL_VERSION = 3;
/** The WebSocket subprotocol the agent asks for, naming the version. */
export const LINK_SUBPROTOCOL = `edgeos.link.v${LINK_PROTOCOL_VERSION}`;

/** What the link carries of the node's desired state (CachedKind of src/agent/types.ts). */
export type LinkKind = 'Pod' | 'ConfigMap' | 'Secret' | 'ServiceAccount' | 'Node' | 'PersistentVolumeClaim' | 'PersistentVolume' | 'Service' | 'EndpointSlice';

export type KubeObjectJson = Record<string, unknown>;

export interface ObjectChange {
  readonly kind: LinkKind;
  readonly namespace: string;
  readonly name: string;
  /** The object, or absent when it was deleted (or is no longer the node's concern). */
  readonly object?: KubeObjectJson;
}

export interface NodeRegistration {
  readonly labels: Readonly<Record<string, string>>;
  /** core/v1 Taint objects. */
  readonly taints: readonly { key: string; value?: string; effect: string }[];
  /**
   * Annotations the agent owns on its Node: set on creation and reconciled at every hello (the
   * kubelet reconciles its own annotations the same way), e.g. where it keeps local volumes.
   */
  readonly annotations?: Readonly<Record<string, string>>;
  /** The agent's --pod-cidr, set as node.spec.podCIDR on creation (else the server assigns one). */
  readonly podCIDR?: string;
}

// ---- agent → server ------------------------------------------------------------------------

/** First message. `fromRevision` resumes the node's watch; absent = relist. */
export interface HelloMessage {
  readonly type: 'hello';
  readonly id: number;
  readonly protocol: number;
  readonly fromRevision?: string;
  /** Creates the Node when it does not exist (labels and taints only on creation, like the kubelet). */
  readonly register?: NodeRegistration;
}
export interface PodStatusMessage {
  readonly type: 'pod-status';
  readonly id: number;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly status: KubeObjectJson;
}
/**
 * The pod's containers are gone after a graceful delete (or it finished and was removed): the
 * server deletes the object with grace period 0 and a uid precondition, the kubelet status
 * manager's final delete that lets `kubectl delete pod` return.
 */
export interface PodTerminatedMessage {
  readonly type: 'pod-terminated';
  readonly id: number;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}
export interface NodeStatusMessage {
  readonly type: 'node-status';
  readonly id: number;
  readonly status: KubeObjectJson;
}
export interface EventMessage {
  readonly type: 'event';
  readonly id: number;
  readonly event: {
    readonly involvedObject: { kind: string; namespace: string; name: string; uid: string; fieldPath?: string };
    readonly type: 'Normal' | 'Warning';
    readonly reason: string;
    readonly message: string;
    readonly at: number;
  };
}
/** Renews kube-node-lease/<node>; the agent sends it every LEASE_RENEW_INTERVAL_MS. */
export interface LeaseMessage {
  readonly type: 'lease';
  readonly id: number;
  readonly durationSeconds: number;
}
/**
 * The agent acted on the data of local volume `name` (a PersistentVolume being deleted): removed
 * it under reclaim policy Delete, kept it otherwise. The server removes the volume's
 * LOCAL_PATH_FINALIZER (src/common/local-volumes.ts) so the object can go.
 */
export interface VolumeReleasedMessage {
  readonly type: 'volume-released';
  readonly id: number;
  readonly name: string;
}
/** A new client certificate for the same node, for the public key of `csr` (PEM PKCS#10). */
export interface RenewCertificateMessage {
  readonly type: 'renew-certificate';
  readonly id: number;
  readonly csr: string;
}

/**
 * A ServiceAccount token bound to one of the node's pods, for its projected serviceAccountToken
 * volume: the server asks its own API for a TokenRequest as the node (`ack.token`,
 * `ack.expirationTimestamp`). Refused unless the pod is on this node and runs as that account.
 */
export interface ServiceAccountTokenMessage {
  readonly type: 'service-account-token';
  readonly id: number;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly pod: { readonly name: string; readonly uid: string };
  /** Empty: the API's own audience. */
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
}

/** One container's usage: CPU as a rate over the window, memory as the working set. */
export interface ContainerUsage {
  readonly name: string;
  /** Average CPU use over the window in nanocores (1e9 = one core). */
  readonly cpuNanoCores: number;
  readonly memoryBytes: number;
}
/** The node's and its pods' resource usage: the answer to a `stats-request` (in `ack.stats`). */
export interface NodeStatsReport {
  /** When it was sampled (ms since epoch). */
  readonly timestamp: number;
  /** The period the CPU rates average over (ms). */
  readonly windowMs: number;
  readonly node: { readonly cpuNanoCores: number; readonly memoryBytes: number };
  readonly pods: readonly { readonly namespace: string; readonly name: string; readonly uid: string; readonly containers: readonly ContainerUsage[] }[];
}

// ---- server → agent ------------------------------------------------------------------------

/** The node's whole desired state at `revision`; the agent replaces its cache with it. */
export interface SnapshotMessage {
  readonly type: 'snapshot';
  readonly id: number;
  readonly revision: string;
  readonly objects: readonly { kind: LinkKind; object: KubeObjectJson }[];
}
/** Changes committed up to `revision`, in order. */
export interface ChangesMessage {
  readonly type: 'changes';
  readonly id: number;
  readonly revision: string;
  readonly changes: readonly ObjectChange[];
}
/** Nothing for this node up to `revision` (keeps the resume point fresh on idle links). */
export interface BookmarkMessage {
  readonly type: 'bookmark';
  readonly id: number;
  readonly revision: string;
}
/**
 * Asks for a usage sample now (metrics.k8s.io, `kubectl top`): the agent answers with an ack
 * carrying `stats`, or an ack with an error when it cannot sample (no container runtime).
 */
export interface StatsRequestMessage {
  readonly type: 'stats-request';
  readonly id: number;
}
/** Opens tunnel stream `stream`; the agent acks (accepted) or acks with an error (refused). */
export interface StreamOpenMessage {
  readonly type: 'stream-open';
  readonly id: number;
  readonly stream: number;
  readonly request: TunnelOpen['request'];
  /** base64 of TunnelOpen.httpHead. */
  readonly httpHead?: string;
}

// ---- both ways -------------------------------------------------------------------------------

export interface AckMessage {
  readonly type: 'ack';
  readonly id: number;
  /** Present when the request failed: a message for people and a link code (members of the error catalogue, src/common/error-codes.ts). */
  readonly error?: { readonly code: LinkErrorCode; readonly message: string };
  /** renew-certificate: the certificate PEM. hello: how the watch started. stats-request: the sample. */
  readonly certificate?: string;
  readonly start?: 'resume' | 'relist';
  /** hello: the cluster's Service networking (the agent keeps it for offline restarts). */
  readonly network?: ClusterNetwork;
  readonly stats?: NodeStatsReport;
  /**
   * hello and lease, from a server of a cluster: the URLs of every server, sent again only when the
   * list changed. The agent keeps them and fails over to them (docs/ha.md).
   */
  readonly servers?: readonly string[];
  /** service-account-token: the token and when it is due for renewal (RFC 3339). Never logged. */
  readonly token?: string;
  readonly expirationTimestamp?: string;
}
/** The sender will send no more bytes on `stream` (half-close; like FIN). */
export interface StreamEndMessage {
  readonly type: 'stream-end';
  readonly id: number;
  readonly stream: number;
}
/** Abort `stream` in both directions (like RST); `message` says why. */
export interface StreamResetMessage {
  readonly type: 'stream-reset';
  readonly id: number;
  readonly stream: number;
  readonly message: string;
}
/** The receiver consumed `bytes` more of `stream`: the sender may send that much more. */
export interface StreamCreditMessage {
  readonly type: 'stream-credit';
  readonly id: number;
  readonly stream: number;
  readonly bytes: number;
}

export type StreamControlMessage = StreamEndMessage | StreamResetMessage | StreamCreditMessage;
export type AgentMessage =
  | HelloMessage | PodStatusMessage | PodTerminatedMessage | NodeStatusMessage | EventMessage | LeaseMessage | VolumeReleasedMessage | RenewCertificateMessage | ServiceAccountTokenMessage
  | AckMessage | StreamControlMessage;
export type ServerMessage = SnapshotMessage | ChangesMessage | BookmarkMessage | StatsRequestMessage | StreamOpenMessage | AckMessage | StreamControlMessage;

/** Distributes Omit over a union, so `send` can take a message without its id. */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export const LEASE_RENEW_INTERVAL_MS = 10_000;
/** kubelet's default nodeLeaseDurationSeconds. */
export const LEASE_DURATION_SECONDS = 40;
/**
 * Keepalive (keepalive.ts): a link silent for PING_AFTER_MS gets one ping; silent for
 * keepaliveOf(PING_AFTER_MS).deadAfterMs (16 s) it is dropped (half-open detection). The lease and
 * its ack every 10 s keep an idle link from ever being silent that long, so in practice no ping
 * is sent, and a half-open link is noticed within ~17 s on both ends, then re-dialled.
 */
export const PING_AFTER_MS = 12_000;
/** The keepalive for a ping threshold: the pong gets min(4 s, pingAfterMs) to arrive. */
export function keepaliveOf(pingAfterMs: number): { pingAfterMs: number; deadAfterMs: number } {
  return { pingAfterMs, deadAfterMs: pingAfterMs + Math.min(4000, pingAfterMs) };
}
/** Largest WebSocket message either side accepts (a snapshot of a big node fits). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** The WebSocket close codes either end closes the link with. */
export const LinkCloseCode = {
  /** The agent or the server is stopping. */
  GOING_AWAY: 1001,
  /** This end cannot go on (the node feed failed, a message could not be applied). */
  INTERNAL: 1011,
  /** A newer link of the same node replaced this one. */
  REPLACED: 4001,
  /** A frame that is not a message of this protocol. */
  PROTOCOL: 4002,
  /** A hello of another protocol version. */
  VERSION: 4003,
} as const;

const AGENT_TYPES = new Set(['hello', 'pod-status', 'pod-terminated', 'node-status', 'event', 'lease', 'volume-released', 'renew-certificate', 'service-account-token', 'ack', 'stream-end', 'stream-reset', 'stream-credit']);
const SERVER_TYPES = new Set(['snapshot', 'changes', 'bookmark', 'stats-request', 'stream-open', 'ack', 'stream-end', 'stream-reset', 'stream-credit']);

/**
 * A parsed text frame: a message of this protocol; a well-formed message of a type this end does
 * not know (a newer peer), which the receiver refuses with an error ack and the link stays up; or
 * not a message at all, which closes the link.
 */
export type Parsed<T> =
  | { readonly kind: 'message'; readonly message: T }
  | { readonly kind: 'unknown'; readonly id: number; readonly type: string }
  | { readonly kind: 'invalid' };

function parseWith<T>(text: string, types: Set<string>): Parsed<T> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'invalid' };
  }
  if (!v || typeof v !== 'object') return { kind: 'invalid' };
  const m = v as { type?: unknown; id?: unknown };
  if (typeof m.type !== 'string' || typeof m.id !== 'number') return { kind: 'invalid' };
  if (!types.has(m.type)) return { kind: 'unknown', id: m.id, type: m.type };
  return { kind: 'message', message: v as T };
}

/** The error an end answers a message of an unknown type with (the sender's request then fails with it). */
export function unknownMessageError(type: string, peer: 'agent' | 'server'): { code: LinkErrorCode; message: string } {
  return { code: LinkErrorCode.LINK_PROTOCOL, message: `the ${peer} does not know link message type "${type}" (it speaks link protocol ${LINK_PROTOCOL_VERSION})` };
}

/** A text frame from the agent. */
export const parseAgentMessage = (text: string) => parseWith<AgentMessage>(text, AGENT_TYPES);
/** A text frame from the server. */
export const parseServerMessage = (text: string) => parseWith<ServerMessage>(text, SERVER_TYPES);
