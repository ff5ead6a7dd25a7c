/**
 * The contract of the server's metrics (docs/metrics.md): one prom-client Registry per server,
 * exposed at /metrics through the API (authorized like apiserver's, as the non-resource URL
 * "/metrics"). What is measured comes from the parts that know it: the API's requests
 * (ApiMetrics), the store (an instrumented Store), the agents' links (LinkTraffic).
 */
import type { Store } from '../../store/types.ts';
import type { ApiMetrics } from '../api/types.ts';
import type { LinkTraffic } from '../link/types.ts';

export interface ServerMetricsOptions {
  /** Read at scrape time: the store's revision, size and watchers (absent before the store opens). */
  readonly store: () => Store | undefined;
  /** Read at scrape time: the agents' links (absent before the link server starts). */
  readonly links: () => LinkTraffic | undefined;
  /** Read at scrape time: the server's in-memory caches and how many objects each holds now (edgeos_cache_objects). */
  readonly caches?: () => Iterable<readonly [cache: string, objects: number]>;
}

export interface ServerMetrics extends ApiMetrics {
  /** `store`, timing every operation into edgeos_store_request_duration_seconds. */
  instrumentStore(store: Store): Store;
  /** A TLS handshake of the listener finished: a full one, or a resumed session (edgeos_tls_handshakes_total). */
  tlsHandshake(resumed: boolean): void;
}
