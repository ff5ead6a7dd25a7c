// kube's taint eviction (NoExecuteTaintManager): a pod on a node with NoExecute taints is deleted
// at once when some taint is not tolerated; otherwise after the smallest tolerationSeconds among
// the tolerations it uses (getMinTolerationTime), counted from when the taints were added. Used
// tolerations without tolerationSeconds never expire.
import type { Pod, Taint } from '../core-types.ts';
import { tolerates } from '../taints.ts';

/** Milliseconds from `now` until `pod` must go; undefined: it may stay. 0: now. */
export function evictionDelay(pod: Pod, taints: readonly Taint[], now: number): number | undefined {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return undefined;
  const tolerations = pod.spec?.tolerations ?? [];
  if (!noExecute.every((taint) => tolerations.some((t) => tolerates(t, taint)))) return 0;
  const used = tolerations.filter((t) => noExecute.some((taint) => tolerates(t, taint)));
  const seconds = used.map((t) => t.tolerationSeconds).filter((s): s is number => typeof s === 'number');
  if (seconds.length === 0) return undefined;
  const min = Math.min(...seconds);
  if (min <= 0) return 0;
  const added = Math.min(...noExecute.map((t) => (t.timeAdded ? Date.parse(t.timeAdded) : now)));
  return Math.max(0, added + min * 1000 - now);
}
