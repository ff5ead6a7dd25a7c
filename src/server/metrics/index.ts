/**
 * The server's Prometheus metrics (docs/metrics.md), with prom-client: apiserver's request metrics
 * (request-metrics.ts), the store's (store-metrics.ts), the edge's (link-metrics.ts) and the
 * process' (process-metrics.ts). Each server has its own Registry, so servers started in one
 * process (tests) never share counters.
 */
import { Counter, Registry } from 'prom-client';
import { cacheMetrics } from './cache-metrics.ts';
import { linkMetrics, renderNodeFamilies } from './link-metrics.ts';
import { processRegistry } from './process-metrics.ts';
import { requestMetrics } from './request-metrics.ts';
import { storageObjectMetrics } from './storage-objects.ts';
import { storeMetrics } from './store-metrics.ts';
import type { ServerMetrics, ServerMetricsOptions } from './types.ts';

export type { ServerMetrics, ServerMetricsOptions } from './types.ts';

export function createServerMetrics(o: ServerMetricsOptions): ServerMetrics {
  const registry = new Registry();
  const requests = requestMetrics(registry);
  const store = storeMetrics(registry, o.store);
  linkMetrics(registry, o.links);
  cacheMetrics(registry, o.caches ?? (() => []));
  storageObjectMetrics(registry, o.store);
  // A full handshake costs the server an ECDSA signature and a key exchange; a resumed one (a
  // session ticket: docs/link.md) neither. In a join or reconnect storm the ratio says what the
  // handshakes cost (bench/fleet reads it).
  const handshakes = new Counter({ name: 'edgeos_tls_handshakes_total', help: 'TLS handshakes the HTTPS listener finished, by whether the session was resumed.', labelNames: ['resumed'], registers: [registry] });
  return {
    tlsHandshake: (resumed) => handshakes.inc({ resumed: resumed ? 'true' : 'false' }),
    observe: (r) => requests.observe(r),
    inflight: (kind, delta) => requests.inflight(kind, delta),
    instrumentStore: (s) => store.instrument(s),
    async scrape() {
      const [processText, serverText] = await Promise.all([processRegistry().metrics(), registry.metrics()]);
      return { contentType: registry.contentType, body: processText + serverText + requests.renderDurations() + store.renderDurations() + renderNodeFamilies(o.links()) };
    },
  };
}
