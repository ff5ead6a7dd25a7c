// The scheduler's and node lifecycle's pure rules, table-driven against Kubernetes' semantics.
import { describe, expect, it } from 'vitest';
import type { Node, Pod, Taint } from '../../../src/server/controllers/core-types.ts';
import { parseDuration } from '../../../src/common/duration.ts';
import { conditionsUnknown } from '../../../src/server/controllers/node-lifecycle/conditions.ts';
import { reconcileTaints } from '../../../src/server/controllers/node-lifecycle/desired-taints.ts';
import { evictionDelay } from '../../../src/server/controllers/node-lifecycle/taint-eviction.ts';
import { fitErrorMessage } from '../../../src/server/controllers/scheduler/fit-error.ts';
import { filterNode } from '../../../src/server/controllers/scheduler/filters.ts';
import { matchesNodeSelectorAndAffinity } from '../../../src/server/controllers/scheduler/node-affinity.ts';
import { UsageCache } from '../../../src/server/controllers/scheduler/node-usage.ts';
import { hostPorts, podRequests } from '../../../src/server/controllers/scheduler/pod-resources.ts';
import { tolerates } from '../../../src/server/controllers/taints.ts';

const node = (name: string, extra: Partial<Node> = {}): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(extra.metadata?.labels ?? {}) } },
  spec: extra.spec ?? {},
  status: { allocatable: { cpu: '2', memory: '4Gi', pods: '3' }, ...(extra.status ?? {}) },
});
const pod = (spec: Pod['spec'] = {}, uid = 'u1'): Pod => ({ metadata: { name: 'p', namespace: 'd', uid }, spec: { containers: [{ name: 'c' }], ...spec } });
const demand = (p: Pod) => ({ pod: p, requests: podRequests(p), ports: hostPorts(p) });

describe('fit error message', () => {
  it('sorts "<count> <reason>" like kube-scheduler and adds the preemption summary', () => {
    const m = fitErrorMessage(3, new Map([['Insufficient cpu', 2], ['node(s) had untolerated taint {key: value}', 1]]));
    expect(m).toBe('0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
    expect(fitErrorMessage(0, new Map())).toBe('no nodes available to schedule pods');
  });
});

describe('node affinity', () => {
  const n = node('n', { metadata: { labels: { zone: 'a', gen: '5' } } });
  const term = (key: string, operator: string, values?: string[]) => pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key, operator: operator as 'In', ...(values ? { values } : {}) }] }] } } } });
  it.each([
    ['In', 'zone', ['a', 'b'], true],
    ['In', 'zone', ['b'], false],
    ['NotIn', 'zone', ['b'], true],
    ['NotIn', 'zone', ['a'], false],
    ['Exists', 'zone', undefined, true],
    ['DoesNotExist', 'zone', undefined, false],
    ['DoesNotExist', 'gpu', undefined, true],
    ['Gt', 'gen', ['4'], true],
    ['Gt', 'gen', ['5'], false],
    ['Lt', 'gen', ['6'], true],
    ['Lt', 'zone', ['6'], false],
  ] as const)('%s %s %j → %s', (op, key, values, want) => {
    expect(matchesNodeSelectorAndAffinity(term(key, op, values ? [...values] : undefined), n)).toBe(want);
  });
  it('ORs terms, ANDs requirements, matches fields on metadata.name only, rejects empty terms', () => {
    const p = pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }] } } } });
    expect(matchesNodeSelectorAndAffinity(p, n)).toBe(true);
    expect(matchesNodeSelectorAndAffinity(pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } }), n)).toBe(false);
    expect(matchesNodeSelectorAndAffinity(pod({ nodeSelector: { zone: 'a', gen: '4' } }), n)).toBe(false);
  });
});

describe('filters', () => {
  it('stops at the first failing plugin in kube-scheduler order', () => {
    const cordonedTainted = node('x', { spec: { unschedulable: true, taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] } });
    const u = new UsageCache();
    expect(filterNode(demand(pod()), cordonedTainted, u.usage('x'))).toEqual(['node(s) were unschedulable']);
    expect(filterNode(demand(pod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] })), cordonedTainted, u.usage('x'))).toEqual(['node(s) had untolerated taint {k: v}']);
    expect(filterNode(demand(pod({ nodeName: 'y' })), node('x'), u.usage('x'))).toEqual(["node(s) didn't match the requested node name"]);
  });

  it('accounts requests, pod count and host ports of placed and assumed pods', () => {
    const u = new UsageCache();
    const big = pod({ containers: [{ name: 'c', resources: { requests: { cpu: '1500m', memory: '3Gi' } }, ports: [{ containerPort: 80, hostPort: 8080 }] }] }, 'big');
    u.assume(big, 'x');
    const again = pod({ containers: [{ name: 'c', resources: { requests: { cpu: '1', memory: '2Gi' } }, ports: [{ containerPort: 80, hostPort: 8080 }] }] }, 'two');
    expect(filterNode(demand(again), node('x'), u.usage('x'))).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    const noPort = pod({ containers: [{ name: 'c', resources: { requests: { cpu: '1', memory: '2Gi' } } }] }, 'three');
    expect(filterNode(demand(noPort), node('x'), u.usage('x'))).toEqual(['Insufficient cpu', 'Insufficient memory']);
    u.forget('big');
    expect(filterNode(demand(noPort), node('x'), u.usage('x'))).toEqual([]);
    u.observe({ ...pod({}, 'a'), spec: { nodeName: 'x', containers: [{ name: 'c' }] } });
    u.observe({ ...pod({}, 'b'), spec: { nodeName: 'x', containers: [{ name: 'c' }] } });
    u.observe({ ...pod({}, 'c'), spec: { nodeName: 'x', containers: [{ name: 'c' }] } });
    expect(filterNode(demand(pod({}, 'd')), node('x'), u.usage('x'))).toEqual(['Too many pods']);
    // A finished pod no longer counts.
    u.observe({ ...pod({}, 'c'), spec: { nodeName: 'x', containers: [{ name: 'c' }] }, status: { phase: 'Succeeded' } });
    expect(filterNode(demand(pod({}, 'd')), node('x'), u.usage('x'))).toEqual([]);
  });

  it('computes requests as max(sum of containers, each init container) plus sidecars and overhead', () => {
    const r = podRequests(pod({
      containers: [{ name: 'a', resources: { requests: { cpu: '100m' } } }, { name: 'b', resources: { requests: { cpu: '200m' } } }],
      initContainers: [{ name: 'i', resources: { requests: { cpu: '500m' } } }, { name: 's', restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } }],
      overhead: { cpu: '10m' },
    }));
    expect(r.cpu).toBe(500 + 10);
  });
});

describe('taints', () => {
  const t: Taint = { key: 'k', value: 'v', effect: 'NoExecute' };
  it.each([
    [{ key: 'k', operator: 'Equal', value: 'v' }, true],
    [{ key: 'k', operator: 'Equal', value: 'w' }, false],
    [{ key: 'k', operator: 'Exists' }, true],
    [{ operator: 'Exists' }, true],
    [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, false],
    [{ key: '', operator: 'Equal', value: 'v' }, false],
  ] as const)('%j tolerates k=v:NoExecute → %s', (tol, want) => {
    expect(tolerates(tol, t)).toBe(want);
  });

  it('evicts at once, after the smallest tolerationSeconds, or never', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const taints: Taint[] = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }];
    expect(evictionDelay(pod(), taints, now)).toBe(0);
    expect(evictionDelay(pod({ tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] }), taints, now + 100_000)).toBe(200_000);
    expect(evictionDelay(pod({ tolerations: [{ operator: 'Exists' }] }), taints, now)).toBeUndefined();
    expect(evictionDelay(pod(), [{ key: 'x', effect: 'NoSchedule' }], now)).toBeUndefined();
  });

  it('replaces only the managed taints and keeps timeAdded of those it keeps', () => {
    const current: Taint[] = [{ key: 'user', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'T0' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }];
    const next = reconcileTaints(current, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }], 'T1');
    expect(next).toEqual([{ key: 'user', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'T0' }]);
    expect(reconcileTaints(next ?? [], [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }], 'T2')).toBeUndefined();
  });
});

describe('node conditions', () => {
  it('turns kubelet conditions Unknown and adds the missing ones as never updated', () => {
    const n = node('n', { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: 'H', lastTransitionTime: 'T' }] } });
    const c = conditionsUnknown(n, 'NOW');
    expect(c.find((x) => x.type === 'Ready')).toEqual({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: 'H', lastTransitionTime: 'NOW' });
    expect(c.find((x) => x.type === 'DiskPressure')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' });
  });

  it('parses Go durations', () => {
    expect(parseDuration('40s')).toBe(40_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('5')).toBeUndefined();
    expect(parseDuration('five minutes')).toBeUndefined();
  });
});
