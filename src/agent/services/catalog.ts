/**
 * The cluster's Services and EndpointSlices as the AgentCache holds them, in memory once for the
 * datapath and the DNS server both (the agent's memory is budgeted: one copy, not two). Loaded
 * from the cache at start — the server may be unreachable — then kept current from the cache's
 * change notifications; listeners hear once per burst of changes (a link message).
 */
import type { AgentCache, CacheChange } from '../types.ts';
import type { EndpointSliceJson, ServiceJson } from './plan.ts';

export interface ServiceCatalog {
  readonly services: ReadonlyMap<string, ServiceJson>;
  readonly slices: ReadonlyMap<string, EndpointSliceJson>;
  /** Loads what the cache holds and follows its changes. */
  start(): Promise<void>;
  /** `listener` runs after a burst of changes; returns an unsubscribe function. */
  subscribe(listener: () => void): () => void;
  stop(): void;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export function createServiceCatalog(cache: AgentCache): ServiceCatalog {
  const services = new Map<string, ServiceJson>();
  const slices = new Map<string, EndpointSliceJson>();
  const listeners = new Set<() => void>();
  let unsubscribe: (() => void) | undefined;
  let pending = false;

  function notify(): void {
    if (pending) return;
    pending = true;
    // The cache notifies per object; one link message holds many.
    setImmediate(() => {
      pending = false;
      for (const l of listeners) l();
    });
  }

  function onChange(c: CacheChange): void {
    const target = c.kind === 'Service' ? services : c.kind === 'EndpointSlice' ? slices : undefined;
    if (!target) return;
    if (c.object) target.set(`${c.namespace}/${c.name}`, c.object);
    else target.delete(`${c.namespace}/${c.name}`);
    notify();
  }

  return {
    services,
    slices,
    async start() {
      unsubscribe = cache.subscribe(onChange);
      for (const s of await cache.list('Service')) services.set(keyOf(s as ServiceJson), s as ServiceJson);
      for (const s of await cache.list('EndpointSlice')) slices.set(keyOf(s as EndpointSliceJson), s as EndpointSliceJson);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      unsubscribe?.();
      listeners.clear();
    },
  };
}
