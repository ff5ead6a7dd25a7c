import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret } from 'kubernetes-types/core/v1';
import type { AgentCache } from '../types.ts';

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

export function cacheObjectSource(cache: AgentCache): ObjectSource {
  return {
    configMap: async (ns, name) => (await cache.get('ConfigMap', ns, name)) as ConfigMap | undefined,
    secret: async (ns, name) => (await cache.get('Secret', ns, name)) as Secret | undefined,
  };
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
