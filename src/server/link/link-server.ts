/**
 * The link endpoint: WebSocket upgrades at LINK_PATH on the API port, accepted only from a node
 * identity (client certificate CN=system:node:<name>, O=system:nodes, verified by the cluster CA),
 * and in-process links for the server's own local agent. Either way the node's writes go to the
 * server's API in-process, as that node (ApiAs).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { errorMessage } from '../../common/errors.ts';
import { LinkError, LinkErrorCode } from '../../common/link/errors.ts';
import { inProcessLinkPair } from '../../common/link/in-process-transport.ts';
import { LINK_PATH, LINK_SUBPROTOCOL, MAX_MESSAGE_BYTES } from '../../common/link/protocol.ts';
import type { LinkTransport } from '../../common/link/transport.ts';
import { webSocketTransport } from '../../common/link/ws-transport.ts';
import { nodeNameOf, nodeUser } from '../auth/node-authorizer.ts';
import { AgentRegistry } from './agent-registry.ts';
import { FeedHub } from './feed-hub.ts';
import { eventBatch } from './event-batch.ts';
import { leaseBatch } from './lease-batch.ts';
import { leaseAtStoreCadence } from './lease-cadence.ts';
import { LinkSession } from './link-session.ts';
import { LinkTrafficCounter } from './link-traffic.ts';
import { PodRelay } from './pod-relay.ts';
import { StartGate } from './start-gate.ts';
import { NodeStatsCache } from './node-stats.ts';
import { leaseRenewalsInStore } from './lease-store.ts';
import { nodeWrites } from './node-writes.ts';
import type { LinkServer, LinkServerOptions } from './types.ts';

function refuse(socket: Duplex, status: number, reason: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: status });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}

export function createLinkServer(o: LinkServerOptions): LinkServer {
  const log = o.log.child({ component: 'link' });
  const registry = new AgentRegistry(log);
  // One store watch feeds every link (feed-hub.ts).
  const hub = new FeedHub({ store: o.store, log });
  // Pod traffic between nodes without a direct path (docs/podnet.md), routed by the hub's pod CIDRs.
  const relay = new PodRelay(hub.podCidrs, (node, frame) => registry.sendRelay(node, frame));
  const traffic = new LinkTrafficCounter(() => registry.size, Date.now, () => ({ pairs: relay.activePairs(), ...relay.counters }));
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
  // The field manager of a node's writes is its agent (managedFields: edgeos-agent).
  const writesOf = (node: string) => nodeWrites(node, o.apiAs(nodeUser(node), `edgeos-agent/${node}`));
  // At most 16 link starts read the store at once; past 256 waiting, links are told to come back later.
  const gate = new StartGate({ concurrency: 16, maxWaiting: 256 });
  // The renewals of every link within 100 ms: one store transaction (lease-batch.ts).
  const leases = leaseBatch(o.store);
  // The kubelet Events of every link within 100 ms: created in one store transaction (event-batch.ts).
  const events = eventBatch(o.store);
  let closed = false;

  function serve(transport: LinkTransport, node: string, remote: string | undefined): void {
    const session: LinkSession = new LinkSession({
      transport: traffic.count(node, transport),
      node,
      store: o.store,
      hub,
      startGate: (work) => gate.run(work),
      // Renewals after the link's first go to the store directly (lease-store.ts), every 20 s
      // (lease-cadence.ts), those of all links within 100 ms in one transaction (lease-batch.ts).
      // Events go to the store directly too, those of all links within 100 ms in one transaction
      // (event-batch.ts).
      writes: { ...leaseAtStoreCadence(leaseRenewalsInStore(writesOf(node), o.store, node, undefined, leases.update)), event: (e) => events.create(node, e) },
      signNodeCsr: o.signNodeCsr,
      log,
      ...(o.pingIntervalMs ? { pingIntervalMs: o.pingIntervalMs } : {}),
      ...(o.cluster ? { servers: () => o.cluster!.servers() } : {}),
      ...(o.network ? { network: o.network } : {}),
      relay: (from, frame) => relay.forward(from, frame),
      onClose: (s) => {
        registry.remove(s);
        // A replaced link closing leaves the newer link's sample (and record) alone.
        if (registry.isConnected(node)) return;
        stats.forget(node);
        o.cluster?.unlinked(node);
      },
    });
    registry.add(session, remote);
    stats.forget(node);
    o.cluster?.linked(node);
  }

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
    const retryAfter = gate.retryAfterSeconds();
    if (retryAfter !== undefined) return refuse(socket, 503, 'ServiceUnavailable', `${gate.waiting} links are starting: try again in ${retryAfter} s`, { 'Retry-After': String(retryAfter) });
    wss.handleUpgrade(req, socket, head, (ws) => serve(webSocketTransport(ws), node, req.socket.remoteAddress));
  }

  return {
    nodePods: hub.nodePods,
    matches: (req) => new URL(req.url ?? '/', 'https://localhost').pathname === LINK_PATH,
    handleUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      upgrade(req, socket, head).catch((err: unknown) => {
        log.error({ err: errorMessage(err) }, 'link upgrade failed');
        if (socket.writable) refuse(socket, 500, 'InternalError', 'the link could not be set up');
      });
    },
    connectInProcess(node) {
      if (closed) throw new LinkError(LinkErrorCode.LINK_CLOSED, 'the server is shutting down');
      const [agentEnd, serverEnd] = inProcessLinkPair();
      serve(serverEnd, node, 'in-process');
      return agentEnd;
    },
    tunnel: registry,
    stats,
    traffic,
    registerNode: (node, reg) => writesOf(node).register(reg),
    async close() {
      closed = true;
      registry.closeAll('the server is shutting down');
      hub.close();
      await leases.close();
      await events.close();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
