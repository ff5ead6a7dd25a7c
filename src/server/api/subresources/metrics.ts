/**
 * metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics (kubectl top, §13), served like metrics-server
 * from the linked agents' usage, which the server asks for only now (src/server/link/node-stats.ts:
 * a sample younger than 10 s is reused, an agent gets 5 s to answer). A named read asks only the
 * node concerned (a pod's spec.nodeName); lists ask every linked node at once. Only pods and nodes
 * that exist in the API (same pod uid) are served, so `labelSelector` applies to their labels. A
 * node without a sample (offline, no runtime, too slow) is left out, like metrics-server: lists
 * lack it and named reads 404 — `kubectl top` then says "Metrics not available".
 */
import { InvalidInputError } from '../../../common/errors.ts';
import type { KubeObject } from '../../kinds/types.ts';
import type { NodeStatsSample } from '../../../common/node-stats.ts';
import type { ApiDeps, Call } from '../context.ts';
import { labelsOf } from '../../storage/objects.ts';
import { readCurrent } from '../../storage/read.ts';
import { writeJson } from '../respond.ts';
import { parseLabelSelector } from '../selectors/label-selector.ts';
import type { LabelSelector } from '../selectors/label-selector.ts';
import { badRequest, notFound } from '../../storage/status.ts';

const API_VERSION = 'metrics.k8s.io/v1beta1';

/** Nanocores as metrics-server's canonical quantity: "0", "2", "250m", "1500u", "1234567n". */
export function cpuQuantity(nanoCores: number): string {
  const n = Math.max(0, Math.round(nanoCores));
  if (n === 0) return '0';
  if (n % 1e9 === 0) return String(n / 1e9);
  if (n % 1e6 === 0) return `${n / 1e6}m`;
  if (n % 1e3 === 0) return `${n / 1e3}u`;
  return `${n}n`;
}

/** Bytes as a canonical binary-SI quantity: "0", "12345", "12Ki", "512Mi". */
export function memoryQuantity(bytes: number): string {
  let n = Math.max(0, Math.round(bytes));
  if (n === 0) return '0';
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  while (i < suffixes.length - 1 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

/** A Go time.Duration string (metav1.Duration), as metrics-server writes `window`: "15s", "14.987s", "1m0s". */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const sMs = total % 60_000;
  const secs = sMs % 1000 === 0 ? String(sMs / 1000) : (sMs / 1000).toFixed(3).replace(/0+$/, '');
  if (h > 0) return `${h}h${m}m${secs}s`;
  if (m > 0) return `${m}m${secs}s`;
  return `${secs}s`;
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export interface MetricsItem {
  readonly name: string;
  readonly namespace?: string;
  readonly object: Record<string, unknown>;
}

/** The PodMetrics of one reported pod (the API pod supplies the labels). */
export function podMetrics(sample: NodeStatsSample, pod: NodeStatsSample['pods'][number], labels: Record<string, string>, now: Date): Record<string, unknown> {
  return {
    kind: 'PodMetrics',
    apiVersion: API_VERSION,
    metadata: { name: pod.name, namespace: pod.namespace, creationTimestamp: rfc3339(now.getTime()), ...(Object.keys(labels).length ? { labels } : {}) },
    timestamp: rfc3339(sample.timestamp),
    window: goDuration(sample.windowMs),
    containers: pod.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) } })),
  };
}

export function nodeMetrics(sample: NodeStatsSample, labels: Record<string, string>, now: Date): Record<string, unknown> {
  return {
    kind: 'NodeMetrics',
    apiVersion: API_VERSION,
    metadata: { name: sample.nodeName, creationTimestamp: rfc3339(now.getTime()), ...(Object.keys(labels).length ? { labels } : {}) },
    timestamp: rfc3339(sample.timestamp),
    window: goDuration(sample.windowMs),
    usage: { cpu: cpuQuantity(sample.node.cpuNanoCores), memory: memoryQuantity(sample.node.memoryBytes) },
  };
}

function core(d: ApiDeps, plural: 'pods' | 'nodes') {
  const r = d.registry.resolve('', 'v1', plural);
  if (!r) throw new Error(`built-in resource ${plural} missing from the registry`);
  return r;
}

const nodeNameOf = (pod: KubeObject | undefined): string => {
  const n = (pod?.spec as { nodeName?: unknown } | undefined)?.nodeName;
  return typeof n === 'string' ? n : '';
};

/** The samples to serve: of one node (absent = none), or of every linked node. */
async function samples(d: ApiDeps, node?: string): Promise<NodeStatsSample[]> {
  if (!d.nodeStats) return [];
  if (node === undefined) return d.nodeStats.all();
  const s = node ? await d.nodeStats.get(node) : undefined;
  return s ? [s] : [];
}

async function podItems(d: ApiDeps, namespace: string, name: string, selector: LabelSelector): Promise<Record<string, unknown>[]> {
  const pods = core(d, 'pods');
  const now = d.now();
  const out: Record<string, unknown>[] = [];
  // A named pod: only its node is asked (and nobody when the pod does not exist or is unscheduled).
  const node = name ? nodeNameOf((await readCurrent(d.store, pods, namespace, name))?.obj) : undefined;
  for (const sample of await samples(d, node)) {
    for (const p of sample.pods) {
      if ((namespace && p.namespace !== namespace) || (name && p.name !== name)) continue;
      const cur = await readCurrent(d.store, pods, p.namespace, p.name);
      const obj: KubeObject | undefined = cur?.obj;
      // A pod that was deleted (or replaced under the same name) since the sample is not reported.
      if (!obj || (p.uid && obj.metadata?.uid !== p.uid)) continue;
      const labels = labelsOf(obj);
      if (!selector.matches(labels)) continue;
      out.push(podMetrics(sample, p, labels, now));
    }
  }
  return out.sort((a, b) => key(a).localeCompare(key(b)));
}

async function nodeItems(d: ApiDeps, name: string, selector: LabelSelector): Promise<Record<string, unknown>[]> {
  const nodes = core(d, 'nodes');
  const now = d.now();
  const out: Record<string, unknown>[] = [];
  for (const sample of await samples(d, name || undefined)) {
    if (name && sample.nodeName !== name) continue;
    const cur = await readCurrent(d.store, nodes, '', sample.nodeName);
    if (!cur) continue;
    const labels = labelsOf(cur.obj);
    if (!selector.matches(labels)) continue;
    out.push(nodeMetrics(sample, labels, now));
  }
  return out;
}

function key(o: Record<string, unknown>): string {
  const m = o.metadata as { namespace?: string; name: string };
  return `${m.namespace ?? ''}/${m.name}`;
}

export async function serveMetrics(d: ApiDeps, c: Call, of: 'pods' | 'nodes'): Promise<void> {
  const r = c.resource;
  const isPods = of === 'pods';
  const plural = isPods ? 'podmetrics' : 'nodemetrics';
  let selector: LabelSelector;
  try {
    // A named read ignores selectors, like apiserver's get.
    selector = parseLabelSelector(c.info.verb === 'get' ? '' : (c.query.get('labelSelector') ?? ''));
  } catch (e) {
    if (e instanceof InvalidInputError) throw badRequest(e.message);
    throw e;
  }
  const namespace = r.namespaced ? c.info.namespace : '';
  if (c.info.verb === 'get') {
    const items = isPods ? await podItems(d, namespace, c.info.name, selector) : await nodeItems(d, c.info.name, selector);
    const item = items[0];
    if (!item) throw notFound({ group: 'metrics.k8s.io', plural }, r.namespaced ? `${namespace}/${c.info.name}` : c.info.name);
    writeJson(c.res, 200, item, { warnings: c.warnings });
    return;
  }
  const items = isPods ? await podItems(d, namespace, '', selector) : await nodeItems(d, '', selector);
  const revision = await d.store.currentRevision();
  writeJson(c.res, 200, { kind: r.listKind, apiVersion: API_VERSION, metadata: { resourceVersion: String(revision) }, items }, { warnings: c.warnings });
}
