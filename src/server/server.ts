// The `edgeos server` component: store → certificates → admin kubeconfig → HTTPS listener → API.
// Lifecycle as every edgeos component: start(signal), ready, stop(). A failure after start (the
// listener dies) is reported through onFailure so the supervisor shuts down; it is never swallowed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { kubernetesServiceIp } from '../common/cluster-network.ts';
import { EdgeosError, InvalidInputError, errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { NodeTunnel } from '../common/tunnel.ts';
import type { Store } from '../store/types.ts';
import { createAuthenticator, createAuthorizer, createLoopbackToken } from './auth/index.ts';
import type { Authorizer, CredentialAuthenticator } from './auth/index.ts';
import type { ServerConfig } from './config.ts';
import { createHttpsServer, listen } from './https-listener.ts';
import { advertisedUrls, createJoinRoutes, ensureDefaultJoinToken } from './join/index.ts';
import type { JoinRoutes } from './join/index.ts';
import { createLinkServer } from './link/index.ts';
import type { LinkServer, NodeStatsSource } from './link/index.ts';
import { ensurePki, servingSans } from './pki/index.ts';
import type { Pki } from './pki/index.ts';
import { writeKubeconfig } from './pki/kubeconfig.ts';
import { startCertificateRotation } from './pki/rotation.ts';
import type { Rotation } from './pki/rotation.ts';
import { preflight } from './preflight.ts';
import { publicPath, servePublic, writeStatus } from './public-routes.ts';
import type { PublicRoutes } from './public-routes.ts';
import { versionInfo } from './version-info.ts';
import type { BuildInfo } from './version-info.ts';

/** What the API machinery gets to serve everything but the public paths. */
export interface ApiDeps {
  readonly store: Store;
  readonly authenticator: CredentialAuthenticator;
  readonly authorizer: Authorizer;
  readonly log: Logger;
  /** Byte streams to nodes' agents (logs/exec/attach/port-forward), over their links. */
  readonly nodeTunnel: NodeTunnel;
  /** The agents' latest resource usage, for metrics.k8s.io. */
  readonly nodeStats: NodeStatsSource;
}

/** What the local agent of `edgeos server` gets: a node identity issued directly, no join token. */
export interface LocalAgentContext {
  /** The server's own API URL (loopback). */
  readonly serverUrl: string;
  readonly caPem: string;
  /** Signs a node client certificate for the CSR's key (CN=system:node:<nodeName>). */
  issueNodeCertificate(csrPem: string, nodeName: string): Promise<string>;
}

/** The running local agent, as the server sees it. */
export interface LocalAgent {
  stop(): Promise<void>;
}

export interface ApiHandler {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Resolves when the API can serve (bootstrap done); a rejection is a failure of the server. */
  readonly ready: Promise<void>;
  /** Ends open watches; called first at shutdown. */
  close(): Promise<void>;
}

/** What the controller manager needs to be an API client of this server. */
export interface ControllerDeps {
  /** https://<loopback or bind address>:<port> */
  readonly url: string;
  readonly caPem: string;
  /** The in-memory loopback token (authenticates as system:edgeos-controller). */
  readonly token: string;
  readonly log: Logger;
}

/** Starts the controllers once the API serves (src/server/controllers createControllerManager). */
export type StartControllers = (deps: ControllerDeps) => { start(signal: AbortSignal): Promise<void>; stop(): Promise<void> };

/** The mount point of the API (src/server/api createApiHandler). */
export type MountApi = (deps: ApiDeps) => ApiHandler;

export interface ServerDeps {
  readonly config: ServerConfig;
  /** The root logger; the server logs as component "server". */
  readonly log: Logger;
  readonly build: BuildInfo;
  readonly openStore: (opts: { file: string; log: Logger }) => Promise<Store>;
  /** Without it the server answers only the public paths (and 404 to authenticated callers). */
  readonly mountApi?: MountApi;
  /** Without it (or with --disable-controllers) no controllers run. */
  readonly startControllers?: StartControllers;
  /** Called once when the server fails after start; the supervisor should stop everything. */
  readonly onFailure: (err: Error) => void;
  readonly hostname?: string;
  /** Clock for certificate issuance and renewal (tests). */
  readonly now?: () => Date;
  /** How often certificates are checked for renewal while running (default 12 h). */
  readonly rotationIntervalMs?: number;
  /** Starts the local agent once the API is ready (src/cli wires src/agent in; the server never imports it). */
  readonly startLocalAgent?: (ctx: LocalAgentContext) => Promise<LocalAgent>;
}

export interface EdgeosServer {
  /** Resolves when the API is being served; rejects (after cleaning up) when start-up fails. */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once the mounted API is ready (never rejects; failures go to onFailure). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /** Set after start: the certificates (for joins) and the listening address (for tests). */
  readonly pki: Pki | undefined;
  readonly address: { host: string; port: number } | undefined;
  /** Set after start: byte streams to connected agents. */
  readonly tunnel: NodeTunnel | undefined;
}

/** Certificates are checked for renewal this often while the server runs. */
const ROTATION_INTERVAL_MS = 12 * 60 * 60 * 1000;

const tlsContext = (p: Pki) => ({ certPem: p.servingCertPem, keyPem: p.servingKeyPem, clientCaPem: p.caCertPem });

const isWildcard = (address: string) => address === '0.0.0.0' || address === '::';

/** In-flight requests get this long to finish at shutdown before connections are cut. */
const DRAIN_MS = 1500;

export function createEdgeosServer(deps: ServerDeps): EdgeosServer {
  const { config } = deps;
  const log = deps.log.child({ component: 'server' });
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  let store: Store | undefined;
  let https: Server | undefined;
  let api: ApiHandler | undefined;
  let apiReady = false;
  let pki: Pki | undefined;
  let address: { host: string; port: number } | undefined;
  let stopping: Promise<void> | undefined;
  const upgraded = new Set<Duplex>();
  let rotation: Rotation | undefined;
  let link: LinkServer | undefined;
  let join: JoinRoutes | undefined;
  let localAgent: LocalAgent | undefined;
  // The server's own listener, for the link's writes as a node and for the local agent.
  const loopbackUrl = () => {
    const host = isWildcard(config.bindAddress) ? '127.0.0.1' : config.bindAddress;
    return `https://${isIP(host) === 6 ? `[${host}]` : host}:${address?.port ?? config.httpsListenPort}`;
  };
  const servers = () => advertisedUrls({ advertiseAddress: config.advertiseAddress, bindAddress: config.bindAddress, port: address?.port ?? config.httpsListenPort });
  let controllers: ReturnType<StartControllers> | undefined;
  // Minted per start, held only here and by the controllers' client: never on disk, never logged.
  const loopbackToken = createLoopbackToken();

  const routes: PublicRoutes = {
    livez: [],
    readyz: [
      { name: 'store', check: () => (store ? undefined : 'the store is not open') },
      { name: 'api', check: () => (!api ? 'the API is not mounted' : apiReady ? undefined : 'the API is starting') },
      // apiserver's readyz "shutdown" check: load balancers stop sending traffic while we drain.
      { name: 'shutdown', check: () => (stopping ? 'the server is shutting down' : undefined) },
    ],
    version: versionInfo(deps.build),
  };

  let authenticator: CredentialAuthenticator | undefined;

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    if (join?.matches(url)) return join.handle(req, res);
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

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    if (link && !stopping && link.matches(req)) {
      link.handleUpgrade(req, socket, head);
      return;
    }
    if (api && !stopping) {
      api.handleUpgrade(req, socket, head);
      return;
    }
    socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }

  async function start(signal: AbortSignal): Promise<void> {
    preflight(config);
    try {
      store = await deps.openStore({ file: config.paths.dbFile, log: deps.log });
      const ensureCertificates = () =>
        ensurePki({
          dir: config.paths.tlsDir,
          servingSans: servingSans({
            hostname: deps.hostname ?? osHostname(),
            ...(config.advertiseAddress ? { advertiseAddress: config.advertiseAddress } : {}),
            // A specific bind address is what the kubeconfig dials (config.apiServerUrl), so it must be a name of the certificate.
            tlsSans: isWildcard(config.bindAddress) ? config.tlsSans : [...config.tlsSans, config.bindAddress],
            // In-cluster clients may dial the `kubernetes` Service's ClusterIP itself.
            serviceIp: kubernetesServiceIp(config.network),
          }),
          log: deps.log.child({ component: 'pki' }),
          ...(deps.now ? { now: deps.now } : {}),
        });
      pki = await ensureCertificates();
      try {
        writeAdminKubeconfig(pki);
      } catch (err) {
        throw new InvalidInputError(`--write-kubeconfig: cannot write ${config.kubeconfigPath}: ${errorMessage(err)}`, { cause: err });
      }
      authenticator = createAuthenticator({ store, log: deps.log.child({ component: 'authn' }), loopbackToken });
      const authorizer = createAuthorizer({ store, log: deps.log.child({ component: 'authz' }) });
      const signNodeCsr = (csrPem: string, nodeName: string) => pki!.signNodeCsr(csrPem, nodeName);
      const linkServer = createLinkServer({ store, authenticator, log: deps.log, apiUrl: loopbackUrl, caPem: () => pki!.caCertPem, signNodeCsr, network: config.network });
      link = linkServer;
      join = createJoinRoutes({ store, log: deps.log, caPem: () => pki!.caCertPem, servers, signNodeCsr, registerNode: (n, reg) => linkServer.registerNode(n, reg) });

      const server = createHttpsServer({
        host: config.bindAddress,
        port: config.httpsListenPort,
        ...tlsContext(pki),
        onRequest: (req, res) => {
          onRequest(req, res).catch((err: unknown) => {
            log.error({ err, method: req.method, url: req.url }, 'request failed');
            if (!res.headersSent) writeStatus(res, 500, 'InternalError', 'an internal error occurred');
            else res.destroy();
          });
        },
      });
      https = server;
      server.on('upgrade', onUpgrade);
      server.on('tlsClientError', (err: Error) => log.debug({ err: errorMessage(err) }, 'TLS handshake failed'));
      await listen(server, config.bindAddress, config.httpsListenPort);
      const addr = server.address();
      address = typeof addr === 'object' && addr ? { host: addr.address, port: addr.port } : undefined;
      rotation = startCertificateRotation(pki, {
        intervalMs: deps.rotationIntervalMs ?? ROTATION_INTERVAL_MS,
        ensure: ensureCertificates,
        log,
        onChange: (next) => {
          pki = next;
          // New handshakes use the renewed certificate; open connections keep theirs.
          server.setSecureContext({ cert: next.servingCertPem, key: next.servingKeyPem, ca: next.caCertPem });
          try {
            writeAdminKubeconfig(next);
          } catch (err) {
            log.error({ err, file: config.kubeconfigPath }, 'cannot rewrite the admin kubeconfig with the renewed certificate');
          }
          log.info('renewed certificates are in use');
        },
      });
      server.on('error', (err) => {
        log.error({ err }, 'the HTTPS listener failed');
        deps.onFailure(new EdgeosError('SERVER_LISTENER_FAILED', `the HTTPS listener failed: ${errorMessage(err)}`, { cause: err }));
      });

      await ensureDefaultJoinToken({ store, file: config.paths.tokenFile, caPem: pki.caCertPem, servers: servers(), log });
      if (deps.mountApi) {
        const mounted = deps.mountApi({ store, authenticator, authorizer, log: deps.log, nodeTunnel: linkServer.tunnel, nodeStats: linkServer.stats });
        api = mounted;
        mounted.ready.then(
          () => {
            apiReady = true;
            markReady();
            startControllers(signal);
            startLocalAgent();
          },
          (err: unknown) => {
            log.error({ err }, 'the API failed to start');
            deps.onFailure(new EdgeosError('SERVER_API_FAILED', `the API failed to start: ${errorMessage(err)}`, { cause: err }));
          },
        );
      } else log.warn('no API handler is mounted: only /healthz, /livez, /readyz and /version are served');
    } catch (err) {
      await stop();
      throw err;
    }
    log.info({ address: config.bindAddress, port: address?.port ?? config.httpsListenPort, kubeconfig: config.kubeconfigPath }, 'serving HTTPS');
    signal.addEventListener('abort', () => void stop(), { once: true });
    if (signal.aborted) await stop();
  }

  function startControllers(signal: AbortSignal): void {
    if (!deps.startControllers || stopping || signal.aborted || !pki || !address) return;
    if (config.disableControllers) {
      log.info('--disable-controllers: no controllers or scheduler run');
      return;
    }
    controllers = deps.startControllers({ url: loopbackUrl(), caPem: pki.caCertPem, token: loopbackToken, log: deps.log });
    controllers.start(signal).catch((err: unknown) => {
      log.error({ err }, 'the controllers failed to start');
      deps.onFailure(new EdgeosError('SERVER_CONTROLLERS_FAILED', `the controllers failed to start: ${errorMessage(err)}`, { cause: err }));
    });
  }

  function startLocalAgent(): void {
    if (!deps.startLocalAgent || stopping || !pki) return;
    const p = pki;
    deps
      .startLocalAgent({ serverUrl: loopbackUrl(), caPem: p.caCertPem, issueNodeCertificate: (csr, node) => p.signNodeCsr(csr, node) })
      .then(
        (agent) => {
          localAgent = agent;
          if (stopping) void agent.stop();
        },
        (err: unknown) => {
          log.error({ err }, 'the local agent failed to start');
          deps.onFailure(new EdgeosError('SERVER_AGENT_FAILED', `the local agent failed to start: ${errorMessage(err)}`, { cause: err }));
        },
      );
  }

  function writeAdminKubeconfig(p: Pki): void {
    writeKubeconfig(
      config.kubeconfigPath,
      { server: config.apiServerUrl, caCertPem: p.caCertPem, clientCertPem: p.adminCertPem, clientKeyPem: p.adminKeyPem },
      config.kubeconfigMode,
    );
  }

  async function doStop(): Promise<void> {
    rotation?.stop();
    if (localAgent) {
      try {
        await localAgent.stop();
      } catch (err) {
        log.error({ err }, 'stopping the local agent failed');
      }
    }
    if (link) await link.close().catch((err: unknown) => log.error({ err }, 'closing agent links failed'));
    // Controllers first: they are clients of the API that is about to close.
    if (controllers) {
      try {
        await controllers.stop();
      } catch (err) {
        log.error({ err }, 'stopping the controllers failed');
      }
    }
    if (api) {
      try {
        await api.close();
      } catch (err) {
        log.error({ err }, 'closing the API failed');
      }
    }
    const server = https;
    if (server) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          // Watches and log streams never end by themselves: cut what is still open.
          server.closeAllConnections();
        }, DRAIN_MS);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
        for (const s of upgraded) s.destroy();
      });
    }
    if (store) {
      try {
        await store.close();
      } catch (err) {
        log.error({ err }, 'closing the store failed');
      }
    }
    log.info('stopped');
  }

  function stop(): Promise<void> {
    stopping ??= doStop();
    return stopping;
  }

  return {
    start,
    ready,
    stop,
    get pki() {
      return pki;
    },
    get address() {
      return address;
    },
    get tunnel() {
      return link?.tunnel;
    },
  };
}
