/**
 * The contracts of the server end of the link (docs/link.md): the node-scoped feed, the node's
 * writes, the API they go through, and the link server the HTTPS listener hands upgrades to. What
 * the API reads of the link lives in src/common (NodeTunnel in tunnel.ts, NodeStatsSource in
 * node-stats.ts), so src/server/api never imports this folder.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import type { Logger } from '../../common/log.ts';
import type { EventMessage, KubeObjectJson, LinkKind, NodeRegistration, ObjectChange, ServiceAccountTokenMessage } from '../../common/link/protocol.ts';
import type { LinkTransport } from '../../common/link/transport.ts';
import type { NodeStatsSource } from '../../common/node-stats.ts';
import type { NodeTunnel } from '../../common/tunnel.ts';
import type { Store } from '../../store/types.ts';
import type { CredentialAuthenticator, UserInfo } from '../auth/types.ts';
import type { NodePods } from '../auth/node-pod-index.ts';
import type { FeedHub } from './feed-hub.ts';

export type { NodeStatsSample, NodeStatsSource } from '../../common/node-stats.ts';

// ---- the node-scoped feed (node-feed.ts) ----

export interface FeedSink {
  snapshot(revision: number, objects: { kind: LinkKind; object: KubeObjectJson }[]): void;
  changes(revision: number, changes: ObjectChange[]): void;
  bookmark(revision: number): void;
  /** The feed stopped for good (store closed); the link should close. */
  failed(err: Error): void;
}

export interface NodeFeedOptions {
  readonly store: Store;
  readonly node: string;
  /** The agent's last revision; undefined = relist. */
  readonly fromRevision: number | undefined;
  readonly sink: FeedSink;
  readonly log: Logger;
  /** Where live events come from: one store watch shared by every link (feed-hub.ts). */
  readonly hub: FeedHub;
  readonly now?: () => number;
}

export interface NodeFeed {
  /** How the feed started: from the agent's revision, or with a snapshot. */
  readonly start: 'resume' | 'relist';
  stop(): void;
}

// ---- the node's writes (node-writes.ts) ----

export interface NodeWrites {
  /** Creates the Node with these labels and taints; 'exists' when it is already registered. */
  register(reg: NodeRegistration): Promise<'created' | 'exists'>;
  podStatus(namespace: string, name: string, uid: string, status: Record<string, unknown>): Promise<void>;
  podTerminated(namespace: string, name: string, uid: string): Promise<void>;
  nodeStatus(status: Record<string, unknown>): Promise<void>;
  event(e: EventMessage['event']): Promise<void>;
  renewLease(durationSeconds: number): Promise<void>;
  /** Removes LOCAL_PATH_FINALIZER from the PersistentVolume once the node acted on its data. */
  volumeReleased(name: string): Promise<void>;
  /** A TokenRequest as the node for a token bound to one of its pods. */
  serviceAccountToken(req: Omit<ServiceAccountTokenMessage, 'type' | 'id'>): Promise<{ token: string; expirationTimestamp: string }>;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

/** Requests to the server's own API as one user. */
export interface ApiClient {
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse>;
}

/**
 * The server's API called in its own process as `user` (src/server/in-process-api.ts): no socket,
 * no TLS, no credential, but the same authentication result, authorization (Node authorizer,
 * RBAC), admission and storage as a request over HTTPS. `userAgent` names the field manager.
 */
export type ApiAs = (user: UserInfo, userAgent: string) => ApiClient;

// ---- what the server knows of the links, for /metrics (link-traffic.ts) ----

export interface LinkNodeTraffic {
  /** Payload bytes received from / sent to the node's agent since this server started. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** When the agent was last heard (any frame, ping or pong), ms since the epoch. */
  readonly lastSeenMs: number;
  /** This node's links opened and closed since this server started. */
  readonly connects: number;
  readonly disconnects: number;
  /** The last LINK_EVENTS_KEPT of them, oldest first (the console's link history). */
  readonly events: readonly LinkEvent[];
}

/** How many connects/disconnects a node's history keeps (a flapping link must not grow memory). */
export const LINK_EVENTS_KEPT = 50;

export interface LinkEvent {
  /** ms since the epoch. */
  readonly at: number;
  readonly event: 'connected' | 'disconnected';
  /** For a disconnect: the WebSocket close code and reason (1006 and '' when the connection dropped). */
  readonly code?: number;
  readonly reason?: string;
}

/** The pod network relay through this server (pod-relay.ts), for /metrics. */
export interface LinkRelayTraffic {
  /** Node pairs (one direction each) relayed in the last 10 s. */
  readonly pairs: number;
  readonly packets: number;
  readonly bytes: number;
  /** Refused by the least-privilege check (source not the sender's pods, destination not another node's). */
  readonly refused: number;
  /** The destination node not linked here, or its link backed up. */
  readonly undeliverable: number;
}

export interface LinkTraffic {
  /** Links opened and closed since this server started (a replaced link counts as one of each). */
  readonly connects: number;
  readonly disconnects: number;
  connectedAgents(): number;
  /** Every node that had a link since this server started, connected or not. */
  nodes(): ReadonlyMap<string, LinkNodeTraffic>;
  relay(): LinkRelayTraffic;
}

// ---- the link server (link-server.ts) ----

/** What the link needs of a cluster of servers (src/server/cluster): absent on a lone server. */
export interface LinkCluster {
  /** Every server's URLs: agents get them in the hello ack, and in a lease ack when they changed. */
  servers(): readonly string[];
  /** The node's link is now on this server / is no longer. */
  linked(node: string): void;
  unlinked(node: string): void;
}

export interface LinkServerOptions {
  readonly store: Store;
  readonly authenticator: CredentialAuthenticator;
  readonly log: Logger;
  /** Where a node's writes go, as that node. */
  readonly apiAs: ApiAs;
  readonly signNodeCsr: (csrPem: string, nodeName: string) => Promise<string>;
  readonly pingIntervalMs?: number;
  readonly cluster?: LinkCluster;
  /** The cluster's Service networking, told to every agent when it links. */
  readonly network?: ClusterNetwork;
}

export interface LinkServer {
  /** True when the upgrade request is for the link (the caller hands it to handleUpgrade). */
  matches(req: IncomingMessage): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * A link for an agent in this process (the local agent of `edgeos server`), as `node`: the
   * agent's end of an in-process transport whose server end is served like a WebSocket link.
   */
  connectInProcess(node: string): LinkTransport;
  /** Streams to this server's agents; `isConnected` tells whether a node is linked here. */
  readonly tunnel: NodeTunnel & { isConnected(node: string): boolean };
  /** Resource usage of the linked nodes, asked for on demand (metrics.k8s.io). */
  readonly stats: NodeStatsSource;
  /** Connects, disconnects and bytes per node, for /metrics. */
  readonly traffic: LinkTraffic;
  /**
   * The pods bound to each node, from the feed hub's watch: the Node authorizer's index
   * (auth/node-pod-index.ts), the server's one.
   */
  readonly nodePods: NodePods;
  /** Registers a joining node's Node as that node ('exists' when the name is taken). */
  registerNode(node: string, reg: NodeRegistration): Promise<'created' | 'exists'>;
  close(): Promise<void>;
}
