/**
 * The client's upgrade request head as it goes through the tunnel: the request line and only the
 * headers that negotiate the stream protocol. The apiserver proxies exec/attach/portforward to the
 * kubelet with its own credentials, never the client's; here nothing that authenticates the client
 * (Authorization, client certificates, impersonation headers, cookies) ever leaves the server.
 */
import type { IncomingMessage } from 'node:http';

const KEPT = new Set([
  'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol',
  'sec-websocket-extensions', 'x-stream-protocol-version', 'user-agent', 'content-length',
]);

export function upgradeHead(req: IncomingMessage): Buffer {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (KEPT.has(name.toLowerCase())) lines.push(`${name}: ${raw[i + 1]!}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}
