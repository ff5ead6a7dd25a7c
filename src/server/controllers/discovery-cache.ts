// Discovery for controllers that act on every resource (namespace deletion, garbage collection),
// refreshed at most every 30 s like kube-controller-manager's RESTMapper resync, and at once on demand
// when an unknown kind appears (a new CRD).
import type { ApiResource, KubeClient } from './types.ts';

const MAX_AGE_MS = 30_000;

export interface DiscoveryCache {
  resources(signal?: AbortSignal): Promise<ApiResource[]>;
  /** The resource serving `kind` in `apiVersion` ("apps/v1", "v1"); refreshes once if unknown. */
  forKind(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ApiResource | undefined>;
}

export function createDiscoveryCache(client: KubeClient, now: () => number = Date.now): DiscoveryCache {
  let cached: { at: number; list: ApiResource[] } | undefined;
  let loading: Promise<ApiResource[]> | undefined;

  async function load(signal?: AbortSignal): Promise<ApiResource[]> {
    loading ??= client.discover(signal ? { signal } : {}).then(
      (list) => {
        cached = { at: now(), list };
        loading = undefined;
        return list;
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  }

  async function resources(signal?: AbortSignal): Promise<ApiResource[]> {
    if (cached && now() - cached.at < MAX_AGE_MS) return cached.list;
    return load(signal);
  }

  const find = (list: ApiResource[], apiVersion: string, kind: string) => {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
    // The owner may be referenced in a version that is not the preferred one: the group and kind decide.
    return list.find((r) => r.group === group && r.kind === kind && r.version === version) ?? list.find((r) => r.group === group && r.kind === kind);
  };

  return {
    resources,
    async forKind(apiVersion, kind, signal) {
      const hit = find(await resources(signal), apiVersion, kind);
      if (hit || (cached && now() - cached.at < 1000)) return hit;
      return find(await load(signal), apiVersion, kind);
    },
  };
}
