// Node lifecycle inside the real `edgeos server` with a 3 s grace period: silent nodes go Unknown
// with the unreachable NoSchedule taint and keep their pods; only nodes annotated
// edgeos.io/evict-after get the NoExecute taint and lose untolerating pods; a renewed Lease
// brings the node back without touching its pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditionsPatch } from '../../../src/server/controllers/node-lifecycle/conditions.ts';
import type { Node, NodeCondition } from '../../../src/server/controllers/core-types.ts';
import { ConflictError, inNamespace, resources } from '../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../src/server/controllers/types.ts';
import { kubectl } from '../../helpers/kubectl.ts';
import { addNode, pod, renewLease, startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

interface Cond { type: string; status: string; reason?: string; message?: string }
type Taint = { key: string; effect: string; value?: string };

let c: Cluster;
let renewing: NodeJS.Timeout | undefined;
const pods = inNamespace(resources.pods, 'default');
const conditions = (o: KubeObject) => ((o.status as { conditions?: Cond[] } | undefined)?.conditions ?? []);
const taints = (o: KubeObject) => ((o.spec as { taints?: Taint[] } | undefined)?.taints ?? []);
const ready = (o: KubeObject) => conditions(o).find((x) => x.type === 'Ready');

async function runningPod(name: string, node: string, tolerations?: unknown[]): Promise<KubeObject> {
  const created = await c.client.create<KubeObject>(pods, pod(name, { spec: { nodeName: node, ...(tolerations ? { tolerations } : {}) } }));
  // No kubelet here: the test posts what a kubelet would, a running and ready pod.
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await c.client.patch(pods, name, 'merge', {
    status: { phase: 'Running', podIP: '10.42.0.9', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }, { type: 'PodScheduled', status: 'True', lastTransitionTime: now }] },
  }, { subresource: 'status' });
  return created;
}

beforeAll(async () => {
  c = await startCluster({ extraArgs: ['--node-monitor-grace-period', '3s'] });
  await addNode(c.client, 'alive');
  await addNode(c.client, 'offline');
  await addNode(c.client, 'cloud');
  await c.client.patch(resources.nodes, 'cloud', 'merge', { metadata: { annotations: { 'edgeos.io/evict-after': '1s' } } });
  renewing = setInterval(() => void renewLease(c.client, 'alive').catch(() => {}), 500);
}, 90_000);

afterAll(async () => {
  if (renewing) clearInterval(renewing);
  await c?.stop();
});

describe('node lifecycle', () => {
  it('marks a silent edge node Unknown and unreachable but keeps its pods; a renewed lease brings it back', async () => {
    const p = await runningPod('edge-app', 'offline');
    const node = await waitFor(async () => {
      const n = await c.client.get(resources.nodes, 'offline');
      return ready(n)?.status === 'Unknown' && taints(n).some((t) => t.key === 'node.kubernetes.io/unreachable') ? n : undefined;
    }, 'offline to become Unknown and tainted', 60_000);
    expect(ready(node)).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) expect(conditions(node).find((x) => x.type === type)?.status).toBe('Unknown');
    expect(taints(node).filter((t) => t.key === 'node.kubernetes.io/unreachable').map((t) => t.effect)).toEqual(['NoSchedule']);

    const after = await waitFor(async () => {
      const cur = await c.client.get(pods, 'edge-app');
      return conditions(cur).find((x) => x.type === 'Ready')?.status === 'False' ? cur : undefined;
    }, 'pod Ready=False');
    expect(after.metadata.uid).toBe(p.metadata.uid);
    expect(after.metadata.deletionTimestamp).toBeUndefined();

    const alive = await c.client.get(resources.nodes, 'alive');
    expect(ready(alive)?.status).toBe('True');
    expect(taints(alive)).toEqual([]);

    const described = await kubectl(c.server, ['describe', 'node', 'offline']);
    expect(described.stdout).toContain('node.kubernetes.io/unreachable:NoSchedule');

    await renewLease(c.client, 'offline');
    const back = await waitFor(async () => {
      const n = await c.client.get(resources.nodes, 'offline');
      return ready(n)?.status === 'True' && taints(n).length === 0 ? n : undefined;
    }, 'offline to come back after its lease was renewed');
    expect(ready(back)?.status).toBe('True');
    const still = await c.client.get(pods, 'edge-app');
    expect(still.metadata.uid).toBe(p.metadata.uid);
    expect(still.metadata.deletionTimestamp).toBeUndefined();
  }, 90_000);

  it('taints a node whose kubelet reports Ready=False with not-ready:NoSchedule, and untaints it when Ready again', async () => {
    const post = (status: string) => c.client.patch(resources.nodes, 'alive', 'strategic', {
      status: { conditions: [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
    }, { subresource: 'status' });
    await post('False');
    await waitFor(async () => (taints(await c.client.get(resources.nodes, 'alive')).some((t) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoSchedule') ? true : undefined), 'the not-ready taint');
    await post('True');
    await waitFor(async () => (taints(await c.client.get(resources.nodes, 'alive')).length === 0 ? true : undefined), 'the not-ready taint to go');
  }, 60_000);

  it('taint-evicts pods from a node that opted in with edgeos.io/evict-after, honouring tolerationSeconds', async () => {
    // tolerationSeconds 1 replaces the 300 s default toleration the API adds (DefaultTolerationSeconds).
    await runningPod('cloud-app', 'cloud', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]);
    await runningPod('cloud-default', 'cloud');
    await runningPod('cloud-tolerant', 'cloud', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]);
    const node = await waitFor(async () => {
      const n = await c.client.get(resources.nodes, 'cloud');
      return taints(n).some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? n : undefined;
    }, 'the NoExecute taint', 60_000);
    expect(taints(node).find((t) => t.effect === 'NoExecute')).toHaveProperty('timeAdded');
    await waitFor(async () => {
      const cur = await c.client.get(pods, 'cloud-app').catch(() => undefined);
      return !cur || cur.metadata.deletionTimestamp ? true : undefined;
    }, 'cloud-app to be evicted');
    const tolerant = await c.client.get(pods, 'cloud-tolerant');
    expect(tolerant.metadata.deletionTimestamp).toBeUndefined();
    // The default toleration keeps a pod 300 s after the taint, as in Kubernetes.
    const byDefault = await c.client.get(pods, 'cloud-default');
    expect(byDefault.metadata.deletionTimestamp).toBeUndefined();
    const events = await c.client.list(inNamespace(resources.events, 'default'), { fieldSelector: 'involvedObject.name=cloud-app' });
    expect(events.items.map((e) => e.reason)).toContain('TaintManagerEviction');
  }, 90_000);

  it("writes conditions only onto the Node it decided from: a kubelet status posted meanwhile is not overwritten", async () => {
    // The controller decides from its informer's Node; in a join storm that cache lags the store,
    // and its NodeStatusNeverUpdated once replaced the Ready=True a hollow node had just posted
    // (the agent resends an unchanged status never: the node stayed NotReady).
    const stale = (await addNode(c.client, 'late')) as Node;
    const mark: NodeCondition[] = [{ type: 'Ready', status: 'Unknown', reason: 'DecidedFromStaleCache', message: 'test', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }];
    // addNode posted the status after creating: the Node as created is already stale.
    await expect(c.client.patch(resources.nodes, 'late', 'strategic', conditionsPatch(stale, mark), { subresource: 'status' })).rejects.toBeInstanceOf(ConflictError);
    const now = (await c.client.get(resources.nodes, 'late')) as Node;
    expect(conditions(now).some((x) => x.reason === 'DecidedFromStaleCache')).toBe(false);
    // On the Node as stored, the same patch is written (re-read if this cluster's own lifecycle
    // controller wrote the Node between the read and the patch: that is a Conflict too).
    let written: Node | undefined;
    for (let attempt = 0; !written && attempt < 5; attempt++) {
      const current = attempt === 0 ? now : ((await c.client.get(resources.nodes, 'late')) as Node);
      written = (await c.client.patch(resources.nodes, 'late', 'strategic', conditionsPatch(current, mark), { subresource: 'status' }).catch((err: unknown) => {
        if (err instanceof ConflictError) return undefined;
        throw err;
      })) as Node | undefined;
    }
    expect(ready(written!)?.reason).toBe('DecidedFromStaleCache');
  }, 30_000);
});
