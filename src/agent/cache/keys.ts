import type { CachedKind } from '../types.ts';

/**
 * Store keys of the agent cache: /<plural>/<namespace>/<name>, and /resume/revision for the
 * link's watch position. Cluster-scoped kinds (Node) use "_" as the namespace segment because
 * store keys cannot contain an empty path segment that still sorts by kind.
 */
const plurals: Record<CachedKind, string> = {
  Pod: 'pods', ConfigMap: 'configmaps', Secret: 'secrets', ServiceAccount: 'serviceaccounts', Node: 'nodes',
  PersistentVolumeClaim: 'persistentvolumeclaims', PersistentVolume: 'persistentvolumes',
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
/**
 * The kinds the cache held when that revision was written. A cache from a version that cached
 * other kinds (or kept its revision under /resume/pods, before this tag) must not resume: the feed
 * would only replay changes after its revision, and the objects of a new kind that changed before
 * it would never arrive. It relists once instead.
 */
export const KINDS_KEY = '/resume/kinds';
export const CACHED_KINDS_TAG = [...CACHED_KINDS].sort().join(',');
