/**
 * The client's upgrade request, rewritten for containerd's streaming server. Like the kubelet's
 * proxy to the CRI streaming URL (UpgradeAwareHandler), only the location changes: the path and
 * query become the URL's (the exec/attach/portforward token), Host becomes the streaming server.
 * The protocol negotiation headers kubectl sent are kept as they are, so kubectl and containerd
 * agree on WebSocket (v5/v4.channel.k8s.io, SPDY/3.1+portforward.k8s.io) or SPDY/3.1 end to end.
 * Nothing else is forwarded: no credentials ever reach the runtime.
 */
import { UpgradeHeadError } from './errors.ts';

const KEPT = new Set([
  'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol',
  'sec-websocket-extensions', 'x-stream-protocol-version', 'user-agent', 'content-length',
]);

export function replayHead(head: Buffer | undefined, target: URL): Buffer {
  if (!head || head.length === 0) throw new UpgradeHeadError('no upgrade request to forward');
  const text = head.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new UpgradeHeadError('the upgrade request head is incomplete');
  const [requestLine = '', ...headerLines] = text.slice(0, end).split('\r\n');
  const m = /^(GET|POST) \S+ HTTP\/1\.1$/.exec(requestLine);
  if (!m) throw new UpgradeHeadError(`not an HTTP/1.1 GET or POST request: ${JSON.stringify(requestLine.slice(0, 80))}`);
  const out = [`${m[1]} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`];
  let upgrade = false;
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UpgradeHeadError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!KEPT.has(name)) continue;
    if (name === 'upgrade') upgrade = true;
    out.push(`${line.slice(0, colon).trim()}: ${line.slice(colon + 1).trim()}`);
  }
  if (!upgrade) throw new UpgradeHeadError('the request has no Upgrade header');
  return Buffer.from(`${out.join('\r\n')}\r\n\r\n`, 'latin1');
}
