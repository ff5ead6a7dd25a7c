/**
 * What every API handler works with: the process-wide dependencies (`ApiDeps`) and the one
 * request being served (`Call`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../common/log.ts';
import type { NodeTunnel } from '../../common/tunnel.ts';
import type { Store } from '../../store/types.ts';
import type { ServiceAccountTokens } from '../auth/service-account-tokens.ts';
import type { Authenticator, Authorizer, UserInfo } from '../auth/types.ts';
import type { WriteContext } from '../kinds/types.ts';
import type { NodeStatsSource } from '../../common/node-stats.ts';
import type { ResourceInfo, ResourceRegistry } from '../registry/index.ts';
import type { ResourceRequest } from './request-info.ts';

/** The API's dependencies; the kinds' write hooks get the same object as their WriteContext. */
export interface ApiDeps extends WriteContext {
  readonly store: Store;
  readonly registry: ResourceRegistry;
  readonly log: Logger;
  /** For access reviews (`kubectl auth can-i`); requests themselves are authorized in handler.ts. */
  readonly authorizer: Authorizer;
  /** For TokenReview: a token is checked exactly as a request's bearer token (handler.ts authenticates requests). */
  readonly authenticator: Authenticator;
  /** Aborted when the handler closes: ends open watches. */
  readonly closing: AbortSignal;
  /** Streams to agents for pods/log, exec, attach, portforward (absent: those answer 503). */
  readonly tunnel?: NodeTunnel;
  /** The agents' latest resource usage, for metrics.k8s.io (absent: empty lists). */
  readonly nodeStats?: NodeStatsSource;
  /** Signs TokenRequests (serviceaccounts/token); absent: that subresource answers 503. */
  readonly serviceAccountTokens?: ServiceAccountTokens;
}

export interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly query: URLSearchParams;
  readonly info: ResourceRequest;
  readonly resource: ResourceInfo;
  readonly user: UserInfo;
  readonly log: Logger;
  /** Warning headers to send with the response (kubectl prints them, §0). */
  readonly warnings: string[];
}

/** dryRun=All in the query (create/update/patch) — DELETE may carry it in the body instead. */
export function queryDryRun(query: URLSearchParams): boolean {
  return query.getAll('dryRun').includes('All');
}
