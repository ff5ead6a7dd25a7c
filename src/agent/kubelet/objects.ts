import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret } from 'kubernetes-types/core/v1';
import type { AgentCache, CachedKind, KubeJson } from '../types.ts';

/** ConfigMaps and Secrets as the kubelet reads them for env and volumes: from the agent cache. */
export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
}

/** Claims and the volumes bound to them, as the kubelet reads them to mount: from the agent cache. */
export interface ClaimSource {
  claim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  volume(name: string): Promise<PersistentVolume | undefined>;
}

export function cacheClaimSource(cache: AgentCache): ClaimSource {
  return {
    claim: async (ns, name) => (await cache.get('PersistentVolumeClaim', ns, name)) as PersistentVolumeClaim | undefined,
    volume: async (name) => (await cache.get('PersistentVolume', '', name)) as PersistentVolume | undefined,
  };
}

/**
 * ConfigMaps and Secrets from the agent cache, each kept in memory once read until the cache
 * commits a change of it (`changed`, called from the kubelet's cache subscription, which hears
 * every commit): every pass of every pod that mounts or references one — the kube-root-ca.crt of
 * each pod's service account volume — would otherwise read and parse it from SQLite again. What
 * it returns is shared: callers only read it.
 */
export class CachedObjectSource implements ObjectSource {
  readonly #cache: AgentCache;
  readonly #kept = new Map<string, Promise<KubeJson | undefined>>();

  constructor(cache: AgentCache) {
    this.#cache = cache;
  }

  async configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return (await this.#get('ConfigMap', namespace, name)) as ConfigMap | undefined;
  }

  async secret(namespace: string, name: string): Promise<Secret | undefined> {
    return (await this.#get('Secret', namespace, name)) as Secret | undefined;
  }

  /** The cache committed a change of this object: the next read goes to the cache. */
  changed(kind: CachedKind, namespace: string, name: string): void {
    this.#kept.delete(`${kind}/${namespace}/${name}`);
  }

  #get(kind: CachedKind, namespace: string, name: string): Promise<KubeJson | undefined> {
    const key = `${kind}/${namespace}/${name}`;
    let read = this.#kept.get(key);
    if (!read) {
      const r = this.#cache.get(kind, namespace, name);
      read = r;
      this.#kept.set(key, r);
      r.catch(() => {
        if (this.#kept.get(key) === r) this.#kept.delete(key);
      });
    }
    return read;
  }
}

/** A ConfigMap's entries as bytes: data (UTF-8) and binaryData (base64). */
export function configMapEntries(cm: ConfigMap): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

/** A Secret's entries as bytes: data is base64 on the wire; stringData if the server left it. */
export function secretEntries(s: Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(s.stringData ?? {})) out.set(k, Buffer.from(v));
  return out;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}
