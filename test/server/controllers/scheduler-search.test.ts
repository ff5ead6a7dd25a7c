// How many feasible nodes the scheduler looks for before it picks (kube-scheduler's
// numFeasibleNodesToFind with the default percentageOfNodesToScore).
import { describe, expect, it } from 'vitest';
import { feasibleNodesToFind } from '../../../src/server/controllers/scheduler/scheduler.ts';

describe('feasibleNodesToFind', () => {
  it('looks at every node of a small cluster', () => {
    for (const n of [0, 1, 50, 99]) expect(feasibleNodesToFind(n)).toBe(n);
  });

  it('looks for 50 % less one point per 125 nodes, at least 5 % and 100 nodes', () => {
    expect(feasibleNodesToFind(100)).toBe(100);
    expect(feasibleNodesToFind(150)).toBe(100); // 49 % of 150 is 73
    expect(feasibleNodesToFind(1000)).toBe(420); // 42 %
    expect(feasibleNodesToFind(5000)).toBe(500); // 10 %
    expect(feasibleNodesToFind(10_000)).toBe(500); // 5 %, the floor
    expect(feasibleNodesToFind(100_000)).toBe(5000);
  });
});
