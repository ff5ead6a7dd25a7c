/**
 * StatefulSets end to end with the real server and kubectl 1.32: ordered creation (-0 must be
 * Ready before -1 exists), stable names and claims, scale down from the highest ordinal, and a
 * rolling update with ControllerRevisions that `kubectl rollout status/history` read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../../helpers/kubectl.ts';
import { inNamespace, resources } from '../../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../../src/server/controllers/types.ts';
import { autoReady, listPods, markRunningReady, startWorkloadCluster, waitFor } from './harness.ts';
import type { WorkloadCluster } from './harness.ts';

let c: WorkloadCluster;

beforeAll(async () => {
  // With the garbage collector, which removes a deleted set's pods and claims (the API deletes only
  // the set), and what the controller, its informer a moment behind, creates again for it.
  c = await startWorkloadCluster(['statefulset', 'garbage-collector']);
});

afterAll(async () => {
  await c?.stop();
});

const manifest = (image: string, replicas: number) => manifestFor('db', image, replicas);
const manifestFor = (name: string, image: string, replicas: number) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'db', image }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });

const names = async () => (await listPods(c.client, 'default', 'app=db')).map((p) => p.metadata.name).sort();
const imageOf = (p: KubeObject) => (p.spec as { containers: { image: string }[] }).containers[0]?.image;

describe('StatefulSet', () => {
  it('creates db-0, and db-1 only once db-0 is Running and Ready', async () => {
    expect((await kubectl(c.server, ['apply', '-f', '-'], { stdin: manifest('db:1', 2) })).code).toBe(0);
    const [p0] = await waitFor(async () => {
      const ps = await listPods(c.client, 'default', 'app=db');
      return ps.length ? ps : undefined;
    }, 'db-0');
    expect(p0?.metadata.name).toBe('db-0');
    expect(p0?.spec).toMatchObject({ hostname: 'db-0', subdomain: 'db', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }, { name: expect.stringMatching(/^kube-api-access-/) }] });
    expect(p0?.metadata.labels).toMatchObject({ app: 'db', 'statefulset.kubernetes.io/pod-name': 'db-0', 'apps.kubernetes.io/pod-index': '0' });
    await c.client.get(inNamespace(resources.persistentVolumeClaims, 'default'), 'data-db-0');
    // Not ready yet: db-1 must not appear (give the controller time to make a mistake).
    await new Promise((r) => setTimeout(r, 1500));
    expect(await names()).toEqual(['db-0']);
    await markRunningReady(c.client, p0 as KubeObject);
    await waitFor(async () => ((await names()).join() === 'db-0,db-1' ? true : undefined), 'db-1 after db-0 is ready');
  });

  it('reports status and completes rollout status once all are ready', async () => {
    const kubelet = autoReady(c.client, 'default', 'app=db');
    try {
      const status = await kubectl(c.server, ['rollout', 'status', 'sts/db', '--timeout=90s'], { timeoutMs: 100_000 });
      // The defaulted rollingUpdate.partition (0) makes kubectl take its "partitioned" branch, as upstream.
      expect(status.stdout).toContain('partitioned roll out complete: 2 new pods have been updated...');
      const sts = await c.client.get(inNamespace(resources.statefulSets, 'default'), 'db');
      const s = sts.status as Record<string, unknown>;
      expect(s).toMatchObject({ replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2 });
      expect(s.currentRevision).toBe(s.updateRevision);
      const revs = (await c.client.list(inNamespace(resources.controllerRevisions, 'default'))).items;
      expect(revs.map((r) => r.metadata.name)).toEqual([s.updateRevision]);
    } finally {
      await kubelet.stop();
    }
  });

  it('scales up in order and down from the highest ordinal', async () => {
    const kubelet = autoReady(c.client, 'default', 'app=db');
    try {
      expect((await kubectl(c.server, ['scale', 'sts/db', '--replicas=4'])).code).toBe(0);
      await waitFor(async () => ((await names()).join() === 'db-0,db-1,db-2,db-3' ? true : undefined), 'four pods');
      expect((await kubectl(c.server, ['scale', 'sts/db', '--replicas=2'])).code).toBe(0);
      const seen: string[] = [];
      await waitFor(async () => {
        const now = await names();
        if (now.length === 3) seen.push(now.join());
        return now.join() === 'db-0,db-1' ? true : undefined;
      }, 'back to two pods');
      // Whenever three were left, they were the lowest three.
      for (const s of seen) expect(s).toBe('db-0,db-1,db-2');
      // The claims stay (whenScaled: Retain).
      await c.client.get(inNamespace(resources.persistentVolumeClaims, 'default'), 'data-db-3');
    } finally {
      await kubelet.stop();
    }
  });

  it('creates the pods of a Parallel set each after its own claim', async () => {
    // The revision at which each claim and pod was created: the store's revisions order all writes.
    const addedAt = new Map<string, number>();
    const ac = new AbortController();
    const watching: Promise<unknown>[] = [];
    for (const ref of [inNamespace(resources.persistentVolumeClaims, 'default'), inNamespace(resources.pods, 'default')]) {
      const { resourceVersion } = await c.client.list(ref);
      watching.push((async () => {
        for await (const ev of c.client.watch(ref, { resourceVersion, signal: ac.signal, labelSelector: 'app=par' })) {
          if (ev.type === 'ADDED') addedAt.set(`${ev.object.kind ?? ''}/${ev.object.metadata.name ?? ''}`, Number(ev.object.metadata.resourceVersion));
        }
      })().catch(() => undefined));
    }
    const manifest = JSON.parse(manifestFor('par', 'img', 12)) as { spec: Record<string, unknown> };
    manifest.spec.podManagementPolicy = 'Parallel';
    manifest.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete' };
    try {
      expect((await kubectl(c.server, ['apply', '-f', '-'], { stdin: JSON.stringify(manifest) })).code).toBe(0);
      await waitFor(async () => (addedAt.size === 24 ? true : undefined), '12 claims and 12 pods seen');
      for (let i = 0; i < 12; i++) expect(addedAt.get(`Pod/par-${i}`)).toBeGreaterThan(addedAt.get(`PersistentVolumeClaim/data-par-${i}`)!);
    } finally {
      ac.abort();
      await Promise.all(watching);
      expect((await kubectl(c.server, ['delete', 'sts/par'])).code).toBe(0);
    }
  });

  it('deletes claims on scale-down and with the set when the retention policy says Delete', async () => {
    const kubelet = autoReady(c.client, 'default', 'app=tmp');
    const pvcs = async () => (await c.client.list(inNamespace(resources.persistentVolumeClaims, 'default'), { labelSelector: 'app=tmp' })).items.map((p) => p.metadata.name).sort();
    try {
      const manifest = JSON.parse(manifestFor('tmp', 'img', 2)) as { spec: Record<string, unknown> };
      manifest.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Delete' };
      expect((await kubectl(c.server, ['apply', '-f', '-'], { stdin: JSON.stringify(manifest) })).code).toBe(0);
      await waitFor(async () => ((await pvcs()).join() === 'data-tmp-0,data-tmp-1' ? true : undefined), 'two claims');
      await waitFor(async () => ((await listPods(c.client, 'default', 'app=tmp')).length === 2 ? true : undefined), 'two pods');
      expect((await kubectl(c.server, ['scale', 'sts/tmp', '--replicas=1'])).code).toBe(0);
      await waitFor(async () => ((await pvcs()).join() === 'data-tmp-0' ? true : undefined), 'the scaled-away claim deleted');
      expect((await kubectl(c.server, ['delete', 'sts/tmp'])).code).toBe(0);
      await waitFor(async () => ((await pvcs()).length === 0 ? true : undefined), 'the remaining claim deleted with the set');
    } finally {
      await kubelet.stop();
    }
  });

  it('rolls a new template out from the highest ordinal and keeps history', async () => {
    const kubelet = autoReady(c.client, 'default', 'app=db');
    try {
      expect((await kubectl(c.server, ['apply', '-f', '-'], { stdin: manifest('db:2', 2) })).code).toBe(0);
      const status = await kubectl(c.server, ['rollout', 'status', 'sts/db', '--timeout=90s'], { timeoutMs: 100_000 });
      expect(status.code).toBe(0);
      const pods = await listPods(c.client, 'default', 'app=db');
      expect(pods.map(imageOf)).toEqual(['db:2', 'db:2']);
      const history = await kubectl(c.server, ['rollout', 'history', 'sts/db']);
      expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
      const undo = await kubectl(c.server, ['rollout', 'undo', 'sts/db']);
      expect(undo.stdout).toContain('rolled back');
      await waitFor(async () => {
        const ps = await listPods(c.client, 'default', 'app=db');
        return ps.length === 2 && ps.every((p) => imageOf(p) === 'db:1') ? true : undefined;
      }, 'pods back on db:1');
    } finally {
      await kubelet.stop();
    }
  });
});
