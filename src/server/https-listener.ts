// The HTTPS listener. HTTP/1.1 only: kubectl exec/attach/port-forward upgrade the connection,
// which HTTP/2 cannot do, and Go clients fall back to HTTP/1.1 when ALPN offers nothing else.
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { EdgeosError, InvalidInputError, errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { Component } from '../common/supervisor.ts';
import { TICKET_LIFETIME_S, ensureTicketKeys } from './pki/ticket-keys.ts';

export interface ListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  /** Client certificates are verified against this CA. */
  readonly clientCaPem: string;
  /** The keys of TLS session tickets (pki/ticket-keys.ts): kept across restarts, so tickets still resume. */
  readonly ticketKeys?: Buffer;
  /** A session ticket's lifetime, seconds. */
  readonly sessionTimeoutS?: number;
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
}

export function createHttpsServer(opts: ListenerOptions): Server {
  return createServer(
    {
      cert: opts.certPem,
      key: opts.keyPem,
      ca: opts.clientCaPem,
      // Ask for a client certificate but let the request through without one (or with a bad one):
      // the authenticator turns that into anonymous or 401, as apiserver does, instead of a TLS
      // alert that kubectl would report as an unreadable handshake error.
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      minVersion: 'TLSv1.2',
      ...(opts.ticketKeys ? { ticketKeys: opts.ticketKeys } : {}),
      ...(opts.sessionTimeoutS ? { sessionTimeout: opts.sessionTimeoutS } : {}),
      // Node's requestTimeout (300 s) bounds only the receipt of a request, so long watches and log
      // streams are unaffected by it; upgraded connections leave the HTTP server's care entirely.
    },
    opts.onRequest,
  );
}

/** Listens, turning the usual failures into an error that names the flag to change. */
export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      if (err.code === 'EADDRINUSE') {
        reject(new InvalidInputError(`--https-listen-port: ${where} is already in use by another process`, { cause: err }));
      } else if (err.code === 'EACCES') {
        reject(new InvalidInputError(`--https-listen-port: not permitted to listen on ${where}`, { cause: err }));
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(new InvalidInputError(`--bind-address: ${host} is not an address of this machine`, { cause: err }));
      } else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, ipv6Only: false });
  });
}

/** In-flight requests get this long to finish at shutdown before connections are cut. */
const DRAIN_MS = 1500;

export interface HttpsListener extends Component {
  /** Set after start. */
  readonly server: Server | undefined;
  readonly address: { host: string; port: number } | undefined;
}

/**
 * The listener as a component of the server's supervisor: its TLS session ticket key kept fresh
 * (looked at hourly), upgraded connections tracked so the stop can cut them, and a drain of
 * DRAIN_MS before every connection still open is closed. A listener error after start is
 * `onFailure`'s (SERVER_LISTENER_FAILED).
 */
export function httpsListener(o: {
  readonly host: string;
  readonly port: number;
  readonly tlsDir: string;
  /** The serving certificate now (it changes when rotated; setSecureContext swaps it in). */
  readonly tls: () => Pick<ListenerOptions, 'certPem' | 'keyPem' | 'clientCaPem'>;
  readonly onRequest: ListenerOptions['onRequest'];
  readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly onHandshake: (resumed: boolean) => void;
  readonly onFailure: (err: Error) => void;
  readonly log: Logger;
  readonly ticketLog: Logger;
  /** Named in the "serving HTTPS" line. */
  readonly kubeconfigPath: string;
}): HttpsListener {
  let https: Server | undefined;
  let address: { host: string; port: number } | undefined;
  let ticketTimer: NodeJS.Timeout | undefined;
  const upgraded = new Set<Duplex>();
  return {
    name: 'listener',
    get server() {
      return https;
    },
    get address() {
      return address;
    },
    start: async () => {
      let ticketKeys = ensureTicketKeys(o.tlsDir, o.ticketLog);
      const server = createHttpsServer({ host: o.host, port: o.port, ...o.tls(), ticketKeys, sessionTimeoutS: TICKET_LIFETIME_S, onRequest: o.onRequest });
      https = server;
      // The ticket key is replaced when it is too old (pki/ticket-keys.ts): looked at hourly.
      ticketTimer = setInterval(() => {
        try {
          const next = ensureTicketKeys(o.tlsDir, o.ticketLog);
          if (!next.equals(ticketKeys)) server.setTicketKeys((ticketKeys = next));
        } catch (err) {
          o.ticketLog.warn({ err: errorMessage(err) }, 'cannot replace the TLS session ticket key: keeping the current one');
        }
      }, 3600_000);
      ticketTimer.unref();
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        upgraded.add(socket);
        socket.once('close', () => upgraded.delete(socket));
        o.onUpgrade(req, socket, head);
      });
      server.on('tlsClientError', (err: Error) => o.log.debug({ err: errorMessage(err) }, 'TLS handshake failed'));
      server.on('secureConnection', (socket: TLSSocket) => o.onHandshake(socket.isSessionReused()));
      await listen(server, o.host, o.port);
      const addr = server.address();
      address = typeof addr === 'object' && addr ? { host: addr.address, port: addr.port } : undefined;
      server.on('error', (err) => {
        o.onFailure(new EdgeosError('SERVER_LISTENER_FAILED', `the HTTPS listener failed: ${errorMessage(err)}`, { cause: err }));
      });
      o.log.info({ address: o.host, port: address?.port ?? o.port, kubeconfig: o.kubeconfigPath }, 'serving HTTPS');
    },
    stop: async () => {
      clearInterval(ticketTimer);
      const server = https;
      if (!server?.listening) return;
      await new Promise<void>((resolve) => {
        // Watches and log streams never end by themselves: cut what is still open after the drain.
        const timer = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
        for (const s of upgraded) s.destroy();
      });
    },
  };
}
