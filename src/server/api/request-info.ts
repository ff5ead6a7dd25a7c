/**
 * Splits a request URL into what it addresses, like apiserver's RequestInfoFactory:
 * `/api/v1/namespaces/NS/pods/NAME/status`, `/apis/apps/v1/deployments`, the legacy
 * `/api/v1/watch/...` prefix, and everything else as a non-resource path.
 */
import { queryBool } from './query-params.ts';

export interface ResourceRequest {
  readonly kind: 'resource';
  /** get, list, watch, create, update, patch, delete, deletecollection, or "discovery" for /api/v1 itself. */
  readonly verb: string;
  readonly group: string;
  readonly version: string;
  /** "" for /api/v1 and /apis/<g>/<v> (resource discovery). */
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
}

export interface DiscoveryRequest {
  readonly kind: 'discovery';
  /** "/api", "/apis", or "/apis/<group>" */
  readonly path: string;
  readonly group: string;
}

export interface NonResourceRequest {
  readonly kind: 'nonresource';
  readonly path: string;
}

export type RequestInfo = ResourceRequest | DiscoveryRequest | NonResourceRequest;

// apiserver treats these as subresources of a namespace, not as resources inside it.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** The request URL; a path starting with "//" must not be read as a host. */
export function requestUrl(rawUrl: string | undefined): URL {
  return new URL(`https://localhost${rawUrl && rawUrl.startsWith('/') ? rawUrl : `/${rawUrl ?? ''}`}`);
}

export function parseRequest(method: string, url: URL): RequestInfo {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  // Decode before splitting, as Go's http server does: %2F is a path separator, never part of a
  // name, so a name can never reach into another namespace's keys.
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return { kind: 'nonresource', path };
  }
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts[0] === 'api') {
    if (parts.length === 1) return { kind: 'discovery', path: '/api', group: '' };
    return resourceRequest(method, url, '', parts[1] ?? '', parts.slice(2));
  }
  if (parts[0] === 'apis') {
    if (parts.length === 1) return { kind: 'discovery', path: '/apis', group: '' };
    if (parts.length === 2) return { kind: 'discovery', path: `/apis/${parts[1]}`, group: parts[1] ?? '' };
    return resourceRequest(method, url, parts[1] ?? '', parts[2] ?? '', parts.slice(3));
  }
  return { kind: 'nonresource', path };
}

function resourceRequest(method: string, url: URL, group: string, version: string, rest: string[]): ResourceRequest {
  let parts = rest;
  let watchPrefix = false;
  if (parts[0] === 'watch') {
    watchPrefix = true;
    parts = parts.slice(1);
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1] ?? '';
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? '')) parts = parts.slice(2);
  }
  const resource = parts[0] ?? '';
  const name = parts[1] ?? '';
  const subresource = parts.slice(2).join('/');
  // A namespace object is addressed as /api/v1/namespaces/NAME: it is cluster-scoped.
  if (resource === 'namespaces' && group === '') namespace = '';
  const watch = watchPrefix || (queryBool(url.searchParams, 'watch') ?? false);
  let verb: string;
  if (resource === '') verb = 'discovery';
  else {
    switch (method) {
      case 'GET':
      case 'HEAD':
        verb = watch ? 'watch' : name === '' ? 'list' : 'get';
        break;
      case 'POST':
        verb = 'create';
        break;
      case 'PUT':
        verb = 'update';
        break;
      case 'PATCH':
        verb = 'patch';
        break;
      case 'DELETE':
        verb = name === '' ? 'deletecollection' : 'delete';
        break;
      default:
        verb = method.toLowerCase();
    }
  }
  return { kind: 'resource', verb, group, version, resource, subresource, namespace, name };
}
