/**
 * The pool-by-pool rollout as a pure decision. Each targeted pool is in one of four states:
 *  - new: no workload yet — created at once at the desired revision (creating is not updating);
 *  - pending: its workload was written from an older template — waits for its turn;
 *  - updating: written at the desired revision, not yet all replicas updated and ready;
 *  - done: written at the desired revision and rolled out.
 * A step starts pending pools while fewer than maxConcurrentPools are updating, canary pools first
 * (no other pool starts until every canary is done), the rest by name. Nothing starts while paused
 * or halted; an updating pool older than the progress deadline is overdue, which halts.
 */

export interface PoolView {
  readonly pool: string;
  /** Hash of the workload this pool should run (template plus its tweaks). */
  readonly desired: string;
  /** Hash its workload was last written with; undefined when it has no workload. */
  readonly written?: string;
  /** When it was last written (ms since the epoch). */
  readonly writtenAt?: number;
  /** Rolled out at `written`: every replica updated and ready since it was written. */
  readonly rolledOut: boolean;
}

export interface RolloutSettings {
  readonly canaryPools: readonly string[];
  readonly maxConcurrentPools: number;
  readonly progressDeadlineMs: number;
  readonly paused: boolean;
  /** A deadline was missed earlier in this rollout and nothing has lifted the halt since. */
  readonly halted: boolean;
}

export interface RolloutPlan {
  /** Pools to create a workload for. */
  readonly create: string[];
  /** Pending pools to update now. */
  readonly start: string[];
  /** Pools updating once this step is done (created and started ones included), by name. */
  readonly updating: string[];
  /** Pools still waiting for their turn after this step. */
  readonly pending: string[];
  /** Updating pools past their progress deadline. */
  readonly overdue: string[];
  /** The step stops starting pools: paused, halted, or a pool overdue. */
  readonly stopped: boolean;
  /** When the earliest updating pool's deadline passes (ms from now), to look again then. */
  readonly recheckInMs?: number;
}

type State = 'new' | 'pending' | 'updating' | 'done';

function stateOf(p: PoolView): State {
  if (p.written === undefined) return 'new';
  if (p.written !== p.desired) return 'pending';
  return p.rolledOut ? 'done' : 'updating';
}

export function planRollout(pools: readonly PoolView[], s: RolloutSettings, now: number): RolloutPlan {
  const byState = (state: State) => pools.filter((p) => stateOf(p) === state);
  const create = byState('new').map((p) => p.pool);
  const updating = byState('updating');
  const overdue = updating.filter((p) => (p.writtenAt ?? now) + s.progressDeadlineMs <= now).map((p) => p.pool);
  const stopped = s.paused || s.halted || overdue.length > 0;

  const targeted = new Set(pools.map((p) => p.pool));
  const canaries = s.canaryPools.filter((c) => targeted.has(c));
  const canariesDone = canaries.every((c) => pools.some((p) => p.pool === c && stateOf(p) === 'done'));
  const rank = (name: string) => (canaries.includes(name) ? canaries.indexOf(name) : canaries.length);
  const pending = byState('pending')
    .map((p) => p.pool)
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const eligible = canariesDone ? pending : pending.filter((p) => canaries.includes(p));
  const slots = Math.max(0, s.maxConcurrentPools - updating.length - create.length);
  const start = stopped ? [] : eligible.slice(0, slots);

  const deadlines = updating.filter((p) => !overdue.includes(p.pool)).map((p) => (p.writtenAt ?? now) + s.progressDeadlineMs - now);
  if (start.length + create.length > 0) deadlines.push(s.progressDeadlineMs);
  return {
    create,
    start,
    updating: [...updating.map((p) => p.pool), ...create, ...start].sort(),
    pending: pending.filter((p) => !start.includes(p)),
    overdue,
    stopped,
    ...(deadlines.length ? { recheckInMs: Math.max(0, Math.min(...deadlines)) } : {}),
  };
}
