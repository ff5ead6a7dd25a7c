/**
 * Tunnels between the servers of a cluster (docs/link.md, "Tunnels through another server"): a
 * kubectl logs/exec/attach/port-forward that reaches server B for a node whose agent is linked to
 * server A goes B → A as one HTTP/1.1 upgrade over TLS, then A → agent over A's link.
 *
 *   GET /edgeos/v1/peer-tunnel           (TLS: A's serving certificate, verified by the cluster CA;
 *   Connection: Upgrade                   B's client certificate CN=system:edgeos-server:<B>,
 *   Upgrade: edgeos-peer-tunnel           O=system:edgeos-servers, issued by the cluster CA)
 *   Edgeos-Server: <A's id>               the server B means to reach
 *   Edgeos-Node: <node>
 *   Edgeos-Tunnel-Open: <base64url JSON {request, httpHead (base64)}>
 *
 * A answers 101 and from then on the connection carries the stream's bytes both ways, ends passed
 * on as ends; or an error status whose JSON body carries the link code and message (503
 * TUNNEL_NO_AGENT: not linked here; 502 TUNNEL_FAILED: the agent refused, its message kept), which
 * B raises as the same LinkError, so the API answers exactly as for a local link. Only callers in
 * the servers group get past authorization (403), and only one hop is ever taken: A opens on its
 * own link registry, never forwards again.
 */
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { LinkError, LinkErrorCode, isLinkErrorCode } from '../../common/link/errors.ts';
import { splice } from '../../common/splice.ts';
import type { NodeTunnel, TunnelOpen, TunnelRequest } from '../../common/tunnel.ts';
import type { CredentialAuthenticator } from '../auth/types.ts';
import { SERVERS_GROUP } from './types.ts';
import type { ServerRecord } from './types.ts';

export const PEER_TUNNEL_PATH = '/edgeos/v1/peer-tunnel';
const UPGRADE = 'edgeos-peer-tunnel';
/** The encoded TunnelOpen travels in a header; kubectl's upgrade heads are far below this. */
const MAX_OPEN_HEADER = 8 * 1024;
const CONNECT_TIMEOUT_MS = 5000;

export interface PeerCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const encodeOpen = (open: TunnelOpen) =>
  Buffer.from(JSON.stringify({ request: open.request, ...(open.httpHead ? { httpHead: open.httpHead.toString('base64') } : {}) })).toString('base64url');

function decodeOpen(text: string): TunnelOpen | undefined {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { request?: TunnelRequest; httpHead?: string };
    if (!v.request || typeof v.request !== 'object' || typeof v.request.kind !== 'string') return undefined;
    return { request: v.request, ...(typeof v.httpHead === 'string' ? { httpHead: Buffer.from(v.httpHead, 'base64') } : {}) };
  } catch {
    return undefined;
  }
}

type Attempt = { readonly kind: 'open'; readonly socket: Duplex } | { readonly kind: 'refused'; readonly error: LinkError } | { readonly kind: 'unreachable'; readonly why: string };

function attempt(url: string, target: string, node: string, encoded: string, creds: PeerCredentials, signal: AbortSignal | undefined): Promise<Attempt> {
  return new Promise((resolve) => {
    const req = request(new URL(PEER_TUNNEL_PATH, url), {
      method: 'GET',
      agent: false,
      ca: creds.caPem,
      cert: creds.certPem,
      key: creds.keyPem,
      timeout: CONNECT_TIMEOUT_MS,
      headers: { connection: 'Upgrade', upgrade: UPGRADE, 'edgeos-server': target, 'edgeos-node': node, 'edgeos-tunnel-open': encoded },
    });
    const onAbort = () => req.destroy(new Error('the request was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (a: Attempt) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(a);
    };
    req.on('timeout', () => req.destroy(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)));
    req.on('error', (err) => done({ kind: 'unreachable', why: err.message }));
    req.on('upgrade', (_res, socket, head) => {
      socket.setTimeout(0);
      if (head.length > 0) socket.unshift(head);
      done({ kind: 'open', socket });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.slice(0, 4096)));
      res.on('end', () => {
        if (res.statusCode === 421) return done({ kind: 'unreachable', why: `${url} is another server than ${target}` });
        let code: LinkErrorCode = LinkErrorCode.TUNNEL_NO_AGENT;
        let message = `server ${target} refused the forwarded tunnel (HTTP ${res.statusCode})`;
        try {
          const e = JSON.parse(body) as { code?: unknown; message?: unknown };
          if (isLinkErrorCode(e.code)) code = e.code;
          if (typeof e.message === 'string') message = e.message;
        } catch {
          /* not ours: keep the status */
        }
        done({ kind: 'refused', error: new LinkError(code, message) });
      });
    });
    req.end();
  });
}

/** A tunnel stream to `node`'s agent through `target`, the server its link is on (its URLs in turn). */
export async function openThroughPeer(target: ServerRecord, node: string, open: TunnelOpen, creds: PeerCredentials, signal?: AbortSignal): Promise<Duplex> {
  const encoded = encodeOpen(open);
  if (encoded.length > MAX_OPEN_HEADER) throw new LinkError(LinkErrorCode.TUNNEL_FAILED, `the request to forward is larger than ${MAX_OPEN_HEADER} bytes`);
  const failures: string[] = [];
  for (const url of target.urls) {
    signal?.throwIfAborted();
    const a = await attempt(url, target.id, node, encoded, creds, signal);
    if (a.kind === 'open') return a.socket;
    if (a.kind === 'refused') throw a.error;
    failures.push(`${url}: ${a.why}`);
  }
  throw new LinkError(LinkErrorCode.TUNNEL_NO_AGENT, `node ${node} is linked to server ${target.id}, which cannot be reached (${failures.join('; ')})`);
}

function answer(socket: Duplex, status: number, reason: string, body: { code: string; message: string }): void {
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

export interface PeerTunnelEndpointOptions {
  readonly selfId: string;
  readonly authenticator: CredentialAuthenticator;
  /** This server's own links (never the cluster tunnel: one hop only). */
  readonly local: () => NodeTunnel | undefined;
  readonly log: Logger;
}

export function createPeerTunnelEndpoint(o: PeerTunnelEndpointOptions) {
  async function serve(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const auth = await o.authenticator.identify(req);
    if (auth.kind !== 'user') return answer(socket, 401, 'Unauthorized', { code: 'Unauthorized', message: 'the peer tunnel needs a server identity certificate' });
    if (!auth.user.groups.includes(SERVERS_GROUP)) {
      o.log.warn({ user: auth.user.name, remote: req.socket.remoteAddress }, 'refused a peer tunnel: not a server of this cluster');
      return answer(socket, 403, 'Forbidden', { code: 'Forbidden', message: `user "${auth.user.name}" is not a server of this cluster` });
    }
    if (req.headers['edgeos-server'] !== o.selfId) return answer(socket, 421, 'Misdirected Request', { code: 'Misdirected', message: `this is server ${o.selfId}` });
    const node = String(req.headers['edgeos-node'] ?? '');
    const open = decodeOpen(String(req.headers['edgeos-tunnel-open'] ?? ''));
    if (!node || !open) return answer(socket, 400, 'Bad Request', { code: LinkErrorCode.TUNNEL_FAILED, message: 'the forwarded tunnel request is malformed' });
    const local = o.local();
    if (!local) return answer(socket, 503, 'Service Unavailable', { code: LinkErrorCode.TUNNEL_NO_AGENT, message: `server ${o.selfId} does not accept agent links` });
    const gone = new AbortController();
    const onClose = () => gone.abort();
    socket.once('close', onClose);
    let stream: Duplex;
    try {
      stream = await local.open(node, open, gone.signal);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const failed = code === LinkErrorCode.TUNNEL_FAILED;
      return answer(socket, failed ? 502 : 503, failed ? 'Bad Gateway' : 'Service Unavailable', { code: isLinkErrorCode(code) ? code : LinkErrorCode.TUNNEL_NO_AGENT, message: errorMessage(err) });
    } finally {
      socket.off('close', onClose);
    }
    if (socket.destroyed) {
      stream.destroy();
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${UPGRADE}\r\n\r\n`);
    if (head.length > 0) stream.write(head);
    o.log.debug({ node, kind: open.request.kind, from: auth.user.name }, 'serving a tunnel for another server');
    await splice(socket, stream);
  }

  return {
    matches: (req: IncomingMessage) => new URL(req.url ?? '/', 'https://localhost').pathname === PEER_TUNNEL_PATH,
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      socket.on('error', () => socket.destroy());
      serve(req, socket, head).catch((err: unknown) => {
        o.log.error({ err: errorMessage(err) }, 'peer tunnel failed');
        socket.destroy();
      });
    },
  };
}
