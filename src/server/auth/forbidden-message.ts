// The text of a 403, worded exactly as apiserver's responsewriters.Forbidden + errors.NewForbidden,
// because users (and scripts) read it: `pods is forbidden: User "bob" cannot list resource "pods"
// in API group "" in the namespace "default"`.
import type { RequestAttributes } from './types.ts';

export interface ForbiddenStatus {
  readonly message: string;
  /** Status.details: the resource without subresource, as apiserver reports it. */
  readonly details: { readonly name?: string; readonly group?: string; readonly kind?: string };
}

// apiserver HTML-escapes these characters of user-controlled text in the message.
const sanitize = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function whatWasDenied(a: RequestAttributes): string {
  const user = JSON.stringify(a.user.name);
  if (!a.resourceRequest) return `User ${user} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
}

export function forbiddenStatus(a: RequestAttributes, reason: string): ForbiddenStatus {
  const denied = sanitize(whatWasDenied(a)) + (reason ? `: ${reason}` : '');
  if (!a.resourceRequest || !a.resource) return { message: `forbidden: ${denied}`, details: {} };
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const message = a.name ? `${qualified} ${JSON.stringify(a.name)} is forbidden: ${denied}` : `${qualified} is forbidden: ${denied}`;
  return {
    message,
    details: { ...(a.name ? { name: a.name } : {}), ...(a.apiGroup ? { group: a.apiGroup } : {}), kind: a.resource },
  };
}
