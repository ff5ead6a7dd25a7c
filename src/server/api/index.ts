/**
 * The Kubernetes API machinery of edgeos: discovery, REST verbs on the store, watch, Tables,
 * subresources and Status errors, as real kubectl needs them (docs: /work/shared/kubectl-wire.md).
 * The server (src/server/server.ts) mounts this behind HTTPS and serves the public paths itself.
 */
import { ClusterIpAllocator, DEFAULT_SERVICE_CIDR } from '../kinds/cluster-ip.ts';
import { DEFAULT_NODE_PORT_RANGE } from '../kinds/node-port.ts';
import { ResourceRegistry, storageSegment } from '../registry/index.ts';
import { WatchCache } from '../storage/watch-cache.ts';
import { bootstrap } from './bootstrap.ts';
import type { ApiDeps } from './context.ts';
import { syncCrd } from './crds/serve-crd.ts';
import { handleRequest } from './handler.ts';
import type { HandlerDeps } from './handler.ts';
import type { ApiHandler, ApiHandlerDeps } from './types.ts';
import { handleUpgrade } from './upgrade.ts';

export type { ApiHandler, ApiHandlerDeps } from './types.ts';

export function createApiHandler(deps: ApiHandlerDeps): ApiHandler {
  const log = deps.log.child({ component: 'api' });
  const closing = new AbortController();
  const registry = new ResourceRegistry();
  // Namespaces (every namespaced create) and ServiceAccounts (every pod create) from memory.
  const cache = new WatchCache(deps.store, [`/registry/${storageSegment('', 'namespaces')}/`, `/registry/${storageSegment('', 'serviceaccounts')}/`], log.child({ component: 'cache' }));
  cache.start();
  const api: ApiDeps = {
    store: cache.noteWritesOf(deps.store),
    cache,
    registry,
    log,
    authorizer: deps.authorizer,
    authenticator: deps.authenticator,
    clusterIps: new ClusterIpAllocator(deps.serviceCidr ?? DEFAULT_SERVICE_CIDR),
    nodePorts: deps.nodePortRange ?? DEFAULT_NODE_PORT_RANGE,
    now: () => new Date(),
    closing: closing.signal,
    serveCrd: (name, crd) => syncCrd(registry, name, crd),
    ...(deps.nodeTunnel ? { tunnel: deps.nodeTunnel } : {}),
    ...(deps.nodeStats ? { nodeStats: deps.nodeStats } : {}),
    ...(deps.serviceAccountTokens ? { serviceAccountTokens: deps.serviceAccountTokens } : {}),
  };
  const ready = bootstrap(api);
  // Requests wait on `ready`; a bootstrap failure answers them with 500 and is logged once here.
  ready.catch((err: unknown) => log.error({ err }, 'API bootstrap failed'));
  const h: HandlerDeps = { ...api, authenticator: deps.authenticator, ready, ...(deps.metrics ? { metrics: deps.metrics } : {}) };
  return {
    handleRequest: (req, res) => handleRequest(h, req, res),
    handleUpgrade: (req, socket, head) => handleUpgrade(h, req, socket, head),
    ready,
    close: async () => {
      closing.abort();
      cache.close();
    },
  };
}

export { DEFAULT_NAMESPACES } from './bootstrap.ts';
export { DEFAULT_SERVICE_CIDR } from '../kinds/cluster-ip.ts';
