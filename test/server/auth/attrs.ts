// Builders for RequestAttributes in authorizer tests.
import type { RequestAttributes, UserInfo } from '../../../src/server/auth/index.ts';

export function user(name: string, ...groups: string[]): UserInfo {
  return { name, groups: [...groups, 'system:authenticated'] };
}

export function resource(
  u: UserInfo,
  verb: string,
  res: string,
  opts: Partial<Pick<RequestAttributes, 'apiGroup' | 'namespace' | 'name' | 'subresource' | 'fieldSelector'>> = {},
): RequestAttributes {
  return {
    user: u,
    verb,
    resourceRequest: true,
    path: '',
    apiGroup: opts.apiGroup ?? '',
    apiVersion: 'v1',
    resource: res,
    subresource: opts.subresource ?? '',
    namespace: opts.namespace ?? '',
    name: opts.name ?? '',
    ...(opts.fieldSelector !== undefined ? { fieldSelector: opts.fieldSelector } : {}),
  };
}

export function nonResource(u: UserInfo, verb: string, path: string): RequestAttributes {
  return { user: u, verb, resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
}
