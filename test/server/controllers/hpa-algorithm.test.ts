/**
 * The HPA's arithmetic against upstream's cases (replica_calculator_test.go, horizontal_test.go):
 * tolerance, missing and unready pods, averageValue, stabilization windows and rate policies.
 */
import { describe, expect, it } from 'vitest';
import { normalizeWithBehavior, recordScaleEvent } from '../../../src/server/controllers/autoscaling/behavior.ts';
import type { AutoscalerMemory } from '../../../src/server/controllers/autoscaling/behavior.ts';
import { ReplicaCalculationError, resourceReplicas } from '../../../src/server/controllers/autoscaling/replica-calculator.ts';
import type { PodInfo, PodMetric } from '../../../src/server/controllers/autoscaling/replica-calculator.ts';
import { scaleDownRules, scaleUpRules } from '../../../src/server/kinds/autoscaler-behavior.ts';

const NOW = 10_000_000;
const LONG_AGO = NOW - 3_600_000;
const pod = (name: string, request: number | undefined, extra: Partial<PodInfo> = {}): PodInfo => ({
  name, phase: 'Running', deleting: false, startTime: LONG_AGO, ready: { status: true, lastTransitionTime: LONG_AGO + 10_000 }, request, ...extra,
});
const metrics = (values: Record<string, number>): Map<string, PodMetric> =>
  new Map(Object.entries(values).map(([k, v]) => [k, { value: v, timestamp: NOW, windowMs: 15_000 }]));
const cpu = (utilization: number) => ({ resource: 'cpu', utilization });

describe('replica calculator', () => {
  it('scales by the usage ratio of the ready pods, rounding up', () => {
    // 3 pods requesting 1000m using 900m each against 50%: ratio 1.8 → ceil(5.4) = 6.
    const p = resourceReplicas(3, cpu(50), [pod('a', 1000), pod('b', 1000), pod('c', 1000)], metrics({ a: 900, b: 900, c: 900 }), NOW);
    expect(p).toEqual({ replicas: 6, utilization: 90, averageValue: 900 });
  });

  it('keeps the count within the 10% tolerance', () => {
    expect(resourceReplicas(3, cpu(50), [pod('a', 1000), pod('b', 1000), pod('c', 1000)], metrics({ a: 540, b: 540, c: 540 }), NOW).replicas).toBe(3);
  });

  it('counts missing pods as using their full request on a scale-down', () => {
    const pods = [pod('a', 1000), pod('b', 1000), pod('c', 1000)];
    const p = resourceReplicas(3, cpu(50), pods, metrics({ a: 100, b: 100 }), NOW);
    // (100+100+1000)/3000 = 40% → ratio 0.8 → ceil(2.4) = 3, the same as now.
    expect(p.replicas).toBe(3);
  });

  it('counts unready pods as 0% on a scale-up and treats pending pods as unready', () => {
    const pods = [pod('a', 1000), pod('b', 1000), pod('c', 1000, { phase: 'Pending' })];
    // (800+800)/2000 = 80% → 1.6; with c at 0: 1600/3000 = 53% → 1.07 within the tolerance: stays 3.
    expect(resourceReplicas(3, cpu(50), pods, metrics({ a: 800, b: 800 }), NOW).replicas).toBe(3);
  });

  it('ignores CPU of a pod within its initialization period whose sample began before it was ready', () => {
    const fresh = pod('b', 1000, { startTime: NOW - 20_000, ready: { status: true, lastTransitionTime: NOW - 5_000 } });
    const p = resourceReplicas(2, cpu(50), [pod('a', 1000), fresh], metrics({ a: 1000, b: 5000 }), NOW);
    // b is unready: a alone at 100% → ratio 2; b at 0 → 1000/2000 = 50% → within tolerance → 2.
    expect(p.replicas).toBe(2);
  });

  it('scales on averageValue without requests', () => {
    const p = resourceReplicas(2, { resource: 'memory', averageValue: 100_000 }, [pod('a', undefined), pod('b', undefined)], metrics({ a: 300_000, b: 300_000 }), NOW);
    expect(p.replicas).toBe(6);
  });

  it('refuses a utilization target when a container has no request, and pods without metrics', () => {
    expect(() => resourceReplicas(1, cpu(50), [pod('a', undefined, { missingRequestContainer: 'web' })], metrics({ a: 1 }), NOW)).toThrow('missing request for cpu in container web of Pod a');
    expect(() => resourceReplicas(1, cpu(50), [pod('a', 100)], metrics({}), NOW)).toThrow(ReplicaCalculationError);
  });
});

describe('behavior', () => {
  const fresh = (): AutoscalerMemory => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });
  const defaults = { up: scaleUpRules(undefined), down: scaleDownRules(undefined) };

  it('holds a scale-down for the 300 s stabilization window by default', () => {
    const m = fresh();
    normalizeWithBehavior(m, { now: NOW, current: 5, desired: 5, min: 1, max: 10, ...defaults });
    const n = normalizeWithBehavior(m, { now: NOW + 60_000, current: 5, desired: 2, min: 1, max: 10, ...defaults });
    expect(n.replicas).toBe(5);
    expect(n.ableToScale.reason).toBe('ScaleDownStabilized');
    const later = normalizeWithBehavior(m, { now: NOW + 301_000, current: 5, desired: 2, min: 1, max: 10, ...defaults });
    expect(later.replicas).toBe(2);
  });

  it('limits a scale-up to 4 pods or 100% per 15 s, whichever is more, and to maxReplicas', () => {
    const m = fresh();
    const n = normalizeWithBehavior(m, { now: NOW, current: 2, desired: 20, min: 1, max: 30, ...defaults });
    expect(n.replicas).toBe(6);
    expect(n.scalingLimited).toEqual({ limited: true, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' });
    recordScaleEvent(m, { now: NOW, ...defaults }, 2, 6);
    // Within the same period the 4 added count: from 6, 2+4=6 or 2·2=4 → no more growth yet.
    expect(normalizeWithBehavior(m, { now: NOW + 5_000, current: 6, desired: 20, min: 1, max: 30, ...defaults }).replicas).toBe(6);
    expect(normalizeWithBehavior(m, { now: NOW + 16_000, current: 6, desired: 20, min: 1, max: 30, ...defaults }).replicas).toBe(12);
    const capped = normalizeWithBehavior(fresh(), { now: NOW, current: 2, desired: 5, min: 1, max: 3, ...defaults });
    expect([capped.replicas, capped.scalingLimited.reason]).toEqual([3, 'TooManyReplicas']);
  });

  it('applies Pods policies on the way down, Min select policy and Disabled', () => {
    const down = scaleDownRules({ scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }], selectPolicy: 'Min' } });
    // Min change: 10-1 = 9 (Pods) vs 10·0.5 = 5 (Percent) → the smaller change, 9.
    expect(normalizeWithBehavior(fresh(), { now: NOW, current: 10, desired: 2, min: 1, max: 10, up: defaults.up, down }).replicas).toBe(9);
    const disabled = scaleDownRules({ scaleDown: { selectPolicy: 'Disabled', stabilizationWindowSeconds: 0 } });
    expect(normalizeWithBehavior(fresh(), { now: NOW, current: 10, desired: 2, min: 1, max: 10, up: defaults.up, down: disabled }).replicas).toBe(10);
  });
});
