/**
 * How a joined agent reaches the server: a WebSocket at LINK_PATH over TLS, authenticated by the
 * node's client certificate and pinned to the cluster CA. A server that answers the upgrade with
 * an HTTP error (another protocol version, no node identity) is LINK_REFUSED with its Status
 * message; one that cannot be reached or does not finish the handshake in 10 s (a SIGSTOPped
 * server accepts TCP but never finishes TLS) is LINK_CLOSED.
 *
 * Reconnects resume the TLS session of the server's last connection (docs/link.md, "TLS session
 * resumption"): the dialer keeps the latest session ticket per server and offers it on the next
 * dial, as long as the certificates are the ones it was made with (a renewed certificate, or
 * another CA, starts a full handshake, so the server sees the new certificate).
 */
import { isIP } from 'node:net';
import type { createConnection } from 'node:net';
import { connect } from 'node:tls';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { LinkError, LinkErrorCode } from '../../common/link/errors.ts';
import { LINK_PATH, LINK_SUBPROTOCOL, MAX_MESSAGE_BYTES } from '../../common/link/protocol.ts';
import type { LinkDialer } from '../../common/link/transport.ts';
import { webSocketTransport } from '../../common/link/ws-transport.ts';

const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface LinkCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** Reads `credentials` at every dial, so a renewed certificate is used from the next connection on. */
export function webSocketDialer(credentials: () => LinkCredentials): LinkDialer {
  /** Per server: the latest TLS session and the certificates it was made with. */
  const sessions = new Map<string, { readonly creds: string; session: Buffer }>();
  return async (server, signal) => {
    const creds = credentials();
    const credsKey = `${creds.caPem}\n${creds.certPem}`;
    const known = sessions.get(server);
    const target = new URL(LINK_PATH, server);
    target.protocol = 'wss:';
    let socket: TLSSocket | undefined;
    const ws = new WebSocket(target, LINK_SUBPROTOCOL, {
      ca: creds.caPem,
      cert: creds.certPem,
      key: creds.keyPem,
      // ws's own TLS connect (its types say net's), plus the session to resume and the tickets to keep.
      createConnection: ((opts: ConnectionOptions & { host?: string }) => {
        const s = connect({
          ...opts,
          path: undefined,
          servername: opts.servername ?? (opts.host && !isIP(opts.host) ? opts.host : ''),
          ...(known && known.creds === credsKey ? { session: known.session } : {}),
        } as ConnectionOptions);
        s.on('session', (session: Buffer) => sessions.set(server, { creds: credsKey, session }));
        socket = s;
        return s;
      }) as unknown as typeof createConnection,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      // A zero masking key: ws then sends the payload as it is (and the server's ws skips the
      // unmasking). Masking protects proxies of browser-originated traffic from cache poisoning
      // (RFC 6455 §10.3); inside TLS, between our agent and our server, it only costs a JS loop
      // over every byte (no bufferutil addon in the executable): most of the pod network relay's
      // CPU under the agent's --lite-mode (docs/podnet.md, "Throughput").
      generateMask: (mask: Buffer) => mask.fill(0),
    });
    ws.on('error', () => undefined); // the close handler reports
    const onAbort = () => ws.terminate();
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('close', () => signal.removeEventListener('abort', onAbort));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => {
          let message = body;
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? body;
          } catch {
            /* not a Status */
          }
          // A busy server (503) says when to come back: the reconnect loop waits that long.
          const retryAfter = Number(res.headers['retry-after']);
          const retryAfterMs = res.statusCode === 503 && Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
          reject(new LinkError(LinkErrorCode.LINK_REFUSED, `the server refused the link (HTTP ${res.statusCode}): ${message}`, retryAfterMs ? { retryAfterMs } : {}));
        });
      });
      ws.once('close', () => reject(new LinkError(LinkErrorCode.LINK_CLOSED, 'the connection closed before the link was up')));
      ws.once('error', (err) => reject(new LinkError(LinkErrorCode.LINK_CLOSED, `cannot reach ${server}: ${err.message}`, { cause: err })));
    });
    return Object.assign(webSocketTransport(ws), { tlsSessionReused: socket?.isSessionReused() ?? false });
  };
}
