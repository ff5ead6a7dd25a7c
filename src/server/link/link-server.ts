/**
 * The link endpoint: WebSocket upgrades at LINK_PATH on the API port, accepted only from a node
 * identity (client certificate CN=system:node:<name>, O=system:nodes, verified by the cluster CA).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { LINK_PATH, LINK_SUBPROTOCOL, MAX_MESSAGE_BYTES } from '../../common/link/protocol.ts';
import type { NodeRegistration } from '../../common/link/protocol.ts';
import type { NodeTunnel } from '../../common/tunnel.ts';
import type { Store } from '../../store/types.ts';
import { nodeNameOf } from '../auth/node-authorizer.ts';
import type { CredentialAuthenticator } from '../auth/types.ts';
import { AgentRegistry } from './agent-registry.ts';
import { createNodeApiClient } from './node-api-client.ts';
import type { NodeApiClient } from './node-api-client.ts';
import { nodeWrites } from './node-writes.ts';
import { LinkSession } from './link-session.ts';
import { NodeStatsCache } from './node-stats.ts';
import type { NodeStatsSource } from './node-stats.ts';

export interface LinkServerOptions {
  readonly store: Store;
  readonly authenticator: CredentialAuthenticator;
  readonly log: Logger;
  /** The server's own API URL for the node writes (loopback). */
  readonly apiUrl: () => string;
  readonly caPem: () => string;
  readonly signNodeCsr: (csrPem: string, nodeName: string) => Promise<string>;
  readonly pingIntervalMs?: number;
  /** The cluster's Service networking, told to every agent when it links. */
  readonly network?: ClusterNetwork;
}

export interface LinkServer {
  /** True when the upgrade request is for the link (the caller hands it to handleUpgrade). */
  matches(req: IncomingMessage): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly tunnel: NodeTunnel;
  readonly registry: AgentRegistry;
  /** Resource usage of the linked nodes, asked for on demand (metrics.k8s.io). */
  readonly stats: NodeStatsSource;
  /** Registers a joining node's Node as that node ('exists' when the name is taken). */
  registerNode(node: string, reg: NodeRegistration): Promise<'created' | 'exists'>;
  close(): Promise<void>;
}

const CLIENT_MAX_AGE_MS = 24 * 60 * 60 * 1000;

function refuse(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: status });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export function createLinkServer(o: LinkServerOptions): LinkServer {
  const log = o.log.child({ component: 'link' });
  const registry = new AgentRegistry(log);
  const stats = new NodeStatsCache({
    fetch: (node, timeoutMs) => registry.requestStats(node, timeoutMs),
    linked: () => registry.connected(),
    log,
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(LINK_SUBPROTOCOL) ? LINK_SUBPROTOCOL : false),
  });
  // One loopback API client per node (issuing its certificate costs a key and a signature),
  // remade daily so it never outlives its certificate or a renewed CA.
  const clients = new Map<string, { made: number; client: Promise<NodeApiClient> }>();
  const clientFor = (node: string): Promise<NodeApiClient> => {
    const cached = clients.get(node);
    if (cached && Date.now() - cached.made < CLIENT_MAX_AGE_MS) return cached.client;
    if (cached) void cached.client.then((c) => setTimeout(() => void c.close(), 60_000).unref(), () => undefined);
    const client = createNodeApiClient({ url: o.apiUrl(), caPem: o.caPem(), node, signNodeCsr: o.signNodeCsr });
    client.catch(() => clients.delete(node));
    clients.set(node, { made: Date.now(), client });
    return client;
  };

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const auth = await o.authenticator.identify(req);
    if (auth.kind !== 'user') return refuse(socket, 401, 'Unauthorized', 'the link needs a node client certificate');
    const node = nodeNameOf(auth.user);
    if (!node) return refuse(socket, 403, 'Forbidden', `user "${auth.user.name}" is not a node identity`);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!offered.includes(LINK_SUBPROTOCOL)) {
      // An agent of another version: it logs this and retries with backoff; upgrading it fixes it.
      const theirs = offered.filter(Boolean).join(', ').slice(0, 200) || 'no subprotocol';
      return refuse(socket, 400, 'BadRequest', `this server speaks ${LINK_SUBPROTOCOL}, the agent offered ${theirs}: run the same edgeos version on both`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session: LinkSession = new LinkSession({
        ws,
        node,
        store: o.store,
        writes: nodeWrites(node, { request: async (...a) => (await clientFor(node)).request(...a), close: async () => undefined }),
        signNodeCsr: o.signNodeCsr,
        log,
        ...(o.pingIntervalMs ? { pingIntervalMs: o.pingIntervalMs } : {}),
        ...(o.network ? { network: o.network } : {}),
        onClose: (s) => {
          registry.remove(s);
          // A replaced link closing leaves the newer link's sample alone.
          if (!registry.isConnected(node)) stats.forget(node);
        },
      });
      registry.add(session, req.socket.remoteAddress);
      stats.forget(node);
    });
  }

  return {
    matches: (req) => new URL(req.url ?? '/', 'https://localhost').pathname === LINK_PATH,
    handleUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      upgrade(req, socket, head).catch((err: unknown) => {
        log.error({ err: errorMessage(err) }, 'link upgrade failed');
        if (socket.writable) refuse(socket, 500, 'InternalError', 'the link could not be set up');
      });
    },
    tunnel: registry,
    registry,
    stats,
    registerNode: async (node, reg) => nodeWrites(node, await clientFor(node)).register(reg),
    async close() {
      registry.closeAll('the server is shutting down');
      await new Promise<void>((r) => wss.close(() => r()));
      for (const c of clients.values()) await c.client.then((x) => x.close()).catch(() => undefined);
      clients.clear();
    },
  };
}
