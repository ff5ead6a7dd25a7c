/**
 * pods/log, exec, attach, portforward and nodes/proxy reach the node's agent through its tunnel.
 * Until the agent tunnel exists they answer a clear 503 after the checks kubectl users know
 * (the pod must exist and be scheduled), over plain HTTP and on upgrade requests alike.
 */
import type { ResourceInfo } from '../../registry/index.ts';
import type { ApiDeps } from '../context.ts';
import type { ResourceRequest } from '../request-info.ts';
import { mustRead } from '../read.ts';
import { ApiError, badRequest } from '../status.ts';

export async function nodeTunnelError(d: ApiDeps, r: ResourceInfo, info: ResourceRequest): Promise<ApiError> {
  const { obj } = await mustRead(d, r, info.namespace, info.name);
  let node = info.name;
  if (r.plural === 'pods') {
    const spec = (obj.spec ?? {}) as { nodeName?: unknown };
    if (typeof spec.nodeName !== 'string' || spec.nodeName === '') return badRequest(`pod ${info.name} does not have a host assigned`);
    node = spec.nodeName;
  }
  return new ApiError(503, 'ServiceUnavailable', `no tunnel to node ${node}: the agent tunnel is not available yet`);
}
