import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';
import { formatIndexes, parseIndexes, planIndexes } from '../../../../src/server/controllers/workloads/job-indexes.ts';

const pod = (name: string, index: number | undefined, phase = 'Running', created = 0): KubeObject => ({
  metadata: { name, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, created)).toISOString(), ...(index !== undefined ? { annotations: { 'batch.kubernetes.io/job-completion-index': String(index) } } : {}) },
  status: { phase },
});

describe('completion indexes', () => {
  it.each([
    [[], ''],
    [[0], '0'],
    [[0, 1, 2, 5], '0-2,5'],
    [[7, 3, 4, 9, 10], '3-4,7,9-10'],
  ])('%j ↔ %s', (list, text) => {
    expect(formatIndexes(new Set(list))).toBe(text);
    expect([...parseIndexes(text, 100)].sort((a, b) => a - b)).toEqual([...list].sort((a, b) => a - b));
  });

  it('ignores garbage and indexes beyond completions', () => {
    expect([...parseIndexes('1,x,3-9,20', 5)]).toEqual([1, 3, 4]);
  });

  it('plans the lowest missing indexes within parallelism and drops duplicates', () => {
    const pods = [pod('a', 0, 'Succeeded'), pod('b', 1, 'Running', 1), pod('b2', 1, 'Running', 2), pod('c', 0, 'Running'), pod('x', undefined)];
    const plan = planIndexes(pods, 5, 3, '4');
    expect([...plan.succeeded].sort()).toEqual([0, 4]);
    expect(plan.extra.map((p) => p.metadata.name).sort()).toEqual(['b2', 'c', 'x']);
    expect(plan.create).toEqual([2, 3]);
    expect(plan.running).toBe(1);
  });
});
