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
  /** Request metrics and the /metrics exposition (src/server/metrics); without it /metrics is 404. */
  readonly metrics?: ApiMetrics;
  /** Issues ServiceAccount tokens (serviceaccounts/token); without it that subresource answers 503. */
  readonly serviceAccountTokens?: ServiceAccountTokens;
}

/** One finished API request, with apiserver_request_total's labels. */
export interface RequestObservation {
  /** GET, LIST, WATCH, POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION, CONNECT; the HTTP method for non-resource paths. */
  readonly verb: string;
  readonly dryRun: boolean;
  /** Empty unless the request addressed a served resource (label values stay bounded whatever callers send). */
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  /** resource, namespace, cluster, or "" for non-resource paths. */
  readonly scope: string;
  readonly code: number;
  readonly seconds: number;
}

export interface ApiMetrics {
  observe(r: RequestObservation): void;
  /** A short request started (+1) or ended (-1): apiserver_current_inflight_requests. */
  inflight(kind: 'readOnly' | 'mutating', delta: 1 | -1): void;
  /** The Prometheus text exposition of everything the server measures. */
  scrape(): Promise<{ contentType: string; body: string }>;
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
