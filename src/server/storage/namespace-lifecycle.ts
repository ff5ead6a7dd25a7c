/**
 * The NamespaceLifecycle admission plugin: objects can only be created in a namespace that exists
 * and is not being deleted. The API's creates read the namespace from its watch-fed cache; the
 * link's Event batch (link/event-batch.ts) from the store.
 */
import type { KeyValue } from '../../store/types.ts';
import type { ResourceRegistry } from '../registry/index.ts';
import { decodeStored } from './objects.ts';
import { ApiError, notFound } from './status.ts';
import type { ResourceName } from './status.ts';

const NAMESPACES = { group: '', plural: 'namespaces' } as const;

/** What the check reads: the registry, and where Namespaces are read from (the API's watch-fed cache, or the store). */
export interface NamespaceSource {
  readonly registry: ResourceRegistry;
  readonly cache: { get(key: string): Promise<KeyValue | undefined> };
}

export async function requireActiveNamespace(d: NamespaceSource, namespace: string, r: ResourceName, name: string): Promise<void> {
  const nsResource = d.registry.resolve('', 'v1', 'namespaces');
  if (!nsResource) return;
  // From the watch-fed cache (storage/watch-cache.ts), as NamespaceLifecycle reads an informer.
  const kv = await d.cache.get(`/registry/${nsResource.storage}/${namespace}`);
  if (!kv) throw notFound(NAMESPACES, namespace);
  const ns = decodeStored(nsResource, kv);
  const terminating = (ns.status as { phase?: string } | undefined)?.phase === 'Terminating' || Boolean(ns.metadata?.deletionTimestamp);
  if (terminating) {
    const what = r.group === '' ? r.plural : `${r.plural}.${r.group}`;
    throw new ApiError(
      403,
      'Forbidden',
      `${what} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      {
        name,
        ...(r.group === '' ? {} : { group: r.group }),
        kind: r.plural,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      },
    );
  }
}
