/**
 * edgeos_cache_objects{cache}: the server's in-memory caches and how many objects each holds, read
 * when scraped (a size per cache, no scan): the controllers' informer caches, one per resource
 * ("controllers/pods", "controllers/nodes"…, as kube-controller-manager's informers hold them), and
 * the console's fleet view ("console/fleet-nodes", "console/fleet-leases", "console/fleet-pods").
 * These are what grows with the fleet in the server's memory, beside the store.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export function cacheMetrics(registry: Registry, caches: () => Iterable<readonly [string, number]>): void {
  new Gauge({
    name: 'edgeos_cache_objects',
    help: "Objects held in each of the server's in-memory caches (controllers/<resource>: the controllers' informers; console/*: the console's fleet view).",
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cache, n] of caches()) this.set({ cache }, n);
    },
  });
}
