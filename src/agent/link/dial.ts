/**
 * How a joined agent reaches the server: a WebSocket at LINK_PATH over TLS, authenticated by the
 * node's client certificate and pinned to the cluster CA. A server that answers the upgrade with
 * an HTTP error (another protocol version, no node identity) is LINK_REFUSED with its Status
 * message; one that cannot be reached or does not finish the handshake in time (a SIGSTOPped
 * server accepts TCP but never finishes TLS) is LINK_CLOSED.
 *
 * "In time" is 10 s for a first dial and grows with each dial to that server that failed before
 * the link was up (handshakeTimeoutMs): in a join or reconnect storm a server on a starved CPU
 * finishes handshakes late, and an agent that abandoned one at 10 s and dialled again made the
 * server pay for a TLS handshake nobody used — then for the next one (docs/link.md, "Storms").
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

/** The limit of a first dial (TCP, TLS and the WebSocket upgrade's answer). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** What the limit grows to after failed dials (doubling each time). */
export const MAX_HANDSHAKE_TIMEOUT_MS = 80_000;

/**
 * The handshake limit of a dial after `failures` dials to that server in a row that ended before
 * the link was up: 10 s, then 20, 40, 80 s, each plus up to a quarter of random jitter, so agents
 * that failed together do not give up together either.
 */
export function handshakeTimeoutMs(failures: number, random: () => number = Math.random): number {
  if (failures <= 0) return HANDSHAKE_TIMEOUT_MS;
  const base = Math.min(MAX_HANDSHAKE_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS * 2 ** Math.min(failures, 10));
  return Math.round(base + (random() * base) / 4);
}

export interface LinkCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface DialerOptions {
  /** The handshake limit after that many failed dials to the server in a row (default handshakeTimeoutMs). */
  readonly handshakeTimeout?: (failures: number) => number;
}

/** Reads `credentials` at every dial, so a renewed certificate is used from the next connection on. */
export function webSocketDialer(credentials: () => LinkCredentials, o: DialerOptions = {}): LinkDialer {
  const limit = o.handshakeTimeout ?? handshakeTimeoutMs;
  /** Per server: the latest TLS session and the certificates it was made with. */
  const sessions = new Map<string, { readonly creds: string; session: Buffer }>();
  /** Per server: dials in a row that ended before the link was up (a refusal is an answer: not one). */
  const failures = new Map<string, number>();
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
      handshakeTimeout: limit(failures.get(server) ?? 0),
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
      // Whether the dial ended (up, refused or failed): only the first of these counts.
      let settled = false;
      ws.once('open', () => {
        settled = true;
        failures.delete(server);
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        settled = true;
        failures.delete(server);
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
      // (An abort is the agent stopping, not the server failing: it does not count.)
      const failed = () => {
        if (!settled && !signal.aborted) failures.set(server, (failures.get(server) ?? 0) + 1);
        settled = true;
      };
      ws.once('close', () => {
        failed();
        reject(new LinkError(LinkErrorCode.LINK_CLOSED, 'the connection closed before the link was up'));
      });
      ws.once('error', (err) => {
        failed();
        reject(new LinkError(LinkErrorCode.LINK_CLOSED, `cannot reach ${server}: ${err.message}`, { cause: err }));
      });
    });
    return Object.assign(webSocketTransport(ws), { tlsSessionReused: socket?.isSessionReused() ?? false });
  };
}
