/**
 * ReplicaSets against the real server: adoption of orphans, release of relabelled pods, which pod
 * goes on scale-down, availability after minReadySeconds, events, and no duplicates across a
 * controller restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../../helpers/kubectl.ts';
import { inNamespace, resources } from '../../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';
import { listPods, markRunningReady, startWorkloadCluster, waitFor } from './harness.ts';
import type { WorkloadCluster } from './harness.ts';

let c: WorkloadCluster;

beforeAll(async () => {
  c = await startWorkloadCluster(['replicaset']);
});

afterAll(async () => {
  await c?.stop();
});

const rsRef = inNamespace(resources.replicaSets, 'default');
const podRef = inNamespace(resources.pods, 'default');

function replicaSet(name: string, replicas: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'img' }] } }, ...extra },
  });
}

const apply = async (manifest: string) => expect((await kubectl(c.server, ['apply', '-f', '-'], { stdin: manifest })).code).toBe(0);
const podCount = (selector: string, n: number) => waitFor(async () => {
  const ps = await listPods(c.client, 'default', selector);
  return ps.length === n ? ps : undefined;
}, `${n} pods for ${selector}`);

describe('ReplicaSet', () => {
  it('adopts a matching orphan and creates only what is missing', async () => {
    await c.client.create(podRef, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'img' }] } });
    await apply(replicaSet('adopt', 2));
    const pods = await podCount('app=adopt', 2);
    await waitFor(async () => ((await c.client.get(podRef, 'stray')).metadata.ownerReferences?.[0]?.name === 'adopt' ? true : undefined), 'stray adopted');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await listPods(c.client, 'default', 'app=adopt')).toHaveLength(2);
    expect(pods.some((p) => p.metadata.name === 'stray')).toBe(true);
    const events = await kubectl(c.server, ['get', 'events', '--field-selector=involvedObject.name=adopt', '-o', 'jsonpath={.items[*].reason}']);
    expect(events.stdout).toContain('SuccessfulCreate');
  });

  it('releases a pod relabelled out of its selector and replaces it', async () => {
    const [victim] = await listPods(c.client, 'default', 'app=adopt');
    expect((await kubectl(c.server, ['label', 'pod', victim?.metadata.name ?? '', 'app=gone', '--overwrite'])).code).toBe(0);
    await waitFor(async () => ((await c.client.get(podRef, victim?.metadata.name ?? '')).metadata.ownerReferences === undefined ? true : undefined), 'released');
    await podCount('app=adopt', 2);
  });

  it('scales down the not-ready pods first', async () => {
    await apply(replicaSet('pick', 3));
    const pods = await podCount('app=pick', 3);
    await markRunningReady(c.client, pods[0] as KubeObject);
    await markRunningReady(c.client, pods[1] as KubeObject);
    await waitFor(async () => (((await c.client.get(rsRef, 'pick')).status as { readyReplicas?: number }).readyReplicas === 2 ? true : undefined), 'two ready');
    expect((await kubectl(c.server, ['scale', 'rs/pick', '--replicas=2'])).code).toBe(0);
    const left = await podCount('app=pick', 2);
    expect(left.map((p) => p.metadata.name).sort()).toEqual([pods[0]?.metadata.name, pods[1]?.metadata.name].sort());
    const events = await kubectl(c.server, ['get', 'events', '--field-selector=involvedObject.name=pick,reason=SuccessfulDelete', '-o', 'jsonpath={.items[*].message}']);
    expect(events.stdout).toBe(`Deleted pod: ${pods[2]?.metadata.name}`);
  });

  it('counts a ready pod as available only after minReadySeconds', async () => {
    await apply(replicaSet('slow', 1, { minReadySeconds: 2 }));
    const [pod] = await podCount('app=slow', 1);
    await markRunningReady(c.client, pod as KubeObject);
    const readyAt = Date.now();
    await waitFor(async () => (((await c.client.get(rsRef, 'slow')).status as { readyReplicas?: number }).readyReplicas === 1 ? true : undefined), 'ready');
    expect(((await c.client.get(rsRef, 'slow')).status as { availableReplicas?: number }).availableReplicas ?? 0).toBe(0);
    await waitFor(async () => (((await c.client.get(rsRef, 'slow')).status as { availableReplicas?: number }).availableReplicas === 1 ? true : undefined), 'available');
    // Condition lastTransitionTime has one-second resolution.
    expect(Date.now() - readyAt).toBeGreaterThanOrEqual(1000);
    const s = (await c.client.get(rsRef, 'slow')).status as Record<string, unknown>;
    expect(s).toMatchObject({ replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 1 });
  });

  it('creates no duplicates across a controller restart', async () => {
    await apply(replicaSet('steady', 5));
    await podCount('app=steady', 5);
    await c.restartControllers();
    await apply(replicaSet('steady', 6));
    await podCount('app=steady', 6);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await listPods(c.client, 'default', 'app=steady')).toHaveLength(6);
  });
});
