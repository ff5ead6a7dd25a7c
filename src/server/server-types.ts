// The contracts of the `edgeos server` component (server.ts): what it is given (its config, the
// store opener, the API and controllers to mount, the local agent to start) and what it offers.
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/log.ts';
import type { LinkTransport } from '../common/link/transport.ts';
import type { Component } from '../common/supervisor.ts';
import type { NodeTunnel } from '../common/tunnel.ts';
import type { Store } from '../store/types.ts';
import type { ApiHandler, ApiHandlerDeps } from './api/types.ts';
import type { ApiServers } from './cluster/index.ts';
import type { ServerConfig } from './config.ts';
import type { ConsoleAssets } from './console/index.ts';
import type { Pki } from './pki/index.ts';
import type { BuildInfo } from './version-info.ts';

export type { ApiHandler, ApiHandlerDeps } from './api/types.ts';

/** What the local agent of `edgeos server` gets: a node identity issued directly, no join token. */
export interface LocalAgentContext {
  /** The server's own API URL (loopback). */
  readonly serverUrl: string;
  readonly caPem: string;
  /** Signs a node client certificate for the CSR's key (CN=system:node:<nodeName>). */
  issueNodeCertificate(csrPem: string, nodeName: string): Promise<string>;
  /** A link as `nodeName` inside this process: no socket, no TLS; its writes still go through authorization. */
  connectLink(nodeName: string): LinkTransport;
}

/** The running local agent, as the server sees it. */
export interface LocalAgent {
  stop(): Promise<void>;
  /** How long its stop may take (its own supervisor's deadlines). */
  readonly stopDeadlineMs?: number;
}

/** How the local agent lives inside the server's supervisor. */
export interface LocalAgentLifecycle {
  /** Aborted when the server stops the agent. */
  readonly signal: AbortSignal;
  /** The agent failed in the background: the server shuts down. */
  onFailure(err: Error): void;
}

/** What the controller manager needs to be an API client of this server. */
export interface ControllerDeps {
  /** https://<loopback or bind address>:<port> */
  readonly url: string;
  readonly caPem: string;
  /** The in-memory loopback token (authenticates as system:edgeos-controller). */
  readonly token: string;
  readonly log: Logger;
  /** With several servers on one datastore: elect the one that runs the controllers (docs/ha.md). */
  readonly leaderElection?: { readonly identity: string };
  /** With several servers: every live server's API endpoint (the `kubernetes` Service lists them all). */
  readonly apiServers?: ApiServers;
  /**
   * A new in-process connection to this server's API (in-process-api.ts): the controllers' client
   * speaks HTTP/1.1 over it instead of HTTPS to `url` — no TLS and no TCP per request, answer and
   * watch event; its requests still carry the loopback token.
   */
  readonly connect?: () => Duplex;
}

/** Starts the controllers once the API serves (src/server/controllers createControllerManager). */
export type StartControllers = (deps: ControllerDeps) => {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Objects in the controllers' informer caches per resource (edgeos_cache_objects). */
  cacheSizes?(): ReadonlyMap<string, number>;
};

/** The mount point of the API (src/server/api createApiHandler). */
export type MountApi = (deps: ApiHandlerDeps) => ApiHandler;

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
  /** The owner, told once when the server fails after start; it must then stop the server. */
  readonly onFailure: (err: Error) => void;
  readonly hostname?: string;
  /** Clock for certificate issuance and renewal (tests). */
  readonly now?: () => Date;
  /** How often certificates are checked for renewal while running (default 12 h). */
  readonly rotationIntervalMs?: number;
  /** The console's built files (tests); default: the executable's assets, or a build of the source checkout. */
  readonly consoleAssets?: () => Promise<ConsoleAssets>;
  /** Starts the local agent once the API is ready (src/cli wires src/agent in; the server never imports it). */
  readonly startLocalAgent?: (ctx: LocalAgentContext, lifecycle: LocalAgentLifecycle) => Promise<LocalAgent>;
}

export interface EdgeosServer extends Component {
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
  /** Set after start on a shared datastore: this server's id in its cluster. */
  readonly serverId: string | undefined;
}
