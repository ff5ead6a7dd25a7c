/**
 * Indexed Jobs (pkg/controller/job/indexed_job_utils.go): each pod carries its completion index
 * (annotation and label `batch.kubernetes.io/job-completion-index`, env JOB_COMPLETION_INDEX,
 * hostname `<job>-<index>`); the Job is complete when every index in [0, completions) has a
 * succeeded pod, reported as status.completedIndexes ("0-2,5").
 */
import type { KubeObject } from '../types.ts';
import { creationTime, isPodActive, podPhase } from './pods.ts';

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

/** The pod's completion index, undefined when missing or malformed. */
export function completionIndex(pod: KubeObject): number | undefined {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX] ?? pod.metadata.labels?.[COMPLETION_INDEX];
  return v !== undefined && /^(0|[1-9]\d*)$/.test(v) ? Number(v) : undefined;
}

/** "1,3-5" → {1,3,4,5}; ignores what does not parse or lies outside [0, completions). */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    for (let i = low; i <= high && i < completions; i++) out.add(i);
  }
  return out;
}

/** {0,1,2,5} → "0-2,5" (succeededIndexesToString). */
export function formatIndexes(indexes: ReadonlySet<number>): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export interface IndexedPlan {
  readonly succeeded: Set<number>;
  /** Active pods to delete: duplicates of an index, indexes already done, malformed or out of range. */
  readonly extra: KubeObject[];
  /** Indexes that need a pod now, lowest first, within parallelism. */
  readonly create: number[];
  /** Active pods that count (one per pending index). */
  readonly running: number;
}

export function planIndexes(pods: readonly KubeObject[], completions: number, parallelism: number, priorCompleted: string | undefined): IndexedPlan {
  const succeeded = parseIndexes(priorCompleted, completions);
  for (const p of pods) {
    const i = completionIndex(p);
    if (podPhase(p) === 'Succeeded' && i !== undefined && i < completions) succeeded.add(i);
  }
  const extra: KubeObject[] = [];
  const runningByIndex = new Map<number, KubeObject>();
  for (const p of [...pods].filter(isPodActive).sort((a, b) => creationTime(a) - creationTime(b))) {
    const i = completionIndex(p);
    if (i === undefined || i >= completions || succeeded.has(i) || runningByIndex.has(i)) extra.push(p);
    else runningByIndex.set(i, p);
  }
  const create: number[] = [];
  const room = Math.max(0, parallelism - runningByIndex.size);
  for (let i = 0; i < completions && create.length < room; i++) if (!succeeded.has(i) && !runningByIndex.has(i)) create.push(i);
  return { succeeded, extra, create, running: runningByIndex.size };
}
