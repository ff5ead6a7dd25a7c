/**
 * metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics (kubectl top, §13). Served from what agents
 * report; no agent reports usage yet, so lists are empty and named reads are 404 — `kubectl top`
 * then says "Metrics not available" instead of "Metrics API not available".
 */
import type { ApiDeps, Call } from '../context.ts';
import { writeJson } from '../respond.ts';
import { notFound } from '../status.ts';

export async function serveMetrics(d: ApiDeps, c: Call): Promise<void> {
  const r = c.resource;
  const plural = r.kind === 'PodMetrics' ? 'podmetrics' : 'nodemetrics';
  if (c.info.verb === 'get') {
    throw notFound({ group: 'metrics.k8s.io', plural }, r.namespaced ? `${c.info.namespace}/${c.info.name}` : c.info.name);
  }
  const revision = await d.store.currentRevision();
  writeJson(c.res, 200, { kind: r.listKind, apiVersion: 'metrics.k8s.io/v1beta1', metadata: { resourceVersion: String(revision) }, items: [] }, { warnings: c.warnings });
}
