/**
 * User impersonation (`kubectl --as`, `--as-group`, `--as-uid`): the Impersonate-* headers turn the
 * authenticated user into another, after the authorizer allowed the `impersonate` verb on each
 * piece (users, groups, serviceaccounts, uids, userextras/<key>), as apiserver's WithImpersonation
 * filter does. A request without those headers keeps its user.
 */
import type { IncomingMessage } from 'node:http';
import { AUTHENTICATED_GROUP } from './authenticator.ts';
import type { Authorizer, RequestAttributes, UserInfo } from './types.ts';

const SA_PREFIX = 'system:serviceaccount:';
const ANONYMOUS = 'system:anonymous';
const UNAUTHENTICATED_GROUP = 'system:unauthenticated';

/** Why an impersonation is refused: a bad request, or the attributes the authorizer did not allow. */
export type ImpersonationRefusal = { readonly badRequest: string } | { readonly forbidden: RequestAttributes; readonly reason: string };

function headerValues(req: IncomingMessage, name: string): string[] {
  const v = req.headers[name];
  if (v === undefined) return [];
  // Node joins repeated headers with ", " except a few; Impersonate-Group may repeat.
  return (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
}

function impersonateAttrs(user: UserInfo, resource: string, name: string, namespace = '', subresource = ''): RequestAttributes {
  return { user, verb: 'impersonate', resourceRequest: true, path: '', apiGroup: resource === 'uids' || resource === 'userextras' ? 'authentication.k8s.io' : '', apiVersion: '', resource, subresource, namespace, name };
}

/**
 * The user a request acts as: `user` itself without Impersonate-* headers, the impersonated user
 * when every part is allowed, or a refusal.
 */
export async function impersonatedUser(authorizer: Authorizer, req: IncomingMessage, user: UserInfo): Promise<UserInfo | ImpersonationRefusal> {
  const names = headerValues(req, 'impersonate-user');
  const groups = headerValues(req, 'impersonate-group');
  const uids = headerValues(req, 'impersonate-uid');
  const extraKeys = Object.keys(req.headers).filter((h) => h.startsWith('impersonate-extra-'));
  if (names.length === 0) {
    if (groups.length || uids.length || extraKeys.length) return { badRequest: 'requested impersonation of groups, uid or extra without impersonating a user' };
    return user;
  }
  if (names.length > 1 || uids.length > 1) return { badRequest: 'only one user and one uid may be impersonated' };
  const name = names[0] ?? '';
  const checks: RequestAttributes[] = [];
  let defaultGroups: string[] = [];
  if (name.startsWith(SA_PREFIX)) {
    const [ns = '', sa = ''] = name.slice(SA_PREFIX.length).split(':');
    checks.push(impersonateAttrs(user, 'serviceaccounts', sa, ns));
    // A service account's groups come with it unless groups are impersonated too.
    defaultGroups = ['system:serviceaccounts', `system:serviceaccounts:${ns}`];
  } else {
    checks.push(impersonateAttrs(user, 'users', name));
  }
  for (const g of groups) checks.push(impersonateAttrs(user, 'groups', g));
  for (const u of uids) checks.push(impersonateAttrs(user, 'uids', u));
  for (const h of extraKeys) {
    for (const v of headerValues(req, h)) checks.push(impersonateAttrs(user, 'userextras', v, '', h.slice('impersonate-extra-'.length)));
  }
  for (const a of checks) {
    const d = await authorizer.authorize(a);
    if (!d.allowed) return { forbidden: a, reason: d.reason };
  }
  const asGroups = groups.length ? groups : defaultGroups;
  // The user's authentication group follows, as upstream adds it after impersonation.
  const extra = name === ANONYMOUS ? UNAUTHENTICATED_GROUP : AUTHENTICATED_GROUP;
  return { name, ...(uids[0] ? { uid: uids[0] } : {}), groups: asGroups.includes(extra) ? asGroups : [...asGroups, extra] };
}
