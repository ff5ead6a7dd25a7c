/** Authorization of one request, with apiserver's 403 wording. */
import type { Authorizer, RequestAttributes, UserInfo } from '../auth/types.ts';
import type { RequestInfo } from './request-info.ts';
import { forbidden } from '../storage/status.ts';
import type { ApiError } from '../storage/status.ts';

export function attributesOf(user: UserInfo, method: string, info: RequestInfo, path: string): RequestAttributes {
  if (info.kind !== 'resource' || info.verb === 'discovery') {
    return { user, verb: method.toLowerCase(), resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  }
  // Upgrade-based subresources (exec, attach, portforward) are authorized as "create", like apiserver.
  const verb = info.verb === 'get' && ['exec', 'attach', 'portforward'].includes(info.subresource) ? 'create' : info.verb;
  // The subresource is the path's first part after the name: nodes/NAME/proxy/stats/summary is
  // nodes/proxy (apiserver's RequestInfo keeps the rest in Parts).
  const subresource = info.subresource.split('/')[0] ?? '';
  return {
    user,
    verb,
    resourceRequest: true,
    path,
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource,
    subresource,
    namespace: info.namespace,
    name: info.name,
  };
}

/** `pods "x" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "default"` */
export function forbiddenFor(a: RequestAttributes, reason: string): ApiError {
  const suffix = reason ? `: ${reason}` : '';
  if (!a.resourceRequest) {
    return forbidden(`forbidden: User "${a.user.name}" cannot ${a.verb} path "${a.path}"${suffix}`);
  }
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const qualified = a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`;
  const subject = a.name ? `${qualified} "${a.name}" is forbidden` : `${qualified} is forbidden`;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return forbidden(`${subject}: User "${a.user.name}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}" ${scope}${suffix}`, { group: a.apiGroup, plural: a.resource }, a.name);
}

export async function authorize(authorizer: Authorizer, a: RequestAttributes): Promise<ApiError | undefined> {
  const d = await authorizer.authorize(a);
  return d.allowed ? undefined : forbiddenFor(a, d.reason);
}
