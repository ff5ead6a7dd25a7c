/**
 * pods/NAME/exec, attach and portforward: WebSocket (GET) and SPDY/3.1 (POST) upgrades alike are
 * forwarded, not terminated. After authorization and apiserver's checks (streamLocation /
 * PortForwardLocation) the client's request head goes through the node's tunnel; the agent replays
 * it to containerd's streaming server, whose answer — the 101 with the negotiated protocol, or a
 * refusal that makes kubectl fall back to SPDY — comes back as raw bytes. From then on the server
 * only splices the client's connection and the tunnel stream.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../common/log.ts';
import type { ResourceInfo } from '../../registry/index.ts';
import type { ApiDeps } from '../context.ts';
import type { ResourceRequest } from '../request-info.ts';
import { requestUrl } from '../request-info.ts';
import { badRequest } from '../../storage/status.ts';
import type { ApiError } from '../../storage/status.ts';
import { noHostAssigned, readPodTarget, resolveContainer } from './pod-target.ts';
import { splice } from '../../../common/splice.ts';
import { streamRequest } from './stream-options.ts';
import { isAgentRefusal, noTunnel, tunnelApiError } from './tunnel-errors.ts';
import { upgradeHead } from './upgrade-head.ts';

/** Throws an ApiError (answered as plain HTTP) until the stream is open; resolves when it ends. */
export async function servePodStream(
  d: ApiDeps, r: ResourceInfo, info: ResourceRequest, req: IncomingMessage, socket: Duplex, head: Buffer, log: Logger,
): Promise<void> {
  const kind = info.subresource as 'exec' | 'attach' | 'portforward';
  const query = requestUrl(req.url).searchParams;
  const t = await readPodTarget(d, r, info.namespace, info.name);
  const container = kind === 'portforward' ? '' : resolveContainer(t, query.get('container') ?? '');
  if (t.node === '') throw noHostAssigned(t.ref.name);
  const request = streamRequest(kind, t.ref, container, query);
  if (!d.tunnel) throw noTunnel(t.node);
  const gone = new AbortController();
  const onClose = (): void => gone.abort();
  socket.once('close', onClose);
  let stream: Duplex;
  try {
    stream = await d.tunnel.open(t.node, { request, httpHead: upgradeHead(req) }, gone.signal);
  } catch (err) {
    if (!isAgentRefusal(err)) throw tunnelApiError(err);
    // The kubelet answers a refused exec/attach/portforward with its error as plain text and
    // status 500 (cri/streaming WriteError), which apiserver passes through: kubectl prints
    // `error: unable to upgrade connection: container not found ("x")`.
    const text = Buffer.from(err.message, 'utf8');
    socket.end(Buffer.concat([
      Buffer.from(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${text.length}\r\nConnection: close\r\n\r\n`, 'latin1'),
      text,
    ]));
    return;
  } finally {
    socket.off('close', onClose);
  }
  if (socket.destroyed) {
    stream.destroy();
    return;
  }
  // Bytes the client sent right behind its request head belong to the stream protocol.
  if (head.length > 0) stream.write(head);
  log.debug({ kind, pod: `${t.ref.namespace}/${t.ref.name}`, node: t.node }, 'stream forwarded');
  await splice(socket, stream);
}

/** A plain request for a stream subresource: apiserver's UpgradeAwareHandler (UpgradeRequired) refuses it once the pod is found. */
export async function upgradeRequired(d: ApiDeps, r: ResourceInfo, info: ResourceRequest): Promise<ApiError> {
  await readPodTarget(d, r, info.namespace, info.name);
  return badRequest('Upgrade request required');
}
