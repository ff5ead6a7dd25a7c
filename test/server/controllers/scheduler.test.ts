// The scheduler inside the real `edgeos server`, against simulated nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNamespace, resources } from '../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../src/server/controllers/types.ts';
import { kubectl } from '../../helpers/kubectl.ts';
import { addNode, pod, startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

let c: Cluster;
const pods = inNamespace(resources.pods, 'default');
const nodeOf = async (name: string) => ((await c.client.get(pods, name)).spec as { nodeName?: string }).nodeName || undefined;

beforeAll(async () => {
  c = await startCluster();
  await addNode(c.client, 'edge-a', { labels: { zone: 'a', tier: '3' } });
  await addNode(c.client, 'edge-b', { labels: { zone: 'b', tier: '7' }, cpu: '1' });
  await addNode(c.client, 'edge-c', { labels: { zone: 'c' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
}, 90_000);

afterAll(async () => {
  await c?.stop();
});

describe('scheduler', () => {
  it('binds a pod only to a node matching its nodeSelector and records Scheduled', async () => {
    await c.client.create(pods, pod('sel', { spec: { nodeSelector: { zone: 'b' } } }));
    expect(await waitFor(() => nodeOf('sel'), 'sel bound')).toBe('edge-b');
    const p = await c.client.get(pods, 'sel');
    const cond = ((p.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).find((x) => x.type === 'PodScheduled');
    expect(cond?.status).toBe('True');
    const ev = await waitFor(async () => {
      const list = await c.client.list(inNamespace(resources.events, 'default'), { fieldSelector: 'involvedObject.name=sel' });
      return list.items.find((e) => e.reason === 'Scheduled');
    }, 'Scheduled event');
    expect(ev.message).toBe('Successfully assigned default/sel to edge-b');
    expect((ev.source as { component?: string }).component).toBe('default-scheduler');
  });

  it('honours required node affinity with Gt and NotIn', async () => {
    await c.client.create(pods, pod('aff', {
      spec: {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['5'] }, { key: 'zone', operator: 'NotIn', values: ['a'] }] }] } } },
      },
    }));
    expect(await waitFor(() => nodeOf('aff'), 'aff bound')).toBe('edge-b');
  });

  it('keeps pods off tainted and full nodes with kube-scheduler\'s FailedScheduling message, and retries when a node appears', async () => {
    await c.client.create(pods, pod('big', { cpu: '3500m' }));
    // edge-a fits 3.5 cores; a second one does not fit anywhere.
    expect(await waitFor(() => nodeOf('big'), 'big bound')).toBe('edge-a');
    await c.client.create(pods, pod('big2', { cpu: '3500m' }));
    const expected =
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
    const cond = await waitFor(async () => {
      const p = await c.client.get(pods, 'big2');
      return ((p.status as { conditions?: { type: string; status: string; reason?: string; message?: string }[] }).conditions ?? []).find((x) => x.type === 'PodScheduled' && x.status === 'False');
    }, 'PodScheduled=False');
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toBe(expected);
    const describe = await kubectl(c.server, ['describe', 'pod', 'big2']);
    expect(describe.stdout).toContain('FailedScheduling');
    expect(describe.stdout.replace(/\s+/g, ' ')).toContain(expected);
    await addNode(c.client, 'edge-d', { cpu: '8' });
    expect(await waitFor(() => nodeOf('big2'), 'big2 bound after a node was added')).toBe('edge-d');
  });

  it('lets a toleration through the taint and spreads one owner\'s replicas', async () => {
    await c.client.create(pods, pod('tol', { spec: { nodeSelector: { zone: 'c' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } }));
    expect(await waitFor(() => nodeOf('tol'), 'tol bound')).toBe('edge-c');
    const owner = await c.client.create<KubeObject>(inNamespace(resources.configMaps, 'default'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid ?? '', controller: true };
    for (const n of ['r1', 'r2', 'r3']) await c.client.create(pods, pod(n, { cpu: '100m', ownerReferences: [ref] }));
    const placed = await Promise.all(['r1', 'r2', 'r3'].map((n) => waitFor(() => nodeOf(n), `${n} bound`)));
    expect(new Set(placed).size).toBe(3);
    expect(placed).not.toContain('edge-c');
  });
});
