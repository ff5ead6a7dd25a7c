// The server's own API clients — the controllers and the local agent — under one supervisor
// (`server-clients`) that the server starts in the background once its API is ready, so start()
// returns as soon as HTTPS serves. Each gets its identity from the server: the controllers a
// loopback token, the local agent a node certificate signed directly and an in-process link.
import type { Duplex } from 'node:stream';
import { EdgeosError, errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { createSupervisor } from '../common/supervisor.ts';
import type { Supervisor } from '../common/supervisor.ts';
import type { ClusterMembership } from './cluster/index.ts';
import type { LinkServer } from './link/index.ts';
import type { Pki } from './pki/index.ts';
import type { LocalAgent, LocalAgentContext, ServerDeps, StartControllers } from './server-types.ts';

export interface ServerClients {
  readonly supervisor: Supervisor;
  /** Set once the controllers started (their informer caches feed the server's metrics). */
  controllers(): ReturnType<StartControllers> | undefined;
}

export function serverClients(o: {
  /** The server's deps: the controllers and the local agent to start, and the root logger. */
  readonly deps: Pick<ServerDeps, 'startControllers' | 'startLocalAgent' | 'log'>;
  readonly disableControllers: boolean;
  /** The server's component logger. */
  readonly log: Logger;
  readonly loopbackUrl: () => string;
  readonly loopbackToken: string;
  /** A new in-process connection to the API, for the controllers' client (in-process-api.ts). */
  readonly connect: () => Duplex;
  readonly pki: () => Pki;
  readonly link: () => LinkServer;
  readonly cluster: () => ClusterMembership | undefined;
  readonly onFailure: (err: Error) => void;
}): ServerClients {
  const { deps, log } = o;
  let controllers: ReturnType<StartControllers> | undefined;
  let localAgent: LocalAgent | undefined;
  const afterApi = createSupervisor({ name: 'server-clients', log, onFailure: o.onFailure });
  if (deps.startControllers && o.disableControllers) log.info('--disable-controllers: no controllers or scheduler run');
  const startControllers = o.disableControllers ? undefined : deps.startControllers;
  if (startControllers) {
    afterApi.add({
      name: 'controllers',
      start: async (signal) => {
        const cluster = o.cluster();
        controllers = startControllers({ url: o.loopbackUrl(), caPem: o.pki().caCertPem, token: o.loopbackToken, log: deps.log, connect: o.connect, ...(cluster ? { leaderElection: { identity: cluster.id }, apiServers: cluster.apiServers } : {}) });
        await controllers.start(signal).catch((err: unknown) => {
          throw new EdgeosError('SERVER_CONTROLLERS_FAILED', `the controllers failed to start: ${errorMessage(err)}`, { cause: err });
        });
      },
      stop: async () => controllers?.stop(),
    });
  }
  const startLocalAgent = deps.startLocalAgent;
  if (startLocalAgent) {
    afterApi.add({
      name: 'local-agent',
      get stopDeadlineMs() {
        return localAgent?.stopDeadlineMs;
      },
      start: async (signal) => {
        const p = o.pki();
        const linkServer = o.link();
        const ctx: LocalAgentContext = {
          serverUrl: o.loopbackUrl(),
          caPem: p.caCertPem,
          issueNodeCertificate: (csr, node) => p.signNodeCsr(csr, node),
          connectLink: (node) => linkServer.connectInProcess(node),
        };
        localAgent = await startLocalAgent(ctx, { signal, onFailure: (err) => afterApi.fail('local-agent', err) }).catch((err: unknown) => {
          throw new EdgeosError('SERVER_AGENT_FAILED', `the local agent failed to start: ${errorMessage(err)}`, { cause: err });
        });
      },
      stop: async () => localAgent?.stop(),
    });
  }
  return { supervisor: afterApi, controllers: () => controllers };
}
