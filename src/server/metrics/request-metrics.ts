/**
 * apiserver's request metrics, under its names and labels, so the dashboards and alerts people
 * already run against Kubernetes (kube-prometheus' apiserver SLOs) read edgeos too:
 * apiserver_request_total, apiserver_request_duration_seconds (apiserver's buckets; no `code`
 * label, as upstream) and apiserver_current_inflight_requests.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { RequestObservation } from '../api/types.ts';
import { TextHistogram } from './text-histogram.ts';

// k8s.io/apiserver/pkg/endpoints/metrics requestLatencies.
const DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
const LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;

export interface RequestMetrics {
  observe(r: RequestObservation): void;
  inflight(kind: 'readOnly' | 'mutating', delta: 1 | -1): void;
  /** apiserver_request_duration_seconds in the text format (text-histogram.ts: prom-client took most of a scrape for it). */
  renderDurations(): string;
}

export function requestMetrics(registry: Registry): RequestMetrics {
  const total = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: [...LABELS, 'code'],
    registers: [registry],
  });
  const duration = new TextHistogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: LABELS,
    buckets: DURATION_BUCKETS,
  });
  const inflight = new Gauge({
    name: 'apiserver_current_inflight_requests',
    help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
    labelNames: ['request_kind'],
    registers: [registry],
  });
  inflight.set({ request_kind: 'readOnly' }, 0);
  inflight.set({ request_kind: 'mutating' }, 0);
  return {
    observe(r) {
      const labels = {
        verb: r.verb,
        dry_run: r.dryRun ? 'All' : '',
        group: r.group,
        version: r.version,
        resource: r.resource,
        subresource: r.subresource,
        scope: r.scope,
        component: 'apiserver',
      };
      duration.observe([labels.verb, labels.dry_run, labels.group, labels.version, labels.resource, labels.subresource, labels.scope, labels.component], r.seconds);
      total.inc({ ...labels, code: String(r.code) });
    },
    inflight: (kind, delta) => inflight.inc({ request_kind: kind }, delta),
    renderDurations: () => duration.render(),
  };
}
