// The pool-by-pool rollout plan (pure): canaries first, at most maxConcurrentPools updating, nothing
// started while paused, halted or with a pool past its deadline, and when to look again.
import { describe, expect, it } from 'vitest';
import { planRollout } from '../../../src/server/controllers/pools/pool-rollout.ts';
import type { PoolView, RolloutSettings } from '../../../src/server/controllers/pools/pool-rollout.ts';

const now = 1_000_000;
const settings: RolloutSettings = { canaryPools: [], maxConcurrentPools: 2, progressDeadlineMs: 60_000, paused: false, halted: false };
const pending = (pool: string): PoolView => ({ pool, desired: 'new', written: 'old', writtenAt: now - 500_000, rolledOut: true });
const updating = (pool: string, since = now - 1000): PoolView => ({ pool, desired: 'new', written: 'new', writtenAt: since, rolledOut: false });
const done = (pool: string): PoolView => ({ pool, desired: 'new', written: 'new', writtenAt: now - 1000, rolledOut: true });

describe('planRollout', () => {
  it('starts canaries alone, then the rest by name up to maxConcurrentPools', () => {
    const s = { ...settings, canaryPools: ['c', 'missing'] };
    expect(planRollout([pending('a'), pending('b'), pending('c'), pending('d')], s, now)).toMatchObject({ start: ['c'], pending: ['a', 'b', 'd'], updating: ['c'] });
    expect(planRollout([pending('a'), pending('b'), updating('c'), pending('d')], s, now).start).toEqual([]);
    expect(planRollout([pending('a'), pending('b'), done('c'), pending('d')], s, now)).toMatchObject({ start: ['a', 'b'], pending: ['d'] });
    expect(planRollout([updating('a'), pending('b'), done('c'), pending('d')], s, now).start).toEqual(['b']);
  });

  it('creates new pools at once; they take slots', () => {
    const fresh: PoolView = { pool: 'n', desired: 'new', rolledOut: false };
    expect(planRollout([fresh, pending('a'), pending('b')], settings, now)).toMatchObject({ create: ['n'], start: ['a'], pending: ['b'] });
    expect(planRollout([fresh, pending('a')], { ...settings, paused: true }, now)).toMatchObject({ create: ['n'], start: [], stopped: true });
  });

  it('stops on a pool past its deadline, while halted or paused; looks again at the next deadline', () => {
    const late = planRollout([updating('a', now - 61_000), pending('b')], { ...settings, maxConcurrentPools: 3 }, now);
    expect(late).toMatchObject({ overdue: ['a'], start: [], stopped: true });
    expect(planRollout([pending('a')], { ...settings, halted: true }, now).start).toEqual([]);
    expect(planRollout([updating('a', now - 20_000), pending('b')], { ...settings, maxConcurrentPools: 1 }, now).recheckInMs).toBe(40_000);
    expect(planRollout([done('a')], settings, now)).toMatchObject({ start: [], updating: [], pending: [], overdue: [] });
    expect(planRollout([done('a')], settings, now).recheckInMs).toBeUndefined();
  });
});
