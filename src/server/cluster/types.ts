/**
 * The contracts of a cluster of servers on one datastore (docs/ha.md): the servers registry's
 * record, the identity servers present to each other, and what the rest of the server uses.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NodeTunnel } from '../../common/tunnel.ts';

/** An address and port in-cluster clients reach a server's API on (an endpoint of the `kubernetes` Service). */
export interface ApiEndpoint {
  readonly ip: string;
  readonly port: number;
}

export interface ServerRecord {
  /** The server's name in the cluster (<data-dir>/server/server-id). */
  readonly id: string;
  /** Where agents and the other servers dial it, best first. */
  readonly urls: readonly string[];
  readonly startedAt: string;
  /** Where in-cluster clients reach its API (absent in records of an edgeos that did not write it). */
  readonly api?: ApiEndpoint;
}

/** Every live server's API endpoint, and word when the servers change (what the `kubernetes` Service lists). */
export interface ApiServers {
  /** One per live server that has one, in the registry's order (by server id). */
  endpoints(): ApiEndpoint[];
  /** `listener` runs whenever a server joins, changes or drops out; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

/** The group of every server's identity certificate: the only callers of the peer tunnel endpoint. */
export const SERVERS_GROUP = 'system:edgeos-servers';
/** The subject of a server's identity certificate, issued by the cluster CA at every start. */
export const serverSubject = (id: string) => `CN=system:edgeos-server:${id}, O=${SERVERS_GROUP}`;

/** A tunnel that reaches only this server's links, and tells whether a node is linked here. */
export type LocalTunnel = NodeTunnel & { isConnected(node: string): boolean };

/** A server's membership in its cluster, once started (cluster.ts). */
export interface ClusterMembership {
  readonly id: string;
  /** Every server's URLs (the same list on every server): for join tokens and the agents (link acks). */
  servers(): readonly string[];
  /** Every live server's API endpoint, for the `kubernetes` Service (cluster-services.ts). */
  readonly apiServers: ApiServers;
  /** The node's link is now on this server / is no longer (the records other servers forward by). */
  linked(node: string): void;
  unlinked(node: string): void;
  /** The NodeTunnel that reaches an agent linked to any server of the cluster. */
  tunnel(local: LocalTunnel): NodeTunnel;
  /** True for the other servers' tunnel requests (the caller hands them to handleUpgrade). */
  matches(req: IncomingMessage): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  stop(): Promise<void>;
}
