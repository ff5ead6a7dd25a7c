// The server's API called from inside its own process as a given user: the link's writes as a
// node (status, events, Lease, registration). Each request is a real HTTP/1.1 exchange over an
// in-memory stream pair handed to the same request handler as the HTTPS listener's, so it passes
// authentication (the identity bound to the connection: auth/in-process.ts), authorization (the
// Node authorizer, RBAC), admission and storage exactly like a kubelet's request, and is refused
// the same way, without a TCP connection, a TLS handshake or a client certificate per node.
import { createServer, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { duplexPair } from 'node:stream';
import type { Duplex } from 'node:stream';
import type { InProcessIdentities } from './auth/in-process.ts';
import type { UserInfo } from './auth/types.ts';
import type { ApiAs, ApiResponse } from './link/types.ts';

type Handle = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Opens connections to `handle` inside this process: an HTTP server that never listens is handed
 * the served end of an in-memory stream pair (after `bind`, which may tie an identity to it), and
 * the caller gets the client end. Its keep-alive timeout closes a connection left idle, as the
 * listener's does.
 */
function inProcessServer(handle: Handle): (bind?: (served: Duplex) => void) => Duplex {
  const server = createServer(handle);
  return (bind) => {
    const [client, served] = duplexPair();
    bind?.(served);
    server.emit('connection', served);
    return client;
  };
}

export function createInProcessApi(o: { handle: Handle; identities: InProcessIdentities }): ApiAs {
  // One connection per request, bound to the user it is made as.
  const open = inProcessServer(o.handle);
  return (user: UserInfo, userAgent: string) => ({
    request(method, path, body, contentType = 'application/json') {
      const client = open((served) => o.identities.bind(served, user));
      const text = body === undefined ? undefined : JSON.stringify(body);
      return new Promise<ApiResponse>((resolve, reject) => {
        const req = request(
          {
            createConnection: () => client,
            method,
            path,
            headers: {
              host: 'in-process',
              accept: 'application/json',
              'user-agent': userAgent,
              ...(text === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(text) }),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const raw = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown = raw;
              try {
                parsed = raw ? JSON.parse(raw) : undefined;
              } catch {
                /* not JSON: keep the text */
              }
              resolve({ status: res.statusCode ?? 0, body: parsed });
            });
          },
        );
        req.on('error', reject);
        req.end(text);
      });
    },
  });
}

/**
 * A new connection to the server's request handler inside this process, for a client that speaks
 * HTTP/1.1 itself and keeps its connections alive: the controllers' API client (docs/link.md,
 * "The controllers' connections"). It used HTTPS to the server's own port: a TLS record and a TCP
 * write each way for every request, answer and watch event. Nothing is bound to the connection:
 * the client's requests carry their own credential (the loopback token) and are authenticated,
 * authorized and served as over HTTPS.
 */
export function createInProcessConnector(handle: Handle): () => Duplex {
  const open = inProcessServer(handle);
  return () => open();
}
