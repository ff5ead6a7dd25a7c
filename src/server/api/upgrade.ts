/**
 * Upgrade requests (exec/attach/portforward over WebSocket or SPDY, §11–12). After authentication,
 * authorization and the pod checks, pods/exec, attach and portforward are forwarded to the node's
 * agent through its tunnel (subresources/pod-stream.ts); everything else, and every refusal, is
 * answered with a plain HTTP error carrying a Status body, which kubectl prints.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HandlerDeps } from './handler.ts';
import { admitRequest, newRequestId, requestOf, resolveResource } from './handler.ts';
import { requestLabels } from './observe.ts';
import { ApiError, internalError, pathNotFound } from '../storage/status.ts';
import { nodeTunnelError } from './subresources/node-tunnel.ts';
import { servePodStream } from './subresources/pod-stream.ts';

function writeRawError(socket: Duplex, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  const reason = err.httpStatus === 503 ? 'Service Unavailable' : err.httpStatus === 400 ? 'Bad Request' : err.httpStatus === 404 ? 'Not Found' : err.httpStatus === 401 ? 'Unauthorized' : err.httpStatus === 403 ? 'Forbidden' : 'Error';
  socket.end(
    `HTTP/1.1 ${err.httpStatus} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function handleUpgrade(h: HandlerDeps, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const log = h.log.child({ reqId: newRequestId() });
  socket.on('error', () => socket.destroy());
  const request = requestOf(req);
  const started = performance.now();
  // An upgrade has no ServerResponse: it is recorded once answered (101 when handed to the agent).
  const observe = (code: number) =>
    h.metrics?.observe({ ...requestLabels(h.registry, req, request.url, request.info, true), code, seconds: (performance.now() - started) / 1000 });
  (async (): Promise<ApiError | undefined> => {
    const a = await admitRequest(h, req, request);
    const { info, resource } = resolveResource(h, a.info);
    const base = info.subresource.split('/')[0] ?? '';
    const sub = resource.subresources.find((s) => s.name === base);
    if (info.name === '') return pathNotFound();
    switch (sub?.handler) {
      case 'stream':
        await servePodStream(h, resource, info, req, socket, head, log);
        return undefined;
      case 'log':
        return nodeTunnelError(h, resource, info, 'pod');
      case 'proxy':
        return nodeTunnelError(h, resource, info, 'node');
      default:
        return pathNotFound();
    }
  })().then(
    (err) => {
      observe(err ? err.httpStatus : 101);
      if (err) writeRawError(socket, err);
    },
    (err: unknown) => {
      const apiErr = err instanceof ApiError ? err : internalError('an unexpected error occurred', err);
      if (apiErr.httpStatus >= 500) log.error({ err, url: req.url }, 'upgrade failed');
      observe(apiErr.httpStatus);
      writeRawError(socket, apiErr);
    },
  );
}
