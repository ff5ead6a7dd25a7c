/**
 * The API machinery's contract with the server that mounts it (src/server/server.ts): what the API
 * gets, and what it offers. src/server/api/index.ts createApiHandler implements it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.ts';
import type { NodeTunnel } from '../../common/tunnel.ts';
import type { Store } from '../../store/types.ts';
import type { ServiceAccountTokens } from '../auth/service-account-tokens.ts';
import type { Authenticator, Authorizer } from '../auth/types.ts';
import type { NodeStatsSource } from '../../common/node-stats.ts';

/** What the API gets to serve everything but the public paths. */
export interface ApiHandlerDeps {
  readonly store: Store;
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  readonly log: Logger;
  /** Service ClusterIP range (default 10.43.0.0/16, like K3s). */
  readonly serviceCidr?: string;
  /** --service-node-port-range (default 30000-32767). */
  readonly nodePortRange?: { readonly min: number; readonly max: number };
  /** Byte streams to nodes' agents over their links (logs/exec/attach/port-forward); without it those answer 503. */
  readonly nodeTunnel?: NodeTunnel;
  /** The agents' latest resource usage, served as metrics.k8s.io. */
  readonly nodeStats?: NodeStatsSource;
  /** Issues ServiceAccount tokens (serviceaccounts/token); without it that subresource answers 503. */
  readonly serviceAccountTokens?: ServiceAccountTokens;
}

export interface ApiHandler {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Resolves once the API can serve (default namespaces exist, stored CRDs are served); a rejection
   * is a failure of the server.
   */
  readonly ready: Promise<void>;
  /** Ends open watches (called at shutdown); in-flight requests finish on their own. */
  close(): Promise<void>;
}
