import { describe, expect, it } from 'vitest';
import { maxScaledDown, maxUnavailableOf, newReplicaSetReplicas, planOldScaleDown, proportionalScale, resolveFenceposts, scaledValue } from '../../../../src/server/controllers/workloads/replica-math.ts';

describe('scaledValue (intstr.GetScaledValueFromIntOrPercent)', () => {
  it.each([
    [3, 10, true, 3],
    ['25%', 10, true, 3],
    ['25%', 10, false, 2],
    ['25%', 1, true, 1],
    ['25%', 1, false, 0],
    ['100%', 7, false, 7],
    ['0%', 7, true, 0],
    ['33%', 3, true, 1],
    ['33%', 3, false, 0],
  ] as const)('%s of %i (up=%s) = %i', (v, total, up, want) => {
    expect(scaledValue(v, total, up)).toBe(want);
  });
});

describe('resolveFenceposts', () => {
  it.each([
    ['25%', '25%', 4, 1, 1],
    ['25%', '25%', 1, 1, 0],
    [0, 0, 3, 0, 1],
    ['0%', '0%', 3, 0, 1],
    [2, '50%', 5, 2, 2],
  ] as const)('surge %s unavailable %s of %i → %i/%i', (surge, unavailable, desired, wantSurge, wantUnavailable) => {
    expect(resolveFenceposts(surge, unavailable, desired)).toEqual({ surge: wantSurge, unavailable: wantUnavailable });
  });

  it('maxUnavailable never exceeds desired and is 0 for zero replicas', () => {
    expect(maxUnavailableOf(0, 5, 3)).toBe(3);
    expect(maxUnavailableOf('25%', '25%', 0)).toBe(0);
  });
});

describe('newReplicaSetReplicas (NewRSNewReplicas, RollingUpdate)', () => {
  it.each([
    // desired, surge, unavailable, total spec, new spec → new size
    [3, '25%', '25%', 3, 0, 1], // start: 3 old + room for 1 surge
    [3, '25%', '25%', 4, 1, 1], // at the cap: wait
    [3, '25%', '25%', 3, 1, 2], // one old gone: grow by one
    [10, 3, 0, 10, 0, 3],
    [3, 5, 0, 3, 0, 3], // never beyond desired
    [3, 0, 1, 3, 0, 0],
  ] as const)('desired %i surge %s unavailable %s total %i new %i → %i', (desired, surge, unavailable, total, current, want) => {
    expect(newReplicaSetReplicas(desired, surge, unavailable, total, current)).toBe(want);
  });
});

describe('old ReplicaSet scale-down (reconcileOldReplicaSets)', () => {
  it('keeps minAvailable: budget counts new unavailable pods', () => {
    // desired 3, maxUnavailable 0: 3 old available, new has 1 spec 0 available → budget 4-3-1 = 0
    expect(maxScaledDown(3, 0, 4, { spec: 1, available: 0 })).toBe(0);
    // new pod became available → budget 1
    expect(maxScaledDown(3, 0, 4, { spec: 1, available: 1 })).toBe(1);
  });

  it.each([
    // olds, budget, totalAvailable, minAvailable → sizes
    [[{ spec: 3, available: 3 }], 1, 4, 3, [2]],
    [[{ spec: 3, available: 1 }], 5, 1, 2, [1]], // unhealthy first; nothing available to spare
    [[{ spec: 2, available: 2 }, { spec: 2, available: 2 }], 3, 5, 2, [0, 1]], // 3 may go: oldest first
    [[{ spec: 2, available: 2 }], 0, 5, 2, [2]], // no budget: nothing moves
    [[{ spec: 2, available: 0 }, { spec: 3, available: 3 }], 3, 3, 2, [0, 2]],
  ] as const)('%j budget %i available %i min %i → %j', (olds, budget, available, min, want) => {
    expect(planOldScaleDown(olds, budget, available, min)).toEqual(want);
  });
});

describe('proportionalScale (DeploymentController.scale)', () => {
  it('shares a scale-up in proportion and gives leftovers to the first', () => {
    // Mid-rollout 10 → 15, maxSurge 3: sets sized for 13 (10+3): 8 new, 5 old → 15+3 = 18 total.
    expect(proportionalScale([{ replicas: 8, maxReplicas: 13 }, { replicas: 5, maxReplicas: 13 }], 15, 3, 13)).toEqual([11, 7]);
  });

  it('shares a scale-down', () => {
    expect(proportionalScale([{ replicas: 6, maxReplicas: 12 }, { replicas: 6, maxReplicas: 12 }], 5, 1, 12)).toEqual([3, 3]);
  });

  it('scales everything to zero for zero replicas', () => {
    expect(proportionalScale([{ replicas: 4 }, { replicas: 2 }], 0, 1, 6)).toEqual([0, 0]);
  });

  it('changes nothing at the allowed size', () => {
    expect(proportionalScale([{ replicas: 3, maxReplicas: 5 }, { replicas: 2, maxReplicas: 5 }], 4, 1, 5)).toEqual([3, 2]);
  });
});
