/**
 * A PoolSet's conditions from what its controller observed (pure):
 *  - Ready: every targeted pool's workload runs the current template and has all replicas ready;
 *  - Progressing: RolloutPaused (Unknown), ProgressDeadlineExceeded (False: the rollout is halted),
 *    PoolsUpdating or RolloutComplete (True);
 *  - PoolFound: False naming the pools spec.pools gives that have no NodePool (OpenYurt's name);
 *  - WorkloadFailure: True while a pool's workload cannot be rendered, created or updated.
 * A condition keeps its lastTransitionTime while its status stays, as Kubernetes conditions do.
 */
import { rfc3339 } from '../workloads/timestamps.ts';

export interface PoolSetCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

export interface PoolSetFacts {
  /** Pools targeted (and renderable). */
  readonly targets: number;
  /** Names in spec.pools without a NodePool. */
  readonly missing: readonly string[];
  /** Pools whose workload is not ready or not updated. */
  readonly notReady: readonly string[];
  readonly failures: readonly string[];
  readonly paused: boolean;
  readonly halted: boolean;
  readonly overdue: readonly string[];
  readonly updating: readonly string[];
  readonly pending: readonly string[];
  readonly done: number;
  readonly revision: string;
  readonly progressDeadlineSeconds: number;
}

/** "a, b, c and 4 more". */
export function someOf(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

function progressing(f: PoolSetFacts): Omit<PoolSetCondition, 'type'> {
  if (f.paused) return { status: 'Unknown', reason: 'RolloutPaused', message: 'PoolSet is paused: no pool starts updating' };
  if (f.halted) {
    const who = f.overdue.length ? `pool ${someOf(f.overdue)} was not ready ${f.progressDeadlineSeconds}s after its update` : 'a pool missed its progress deadline';
    return { status: 'False', reason: 'ProgressDeadlineExceeded', message: `${who}: the rollout is halted (${f.pending.length} pools waiting) until the template changes or the PoolSet is paused and resumed` };
  }
  if (f.updating.length + f.pending.length > 0)
    return { status: 'True', reason: 'PoolsUpdating', message: `${f.done} of ${f.targets} pools updated; updating ${someOf(f.updating) || 'none'}; ${f.pending.length} waiting` };
  return { status: 'True', reason: 'RolloutComplete', message: `all ${f.targets} pools run revision ${f.revision}` };
}

function desired(f: PoolSetFacts): PoolSetCondition[] {
  const out: PoolSetCondition[] = [];
  if (f.targets === 0) out.push({ type: 'Ready', status: 'False', reason: 'NoPools', message: 'no node pool is targeted' });
  else if (f.notReady.length === 0) out.push({ type: 'Ready', status: 'True', reason: 'PoolsReady', message: `all ${f.targets} pools are ready and updated` });
  else out.push({ type: 'Ready', status: 'False', reason: 'PoolsNotReady', message: `pools not ready or not updated: ${someOf(f.notReady)}` });
  out.push({ type: 'Progressing', ...progressing(f) });
  out.push(f.missing.length === 0
    ? { type: 'PoolFound', status: 'True', reason: 'PoolsFound', message: 'every pool named in spec.pools exists' }
    : { type: 'PoolFound', status: 'False', reason: 'PoolNotFound', message: `no NodePool named ${someOf(f.missing)}` });
  if (f.failures.length) out.push({ type: 'WorkloadFailure', status: 'True', reason: 'FailedWorkload', message: someOf(f.failures, 3) });
  return out;
}

export function conditionsFor(current: readonly PoolSetCondition[], f: PoolSetFacts, now: number): PoolSetCondition[] {
  const t = rfc3339(now);
  return desired(f).map((c) => {
    const before = current.find((x) => x.type === c.type);
    if (before && before.status === c.status && before.reason === c.reason && before.message === c.message) return before;
    const since = before && before.status === c.status ? before.lastTransitionTime ?? t : t;
    return { ...c, lastTransitionTime: since, lastUpdateTime: t };
  });
}
