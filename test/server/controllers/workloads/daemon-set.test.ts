/**
 * DaemonSets end to end: one pod per matching node (nodeSelector, taints), status counts read by
 * kubectl, and a rolling update within maxUnavailable. Nodes are Node objects; the test plays the
 * kubelet (readiness, finishing graceful deletes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../../helpers/kubectl.ts';
import { inNamespace, resources } from '../../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';
import { addNode, autoReady, listPods, startWorkloadCluster, waitFor } from './harness.ts';
import type { WorkloadCluster } from './harness.ts';

let c: WorkloadCluster;
let kubelet: { stop(): Promise<void> };

beforeAll(async () => {
  c = await startWorkloadCluster(['daemonset']);
  await addNode(c.client, 'edge-a', { labels: { role: 'edge' } });
  await addNode(c.client, 'edge-b', { labels: { role: 'edge' } });
  await addNode(c.client, 'edge-tainted', { labels: { role: 'edge' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
  await addNode(c.client, 'core', { labels: { role: 'core' } });
  kubelet = autoReady(c.client, 'default');
});

afterAll(async () => {
  await kubelet?.stop();
  await c?.stop();
});

const manifest = (image: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { role: 'edge' }, containers: [{ name: 'agent', image }] } },
    },
  });

const nodeOf = (p: KubeObject) => (p.spec as { nodeName?: string }).nodeName;
const imageOf = (p: KubeObject) => (p.spec as { containers: { image: string }[] }).containers[0]?.image;

describe('DaemonSet', () => {
  it('lands one pod on each matching node it tolerates', async () => {
    expect((await kubectl(c.server, ['apply', '-f', '-'], { stdin: manifest('agent:1') })).code).toBe(0);
    const pods = await waitFor(async () => {
      const ps = await listPods(c.client, 'default', 'app=agent');
      return ps.length === 2 ? ps : undefined;
    }, 'two daemon pods');
    expect(pods.map(nodeOf).sort()).toEqual(['edge-a', 'edge-b']);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(/^agent-[a-z0-9]{5}$/);
      expect(p.metadata.labels?.['controller-revision-hash']).toBeTruthy();
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'DaemonSet', name: 'agent', controller: true });
    }
    const ds = await waitFor(async () => {
      const obj = await c.client.get(inNamespace(resources.daemonSets, 'default'), 'agent');
      return (obj.status as { numberAvailable?: number }).numberAvailable === 2 ? obj : undefined;
    }, 'two available');
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, numberMisscheduled: 0, observedGeneration: 1 });
    const get = await kubectl(c.server, ['get', 'ds', 'agent']);
    expect(get.stdout).toMatch(/agent\s+2\s+2\s+2\s+2\s+2\s+role=edge/);
  });

  it('follows node changes: a new matching node gets a pod, an unlabelled one loses it', async () => {
    await addNode(c.client, 'edge-c', { labels: { role: 'edge' } });
    await waitFor(async () => ((await listPods(c.client, 'default', 'app=agent')).some((p) => nodeOf(p) === 'edge-c') ? true : undefined), 'a pod on edge-c');
    expect((await kubectl(c.server, ['label', 'node', 'edge-c', 'role=core', '--overwrite'])).code).toBe(0);
    await waitFor(async () => ((await listPods(c.client, 'default', 'app=agent')).every((p) => nodeOf(p) !== 'edge-c') ? true : undefined), 'the edge-c pod removed');
  });

  it('rolls a new template out node by node', async () => {
    expect((await kubectl(c.server, ['apply', '-f', '-'], { stdin: manifest('agent:2') })).code).toBe(0);
    const status = await kubectl(c.server, ['rollout', 'status', 'ds/agent', '--timeout=90s'], { timeoutMs: 100_000 });
    expect(status.stdout).toContain('daemon set "agent" successfully rolled out');
    const pods = await waitFor(async () => {
      const ps = await listPods(c.client, 'default', 'app=agent');
      return ps.length === 2 && ps.every((p) => imageOf(p) === 'agent:2') ? ps : undefined;
    }, 'both pods on agent:2');
    expect(pods.map(nodeOf).sort()).toEqual(['edge-a', 'edge-b']);
    const revisions = (await c.client.list(inNamespace(resources.controllerRevisions, 'default'))).items;
    expect(revisions.map((r) => r.revision).sort()).toEqual([1, 2]);
    const current = revisions.find((r) => r.revision === 2);
    expect(pods[0]?.metadata.labels?.['controller-revision-hash']).toBe(current?.metadata.labels?.['controller.kubernetes.io/hash']);
  });

  it('rollout history and undo go through ControllerRevisions', async () => {
    const history = await kubectl(c.server, ['rollout', 'history', 'ds/agent']);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const undo = await kubectl(c.server, ['rollout', 'undo', 'ds/agent']);
    expect(undo.stdout).toContain('rolled back');
    await waitFor(async () => {
      const ps = await listPods(c.client, 'default', 'app=agent');
      return ps.length === 2 && ps.every((p) => imageOf(p) === 'agent:1') ? true : undefined;
    }, 'both pods back on agent:1');
    // The first revision was reused and renumbered, not copied.
    const revisions = (await c.client.list(inNamespace(resources.controllerRevisions, 'default'))).items;
    expect(revisions.map((r) => r.revision).sort()).toEqual([2, 3]);
  });
});
