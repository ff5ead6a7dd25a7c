// The garbage collector and the namespace controller inside the real `edgeos server`, driven by the
// admin client and the real kubectl 1.32.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, inNamespace, resources } from '../../../src/server/controllers/types.ts';
import type { KubeObject, OwnerReference, ResourceRef } from '../../../src/server/controllers/types.ts';
import { kubectl } from '../../helpers/kubectl.ts';
import { addNode, finishTerminatingPods, renewLease, startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

let c: Cluster;
const cms = inNamespace(resources.configMaps, 'default');
const gone = async (ref: ResourceRef, name: string) => {
  try {
    await c.client.get(ref, name);
    return undefined;
  } catch (err) {
    if (err instanceof NotFoundError) return true;
    throw err;
  }
};

async function configMap(name: string, owners: OwnerReference[] = [], finalizers?: string[]): Promise<KubeObject> {
  return c.client.create<KubeObject>(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(owners.length ? { ownerReferences: owners } : {}), ...(finalizers ? { finalizers } : {}) }, data: { k: 'v' } });
}

const ownerRef = (o: KubeObject, block = false): OwnerReference => ({
  apiVersion: o.apiVersion ?? 'v1', kind: o.kind ?? 'ConfigMap', name: o.metadata.name ?? '', uid: o.metadata.uid ?? '', ...(block ? { blockOwnerDeletion: true } : {}),
});

beforeAll(async () => {
  c = await startCluster();
}, 90_000);

afterAll(async () => {
  await c?.stop();
});

describe('garbage collector', () => {
  it('deletes dependents in the background when kubectl deletes the owner', async () => {
    const owner = await configMap('bg-owner');
    await configMap('bg-dep-1', [ownerRef(owner)]);
    await configMap('bg-dep-2', [ownerRef(owner)]);
    const r = await kubectl(c.server, ['delete', 'configmap', 'bg-owner']);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(async () => ((await gone(cms, 'bg-dep-1')) && (await gone(cms, 'bg-dep-2')) ? true : undefined), 'dependents to go');
  });

  it('deletes namespaced dependents of a cluster-scoped owner', async () => {
    const roles: ResourceRef = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' };
    const owner = await c.client.create<KubeObject>(roles, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'gc-owner' }, rules: [] });
    await configMap('cluster-dep', [ownerRef(owner)]);
    await c.client.delete(roles, 'gc-owner');
    await waitFor(() => gone(cms, 'cluster-dep'), 'the dependent of a cluster-scoped owner to go');
  });

  it('deletes an object whose owner never existed', async () => {
    await configMap('dangling', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-4000-8000-000000000000' }]);
    await waitFor(() => gone(cms, 'dangling'), 'the dangling dependent to go');
  });

  it('drops only the dead reference when another owner lives', async () => {
    const live = await configMap('live-owner');
    await configMap('two-owners', [ownerRef(live), { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost2', uid: '00000000-0000-4000-8000-000000000001' }]);
    const after = await waitFor(async () => {
      const o = await c.client.get(cms, 'two-owners');
      return o.metadata.ownerReferences?.length === 1 ? o : undefined;
    }, 'the dangling reference to be removed');
    expect(after.metadata.ownerReferences?.[0]?.uid).toBe(live.metadata.uid);
  });

  it('foreground: the owner waits for blocking dependents, then goes', async () => {
    const owner = await configMap('fg-owner', [], ['foregroundDeletion']);
    await configMap('fg-dep', [ownerRef(owner, true)], ['example.com/hold']);
    await c.client.delete(cms, 'fg-owner');
    // The dependent is being deleted but its own finalizer holds it, so the owner must wait.
    await waitFor(async () => ((await c.client.get(cms, 'fg-dep')).metadata.deletionTimestamp ? true : undefined), 'fg-dep to be deleted');
    const waitingOwner = await c.client.get(cms, 'fg-owner');
    expect(waitingOwner.metadata.deletionTimestamp).toBeDefined();
    expect(waitingOwner.metadata.finalizers).toContain('foregroundDeletion');
    await c.client.patch(cms, 'fg-dep', 'merge', { metadata: { finalizers: null } });
    await waitFor(async () => ((await gone(cms, 'fg-dep')) && (await gone(cms, 'fg-owner')) ? true : undefined), 'owner and dependent to go');
  });

  it('foreground and orphan cascades through kubectl', async () => {
    const fg = await configMap('kfg-owner');
    await configMap('kfg-dep', [ownerRef(fg, true)]);
    expect((await kubectl(c.server, ['delete', 'configmap', 'kfg-owner', '--cascade=foreground'])).code).toBe(0);
    await waitFor(async () => ((await gone(cms, 'kfg-dep')) && (await gone(cms, 'kfg-owner')) ? true : undefined), 'foreground cascade');

    const or = await configMap('kor-owner');
    await configMap('kor-dep', [ownerRef(or)]);
    expect((await kubectl(c.server, ['delete', 'configmap', 'kor-owner', '--cascade=orphan'])).code).toBe(0);
    await waitFor(() => gone(cms, 'kor-owner'), 'the orphaning owner to go');
    const dep = await c.client.get(cms, 'kor-dep');
    expect(dep.metadata.ownerReferences ?? []).toEqual([]);
  });

  it('orphan finalizer: references are removed from dependents, then the owner goes', async () => {
    const owner = await configMap('or-owner', [], ['orphan']);
    await configMap('or-dep', [ownerRef(owner)]);
    await c.client.delete(cms, 'or-owner');
    await waitFor(() => gone(cms, 'or-owner'), 'the owner to go');
    const dep = await c.client.get(cms, 'or-dep');
    expect(dep.metadata.ownerReferences ?? []).toEqual([]);
  });
});

// The whole chain Kubernetes cascades through: Deployment → ReplicaSet → pods bound to a node,
// deleted by the real kubectl with each --cascade, the deployment, replicaset, scheduler and
// garbage-collector controllers running. The API never walks owner references itself.
describe('kubectl delete --cascade through the garbage collector', () => {
  const rsRef = inNamespace(resources.replicaSets, 'default');
  const podRef = inNamespace(resources.pods, 'default');
  const deploy = (name: string) => JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1' }] } } },
  });
  const owned = async (ref: ResourceRef, label: string) => (await c.client.list(ref, { labelSelector: `app=${label}` })).items;

  /** The Deployment, its ReplicaSet and its two pods, scheduled onto gc-node. */
  async function chain(name: string): Promise<{ rs: KubeObject; pods: KubeObject[] }> {
    await renewLease(c.client, 'gc-node');
    const r = await kubectl(c.server, ['apply', '-f', '-'], { stdin: deploy(name) });
    expect(r.code, r.stderr).toBe(0);
    const pods = await waitFor(async () => {
      const list = await owned(podRef, name);
      return list.length === 2 && list.every((p) => (p.spec as { nodeName?: string }).nodeName === 'gc-node') ? list : undefined;
    }, `${name}'s pods to be scheduled`);
    const [rs] = await owned(rsRef, name);
    expect(rs?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name, blockOwnerDeletion: true });
    expect(pods[0]?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', blockOwnerDeletion: true });
    return { rs: rs!, pods };
  }

  beforeAll(async () => {
    await addNode(c.client, 'gc-node');
  });

  // Later tests expect no node to schedule onto.
  afterAll(async () => {
    await c.client.delete(resources.nodes, 'gc-node');
  });

  it('foreground: the Deployment waits for its ReplicaSet, which waits for its pods to stop gracefully', async () => {
    await chain('fg-web');
    const r = await kubectl(c.server, ['delete', 'deployment', 'fg-web', '--cascade=foreground', '--wait=false']);
    expect(r.code, r.stderr).toBe(0);
    // Without a kubelet confirming, the bound pods stay terminating (30 s grace) and block everything above them.
    const pods = await waitFor(async () => {
      const list = await owned(podRef, 'fg-web');
      return list.length === 2 && list.every((p) => p.metadata.deletionTimestamp) ? list : undefined;
    }, 'the pods to be terminating');
    for (const p of pods) expect(p.metadata.deletionGracePeriodSeconds).toBe(30);
    const rs = await waitFor(async () => ((await owned(rsRef, 'fg-web'))[0]?.metadata.deletionTimestamp ? (await owned(rsRef, 'fg-web'))[0] : undefined), 'the ReplicaSet to be deleting');
    expect(rs.metadata.finalizers).toContain('foregroundDeletion');
    await new Promise((res) => setTimeout(res, 1500));
    const waiting = await c.client.get(inNamespace(resources.deployments, 'default'), 'fg-web');
    expect(waiting.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(await owned(podRef, 'fg-web')).toHaveLength(2);
    const kubelet = finishTerminatingPods(c.client, ['gc-node']);
    try {
      await waitFor(() => gone(inNamespace(resources.deployments, 'default'), 'fg-web'), 'the Deployment to go last');
      expect(await owned(rsRef, 'fg-web')).toEqual([]);
      expect(await owned(podRef, 'fg-web')).toEqual([]);
    } finally {
      await kubelet();
    }
  }, 90_000);

  it('background: the Deployment goes at once, then the collector removes the ReplicaSet and the pods', async () => {
    await chain('bg-web');
    const kubelet = finishTerminatingPods(c.client, ['gc-node']);
    try {
      const r = await kubectl(c.server, ['delete', 'deployment', 'bg-web', '--cascade=background']);
      expect(r.code, r.stderr).toBe(0);
      expect(await gone(inNamespace(resources.deployments, 'default'), 'bg-web')).toBe(true);
      await waitFor(async () => ((await owned(rsRef, 'bg-web')).length === 0 && (await owned(podRef, 'bg-web')).length === 0 ? true : undefined), 'the ReplicaSet and pods to go');
    } finally {
      await kubelet();
    }
  }, 90_000);

  it('orphan: the Deployment goes and its ReplicaSet stays, without the reference, still running its pods', async () => {
    const { rs, pods } = await chain('or-web');
    const r = await kubectl(c.server, ['delete', 'deployment', 'or-web', '--cascade=orphan']);
    expect(r.code, r.stderr).toBe(0);
    expect(await gone(inNamespace(resources.deployments, 'default'), 'or-web')).toBe(true);
    const kept = await c.client.get(rsRef, rs.metadata.name ?? '');
    expect(kept.metadata.uid).toBe(rs.metadata.uid);
    expect(kept.metadata.ownerReferences ?? []).toEqual([]);
    const left = await owned(podRef, 'or-web');
    expect(left.map((p) => p.metadata.uid).sort()).toEqual(pods.map((p) => p.metadata.uid).sort());
    expect(left.every((p) => !p.metadata.deletionTimestamp)).toBe(true);
  }, 90_000);
});

describe('namespace controller', () => {
  it('empties a deleted namespace, custom resources included, then removes it', async () => {
    const crds: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
    await c.client.create(crds, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    await c.client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    const widgets: ResourceRef = { group: 'example.com', version: 'v1', resource: 'widgets', namespace: 'doomed' };
    await waitFor(async () => (await c.client.create(widgets, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' } })) ?? undefined, 'the CRD to serve widgets');
    await c.client.create(inNamespace(resources.configMaps, 'doomed'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
    await c.client.create(inNamespace(resources.services, 'doomed'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { selector: { a: 'b' }, ports: [{ port: 80 }] } });
    await c.client.create(inNamespace(resources.pods, 'doomed'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1' }] } });

    const r = await kubectl(c.server, ['delete', 'namespace', 'doomed'], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => gone(resources.namespaces, 'doomed'), 'the namespace to be removed', 60_000);
    for (const ref of [widgets, inNamespace(resources.configMaps, 'doomed'), inNamespace(resources.services, 'doomed'), inNamespace(resources.pods, 'doomed')]) {
      expect((await c.client.list(ref)).items).toEqual([]);
    }
  }, 120_000);

  it('keeps a namespace Terminating while content with finalizers remains, and finishes once it is released', async () => {
    await c.client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'held' } });
    const heldCms = inNamespace(resources.configMaps, 'held');
    await c.client.create(heldCms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', finalizers: ['example.com/hold'] } });
    await c.client.create(heldCms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain' } });
    await c.client.delete(resources.namespaces, 'held');
    await waitFor(() => gone(heldCms, 'plain'), 'the unfinalized content to go');
    const keep = await waitFor(async () => {
      const o = await c.client.get(heldCms, 'keep');
      return o.metadata.deletionTimestamp ? o : undefined;
    }, 'the finalized ConfigMap to be deleted');
    expect(keep.metadata.finalizers).toEqual(['example.com/hold']);
    const ns = await c.client.get(resources.namespaces, 'held');
    expect((ns.spec as { finalizers?: string[] }).finalizers).toEqual(['kubernetes']);
    expect((await kubectl(c.server, ['get', 'namespace', 'held'])).stdout).toContain('Terminating');
    await c.client.patch(heldCms, 'keep', 'merge', { metadata: { finalizers: null } });
    await waitFor(() => gone(resources.namespaces, 'held'), 'the released namespace to be removed', 60_000);
  }, 120_000);
});
