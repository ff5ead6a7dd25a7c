// The HTTPS listener. HTTP/1.1 only: kubectl exec/attach/port-forward upgrade the connection,
// which HTTP/2 cannot do, and Go clients fall back to HTTP/1.1 when ALPN offers nothing else.
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidInputError } from '../common/errors.ts';

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
