/**
 * GET pods/NAME/log: the container's log as text/plain, streamed from the node's agent through
 * its tunnel (apiserver proxies the kubelet's /containerLogs the same way, LocationStreamer with
 * `Flush` when following). A pod without a node has no logs yet: apiserver's LogLocation returns
 * no location and the reply is an empty 200.
 */
import type { ApiDeps, Call } from '../context.ts';
import { methodNotAllowed } from '../../storage/status.ts';
import { parseLogOptions } from './log-options.ts';
import { readPodTarget, resolveContainer } from './pod-target.ts';
import { noTunnel, tunnelApiError } from './tunnel-errors.ts';
import { relayToResponse } from './relay.ts';

export async function servePodLog(d: ApiDeps, c: Call): Promise<void> {
  if (c.info.verb !== 'get') throw methodNotAllowed();
  const t = await readPodTarget(d, c.resource, c.info.namespace, c.info.name);
  const container = resolveContainer(t, c.query.get('container') ?? '');
  const opts = parseLogOptions(c.query, t.ref.name);
  const headers = { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' };
  if (t.node === '') {
    c.res.writeHead(200, headers).end();
    return;
  }
  if (!d.tunnel) throw noTunnel(t.node);
  const gone = new AbortController();
  c.res.once('close', () => gone.abort());
  let stream;
  try {
    stream = await d.tunnel.open(t.node, { request: { kind: 'logs', ...t.ref, container, ...opts } }, gone.signal);
  } catch (err) {
    throw tunnelApiError(err);
  }
  c.res.writeHead(200, headers);
  // Following: headers go out now, every chunk as it comes (Node writes each one to the socket).
  if (opts.follow) c.res.flushHeaders();
  await relayToResponse(stream, c.res, c.log, 'log stream');
}
