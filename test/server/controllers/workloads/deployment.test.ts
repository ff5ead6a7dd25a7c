/**
 * Deployments end to end: the real server, the ReplicaSet and Deployment controllers, and the real
 * kubectl 1.32 — create, rollout status, scale, set image, rollout history/undo/restart. Pods are
 * made Ready by the test standing in for the kubelet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../../helpers/kubectl.ts';
import { inNamespace, resources } from '../../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';
import { autoReady, listPods, startWorkloadCluster, waitFor } from './harness.ts';
import type { WorkloadCluster } from './harness.ts';

let c: WorkloadCluster;
let ready: { stop(): Promise<void> };

beforeAll(async () => {
  c = await startWorkloadCluster(['replicaset', 'deployment']);
  ready = autoReady(c.client, 'default');
});

afterAll(async () => {
  await ready?.stop();
  await c?.stop();
});

const k = (...args: string[]) => kubectl(c.server, args, { timeoutMs: 120_000 });

async function replicaSets(selector: string): Promise<KubeObject[]> {
  return (await c.client.list(inNamespace(resources.replicaSets, 'default'), { labelSelector: selector })).items;
}

describe('Deployment with kubectl', () => {
  it('creates a ReplicaSet and pods, and rollout status succeeds once they are ready', async () => {
    const created = await k('create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=3');
    expect(created.stderr).toBe('');
    const status = await k('rollout', 'status', 'deployment/web', '--timeout=90s');
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    expect(status.code).toBe(0);
    const sets = await replicaSets('app=web');
    expect(sets).toHaveLength(1);
    const rs = sets[0] as KubeObject;
    const hash = rs.metadata.labels?.['pod-template-hash'] ?? '';
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(rs.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    const pods = await listPods(c.client, 'default', 'app=web');
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: rs.metadata.name, controller: true });
    }
    const d = await c.client.get(inNamespace(resources.deployments, 'default'), 'web');
    const s = d.status as Record<string, unknown>;
    expect(s).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: d.metadata.generation });
    const conditions = s.conditions as { type: string; status: string; reason: string }[];
    expect(conditions.find((x) => x.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(conditions.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    const events = await k('get', 'events', '--field-selector=involvedObject.name=web', '-o', 'jsonpath={.items[*].message}');
    expect(events.stdout).toContain(`Scaled up replica set web-${hash} from 0 to 3`);
    const describe = await k('describe', 'deployment', 'web');
    expect(describe.stdout).toMatch(new RegExp(`NewReplicaSet:\\s+web-${hash} \\(3/3 replicas created\\)`));
    expect(describe.stdout).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
    expect(describe.stdout).toMatch(/Normal\s+ScalingReplicaSet\s+.*deployment-controller\s+Scaled up replica set/);
  });

  it('scales up and down', async () => {
    expect((await k('scale', 'deployment/web', '--replicas=5')).code).toBe(0);
    await waitFor(async () => ((await listPods(c.client, 'default', 'app=web')).length === 5 ? true : undefined), '5 pods');
    expect((await k('rollout', 'status', 'deployment/web', '--timeout=90s')).code).toBe(0);
    expect((await k('scale', 'deployment/web', '--replicas=2')).code).toBe(0);
    await waitFor(async () => ((await listPods(c.client, 'default', 'app=web')).length === 2 ? true : undefined), '2 pods');
    const d = await waitFor(async () => {
      const obj = await c.client.get(inNamespace(resources.deployments, 'default'), 'web');
      return (obj.status as { replicas?: number }).replicas === 2 ? obj : undefined;
    }, 'status.replicas 2');
    expect((d.status as { availableReplicas: number }).availableReplicas).toBe(2);
  });

  it('set image rolls out a new ReplicaSet; history lists both; undo goes back', async () => {
    expect((await k('set', 'image', 'deployment/web', 'nginx=nginx:1.26')).code).toBe(0);
    const status = await k('rollout', 'status', 'deployment/web', '--timeout=90s');
    expect(status.stdout).toContain('successfully rolled out');
    // rollout status succeeds on pod counts from ReplicaSet status (as in Kubernetes); the old
    // ReplicaSet's spec may reach 0 a moment later, so wait for the end state.
    const byRevision = await waitFor(async () => {
      const sets = await replicaSets('app=web');
      const m = new Map(sets.map((rs) => [rs.metadata.annotations?.['deployment.kubernetes.io/revision'], rs]));
      return sets.length === 2 && (m.get('1')?.spec as { replicas: number } | undefined)?.replicas === 0 ? m : undefined;
    }, 'the old ReplicaSet scaled to 0');
    const v2 = byRevision.get('2');
    expect(((v2?.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0])?.image).toBe('nginx:1.26');
    expect((v2?.spec as { replicas: number }).replicas).toBe(2);
    const pods = await waitFor(async () => {
      const ps = await listPods(c.client, 'default', 'app=web');
      return ps.length === 2 ? ps : undefined;
    }, 'two pods of the new ReplicaSet');
    expect(pods.map((p) => (p.spec as { containers: { image: string }[] }).containers[0]?.image)).toEqual(['nginx:1.26', 'nginx:1.26']);

    const history = await k('rollout', 'history', 'deployment/web');
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);

    const undo = await k('rollout', 'undo', 'deployment/web');
    expect(undo.stderr).toBe('');
    expect(undo.stdout).toContain('rolled back');
    expect((await k('rollout', 'status', 'deployment/web', '--timeout=90s')).code).toBe(0);
    await waitFor(async () => {
      const ps = await listPods(c.client, 'default', 'app=web');
      return ps.length === 2 && ps.every((p) => (p.spec as { containers: { image: string }[] }).containers[0]?.image === 'nginx:1.25') ? true : undefined;
    }, 'pods back on nginx:1.25');
    // The old ReplicaSet came back as revision 3, remembering it was revision 1.
    const again = await replicaSets('app=web');
    expect(again).toHaveLength(2);
    const back = again.find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3');
    expect(back?.metadata.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
    const h2 = await k('rollout', 'history', 'deployment/web');
    expect(h2.stdout).toMatch(/\n2\s+<none>\n3\s+<none>/);
  });

  it('rollout restart creates a new ReplicaSet with the restartedAt annotation', async () => {
    const before = new Set((await replicaSets('app=web')).map((rs) => rs.metadata.name));
    expect((await k('rollout', 'restart', 'deployment/web')).code).toBe(0);
    expect((await k('rollout', 'status', 'deployment/web', '--timeout=90s')).code).toBe(0);
    const sets = await replicaSets('app=web');
    const fresh = sets.filter((rs) => !before.has(rs.metadata.name));
    expect(fresh).toHaveLength(1);
    const template = (fresh[0]?.spec as { template: { metadata: { annotations: Record<string, string> } } }).template;
    expect(template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeTruthy();
    expect(fresh[0]?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('4');
    const pods = await waitFor(async () => {
      const ps = await listPods(c.client, 'default', 'app=web');
      return ps.length === 2 && ps.every((p) => p.metadata.labels?.['pod-template-hash'] === fresh[0]?.metadata.labels?.['pod-template-hash']) ? ps : undefined;
    }, 'pods of the restarted ReplicaSet only');
    expect(pods).toHaveLength(2);
  });
});
