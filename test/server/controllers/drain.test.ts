// kubectl cordon and drain against the real server: the cordoned node gets SchedulingDisabled and
// the unschedulable taint, drain evicts through pods/eviction, and the ReplicaSet's replacement
// pods are scheduled onto the remaining node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNamespace, resources } from '../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../src/server/controllers/types.ts';
import { kubectl } from '../../helpers/kubectl.ts';
import { addNode, finishTerminatingPods, pod, startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

let c: Cluster;
let stopKubelets: (() => Promise<void>) | undefined;
const pods = inNamespace(resources.pods, 'default');
const nodeName = (p: KubeObject) => (p.spec as { nodeName?: string }).nodeName ?? '';

beforeAll(async () => {
  c = await startCluster();
  await addNode(c.client, 'left');
  await addNode(c.client, 'right');
  stopKubelets = finishTerminatingPods(c.client, ['left', 'right']);
}, 90_000);

afterAll(async () => {
  await stopKubelets?.();
  await c?.stop();
});

describe('cordon and drain', () => {
  it('keeps new pods off a cordoned node with the unschedulable message', async () => {
    expect((await kubectl(c.server, ['cordon', 'left'])).code).toBe(0);
    expect((await kubectl(c.server, ['cordon', 'right'])).code).toBe(0);
    const got = await kubectl(c.server, ['get', 'nodes']);
    expect(got.stdout).toMatch(/left\s+\S*SchedulingDisabled/);
    await waitFor(async () => {
      const n = await c.client.get(resources.nodes, 'left');
      return ((n.spec as { taints?: { key: string }[] }).taints ?? []).some((t) => t.key === 'node.kubernetes.io/unschedulable') ? true : undefined;
    }, 'the unschedulable taint');
    await c.client.create(pods, pod('waiting'));
    const cond = await waitFor(async () => {
      const p = await c.client.get(pods, 'waiting');
      return ((p.status as { conditions?: { type: string; status: string; message?: string }[] }).conditions ?? []).find((x) => x.type === 'PodScheduled' && x.status === 'False');
    }, 'PodScheduled=False');
    expect(cond.message).toBe('0/2 nodes are available: 2 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
    expect((await kubectl(c.server, ['uncordon', 'left'])).code).toBe(0);
    expect((await kubectl(c.server, ['uncordon', 'right'])).code).toBe(0);
    await waitFor(async () => (nodeName(await c.client.get(pods, 'waiting')) ? true : undefined), 'the waiting pod to be bound after uncordon');
    await c.client.delete(pods, 'waiting', { gracePeriodSeconds: 0 });
  });

  it('drain evicts the pods and the ReplicaSet replaces them on the other node', async () => {
    await c.client.create(inNamespace(resources.replicaSets, 'default'), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web' },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.example/web:1' }] } } },
    });
    const placed = await waitFor(async () => {
      const l = await c.client.list(pods, { labelSelector: 'app=web' });
      return l.items.length === 4 && l.items.every((p) => nodeName(p)) ? l.items : undefined;
    }, 'four bound replicas', 60_000);
    // Spread over both nodes by the scheduler.
    expect(new Set(placed.map(nodeName))).toEqual(new Set(['left', 'right']));

    const drained = await kubectl(c.server, ['drain', 'left', '--timeout=90s'], { timeoutMs: 120_000 });
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stdout).toContain('evicted');
    const after = await waitFor(async () => {
      const l = await c.client.list(pods, { labelSelector: 'app=web' });
      const live = l.items.filter((p) => !p.metadata.deletionTimestamp);
      return live.length === 4 && live.every((p) => nodeName(p) === 'right') ? live : undefined;
    }, 'all replicas on the right node', 60_000);
    expect(after).toHaveLength(4);
  }, 180_000);
});
