/**
 * GET /api/v1/nodes/NAME/proxy/PATH: the node's own endpoints (healthz, pods, stats/summary,
 * metrics, metrics/resource, metrics/cadvisor), which apiserver reaches by dialing the kubelet.
 * An edge node only dials out, so the request crosses its agent link as a `node-http` tunnel
 * stream; the agent answers with a head line (status, content type) and the body, passed through
 * as the kubelet's answer is. Authorization happened before: `nodes/proxy` with the HTTP verb
 * (get for GET), as apiserver authorizes it.
 */
import type { Duplex } from 'node:stream';
import type { NodeHttpHead } from '../../../common/tunnel.ts';
import type { ApiDeps, Call } from '../context.ts';
import { mustRead } from '../../storage/read.ts';
import { internalError, methodNotAllowed } from '../../storage/status.ts';
import { noTunnel, tunnelApiError } from './tunnel-errors.ts';
import { relayToResponse } from './relay.ts';

/** The head line the agent writes first, and whatever body bytes came with it. */
function readHead(stream: Duplex): Promise<{ head: NodeHttpHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (b: Buffer): void => {
      buf = Buffer.concat([buf, b]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > 4096) done(new Error('the agent sent no head line'));
        return;
      }
      try {
        const head = JSON.parse(buf.subarray(0, nl).toString('utf8')) as NodeHttpHead;
        if (typeof head.status !== 'number' || typeof head.contentType !== 'string') throw new Error('malformed head');
        done(undefined, { head, rest: buf.subarray(nl + 1) });
      } catch (err) {
        done(err as Error);
      }
    };
    const onEnd = (): void => done(new Error('the agent closed the stream before answering'));
    function done(err: Error | undefined, v?: { head: NodeHttpHead; rest: Buffer }): void {
      stream.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onError);
      stream.pause();
      if (err) reject(err);
      else resolve(v!);
    }
    const onError = (err: Error): void => done(err);
    stream.on('data', onData).once('end', onEnd).once('close', onEnd).once('error', onError);
  });
}

export async function serveNodeProxy(d: ApiDeps, c: Call): Promise<void> {
  const method = c.req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
  await mustRead(d.store, c.resource, '', c.info.name);
  const node = c.info.name;
  if (!d.tunnel) throw noTunnel(node);
  const path = c.info.subresource.split('/').slice(1).join('/');
  const gone = new AbortController();
  c.res.once('close', () => gone.abort());
  let stream: Duplex;
  try {
    stream = await d.tunnel.open(node, { request: { kind: 'node-http', path, query: c.url.search.replace(/^\?/, '') } }, gone.signal);
  } catch (err) {
    throw tunnelApiError(err);
  }
  let answer;
  try {
    answer = await readHead(stream);
  } catch (err) {
    stream.destroy();
    throw internalError(`node ${node} answered no proxy response: ${(err as Error).message}`, err);
  }
  c.res.writeHead(answer.head.status, { 'Content-Type': answer.head.contentType, 'Cache-Control': 'no-cache, private' });
  if (method === 'HEAD') {
    stream.destroy();
    c.res.end();
    return;
  }
  c.res.write(answer.rest);
  await relayToResponse(stream, c.res, c.log, 'node proxy stream');
}
