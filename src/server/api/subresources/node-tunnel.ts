/**
 * Upgrade requests the agent tunnel does not carry: a pods/log or nodes/proxy request made as an
 * upgrade (a WebSocket to a node's endpoint). After the checks kubectl users know (the object
 * exists, the pod is scheduled) they answer a clear 503. pods/log, exec, attach and portforward
 * go through the tunnel (pod-log.ts, pod-stream.ts), and plain nodes/proxy reads too (node-proxy.ts).
 */
import type { ResourceInfo } from '../../registry/index.ts';
import type { ApiDeps } from '../context.ts';
import type { ResourceRequest } from '../request-info.ts';
import { mustRead } from '../../storage/read.ts';
import { ApiError, badRequest } from '../../storage/status.ts';

/** `of`: whether the object is the node itself (nodes/proxy) or a pod on it (a pods/log upgrade). */
export async function nodeTunnelError(d: ApiDeps, r: ResourceInfo, info: ResourceRequest, of: 'node' | 'pod'): Promise<ApiError> {
  const { obj } = await mustRead(d.store, r, info.namespace, info.name);
  let node = info.name;
  if (of === 'pod') {
    const spec = (obj.spec ?? {}) as { nodeName?: unknown };
    if (typeof spec.nodeName !== 'string' || spec.nodeName === '') return badRequest(`pod ${info.name} does not have a host assigned`);
    node = spec.nodeName;
  }
  const sub = info.subresource.split('/')[0] ?? '';
  return new ApiError(503, 'ServiceUnavailable', `no tunnel to node ${node} for ${r.plural}/${sub}: the agent tunnel carries no upgraded ${r.plural}/${sub} connections`);
}
