import type { CachedKind } from '../types.ts';

/**
 * Store keys of the agent cache: /<plural>/<namespace>/<name>, and /resume/revision for the
 * link's watch position. Cluster-scoped kinds (Node) use "_" as the namespace segment because
 * store keys cannot contain an empty path segment that still sorts by kind.
 */
const plurals: Record<CachedKind, string> = {
  Pod: 'pods', ConfigMap: 'configmaps', Secret: 'secrets', ServiceAccount: 'serviceaccounts', Node: 'nodes',
  Service: 'services', EndpointSlice: 'endpointslices',
};

export const CACHED_KINDS = Object.keys(plurals) as CachedKind[];

export function kindPrefix(kind: CachedKind): string {
  return `/${plurals[kind]}/`;
}

export function objectKey(kind: CachedKind, namespace: string, name: string): string {
  return `${kindPrefix(kind)}${namespace || '_'}/${name}`;
}

/** The revision the cache holds the node's desired state at. */
export const RESUME_KEY = '/resume/revision';
/** Where agents kept it before it was written once per message (a copy per kind; the Pod one was read). */
export const LEGACY_RESUME_KEY = '/resume/pods';
