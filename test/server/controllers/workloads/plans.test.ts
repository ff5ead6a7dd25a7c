/**
 * Table tests of the pure decisions: pod ranking, Job accounting, DaemonSet placement and rolling
 * budget, StatefulSet ordering, Deployment conditions.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';
import { nodeFit, planDaemonSet } from '../../../../src/server/controllers/workloads/daemon-set-plan.ts';
import { calculateStatus, deploymentTimedOut, msUntilDeadline, rolloutStatus } from '../../../../src/server/controllers/workloads/deployment-status.ts';
import { Expectations } from '../../../../src/server/controllers/workloads/expectations.ts';
import { failureBackoffMs, planJob } from '../../../../src/server/controllers/workloads/job-accounting.ts';
import { deletionComparator, isPodAvailable, sameNodeRanks } from '../../../../src/server/controllers/workloads/pods.ts';
import { ordinalOf, planStatefulSet } from '../../../../src/server/controllers/workloads/stateful-set-plan.ts';

const NOW = Date.parse('2026-11-22T03:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function pod(name: string, o: { phase?: string; ready?: boolean; readySince?: number; node?: string; created?: number; restarts?: number; labels?: Record<string, string>; terminating?: boolean; finished?: number } = {}): KubeObject {
  const conditions = o.ready !== undefined ? [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: ago(o.readySince ?? o.finished ?? 100) }] : [];
  return {
    metadata: { name, creationTimestamp: ago(o.created ?? 100), labels: o.labels ?? {}, ...(o.terminating ? { deletionTimestamp: ago(0) } : {}) },
    spec: o.node ? { nodeName: o.node } : {},
    status: { phase: o.phase ?? 'Running', conditions, containerStatuses: [{ restartCount: o.restarts ?? 0 }] },
  };
}

describe('pods', () => {
  it('deletion order: unscheduled, pending, not ready, newest-ready, restarts, newest', () => {
    const pods = [
      pod('ready-old', { node: 'n', ready: true, readySince: 500 }),
      pod('ready-new', { node: 'n', ready: true, readySince: 10 }),
      pod('unready', { node: 'n', ready: false }),
      pod('pending', { node: 'n', phase: 'Pending' }),
      pod('unscheduled', { phase: 'Pending' }),
      pod('restarty', { node: 'n', ready: false, restarts: 3 }),
    ];
    expect([...pods].sort(deletionComparator(NOW)).map((p) => p.metadata.name)).toEqual(['unscheduled', 'pending', 'restarty', 'unready', 'ready-new', 'ready-old']);
  });

  it('deletion order: pod-deletion-cost, then doubled-up nodes, then log-bucketed ages', () => {
    const cheap = pod('cheap', { node: 'a', ready: true, readySince: 10 });
    cheap.metadata.annotations = { 'controller.kubernetes.io/pod-deletion-cost': '-5' };
    const pods = [
      pod('alone', { node: 'b', ready: true, readySince: 10 }),
      pod('crowded', { node: 'a', ready: true, readySince: 10 }),
      cheap,
    ];
    expect([...pods].sort(deletionComparator(NOW, sameNodeRanks(pods))).map((p) => p.metadata.name)).toEqual(['cheap', 'crowded', 'alone']);
    // 100 s and 120 s of readiness share a power-of-two bucket (64–128 s): the uid decides, not the time.
    const a = pod('a', { node: 'n', ready: true, readySince: 100 });
    const b = pod('b', { node: 'n', ready: true, readySince: 120 });
    a.metadata.uid = 'z';
    b.metadata.uid = 'y';
    expect([a, b].sort(deletionComparator(NOW)).map((p) => p.metadata.name)).toEqual(['b', 'a']);
    b.metadata.uid = 'zz';
    expect([a, b].sort(deletionComparator(NOW)).map((p) => p.metadata.name)).toEqual(['a', 'b']);
  });

  it('availability waits minReadySeconds', () => {
    expect(isPodAvailable(pod('p', { ready: true, readySince: 5 }), 10, NOW)).toBe(false);
    expect(isPodAvailable(pod('p', { ready: true, readySince: 15 }), 10, NOW)).toBe(true);
    expect(isPodAvailable(pod('p', { ready: false }), 0, NOW)).toBe(false);
  });

  it('expectations block until observed and expire after five minutes', () => {
    let t = NOW;
    const e = new Expectations(() => t);
    e.expect('ns/rs', 2, ['a']);
    expect(e.satisfied('ns/rs')).toBe(false);
    e.creationObserved('ns/rs');
    e.creationObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(false);
    e.deletionObserved('ns/rs', 'b');
    expect(e.satisfied('ns/rs')).toBe(false);
    e.deletionObserved('ns/rs', 'a');
    expect(e.satisfied('ns/rs')).toBe(true);
    e.expectCreations('ns/rs', 1);
    t += 5 * 60 * 1000 + 1;
    expect(e.satisfied('ns/rs')).toBe(true);
  });
});

const job = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({ metadata: { name: 'j', creationTimestamp: ago(100) }, spec: { parallelism: 1, completions: 1, backoffLimit: 6, ...spec }, status });

describe('planJob', () => {
  it.each([
    // spec, pods, want create, removed count, finished condition
    [{ completions: 3, parallelism: 2 }, [], 2, 0, undefined],
    [{ completions: 3, parallelism: 2 }, [pod('a', { phase: 'Succeeded' }), pod('b')], 1, 0, undefined],
    [{ completions: 3, parallelism: 2 }, [pod('a', { phase: 'Succeeded' }), pod('b', { phase: 'Succeeded' }), pod('c')], 0, 0, undefined],
    [{ completions: 2, parallelism: 2 }, [pod('a', { phase: 'Succeeded' }), pod('b', { phase: 'Succeeded' })], 0, 0, 'Complete'],
    [{ completions: null, parallelism: 3 }, [pod('a', { phase: 'Succeeded' }), pod('b')], 0, 0, undefined],
    [{ completions: null, parallelism: 3 }, [pod('a', { phase: 'Succeeded' })], 0, 0, 'Complete'],
    [{ backoffLimit: 1 }, [pod('a', { phase: 'Failed' }), pod('b', { phase: 'Failed' })], 0, 0, 'Failed'],
    [{ parallelism: 1, completions: 5 }, [pod('a'), pod('b')], 0, 1, undefined],
    [{ suspend: true, completions: 5, parallelism: 2 }, [pod('a'), pod('b')], 0, 2, undefined],
  ] as const)('%j with %# pods', (spec, pods, create, removed, finished) => {
    const plan = planJob(job(spec), pods, NOW);
    expect(plan.create).toBe(create);
    expect(plan.remove).toHaveLength(removed);
    expect(plan.status.conditions?.find((c) => c.type === 'Complete' || c.type === 'Failed')?.type).toBe(finished);
  });

  it('fails past activeDeadlineSeconds and deletes running pods', () => {
    const plan = planJob(job({ activeDeadlineSeconds: 10 }, { startTime: ago(11) }), [pod('a')], NOW);
    expect(plan.status.conditions?.[0]).toMatchObject({ type: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(plan.remove.map((p) => p.metadata.name)).toEqual(['a']);
    expect(planJob(job({ activeDeadlineSeconds: 10 }, { startTime: ago(4) }), [pod('a')], NOW).requeueAfterMs).toBe(6000);
  });

  it('counts container restarts as failures with restartPolicy OnFailure', () => {
    const spec = { backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure' } } };
    expect(planJob(job(spec), [pod('a', { restarts: 1 })], NOW).status.conditions).toBeUndefined();
    expect(planJob(job(spec), [pod('a', { restarts: 2 })], NOW).status.conditions?.[0]?.reason).toBe('BackoffLimitExceeded');
  });

  it('keeps counts that only go up and backs off after failures', () => {
    expect(planJob(job({ completions: 5 }, { succeeded: 3 }), [], NOW).status.succeeded).toBe(3);
    const failed = [pod('a', { phase: 'Failed', ready: false, finished: 2 })];
    expect(failureBackoffMs(failed, NOW)).toBe(8000);
    expect(failureBackoffMs([...failed, pod('b', { phase: 'Failed', ready: false, finished: 1 })], NOW)).toBe(19_000);
    expect(failureBackoffMs([...failed, pod('s', { phase: 'Succeeded', ready: false, finished: 1 })], NOW)).toBe(0);
    expect(planJob(job({ completions: 2 }), failed, NOW)).toMatchObject({ create: 0, requeueAfterMs: 8000 });
  });
});

const node = (name: string, labels: Record<string, string> = {}, taints: { key: string; effect: string }[] = []): KubeObject => ({ metadata: { name, labels }, spec: { taints } });
const ds = (o: { nodeSelector?: Record<string, string>; tolerations?: unknown[]; maxUnavailable?: unknown; maxSurge?: unknown } = {}): KubeObject => ({
  metadata: { name: 'd', generation: 2 },
  spec: {
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: o.maxUnavailable ?? 1, ...(o.maxSurge !== undefined ? { maxSurge: o.maxSurge } : {}) } },
    template: { spec: { ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}), ...(o.tolerations ? { tolerations: o.tolerations } : {}), containers: [] } },
  },
});

describe('DaemonSet placement', () => {
  it.each([
    [ds(), node('n'), true, true],
    [ds({ nodeSelector: { role: 'edge' } }), node('n', { role: 'core' }), false, false],
    [ds(), node('n', {}, [{ key: 'gpu', effect: 'NoSchedule' }]), false, true],
    [ds(), node('n', {}, [{ key: 'gpu', effect: 'NoExecute' }]), false, false],
    [ds({ tolerations: [{ key: 'gpu', operator: 'Exists' }] }), node('n', {}, [{ key: 'gpu', effect: 'NoExecute' }]), true, true],
    [ds(), node('n', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), true, true],
    [ds(), node('n', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), true, true],
  ])('case %#', (d, n, shouldRun, shouldContinueRunning) => {
    expect(nodeFit(d, n as never)).toEqual({ shouldRun, shouldContinueRunning });
  });

  it('creates on empty nodes, removes extras, failed and misscheduled pods', () => {
    const nodes = [node('a', { role: 'edge' }), node('b', { role: 'edge' }), node('c', { role: 'core' })] as never[];
    const pods = [
      pod('a1', { node: 'a', created: 50, labels: { 'controller-revision-hash': 'h' } }),
      pod('a2', { node: 'a', created: 10, labels: { 'controller-revision-hash': 'h' } }),
      pod('c1', { node: 'c', labels: { 'controller-revision-hash': 'h' } }),
      pod('gone', { node: 'z' }),
      pod('bfail', { node: 'b', phase: 'Failed' }),
    ];
    const plan = planDaemonSet(ds({ nodeSelector: { role: 'edge' } }), nodes, pods, 'h', NOW);
    expect(plan.createOn).toEqual(['b']);
    expect(plan.remove.map((p) => p.metadata.name).sort()).toEqual(['a2', 'bfail', 'c1', 'gone']);
    expect(plan.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 1, numberMisscheduled: 1, updatedNumberScheduled: 1, observedGeneration: 2 });
  });

  it('rolling update replaces at most maxUnavailable available old pods', () => {
    const nodes = [node('a'), node('b'), node('c'), node('d')] as never[];
    const old = (n: string) => pod(`p-${n}`, { node: n, ready: true, labels: { 'controller-revision-hash': 'old' } });
    expect(planDaemonSet(ds(), nodes, ['a', 'b', 'c', 'd'].map(old), 'new', NOW).remove).toHaveLength(1);
    expect(planDaemonSet(ds({ maxUnavailable: '50%' }), nodes, ['a', 'b', 'c', 'd'].map(old), 'new', NOW).remove).toHaveLength(2);
    // One node still waits for its new pod: that is the one unavailable allowed.
    expect(planDaemonSet(ds(), nodes, ['a', 'b', 'c'].map(old), 'new', NOW).remove).toHaveLength(0);
  });

  it('rolling update with maxSurge starts new pods beside old ones, then removes the old', () => {
    const nodes = [node('a'), node('b'), node('c')] as never[];
    const at = (n: string, rev: string, ready: boolean, created = 100) => pod(`${rev}-${n}`, { node: n, ready, created, labels: { 'controller-revision-hash': rev } });
    const surge = ds({ maxSurge: 1, maxUnavailable: 0 });
    // Start: one surge pod.
    let plan = planDaemonSet(surge, nodes, [at('a', 'old', true), at('b', 'old', true), at('c', 'old', true)], 'new', NOW);
    expect(plan).toMatchObject({ createOn: ['a'], remove: [] });
    // The surge pod is not available yet: wait.
    plan = planDaemonSet(surge, nodes, [at('a', 'old', true), at('a', 'new', false, 10), at('b', 'old', true), at('c', 'old', true)], 'new', NOW);
    expect(plan).toMatchObject({ createOn: [], remove: [] });
    // Available: the old pod on a goes and b gets its surge pod.
    plan = planDaemonSet(surge, nodes, [at('a', 'old', true), at('a', 'new', true, 10), at('b', 'old', true), at('c', 'old', true)], 'new', NOW);
    expect(plan.createOn).toEqual(['b']);
    expect(plan.remove.map((p) => p.metadata.name)).toEqual(['old-a']);
    // An unavailable old pod is replaced regardless of the surge budget.
    plan = planDaemonSet(surge, nodes, [at('a', 'old', true), at('a', 'new', false, 10), at('b', 'old', false), at('c', 'old', true)], 'new', NOW);
    expect(plan.createOn).toEqual(['b']);
    expect(plan.status.updatedNumberScheduled).toBe(1);
  });
});

const sts = (o: { replicas?: number; parallel?: boolean; partition?: number } = {}): KubeObject => ({
  metadata: { name: 'db', generation: 1 },
  spec: { replicas: o.replicas ?? 3, podManagementPolicy: o.parallel ? 'Parallel' : 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 0 } } },
});
const member = (i: number, rev = 'r1', ready = true, extra: { terminating?: boolean } = {}) => pod(`db-${i}`, { ready, labels: { 'controller-revision-hash': rev }, ...extra });
const names = (plan: ReturnType<typeof planStatefulSet>) => ({ create: plan.create.map((c) => c.ordinal), remove: plan.remove.map((p) => p.metadata.name) });

describe('StatefulSet ordering', () => {
  it('parses ordinals strictly', () => {
    expect(ordinalOf('db', 'db-12')).toBe(12);
    expect(ordinalOf('db', 'db-012')).toBeUndefined();
    expect(ordinalOf('db', 'dbx-1')).toBeUndefined();
  });

  it.each([
    ['OrderedReady creates the lowest missing', sts(), [], { create: [0], remove: [] }],
    ['OrderedReady waits for an unready lower pod', sts(), [member(0, 'r1', false)], { create: [], remove: [] }],
    ['OrderedReady continues after a ready one', sts(), [member(0)], { create: [1], remove: [] }],
    ['Parallel creates all missing', sts({ parallel: true }), [member(1, 'r1', false)], { create: [0, 2], remove: [] }],
    ['scale down removes the highest first', sts({ replicas: 1 }), [member(0), member(1), member(2)], { create: [], remove: ['db-2'] }],
    ['scale down waits for a terminating one', sts({ replicas: 1 }), [member(0), member(1), member(2, 'r1', true, { terminating: true })], { create: [], remove: [] }],
    ['Parallel scale down removes all condemned', sts({ replicas: 1, parallel: true }), [member(0), member(1), member(2)], { create: [], remove: ['db-2', 'db-1'] }],
    ['rolling update replaces the highest old pod', sts(), [member(0), member(1), member(2)], { create: [], remove: ['db-2'] }],
    ['rolling update waits for the replacement to be ready', sts(), [member(0), member(1), member(2, 'r2', false)], { create: [], remove: [] }],
    ['rolling update continues downwards', sts(), [member(0), member(1), member(2, 'r2')], { create: [], remove: ['db-1'] }],
    ['partition stops the update', sts({ partition: 2 }), [member(0), member(1), member(2, 'r2')], { create: [], remove: [] }],
  ])('%s', (_name, set, pods, want) => {
    expect(names(planStatefulSet(set, pods, 'r1', 'r2', NOW))).toEqual(want);
  });

  it('creates pods below the partition at the current revision', () => {
    expect(planStatefulSet(sts({ partition: 2, parallel: true }), [], 'r1', 'r2', NOW).create).toEqual([
      { ordinal: 0, revision: 'r1' },
      { ordinal: 1, revision: 'r1' },
      { ordinal: 2, revision: 'r2' },
    ]);
  });
});

const rs = (name: string, spec: number, s: { replicas?: number; ready?: number; available?: number } = {}): KubeObject => ({
  metadata: { name },
  spec: { replicas: spec },
  status: { replicas: s.replicas ?? spec, readyReplicas: s.ready ?? spec, availableReplicas: s.available ?? spec },
});
const deployment = (status: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'web', generation: 2 },
  spec: { replicas: 3, progressDeadlineSeconds: 600, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, ...spec },
  status,
});

describe('Deployment status', () => {
  it('counts over all ReplicaSets and sets Available against maxUnavailable', () => {
    // 25% of 3 rounds down to 0 unavailable allowed: use an explicit 1.
    const d = deployment({}, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } });
    const s = calculateStatus(d, [rs('old', 1), rs('new', 2, { available: 1 })], rs('new', 2, { available: 1 }), NOW);
    expect(s).toMatchObject({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 2, unavailableReplicas: 1 });
    expect(s.conditions.find((c) => c.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
    const low = calculateStatus(deployment(), [rs('new', 3, { available: 1 })], rs('new', 3, { available: 1 }), NOW);
    expect(low.conditions.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });

  it('Progressing: complete, progressing, then timed out', () => {
    const done = rolloutStatus(deployment(), [rs('new', 3)], rs('new', 3), NOW);
    expect(done.conditions.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "new" has successfully progressed.' });

    const moving = rolloutStatus(deployment({ replicas: 3, updatedReplicas: 0 }), [rs('old', 2), rs('new', 1, { available: 0, ready: 0 })], rs('new', 1, { available: 0, ready: 0 }), NOW);
    expect(moving.conditions.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "new" is progressing.' });

    const stale = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: '', lastUpdateTime: ago(601), lastTransitionTime: ago(700) };
    const stuckD = deployment({ replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2, conditions: [stale] });
    const stuck = rolloutStatus(stuckD, [rs('old', 2), rs('new', 1, { available: 0, ready: 0 })], rs('new', 1, { available: 0, ready: 0 }), NOW);
    expect(stuck.conditions.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "new" has timed out progressing.' });
    expect(deploymentTimedOut(stuckD, stuck, NOW)).toBe(true);
  });

  it('asks to be woken when the deadline passes', () => {
    const c = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: '', lastUpdateTime: ago(100), lastTransitionTime: ago(100) };
    const d = deployment({ conditions: [c] });
    const s = calculateStatus(d, [rs('new', 1, { available: 0 })], rs('new', 1, { available: 0 }), NOW);
    expect(msUntilDeadline(d, s, NOW)).toBe(501_000);
  });
});
