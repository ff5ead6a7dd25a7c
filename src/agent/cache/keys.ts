import type { CachedKind } from '../types.ts';

/**
 * Store keys of the agent cache: /<plural>/<namespace>/<name>, and /resume/<kind> for the link's
 * watch positions. Cluster-scoped kinds (Node) use "_" as the namespace segment because store keys
 * cannot contain an empty path segment that still sorts by kind.
 */
const plurals: Record<CachedKind, string> = {
  Pod: 'pods', ConfigMap: 'configmaps', Secret: 'secrets', ServiceAccount: 'serviceaccounts', Node: 'nodes',
  Service: 'services', EndpointSlice: 'endpointslices',
};

export function kindPrefix(kind: CachedKind): string {
  return `/${plurals[kind]}/`;
}

export function objectKey(kind: CachedKind, namespace: string, name: string): string {
  return `${kindPrefix(kind)}${namespace || '_'}/${name}`;
}

export function resumeKey(kind: CachedKind): string {
  return `/resume/${plurals[kind]}`;
}
