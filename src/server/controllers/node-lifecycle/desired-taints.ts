// The taints the controller owns on a node (TaintNodesByCondition and the NoExecute taints of
// taint-based eviction): NoSchedule taints follow the conditions and spec.unschedulable; the
// NoExecute not-ready/unreachable taint is added only for nodes that opted into eviction.
import type { Node, Taint } from '../core-types.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from '../taints.ts';
import { readyCondition } from './conditions.ts';

const PRESSURE_TAINTS: Record<string, string> = {
  MemoryPressure: 'node.kubernetes.io/memory-pressure',
  DiskPressure: 'node.kubernetes.io/disk-pressure',
  PIDPressure: 'node.kubernetes.io/pid-pressure',
  NetworkUnavailable: 'node.kubernetes.io/network-unavailable',
};

/** Every key this controller manages; taints with other keys are the user's and never touched. */
export const MANAGED_KEYS = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, ...Object.values(PRESSURE_TAINTS)]);

export function noScheduleTaints(node: Node): Taint[] {
  const out: Taint[] = [];
  const ready = readyCondition(node);
  if (ready?.status === 'False') out.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' });
  if (ready?.status === 'Unknown') out.push({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' });
  for (const c of node.status?.conditions ?? []) {
    const key = PRESSURE_TAINTS[c.type];
    if (key && c.status === 'True') out.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return out;
}

/** The NoExecute taint for a node that is not ready (False) or unreachable (Unknown). */
export function noExecuteTaint(node: Node): Taint | undefined {
  const ready = readyCondition(node);
  if (ready?.status === 'False') return { key: TAINT_NOT_READY, effect: 'NoExecute' };
  if (ready?.status === 'Unknown') return { key: TAINT_UNREACHABLE, effect: 'NoExecute' };
  return undefined;
}

/**
 * The node's taints with the managed ones replaced by `wanted`, or undefined when nothing changes.
 * A wanted taint already present keeps its timeAdded.
 */
export function reconcileTaints(current: readonly Taint[], wanted: readonly Taint[], now: string): Taint[] | undefined {
  const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
  const keep = current.filter((t) => !MANAGED_KEYS.has(t.key) || wanted.some((w) => same(w, t)));
  const add = wanted.filter((w) => !current.some((t) => same(w, t))).map((w) => (w.effect === 'NoExecute' ? { ...w, timeAdded: now } : w));
  if (add.length === 0 && keep.length === current.length) return undefined;
  return [...keep, ...add];
}
