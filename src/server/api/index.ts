/**
 * The Kubernetes API machinery of edgeos: discovery, REST verbs on the store, watch, Tables,
 * subresources and Status errors, as real kubectl needs them (docs: /work/shared/kubectl-wire.md).
 * The server (src/server/server.ts) mounts this behind HTTPS and serves the public paths itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.ts';
import type { NodeTunnel } from '../../common/tunnel.ts';
import type { Store } from '../../store/types.ts';
import type { Authenticator, Authorizer } from '../auth/types.ts';
import type { NodeStatsSource } from '../link/node-stats.ts';
import { kindBehavior } from '../kinds/index.ts';
import { ResourceRegistry } from '../registry/index.ts';
import { bootstrap } from './bootstrap.ts';
import type { ApiDeps } from './context.ts';
import { handleRequest } from './handler.ts';
import type { HandlerDeps } from './handler.ts';
import { ClusterIpAllocator, DEFAULT_SERVICE_CIDR } from './services/cluster-ip.ts';
import { DEFAULT_NODE_PORT_RANGE } from './services/node-port.ts';
import { handleUpgrade } from './upgrade.ts';

export interface ApiHandlerDeps {
  readonly store: Store;
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  readonly log: Logger;
  /** Service ClusterIP range (default 10.43.0.0/16, like K3s). */
  readonly serviceCidr?: string;
  /** --service-node-port-range (default 30000-32767). */
  readonly nodePortRange?: { readonly min: number; readonly max: number };
  /** Streams to agents over their links (src/server/link); without it pods/log, exec, attach, portforward answer 503. */
  readonly nodeTunnel?: NodeTunnel;
  /** The agents' latest resource usage (src/server/link), served as metrics.k8s.io. */
  readonly nodeStats?: NodeStatsSource;
}

export interface ApiHandler {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Resolves once the default namespaces exist and stored CRDs are served; rejects if that failed. */
  readonly ready: Promise<void>;
  /** Ends open watches; in-flight requests finish on their own. */
  close(): Promise<void>;
}

export function createApiHandler(deps: ApiHandlerDeps): ApiHandler {
  const log = deps.log.child({ component: 'api' });
  const closing = new AbortController();
  const api: ApiDeps = {
    store: deps.store,
    registry: new ResourceRegistry(),
    log,
    behavior: kindBehavior,
    authorizer: deps.authorizer,
    clusterIps: new ClusterIpAllocator(deps.serviceCidr ?? DEFAULT_SERVICE_CIDR),
    nodePorts: deps.nodePortRange ?? DEFAULT_NODE_PORT_RANGE,
    now: () => new Date(),
    closing: closing.signal,
    ...(deps.nodeTunnel ? { tunnel: deps.nodeTunnel } : {}),
    ...(deps.nodeStats ? { nodeStats: deps.nodeStats } : {}),
  };
  const ready = bootstrap(api);
  // Requests wait on `ready`; a bootstrap failure answers them with 500 and is logged once here.
  ready.catch((err: unknown) => log.error({ err }, 'API bootstrap failed'));
  const h: HandlerDeps = { ...api, authenticator: deps.authenticator, ready };
  return {
    handleRequest: (req, res) => handleRequest(h, req, res),
    handleUpgrade: (req, socket, head) => handleUpgrade(h, req, socket, head),
    ready,
    close: async () => {
      closing.abort();
    },
  };
}

export { DEFAULT_NAMESPACES } from './bootstrap.ts';
export { DEFAULT_SERVICE_CIDR } from './services/cluster-ip.ts';
