/**
 * What a NodePool puts on its member nodes, as a pure reconciliation: the pool's labels,
 * annotations and taints are set on the node, and whatever the pool set before but no longer wants
 * — or everything, once the node left the pool or the pool is gone — is taken off again. What was
 * applied is remembered on the node itself (the annotation below, like OpenYurt's
 * nodepool.openyurt.io/previous-attributes), so nothing is lost across controller restarts and a
 * deleted pool needs no finalizer.
 */
import { jsonEqual } from '../../kinds/access.ts';
import type { Node, Taint } from '../core-types.ts';

export const POOL_ATTRIBUTES_ANNOTATION = 'apps.edgeos.io/pool-attributes';

/** What a pool gives its members (NodePool spec.labels, spec.annotations, spec.taints). */
export interface PoolAttributes {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
}

/** The keys a pool set on a node, as recorded in POOL_ATTRIBUTES_ANNOTATION. */
interface Applied {
  labels: string[];
  annotations: string[];
  /** "key:effect" */
  taints: string[];
}

export interface NodeAttributes {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly taints: Taint[];
}

const taintId = (t: Taint): string => `${t.key}:${t.effect}`;

function appliedOf(node: Node): Applied {
  const text = node.metadata.annotations?.[POOL_ATTRIBUTES_ANNOTATION];
  const empty: Applied = { labels: [], annotations: [], taints: [] };
  if (!text) return empty;
  try {
    const v = JSON.parse(text) as Partial<Applied>;
    const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
    return { labels: strings(v.labels), annotations: strings(v.annotations), taints: strings(v.taints) };
  } catch {
    // Someone edited it into something else: treat as nothing applied (the pool's keys are set again).
    return empty;
  }
}

function mergeMap(current: Record<string, string>, previous: readonly string[], wanted: Readonly<Record<string, string>>): Record<string, string> {
  const out = { ...current };
  for (const k of previous) if (!Object.hasOwn(wanted, k)) delete out[k];
  return Object.assign(out, wanted);
}

/**
 * The node's labels, annotations and taints with `pool`'s applied (undefined: the node is in no
 * existing pool, so what was applied goes), or undefined when nothing changes.
 */
export function reconcileNodeAttributes(node: Node, pool: PoolAttributes | undefined): NodeAttributes | undefined {
  const wanted: PoolAttributes = pool ?? { labels: {}, annotations: {}, taints: [] };
  const previous = appliedOf(node);
  const labels = mergeMap(node.metadata.labels ?? {}, previous.labels, wanted.labels);
  const annotations = mergeMap(node.metadata.annotations ?? {}, previous.annotations, wanted.annotations);
  const record: Applied = { labels: Object.keys(wanted.labels).sort(), annotations: Object.keys(wanted.annotations).sort(), taints: wanted.taints.map(taintId).sort() };
  if (record.labels.length + record.annotations.length + record.taints.length > 0) annotations[POOL_ATTRIBUTES_ANNOTATION] = JSON.stringify(record);
  else delete annotations[POOL_ATTRIBUTES_ANNOTATION];

  const current = node.spec?.taints ?? [];
  const wantedIds = new Set(record.taints);
  const taints = current.filter((t) => wantedIds.has(taintId(t)) || !previous.taints.includes(taintId(t)));
  for (const w of wanted.taints) {
    const at = taints.findIndex((t) => taintId(t) === taintId(w));
    const next: Taint = { key: w.key, effect: w.effect, ...(w.value ? { value: w.value } : {}) };
    if (at < 0) taints.push(next);
    else if ((taints[at]?.value ?? '') !== (w.value ?? '')) taints[at] = { ...next, ...(taints[at]?.timeAdded ? { timeAdded: taints[at].timeAdded } : {}) };
  }
  if (jsonEqual(labels, node.metadata.labels ?? {}) && jsonEqual(annotations, node.metadata.annotations ?? {}) && jsonEqual(taints, current)) return undefined;
  return { labels, annotations, taints };
}
