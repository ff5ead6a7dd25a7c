/**
 * The store's metrics, named for edgeos after the etcd ones apiserver exports:
 * edgeos_store_request_duration_seconds{operation,type} (etcd_request_duration_seconds: `type` is
 * the stored resource, the key's segment after /registry/), edgeos_store_request_errors_total
 * (etcd_request_errors_total; an expected refusal such as a compare-and-swap conflict counts too),
 * and, read from Store.stats() when scraped, the database size (etcd_db_total_size_in_bytes),
 * revisions, history rows and watchers.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Store, StoreStats } from '../../store/types.ts';
import { TextHistogram } from './text-histogram.ts';

// etcd_request_duration_seconds' buckets (k8s.io/apiserver/pkg/storage/etcd3/metrics).
const BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** "pods" for /registry/pods/default/web, "leases.coordination.k8s.io" for a Lease; "" for a prefix above the resources. */
export function storeType(key: string): string {
  if (!key.startsWith('/registry/')) return '';
  const end = key.indexOf('/', 10);
  return end === -1 ? '' : key.slice(10, end);
}

export interface StoreMetrics {
  instrument(store: Store): Store;
  /** edgeos_store_request_duration_seconds in the text format (text-histogram.ts). */
  renderDurations(): string;
}

export function storeMetrics(registry: Registry, current: () => Store | undefined): StoreMetrics {
  const duration = new TextHistogram({
    name: 'edgeos_store_request_duration_seconds',
    help: 'Store request latency in seconds for each operation and object type.',
    labelNames: ['operation', 'type'],
    buckets: BUCKETS,
  });
  const errors = new Counter({
    name: 'edgeos_store_request_errors_total',
    help: 'Store requests that failed (including conflicts and not-found), for each operation and object type.',
    labelNames: ['operation', 'type'],
    registers: [registry],
  });

  // One Store.stats() per scrape, shared by the gauges below (the registry reads them concurrently).
  let pending: Promise<StoreStats | undefined> | undefined;
  const stats = (): Promise<StoreStats | undefined> => {
    const store = current();
    if (!store) return Promise.resolve(undefined);
    pending ??= store.stats().then(
      (s) => s,
      // The store is away (PostgreSQL restarting): the gauges keep their last values; /readyz says why.
      () => undefined,
    ).finally(() => {
      pending = undefined;
    });
    return pending;
  };
  const fromStats = (name: string, help: string, read: (s: StoreStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await stats();
        if (s) this.set(read(s));
      },
    });
  fromStats('edgeos_store_db_total_size_in_bytes', 'Size of the store database in bytes, including its write-ahead log.', (s) => s.dbBytes + s.walBytes);
  fromStats('edgeos_store_current_revision', 'The latest committed revision (resourceVersion).', (s) => s.currentRevision);
  fromStats('edgeos_store_compact_revision', 'Revisions at or below this one have been compacted.', (s) => s.compactRevision);
  fromStats('edgeos_store_history_rows', 'Rows of history kept (all revisions of all keys not yet compacted).', (s) => s.rows);
  fromStats('edgeos_store_watchers', 'Open watches on the store.', (s) => s.watchers);

  function timed<T>(operation: string, type: string, run: () => Promise<T>): Promise<T> {
    const end = duration.startTimer([operation, type]);
    return run().then(
      (v) => {
        end();
        return v;
      },
      (err: unknown) => {
        end();
        errors.inc({ operation, type });
        throw err;
      },
    );
  }

  return {
    renderDurations: () => duration.render(),
    instrument: (s) => ({
      currentRevision: () => timed('currentRevision', '', () => s.currentRevision()),
      compactRevision: () => s.compactRevision(),
      get: (key, opts) => timed('get', storeType(key), () => s.get(key, opts)),
      list: (prefix, opts) => timed('list', storeType(prefix), () => s.list(prefix, opts)),
      count: (prefix) => timed('count', storeType(prefix), () => s.count(prefix)),
      create: (key, value, opts) => timed('create', storeType(key), () => s.create(key, value, opts)),
      update: (key, value, opts) => timed('update', storeType(key), () => s.update(key, value, opts)),
      delete: (key, opts) => timed('delete', storeType(key), () => s.delete(key, opts)),
      txn: (ops) => timed('txn', storeType(ops[0]?.key ?? ''), () => s.txn(ops)),
      watch: (prefix, opts, onMessage) => s.watch(prefix, opts, onMessage),
      compact: (revision) => timed('compact', '', () => s.compact(revision)),
      snapshot: (path) => s.snapshot(path),
      stats: () => s.stats(),
      unavailable: () => s.unavailable(),
      close: () => s.close(),
    }),
  };
}
