/**
 * apiserver_storage_objects{resource}: how many objects of each resource are stored, as
 * kube-apiserver reports it (resource = "<plural>" or "<plural>.<group>"). kube-apiserver refreshes
 * its counts from etcd once a minute rather than per scrape; so does this: a scrape starts at most
 * one count per minute (one Store.count per stored resource, in the background) and reports the
 * last counts, so a 10,000-node cluster's scrape never waits for them except the first time.
 * Built-in resources only; custom resources are not counted.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Store } from '../../store/types.ts';
import { listPrefix, ResourceRegistry } from '../registry/index.ts';
import type { ResourceInfo } from '../registry/types.ts';

const REFRESH_MS = 60_000;

export function storageObjectMetrics(registry: Registry, current: () => Store | undefined, now: () => number = Date.now): void {
  // One label per stored resource: the versions of a resource share its storage.
  const stored = new Map<string, ResourceInfo>();
  for (const r of new ResourceRegistry().all()) if (!r.virtual && !stored.has(r.storage)) stored.set(r.storage, r);
  let counts = new Map<string, number>();
  let countedAt = -Infinity;
  let counting: Promise<void> | undefined;
  const refresh = (store: Store): Promise<void> => {
    counting ??= (async () => {
      const next = new Map<string, number>();
      for (const r of stored.values()) next.set(r.group ? `${r.plural}.${r.group}` : r.plural, await store.count(listPrefix(r, '')));
      counts = next;
      countedAt = now();
    })()
      // The store is away: keep the last counts; /readyz says why.
      .catch(() => {})
      .finally(() => {
        counting = undefined;
      });
    return counting;
  };
  new Gauge({
    name: 'apiserver_storage_objects',
    help: 'Number of stored objects at the time of last check split by kind (refreshed at most once a minute).',
    labelNames: ['resource'],
    registers: [registry],
    async collect() {
      const store = current();
      if (store && now() - countedAt >= REFRESH_MS) {
        const pending = refresh(store);
        if (counts.size === 0) await pending;
      }
      this.reset();
      for (const [resource, n] of counts) this.set({ resource }, n);
    },
  });
}
