// Scoring among feasible nodes, after kube-scheduler's default score plugins and weights:
// TaintToleration (3, fewer intolerable PreferNoSchedule taints), PodTopologySpread's default
// hostname spreading of one controller's pods (2), NodeResourcesFit LeastAllocated (1).
import type { Node } from '../core-types.ts';
import { untoleratedTaint } from '../taints.ts';
import type { Toleration } from '../core-types.ts';
import { allocatableOf } from './filters.ts';
import type { PodDemand } from './filters.ts';
import type { NodeUsage } from './node-usage.ts';

// Pods without requests still count as using something (schedutil.DefaultMilliCPURequest / DefaultMemoryRequest).
const DEFAULT_MILLI_CPU = 100;
const DEFAULT_MEMORY = 200 * 1024 * 1024;

export interface Candidate {
  readonly node: Node;
  readonly usage: NodeUsage;
}

function preferNoScheduleCount(node: Node, tolerations: readonly Toleration[] | undefined): number {
  let n = 0;
  for (const t of node.spec?.taints ?? []) if (t.effect === 'PreferNoSchedule' && untoleratedTaint([t], tolerations, ['PreferNoSchedule'])) n++;
  return n;
}

function leastAllocated(d: PodDemand, c: Candidate): number {
  const a = allocatableOf(c.node);
  const cpu = (d.requests.cpu || DEFAULT_MILLI_CPU) + c.usage.cpu;
  const mem = (d.requests.memory || DEFAULT_MEMORY) + c.usage.memory;
  const part = (used: number, cap: number) => (cap <= 0 ? 0 : Math.max(0, ((cap - used) * 100) / cap));
  return (part(cpu, a.cpu) + part(mem, a.memory)) / 2;
}

/** The best candidate; ties are broken at random, as kube-scheduler's selectHost does. */
export function pickNode(d: PodDemand, owner: string | undefined, candidates: readonly Candidate[]): Candidate {
  const taints = candidates.map((c) => preferNoScheduleCount(c.node, d.pod.spec?.tolerations));
  const maxTaints = Math.max(0, ...taints);
  const spread = candidates.map((c) => (owner ? (c.usage.owners.get(owner) ?? 0) : 0));
  const maxSpread = Math.max(0, ...spread);
  let best: Candidate | undefined;
  let bestScore = -Infinity;
  let ties = 0;
  candidates.forEach((c, i) => {
    const taintScore = maxTaints === 0 ? 100 : (100 * (maxTaints - (taints[i] as number))) / maxTaints;
    const spreadScore = maxSpread === 0 ? 100 : (100 * (maxSpread - (spread[i] as number))) / maxSpread;
    const score = 3 * taintScore + 2 * spreadScore + leastAllocated(d, c);
    if (score > bestScore + 1e-9) {
      best = c;
      bestScore = score;
      ties = 1;
    } else if (Math.abs(score - bestScore) <= 1e-9 && Math.random() * ++ties < 1) {
      best = c;
    }
  });
  return best as Candidate;
}
