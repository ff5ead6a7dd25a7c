// The `edgeos server` component: a supervisor (src/common/supervisor.ts) of store → certificates →
// HTTPS listener → agent links and joins → certificate rotation → join token → API, and, once the
// API is ready, the controllers and the local agent; stopped in reverse. A failure after start (the
// listener dies, the API cannot bootstrap, the local agent fails) reaches the owner through
// onFailure, which stops everything; it is never swallowed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { kubernetesServiceIp } from '../common/cluster-network.ts';
import { EdgeosError, InvalidInputError, errorMessage } from '../common/errors.ts';
import { createSupervisor, startWhen } from '../common/supervisor.ts';
import { describeEndpoint } from '../store/postgres/endpoint.ts';
import type { Store } from '../store/types.ts';
import type { ApiHandler } from './api/types.ts';
import { createAuthenticator, createAuthorizer, createLoopbackToken, createServiceAccountTokens, InProcessIdentities } from './auth/index.ts';
import type { CredentialAuthenticator, ServiceAccountTokens } from './auth/index.ts';
import type { Authorizer } from './auth/types.ts';
import { bootstrapCluster, serverId, startMembership } from './cluster/index.ts';
import type { ClusterMembership } from './cluster/index.ts';
import { httpsListener } from './https-listener.ts';
import { createInProcessApi, createInProcessConnector } from './in-process-api.ts';
import { advertisedHosts, advertisedUrls, createJoinRoutes, ensureDefaultJoinToken } from './join/index.ts';
import { apiEndpoint } from './join/advertised-urls.ts';
import type { JoinRoutes } from './join/index.ts';
import { createLinkServer } from './link/index.ts';
import type { LinkServer } from './link/index.ts';
import { createConsoleRoutes, loadConsoleAssets } from './console/index.ts';
import { createServerMetrics } from './metrics/index.ts';
import { ensurePki, ensureServiceAccountKey, servingSans } from './pki/index.ts';
import type { Pki } from './pki/index.ts';
import { writeKubeconfig } from './pki/kubeconfig.ts';
import { startCertificateRotation } from './pki/rotation.ts';
import type { Rotation } from './pki/rotation.ts';
import { preflight } from './preflight.ts';
import { publicPath, servePublic, writeStatus } from './public-routes.ts';
import type { PublicRoutes } from './public-routes.ts';
import { versionInfo } from './version-info.ts';
import { serverClients } from './server-clients.ts';
import type { EdgeosServer, ServerDeps } from './server-types.ts';

/** Certificates are checked for renewal this often while the server runs. */
const ROTATION_INTERVAL_MS = 12 * 60 * 60 * 1000;

const tlsContext = (p: Pki) => ({ certPem: p.servingCertPem, keyPem: p.servingKeyPem, clientCaPem: p.caCertPem });

const isWildcard = (address: string) => address === '0.0.0.0' || address === '::';

export function createEdgeosServer(deps: ServerDeps): EdgeosServer {
  const { config } = deps;
  const log = deps.log.child({ component: 'server' });
  const sup = createSupervisor({ name: 'server', log, onFailure: deps.onFailure });
  let store: Store | undefined;
  let authenticator: CredentialAuthenticator | undefined;
  let authorizer: Authorizer | undefined;
  let serviceAccountTokens: ServiceAccountTokens | undefined;
  let api: ApiHandler | undefined;
  let apiReady = false;
  let pki: Pki | undefined;
  const address = () => listener.address;
  let rotation: Rotation | undefined;
  let link: LinkServer | undefined;
  let join: JoinRoutes | undefined;
  // A server on a shared datastore is one of a cluster of servers (src/server/cluster, docs/ha.md).
  let cluster: ClusterMembership | undefined;
  // The server's own listener, for the controllers and the local agent's identity.
  const loopbackUrl = () => {
    const host = isWildcard(config.bindAddress) ? '127.0.0.1' : config.bindAddress;
    return `https://${isIP(host) === 6 ? `[${host}]` : host}:${address()?.port ?? config.httpsListenPort}`;
  };
  const ownUrls = () => advertisedUrls({ advertiseAddress: config.advertiseAddress, bindAddress: config.bindAddress, port: address()?.port ?? config.httpsListenPort });
  // What join tokens name: every server of the cluster, or this one.
  const servers = () => cluster?.servers() ?? ownUrls();
  // Minted per start, held only here and by the controllers' client: never on disk, never logged.
  const loopbackToken = createLoopbackToken();
  // Identities of in-process connections (the link's writes as a node: in-process-api.ts).
  const inProcess = new InProcessIdentities();
  const metrics = createServerMetrics({
    store: () => store,
    links: () => link?.traffic,
    caches: () => [
      ...[...(clients.controllers()?.cacheSizes?.() ?? [])].map(([resource, n]) => [`controllers/${resource}`, n] as const),
      ...consoleRoutes.cacheSizes(),
    ],
  });
  // The web console (docs/console.md): static files, and the links' bytes for who may list Nodes.
  const consoleRoutes = createConsoleRoutes({
    load: deps.consoleAssets ?? loadConsoleAssets,
    store: () => store,
    log: deps.log.child({ component: 'console' }),
    links: () => link?.traffic,
    authenticate: (req) => (authenticator ? authenticator.identify(req) : Promise.resolve({ kind: 'anonymous' } as const)),
    authorize: (attrs) => authorizer?.authorize(attrs),
  });

  const routes: PublicRoutes = {
    livez: [],
    readyz: [
      { name: 'store', check: () => (store ? store.unavailable() : 'the store is not open') },
      { name: 'api', check: () => (!api ? 'the API is not mounted' : apiReady ? undefined : 'the API is starting') },
      // apiserver's readyz "shutdown" check: load balancers stop sending traffic while we drain.
      { name: 'shutdown', check: () => (sup.stopping ? 'the server is shutting down' : undefined) },
    ],
    version: versionInfo(deps.build),
  };

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    if (join?.matches(url)) return join.handle(req, res);
    if (consoleRoutes.matches(url)) return consoleRoutes.handle(req, res);
    const pub = publicPath(url);
    if (pub !== undefined) {
      const auth = authenticator ? await authenticator.identify(req) : ({ kind: 'anonymous' } as const);
      servePublic(req, res, pub, auth, routes);
      return;
    }
    if (api) {
      api.handleRequest(req, res);
      return;
    }
    // No API mounted (start-up, or a build without it): still never serve anything anonymously.
    const auth = authenticator ? await authenticator.identify(req) : ({ kind: 'anonymous' } as const);
    if (auth.kind !== 'user') writeStatus(res, 401, 'Unauthorized', 'Unauthorized');
    else writeStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
  }

  function serveRequest(req: IncomingMessage, res: ServerResponse): void {
    onRequest(req, res).catch((err: unknown) => {
      log.error({ err, method: req.method, url: req.url }, 'request failed');
      if (!res.headersSent) writeStatus(res, 500, 'InternalError', 'an internal error occurred');
      else res.destroy();
    });
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (link && !sup.stopping && link.matches(req)) {
      link.handleUpgrade(req, socket, head);
      return;
    }
    if (cluster && !sup.stopping && cluster.matches(req)) {
      cluster.handleUpgrade(req, socket, head);
      return;
    }
    if (api && !sup.stopping) {
      api.handleUpgrade(req, socket, head);
      return;
    }
    socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }

  const ensureCertificates = () =>
    ensurePki({
      dir: config.paths.tlsDir,
      servingSans: servingSans({
        hostname: deps.hostname ?? osHostname(),
        ...(config.advertiseAddress ? { advertiseAddress: config.advertiseAddress } : {}),
        // Every address join tokens name (and a specific bind address, which the kubeconfig dials)
        // must be a name of the certificate: agents and the other servers verify it.
        tlsSans: [
          ...config.tlsSans,
          ...advertisedHosts({ advertiseAddress: config.advertiseAddress, bindAddress: config.bindAddress }),
          ...(isWildcard(config.bindAddress) ? [] : [config.bindAddress]),
        ],
        // In-cluster clients may dial the `kubernetes` Service's ClusterIP itself.
        serviceIp: kubernetesServiceIp(config.network),
      }),
      log: deps.log.child({ component: 'pki' }),
      ...(deps.now ? { now: deps.now } : {}),
    });

  function writeAdminKubeconfig(p: Pki): void {
    writeKubeconfig(
      config.kubeconfigPath,
      { server: config.apiServerUrl, caCertPem: p.caCertPem, clientCertPem: p.adminCertPem, clientKeyPem: p.adminKeyPem },
      config.kubeconfigMode,
    );
  }

  sup.add({
    name: 'store',
    start: async () => {
      store = metrics.instrumentStore(await deps.openStore({ file: config.paths.dbFile, log: deps.log }));
    },
    stop: async () => store?.close(),
  });

  const datastore = config.datastore;
  if (datastore) {
    sup.add({
      name: 'cluster-bootstrap',
      start: async () => {
        await bootstrapCluster({
          store: store!,
          token: config.serverToken,
          tokenFile: config.paths.serverTokenFile,
          tlsDir: config.paths.tlsDir,
          database: describeEndpoint(datastore.endpoint),
          log,
        });
      },
      stop: async () => undefined,
    });
  }

  sup.add({
    name: 'pki',
    start: async () => {
      pki = await ensureCertificates();
      try {
        writeAdminKubeconfig(pki);
      } catch (err) {
        throw new InvalidInputError(`--write-kubeconfig: cannot write ${config.kubeconfigPath}: ${errorMessage(err)}`, { cause: err });
      }
      const saKey = ensureServiceAccountKey(config.paths.tlsDir, deps.log.child({ component: 'pki' }));
      serviceAccountTokens = createServiceAccountTokens({ ...saKey, clusterDomain: config.network.clusterDomain, ...(deps.now ? { now: deps.now } : {}) });
      authenticator = createAuthenticator({ store: store!, log: deps.log.child({ component: 'authn' }), loopbackToken, inProcess, serviceAccountTokens });
    },
    stop: async () => undefined,
  });

  const listener = httpsListener({
    host: config.bindAddress,
    port: config.httpsListenPort,
    tlsDir: config.paths.tlsDir,
    tls: () => tlsContext(pki!),
    onRequest: serveRequest,
    onUpgrade,
    onHandshake: (resumed) => metrics.tlsHandshake(resumed),
    onFailure: (err) => sup.fail('listener', err),
    log,
    ticketLog: deps.log.child({ component: 'pki' }),
    kubeconfigPath: config.kubeconfigPath,
  });
  sup.add(listener);

  if (datastore) {
    sup.add({
      name: 'cluster',
      start: async () => {
        cluster = await startMembership({
          store: store!,
          id: serverId(config.paths.serverIdFile, deps.hostname ?? osHostname()),
          urls: ownUrls(),
          api: apiEndpoint({ ...config, httpsListenPort: address()?.port ?? config.httpsListenPort }),
          pki: pki!,
          authenticator: authenticator!,
          log: deps.log,
        });
      },
      stop: async () => cluster?.stop(),
    });
  }

  sup.add({
    name: 'link',
    start: async () => {
      const signNodeCsr = (csrPem: string, nodeName: string) => pki!.signNodeCsr(csrPem, nodeName);
      // The link's writes as a node reach the API in this process, as that node (in-process-api.ts).
      const apiAs = createInProcessApi({ handle: serveRequest, identities: inProcess });
      const linkServer = createLinkServer({ store: store!, authenticator: authenticator!, log: deps.log, apiAs, signNodeCsr, network: config.network, ...(cluster ? { cluster } : {}) });
      link = linkServer;
      join = createJoinRoutes({ store: store!, log: deps.log, caPem: () => pki!.caCertPem, servers, signNodeCsr, registerNode: (n, reg) => linkServer.registerNode(n, reg) });
    },
    // Agents hear the server is going away before the listener cuts their sockets.
    stop: async () => {
      consoleRoutes.close();
      await link?.close();
    },
  });

  sup.add({
    name: 'cert-rotation',
    start: async () => {
      rotation = startCertificateRotation(pki!, {
        intervalMs: deps.rotationIntervalMs ?? ROTATION_INTERVAL_MS,
        ensure: ensureCertificates,
        log,
        onChange: (next) => {
          pki = next;
          // New handshakes use the renewed certificate; open connections keep theirs.
          listener.server!.setSecureContext({ cert: next.servingCertPem, key: next.servingKeyPem, ca: next.caCertPem });
          try {
            writeAdminKubeconfig(next);
          } catch (err) {
            log.error({ err, file: config.kubeconfigPath }, 'cannot rewrite the admin kubeconfig with the renewed certificate');
          }
          log.info('renewed certificates are in use');
        },
      });
    },
    stop: async () => rotation?.stop(),
  });

  sup.add({
    name: 'join-token',
    start: async () => {
      await ensureDefaultJoinToken({ store: store!, file: config.paths.tokenFile, caPem: pki!.caCertPem, servers: servers(), log });
    },
    stop: async () => undefined,
  });

  const mountApi = deps.mountApi;
  let apiBootstrapped: Promise<void> | undefined;
  sup.add({
    name: 'api',
    get ready() {
      return apiBootstrapped;
    },
    start: async () => {
      if (!mountApi) {
        log.warn('no API handler is mounted: only /healthz, /livez, /readyz and /version are served');
        return;
      }
      const authzLog = deps.log.child({ component: 'authz' });
      // The pods bound to each node: the link's feed hub keeps them from its watch (one index, one watch).
      authorizer = createAuthorizer({ store: store!, log: authzLog, nodePods: link!.nodePods });
      const { tunnel, stats } = link!;
      // On a cluster, tunnels also reach agents linked to the other servers.
      const nodeTunnel = cluster ? cluster.tunnel(tunnel) : tunnel;
      const mounted = mountApi({ store: store!, authenticator: authenticator!, authorizer, log: deps.log, nodeTunnel, nodeStats: stats, serviceAccountTokens: serviceAccountTokens!, metrics });
      api = mounted;
      apiBootstrapped = mounted.ready.then(
        () => {
          apiReady = true;
          consoleRoutes.prepare();
        },
        (err: unknown) => {
          throw new EdgeosError('SERVER_API_FAILED', `the API failed to start: ${errorMessage(err)}`, { cause: err });
        },
      );
    },
    stop: async () => {
      await api?.close();
    },
  });

  // Controllers and the local agent are clients of the API: they start once it is ready, in the
  // background, so start() returns as soon as HTTPS serves.
  const clients = serverClients({
    deps,
    disableControllers: config.disableControllers,
    log,
    loopbackUrl,
    loopbackToken,
    // The controllers' connections to the API: in-process, no TLS (in-process-api.ts).
    connect: createInProcessConnector(serveRequest),
    pki: () => pki!,
    link: () => link!,
    cluster: () => cluster,
    onFailure: (err) => sup.fail('clients', err),
  });
  sup.add(startWhen(() => apiBootstrapped ?? new Promise<void>(() => undefined), clients.supervisor, (err) => sup.fail('clients', err)));

  void sup.stopped.then(() => log.info('stopped'));
  // Without a mounted API the server is never ready.
  const ready = mountApi ? sup.ready : new Promise<void>(() => undefined);

  return {
    name: 'server',
    start: async (signal) => {
      preflight(config);
      await sup.start(signal);
    },
    ready,
    stop: () => sup.stop(),
    get stopDeadlineMs() {
      return sup.stopDeadlineMs;
    },
    get pki() {
      return pki;
    },
    get address() {
      return listener.address;
    },
    get tunnel() {
      return link?.tunnel;
    },
    get serverId() {
      return cluster?.id;
    },
  };
}
