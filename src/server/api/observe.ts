/**
 * apiserver's request metrics for one request (k8s.io/apiserver/pkg/endpoints/metrics): the verb
 * as apiserver reports it (LIST, WATCH, APPLY, CONNECT…), its scope, and the resource labels —
 * only for resources this server serves, so that whatever paths callers invent, the label values
 * stay a bounded set. Recorded when the response closes, so a watch counts once, when it ends.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiMetrics, RequestObservation } from './types.ts';
import type { RequestInfo } from './request-info.ts';
import type { ResourceRegistry } from '../registry/index.ts';

const VERBS: Record<string, string> = {
  get: 'GET',
  list: 'LIST',
  watch: 'WATCH',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETECOLLECTION',
  discovery: 'GET',
};

type Labels = Omit<RequestObservation, 'code' | 'seconds'>;

export function requestLabels(registry: ResourceRegistry, req: IncomingMessage, url: URL, info: RequestInfo, upgrade: boolean): Labels {
  const method = (req.method ?? 'GET').toUpperCase();
  const dryRun = url.searchParams.getAll('dryRun').includes('All');
  const none = { group: '', version: '', resource: '', subresource: '' };
  if (info.kind !== 'resource' || info.verb === 'discovery') return { verb: method, dryRun, ...none, scope: '' };
  const served = info.resource ? registry.resolve(info.group, info.version, info.resource) : undefined;
  const base = info.subresource.split('/')[0] ?? '';
  const sub = served && base ? served.subresources.find((s) => s.name === base) : undefined;
  let verb = VERBS[info.verb] ?? method;
  if (verb === 'PATCH' && req.headers['content-type']?.startsWith('application/apply-patch')) verb = 'APPLY';
  // apiserver reports connect-style subresources (exec, attach, portforward, proxy) as CONNECT.
  if (upgrade || sub?.handler === 'proxy') verb = 'CONNECT';
  const scope = info.name !== '' || info.verb === 'create' ? 'resource' : info.namespace !== '' ? 'namespace' : 'cluster';
  if (!served) return { verb, dryRun, ...none, scope };
  return { verb, dryRun, group: info.group, version: info.version, resource: info.resource, subresource: sub ? base : '', scope };
}

/** Starts measuring `req`; the observation is recorded when `res` closes. */
export function observeRequest(metrics: ApiMetrics, labels: Labels, res: ServerResponse): void {
  const started = performance.now();
  // Watches and CONNECTs are long-running: apiserver leaves them out of the in-flight gauge.
  const kind = labels.verb === 'WATCH' || labels.verb === 'CONNECT' ? undefined : labels.verb === 'GET' || labels.verb === 'LIST' ? 'readOnly' : 'mutating';
  if (kind) metrics.inflight(kind, 1);
  res.once('close', () => {
    if (kind) metrics.inflight(kind, -1);
    metrics.observe({ ...labels, code: res.statusCode, seconds: (performance.now() - started) / 1000 });
  });
}
