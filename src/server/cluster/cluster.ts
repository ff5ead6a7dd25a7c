/**
 * A server's membership in a cluster of servers on one datastore (docs/ha.md), once its CA is the
 * cluster's (bootstrap.ts): its record in the servers registry, the records of where its agents
 * are linked, its identity towards the other servers, and the tunnels between them.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.ts';
import { LinkError, LinkErrorCode } from '../../common/link/errors.ts';
import type { NodeTunnel } from '../../common/tunnel.ts';
import type { Store } from '../../store/types.ts';
import type { CredentialAuthenticator } from '../auth/types.ts';
import type { Pki } from '../pki/types.ts';
import { LinkLocations } from './link-locations.ts';
import { createPeerTunnelEndpoint, openThroughPeer } from './peer-tunnel.ts';
import type { PeerCredentials } from './peer-tunnel.ts';
import { ServerRegistry } from './server-registry.ts';
import { serverSubject } from './types.ts';
import type { ApiEndpoint, ClusterMembership, LocalTunnel } from './types.ts';

export interface MembershipOptions {
  readonly store: Store;
  readonly id: string;
  /** Where agents and the other servers reach this server. */
  readonly urls: readonly string[];
  /** Where in-cluster clients reach its API (its endpoint of the `kubernetes` Service). */
  readonly api: ApiEndpoint;
  readonly pki: Pki;
  readonly authenticator: CredentialAuthenticator;
  readonly log: Logger;
  /** Registry timing (tests). */
  readonly registryTtlSeconds?: number;
  readonly registryRenewMs?: number;
}

export async function startMembership(o: MembershipOptions): Promise<ClusterMembership> {
  const log = o.log.child({ component: 'cluster' });
  const registry = new ServerRegistry({
    store: o.store,
    self: { id: o.id, urls: o.urls, startedAt: new Date().toISOString(), api: o.api },
    log,
    ...(o.registryTtlSeconds ? { ttlSeconds: o.registryTtlSeconds } : {}),
    ...(o.registryRenewMs ? { renewMs: o.registryRenewMs } : {}),
  });
  await registry.start();
  const locations = new LinkLocations(o.store, o.id, log);
  // Issued by the cluster CA at every start and held only in memory.
  const identity = await o.pki.issueClientCertificate(serverSubject(o.id));
  const creds: PeerCredentials = { caPem: o.pki.caCertPem, ...identity };
  let local: LocalTunnel | undefined;
  const endpoint = createPeerTunnelEndpoint({ selfId: o.id, authenticator: o.authenticator, local: () => local, log });
  log.info({ server: o.id, urls: o.urls, servers: registry.servers().map((s) => s.id) }, 'serving as a server of the cluster');

  async function open(node: string, req: Parameters<NodeTunnel['open']>[1], signal?: AbortSignal): Promise<Duplex> {
    const here = local!;
    if (here.isConnected(node)) return here.open(node, req, signal);
    const where = await locations.serverOf(node);
    if (where === undefined || where === o.id) return here.open(node, req, signal); // not linked anywhere: TUNNEL_NO_AGENT
    const target = registry.record(where);
    if (!target) throw new LinkError(LinkErrorCode.TUNNEL_NO_AGENT, `node ${node} was last linked to server ${where}, which is not running`);
    return openThroughPeer(target, node, req, creds, signal);
  }

  return {
    id: o.id,
    servers: () => registry.urls(),
    apiServers: { endpoints: () => registry.apiEndpoints(), onChange: (listener) => registry.onChange(listener) },
    linked: (node) => locations.linked(node),
    unlinked: (node) => locations.unlinked(node),
    tunnel(localTunnel: LocalTunnel): NodeTunnel {
      local = localTunnel;
      return { open };
    },
    matches: (req: IncomingMessage) => endpoint.matches(req),
    handleUpgrade: (req, socket, head) => endpoint.handleUpgrade(req, socket, head),
    async stop() {
      registry.stop();
    },
  };
}
