// Claims and volumes inside the real `edgeos server` against simulated nodes: the default class
// from the manifests folder, WaitForFirstConsumer provisioning on the scheduled node, PV node
// affinity in the scheduler (with kube-scheduler's messages), static binding, in-use protection
// and both reclaim policies. The nodes' agents are not there, so a deleted local volume waits
// Terminating for its node, as it does for a node that is offline (test/e2e/storage.test.ts
// covers the agents on real containerd).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PATH_FINALIZER, LOCAL_STORAGE_PATH_ANNOTATION } from '../../../src/common/local-volumes.ts';
import { NotFoundError, inNamespace, resources } from '../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../src/server/controllers/types.ts';
import { kubectl } from '../../helpers/kubectl.ts';
import { addNode, finishTerminatingPods, pod, startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

let c: Cluster;
let stopFinishing: () => Promise<void> = async () => {};
const claims = inNamespace(resources.persistentVolumeClaims, 'default');
const pods = inNamespace(resources.pods, 'default');
const volumes = { group: '', version: 'v1', resource: 'persistentvolumes' };

interface Claim extends KubeObject {
  spec: { storageClassName?: string; volumeName?: string };
  status?: { phase?: string; capacity?: { storage?: string }; accessModes?: string[] };
}
interface Volume extends KubeObject {
  spec: { capacity?: { storage?: string }; local?: { path?: string }; claimRef?: { name?: string; uid?: string }; persistentVolumeReclaimPolicy?: string; nodeAffinity?: unknown };
  status?: { phase?: string };
}

const claim = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, ...spec },
});
const withClaim = (name: string, claimName: string, spec: Record<string, unknown> = {}) =>
  pod(name, { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }], ...spec } });
const nodeOf = async (name: string) => ((await c.client.get(pods, name)).spec as { nodeName?: string }).nodeName || undefined;
const getClaim = (name: string) => c.client.get<Claim>(claims, name);
const events = async (name: string) => (await c.client.list(inNamespace(resources.events, 'default'), { fieldSelector: `involvedObject.name=${name}` })).items;
const scheduledFailure = async (name: string) => {
  const p = await c.client.get(pods, name);
  return ((p.status as { conditions?: { type: string; status: string; message?: string }[] }).conditions ?? []).find((x) => x.type === 'PodScheduled' && x.status === 'False')?.message;
};
const gone = async (ref: typeof volumes, name: string) => c.client.get(ref, name).then(() => undefined, (e: unknown) => (e instanceof NotFoundError ? true : undefined));

beforeAll(async () => {
  c = await startCluster();
  for (const [name, zone] of [['edge-a', 'a'], ['edge-b', 'b']] as const) {
    await addNode(c.client, name, { labels: { zone } });
    // What an agent that runs pods reports at every connect: where its local volumes go.
    await c.client.patch(resources.nodes, name, 'merge', { metadata: { annotations: { [LOCAL_STORAGE_PATH_ANNOTATION]: `/var/lib/edgeos-${name}/storage` } } });
  }
  stopFinishing = finishTerminatingPods(c.client, ['edge-a', 'edge-b']);
}, 90_000);

afterAll(async () => {
  await stopFinishing();
  await c?.stop();
});

describe('local volumes in the control plane', () => {
  let volumeName = '';

  it('gives a claim without a class the default local-path class and waits for its first consumer', async () => {
    // The default class comes from the manifests folder the server writes and applies at start.
    const sc = await waitFor(async () => c.client.get({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, 'local-path').catch(() => undefined), 'the local-path StorageClass');
    expect(sc).toMatchObject({ provisioner: 'edgeos.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' });
    await c.client.create(claims, claim('data'));
    const defaulted = await waitFor(async () => {
      const got = await getClaim('data');
      return got.spec.storageClassName && got.metadata.finalizers ? got : undefined;
    }, 'the default class and the protection finalizer on the claim');
    expect(defaulted.spec.storageClassName).toBe('local-path');
    expect(defaulted.status?.phase).toBe('Pending');
    expect(defaulted.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    const ev = await waitFor(async () => (await events('data')).find((e) => e.reason === 'WaitForFirstConsumer'), 'WaitForFirstConsumer');
    expect(ev.message).toBe('waiting for first consumer to be created before binding');
  });

  it('provisions the claim on the node its pod is scheduled to, then binds the pod', async () => {
    // The revision at which each step first showed: the store's revisions order all writes.
    const firstAt = { volume: 0, claimBound: 0, podBound: 0 };
    const firstSeen: { volume?: Volume; claim?: Claim } = {};
    const ac = new AbortController();
    const watching: Promise<unknown>[] = [];
    const follow = async (ref: typeof pods, seen: (o: KubeObject) => void) => {
      const { resourceVersion } = await c.client.list(ref);
      watching.push((async () => {
        for await (const ev of c.client.watch(ref, { resourceVersion, signal: ac.signal })) seen(ev.object);
      })().catch(() => undefined));
    };
    const rv = (o: KubeObject) => Number(o.metadata.resourceVersion);
    await follow(volumes, (o) => {
      if (!firstAt.volume && (o as Volume).spec.claimRef?.name === 'data') [firstAt.volume, firstSeen.volume] = [rv(o), o as Volume];
    });
    await follow(claims, (o) => {
      if (!firstAt.claimBound && o.metadata.name === 'data' && (o as Claim).spec.volumeName) [firstAt.claimBound, firstSeen.claim] = [rv(o), o as Claim];
    });
    await follow(pods, (o) => { if (!firstAt.podBound && o.metadata.name === 'app' && (o.spec as { nodeName?: string }).nodeName) firstAt.podBound = rv(o); });
    await c.client.create(pods, withClaim('app', 'data', { nodeSelector: { zone: 'a' } }));
    expect(await waitFor(() => nodeOf('app'), 'app bound')).toBe('edge-a');
    // PreBind before Bind: the pod reaches its node (and the node's feed) only once its claim names
    // a volume that exists.
    await waitFor(async () => firstAt.podBound > 0 || undefined, 'the binding seen');
    ac.abort();
    await Promise.all(watching);
    expect(firstAt.volume).toBeGreaterThan(0);
    expect(firstAt.claimBound).toBeGreaterThan(0);
    expect(firstAt.podBound).toBeGreaterThan(Math.max(firstAt.volume, firstAt.claimBound));
    // One write provisions and binds: the volume's create, the claim's binding and the pod's are
    // one store transaction (consecutive revisions, nothing between them), both Bound from then.
    expect(firstAt.claimBound).toBe(firstAt.volume + 1);
    expect(firstAt.podBound).toBe(firstAt.claimBound + 1);
    expect(firstSeen.volume?.status?.phase).toBe('Bound');
    expect(firstSeen.claim?.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' } });
    expect(firstSeen.claim?.metadata.annotations).toMatchObject({ 'volume.kubernetes.io/selected-node': 'edge-a', 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    // The pod is bound once its claim names its volume (isPVCFullyBound); the claim's status follows.
    const bound = await waitFor(async () => {
      const got = await getClaim('data');
      return got.status?.phase === 'Bound' ? got : undefined;
    }, 'the claim Bound');
    expect(bound.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' } });
    expect(bound.metadata.annotations).toMatchObject({ 'volume.kubernetes.io/selected-node': 'edge-a', 'pv.kubernetes.io/bind-completed': 'yes' });
    volumeName = bound.spec.volumeName ?? '';
    expect(volumeName).toBe(`pvc-${bound.metadata.uid}`);
    const pv = await c.client.get<Volume>(volumes, volumeName);
    expect(pv.spec.local?.path).toBe(`/var/lib/edgeos-edge-a/storage/${volumeName}_default_data`);
    expect(pv.spec.capacity?.storage).toBe('2Gi');
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Delete');
    expect(pv.spec.claimRef).toMatchObject({ name: 'data', uid: bound.metadata.uid });
    expect(pv.spec.nodeAffinity).toEqual({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-a'] }] }] } });
    expect(pv.metadata.finalizers).toEqual(['kubernetes.io/pv-protection', LOCAL_PATH_FINALIZER]);
    expect(pv.status?.phase).toBe('Bound');
    const ev = await waitFor(async () => (await events('data')).find((e) => e.reason === 'ProvisioningSucceeded'), 'ProvisioningSucceeded');
    expect(ev.message).toBe(`Successfully provisioned volume ${volumeName} using edgeos.io/local-path`);
    // Still the persistentvolume controller's event, told once although the claim arrived bound.
    expect(ev).toMatchObject({ type: 'Normal', count: 1, source: { component: 'persistentvolume-controller' } });
    // A claim seen bound before its volume reached the controller's informer is not Lost.
    expect((await events('data')).map((e) => e.reason)).not.toContain('ClaimLost');

    // kubectl prints both as upstream does.
    const out = await kubectl(c.server, ['get', 'pvc,pv', '--no-headers']);
    const lines = out.stdout.trim().split('\n').map((l) => l.split(/\s+/));
    expect(lines[0]?.slice(0, 7)).toEqual(['persistentvolumeclaim/data', 'Bound', volumeName, '2Gi', 'RWO', 'local-path', '<unset>']);
    expect(lines[1]?.slice(0, 8)).toEqual([`persistentvolume/${volumeName}`, '2Gi', 'RWO', 'Delete', 'Bound', 'default/data', 'local-path', '<unset>']);
  });

  it("never places a pod on another node than its volume's, and says why", async () => {
    // edge-a is the worse node for the scores (a PreferNoSchedule taint, a pod already there): the volume wins.
    await c.client.patch(resources.nodes, 'edge-a', 'merge', { spec: { taints: [{ key: 'busy', value: 'yes', effect: 'PreferNoSchedule' }] } });
    for (const name of ['again-1', 'again-2']) {
      await c.client.create(pods, withClaim(name, 'data'));
      expect(await waitFor(() => nodeOf(name), `${name} bound`)).toBe('edge-a');
    }
    await c.client.patch(resources.nodes, 'edge-a', 'merge', { spec: { unschedulable: true, taints: null } });
    await c.client.create(pods, withClaim('stuck', 'data'));
    const message = await waitFor(() => scheduledFailure('stuck'), 'stuck unschedulable');
    expect(message).toBe('0/2 nodes are available: 1 node(s) had volume node affinity conflict, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
    await c.client.patch(resources.nodes, 'edge-a', 'merge', { spec: { unschedulable: null } });
    expect(await waitFor(() => nodeOf('stuck'), 'stuck bound once edge-a takes pods again')).toBe('edge-a');
  });

  it('refuses pods whose claim is missing or unbound with an Immediate class, with upstream messages', async () => {
    await c.client.create(pods, withClaim('orphan', 'nope'));
    expect(await waitFor(() => scheduledFailure('orphan'), 'orphan unschedulable')).toBe(
      '0/2 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
    await c.client.create({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'manual' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'Immediate' });
    await c.client.create(claims, claim('manual', { storageClassName: 'manual' }));
    await c.client.create(pods, withClaim('waiter', 'manual'));
    expect(await waitFor(() => scheduledFailure('waiter'), 'waiter unschedulable')).toBe(
      '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
    // An administrator's volume that fits binds the claim, and the pod follows it to its node.
    await c.client.create(volumes, {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'disk-b' },
      spec: {
        capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], storageClassName: 'manual', local: { path: '/mnt/disk' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-b'] }] }] } },
      },
    });
    expect(await waitFor(() => nodeOf('waiter'), 'waiter bound')).toBe('edge-b');
    expect((await getClaim('manual')).spec.volumeName).toBe('disk-b');
    const disk = await c.client.get<Volume>(volumes, 'disk-b');
    expect(disk.metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);
    expect(disk.status?.phase).toBe('Bound');
  });

  it('keeps a claim in use, then releases and deletes its local volume, which waits for its node', async () => {
    await c.client.delete(claims, 'data');
    // In use by pods: Terminating, still Bound.
    await new Promise((r) => setTimeout(r, 500));
    const held = await getClaim('data');
    expect(held.metadata.deletionTimestamp).toBeTruthy();
    expect(held.status?.phase).toBe('Bound');
    for (const name of ['app', 'again-1', 'again-2', 'stuck']) await c.client.delete(pods, name);
    await waitFor(() => gone(claims, 'data'), 'the claim to go with its pods');
    // Reclaim policy Delete: the object is deleted, and waits for edge-a's agent to delete the data.
    // pv-protection lifts its finalizer once the deleted volume is no longer Bound.
    const pv = await waitFor(async () => {
      const v = await c.client.get<Volume>(volumes, volumeName);
      return v.metadata.deletionTimestamp && !v.metadata.finalizers?.includes('kubernetes.io/pv-protection') ? v : undefined;
    }, 'the released volume to be deleted');
    expect(pv.status?.phase).toBe('Released');
    expect(pv.metadata.finalizers).toEqual([LOCAL_PATH_FINALIZER]);
    const listed = await kubectl(c.server, ['get', 'pv', volumeName, '--no-headers']);
    expect(listed.stdout.split(/\s+/)[4]).toBe('Terminating');
    // The node's agent removes its finalizer once the data is gone (here the test does).
    await c.client.patch(volumes, volumeName, 'merge', { metadata: { finalizers: null } });
    await waitFor(() => gone(volumes, volumeName), 'the volume to go');
  });

  it('keeps a Retain volume Released with its data when its claim goes', async () => {
    await c.client.create({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, {
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'keep' }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer',
    });
    await c.client.create(claims, claim('kept', { storageClassName: 'keep' }));
    await c.client.create(pods, withClaim('keeper', 'kept', { nodeSelector: { zone: 'b' } }));
    expect(await waitFor(() => nodeOf('keeper'), 'keeper bound')).toBe('edge-b');
    const name = (await getClaim('kept')).spec.volumeName ?? '';
    await c.client.delete(pods, 'keeper');
    await c.client.delete(claims, 'kept');
    const released = await waitFor(async () => {
      const v = await c.client.get<Volume>(volumes, name);
      return v.status?.phase === 'Released' ? v : undefined;
    }, 'the volume Released');
    expect(released.spec.persistentVolumeReclaimPolicy).toBe('Retain');
    await new Promise((r) => setTimeout(r, 500));
    expect((await c.client.get<Volume>(volumes, name)).metadata.deletionTimestamp).toBeUndefined();
  });

  it("provisions a pod's local-path claim in its binding, and refuses a binding to a node that cannot hold it", async () => {
    // Another scheduler's pod, bound by hand through pods/binding as a scheduler would.
    await addNode(c.client, 'bare'); // reports no storage path: no agent runs pods there
    await c.client.create(claims, claim('manual-bind'));
    await c.client.create(pods, withClaim('by-hand', 'manual-bind', { schedulerName: 'someone-else' }));
    const bind = (node: string) => c.client.createSubresource(pods, 'by-hand', 'binding', {
      apiVersion: 'v1', kind: 'Binding', metadata: { name: 'by-hand' }, target: { apiVersion: 'v1', kind: 'Node', name: node },
    });
    const refused = await bind('bare').then(() => undefined, (e: unknown) => e as { status?: number; message?: string });
    expect(refused?.status).toBe(422);
    expect(refused?.message).toContain('persistentvolumeclaim "manual-bind" cannot be provisioned on node "bare": the node reports no local storage path');
    expect(await nodeOf('by-hand')).toBeUndefined();
    expect((await getClaim('manual-bind')).spec.volumeName).toBeUndefined();
    await bind('edge-b');
    const bound = await getClaim('manual-bind');
    expect(bound.spec.volumeName).toBe(`pvc-${bound.metadata.uid}`);
    expect(bound.status?.phase).toBe('Bound');
    expect(bound.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBe('edge-b');
    const pv = await c.client.get<Volume>(volumes, bound.spec.volumeName ?? '');
    expect(pv.spec.local?.path).toBe(`/var/lib/edgeos-edge-b/storage/${bound.spec.volumeName}_default_manual-bind`);
    expect(pv.metadata.uid).toBeTruthy();
    expect(pv.metadata.creationTimestamp).toBeTruthy();
    expect(Number(pv.metadata.resourceVersion) + 1).toBe(Number(bound.metadata.resourceVersion));
    expect(await nodeOf('by-hand')).toBe('edge-b');
    await c.client.delete(pods, 'by-hand');
  });

  it('binds a claim in the volume create only for its own provisioned volume of its class', async () => {
    // A volume that looks provisioned for the claim but is of another class: the API creates it as
    // sent (Pending) and leaves the claim alone; whatever follows is the controller's business.
    await c.client.create(claims, claim('stray'));
    const before = await waitFor(async () => {
      const got = await getClaim('stray');
      return got.metadata.uid ? got : undefined;
    }, 'the stray claim');
    const seen: number[] = [];
    const ac = new AbortController();
    const { resourceVersion } = await c.client.list(claims);
    const watching = (async () => {
      for await (const ev of c.client.watch(claims, { resourceVersion, signal: ac.signal })) if (ev.object.metadata.name === 'stray') seen.push(Number(ev.object.metadata.resourceVersion));
    })().catch(() => undefined);
    const created: Volume = await c.client.create(volumes, {
      apiVersion: 'v1', kind: 'PersistentVolume',
      metadata: { name: `pvc-${before.metadata.uid}`, annotations: { 'pv.kubernetes.io/provisioned-by': 'edgeos.io/local-path', 'edgeos.io/local-path-node': 'edge-b' } },
      spec: {
        capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', local: { path: `/var/lib/edgeos-edge-b/storage/pvc-${before.metadata.uid}_default_stray` },
        claimRef: { namespace: 'default', name: 'stray', uid: before.metadata.uid },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-b'] }] }] } },
      },
    });
    expect(created.status?.phase).toBe('Pending');
    await new Promise((r) => setTimeout(r, 1000));
    ac.abort();
    await watching;
    // No write of the claim at the revision after the volume's (the same transaction's).
    expect(seen).not.toContain(Number(created.metadata.resourceVersion) + 1);
    await c.client.delete(volumes, created.metadata.name ?? '');
    await c.client.delete(claims, 'stray');
  });
});
