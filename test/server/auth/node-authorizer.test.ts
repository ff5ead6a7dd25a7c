import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/log.ts';
import { openSqliteStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/index.ts';
import { createAuthorizer, forbiddenStatus, nodeAuthzKeys, rbacKeys } from '../../../src/server/auth/index.ts';
import type { Authorizer, RequestAttributes } from '../../../src/server/auth/index.ts';
import { resource, user } from './attrs.ts';

let store: Store;
let authz: Authorizer;
const node = user('system:node:gw-1', 'system:nodes');
const allowed = async (a: RequestAttributes) => (await authz.authorize(a)).allowed;
const put = (key: string, obj: unknown) => store.create(key, Buffer.from(JSON.stringify(obj)));

beforeAll(async () => {
  store = await openSqliteStore({ file: ':memory:' });
  authz = createAuthorizer({ store, log: silentLogger() });
  await put(nodeAuthzKeys.pod('shop', 'web'), {
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      nodeName: 'gw-1',
      serviceAccountName: 'web-sa',
      imagePullSecrets: [{ name: 'regcred' }],
      volumes: [
        { name: 'cfg', configMap: { name: 'web-config' } },
        { name: 'tls', secret: { secretName: 'web-tls' } },
        { name: 'proj', projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'proj-secret' } }] } },
        { name: 'data', persistentVolumeClaim: { claimName: 'web-data' } },
      ],
      containers: [
        {
          name: 'c',
          image: 'nginx',
          env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db-password', key: 'pw' } } }],
          envFrom: [{ configMapRef: { name: 'env-cm' } }],
        },
      ],
      initContainers: [{ name: 'i', image: 'busybox', envFrom: [{ secretRef: { name: 'init-secret' } }] }],
    },
  });
  await put(nodeAuthzKeys.pod('shop', 'elsewhere'), {
    metadata: { name: 'elsewhere', namespace: 'shop' },
    spec: { nodeName: 'gw-2', volumes: [{ name: 's', secret: { secretName: 'gw2-only' } }], containers: [{ name: 'c', image: 'x' }] },
  });
  await put(nodeAuthzKeys.pod('shop', 'pending'), {
    metadata: { name: 'pending', namespace: 'shop' },
    spec: { volumes: [{ name: 's', secret: { secretName: 'unscheduled' } }], containers: [{ name: 'c', image: 'x' }] },
  });
  await put(nodeAuthzKeys.csr('csr-gw-1'), { spec: { username: 'system:node:gw-1' } });
  await put(nodeAuthzKeys.csr('csr-gw-2'), { spec: { username: 'system:node:gw-2' } });
});
afterAll(() => store.close());

describe('Node authorizer', () => {
  it('lets a node read and update its own Node and status, and create it', async () => {
    for (const verb of ['get', 'update', 'patch']) {
      expect(await allowed(resource(node, verb, 'nodes', { name: 'gw-1' }))).toBe(true);
      expect(await allowed(resource(node, verb, 'nodes', { name: 'gw-1', subresource: 'status' }))).toBe(true);
      expect(await allowed(resource(node, verb, 'nodes', { name: 'gw-2' }))).toBe(false);
    }
    expect(await allowed(resource(node, 'create', 'nodes'))).toBe(true);
    expect(await allowed(resource(node, 'create', 'nodes', { name: 'gw-2' }))).toBe(false);
    expect(await allowed(resource(node, 'delete', 'nodes', { name: 'gw-1' }))).toBe(false);
    expect(await allowed(resource(node, 'watch', 'nodes', { fieldSelector: 'metadata.name=gw-1' }))).toBe(true);
    expect(await allowed(resource(node, 'list', 'nodes'))).toBe(false);
  });

  it('lets a node list/watch pods only through its spec.nodeName selector', async () => {
    expect(await allowed(resource(node, 'list', 'pods', { fieldSelector: 'spec.nodeName=gw-1' }))).toBe(true);
    expect(await allowed(resource(node, 'watch', 'pods', { fieldSelector: 'status.phase!=Failed,spec.nodeName==gw-1' }))).toBe(true);
    expect(await allowed(resource(node, 'list', 'pods', { fieldSelector: 'spec.nodeName=gw-2' }))).toBe(false);
    expect(await allowed(resource(node, 'list', 'pods', { fieldSelector: 'spec.nodeName!=gw-1' }))).toBe(false);
    expect(await allowed(resource(node, 'list', 'pods', { namespace: 'shop' }))).toBe(false);
  });

  it('lets a node get, delete and update the status of only the pods bound to it', async () => {
    expect(await allowed(resource(node, 'get', 'pods', { namespace: 'shop', name: 'web' }))).toBe(true);
    expect(await allowed(resource(node, 'delete', 'pods', { namespace: 'shop', name: 'web' }))).toBe(true);
    expect(await allowed(resource(node, 'update', 'pods', { namespace: 'shop', name: 'web', subresource: 'status' }))).toBe(true);
    expect(await allowed(resource(node, 'patch', 'pods', { namespace: 'shop', name: 'web', subresource: 'status' }))).toBe(true);
    expect(await allowed(resource(node, 'update', 'pods', { namespace: 'shop', name: 'web' }))).toBe(false);
    expect(await allowed(resource(node, 'get', 'pods', { namespace: 'shop', name: 'elsewhere' }))).toBe(false);
    expect(await allowed(resource(node, 'patch', 'pods', { namespace: 'shop', name: 'elsewhere', subresource: 'status' }))).toBe(false);
    expect(await allowed(resource(node, 'get', 'pods', { namespace: 'shop', name: 'missing' }))).toBe(false);
  });

  it('lets a node read exactly the secrets, configmaps, service accounts and PVCs its pods use', async () => {
    const ok: [string, string][] = [
      ['secrets', 'web-tls'], ['secrets', 'regcred'], ['secrets', 'proj-secret'], ['secrets', 'db-password'], ['secrets', 'init-secret'],
      ['configmaps', 'web-config'], ['configmaps', 'proj-cm'], ['configmaps', 'env-cm'],
      ['serviceaccounts', 'web-sa'], ['persistentvolumeclaims', 'web-data'],
    ];
    for (const [res, name] of ok) expect(await allowed(resource(node, 'get', res, { namespace: 'shop', name })), `${res}/${name}`).toBe(true);
    expect(await allowed(resource(node, 'watch', 'secrets', { namespace: 'shop', fieldSelector: 'metadata.name=web-tls' }))).toBe(true);
    const denied: [string, string, string][] = [
      ['secrets', 'shop', 'gw2-only'], ['secrets', 'shop', 'unscheduled'], ['secrets', 'other', 'web-tls'],
      ['configmaps', 'shop', 'nope'], ['serviceaccounts', 'shop', 'default'],
    ];
    for (const [res, ns, name] of denied) expect(await allowed(resource(node, 'get', res, { namespace: ns, name })), `${res}/${name}`).toBe(false);
    expect(await allowed(resource(node, 'list', 'secrets', { namespace: 'shop' }))).toBe(false);
    expect(await allowed(resource(node, 'update', 'secrets', { namespace: 'shop', name: 'web-tls' }))).toBe(false);
  });

  it('lets a node read the volumes bound to its pods\' claims, and update only the local volumes it holds', async () => {
    await put(nodeAuthzKeys.claim('shop', 'web-data'), { metadata: { name: 'web-data', namespace: 'shop' }, spec: { volumeName: 'pv-web' } });
    await put(nodeAuthzKeys.volume('pv-web'), { metadata: { name: 'pv-web' }, spec: { claimRef: { namespace: 'shop', name: 'web-data' }, hostPath: { path: '/srv' } } });
    // Names the claim, but the claim is bound to another volume: no edge.
    await put(nodeAuthzKeys.volume('pv-stale'), { metadata: { name: 'pv-stale' }, spec: { claimRef: { namespace: 'shop', name: 'web-data' }, hostPath: { path: '/old' } } });
    const local = (name: string, holder: string) => ({
      metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': 'edgeos.io/local-path', 'edgeos.io/local-path-node': holder } },
      spec: { local: { path: `/var/lib/edgeos/storage/${name}_shop_x` } },
    });
    await put(nodeAuthzKeys.volume('pvc-mine'), local('pvc-mine', 'gw-1'));
    await put(nodeAuthzKeys.volume('pvc-theirs'), local('pvc-theirs', 'gw-2'));
    const pv = (verb: string, name: string) => allowed(resource(node, verb, 'persistentvolumes', { name }));
    expect(await pv('get', 'pv-web')).toBe(true);
    expect(await allowed(resource(node, 'watch', 'persistentvolumes', { fieldSelector: 'metadata.name=pv-web' }))).toBe(true);
    expect(await pv('update', 'pv-web')).toBe(false);
    expect(await pv('get', 'pv-stale')).toBe(false);
    for (const verb of ['get', 'update', 'patch']) expect(await pv(verb, 'pvc-mine'), verb).toBe(true);
    expect(await pv('delete', 'pvc-mine')).toBe(false);
    expect(await pv('get', 'pvc-theirs')).toBe(false);
    expect(await pv('patch', 'pvc-theirs')).toBe(false);
    expect(await allowed(resource(node, 'list', 'persistentvolumes'))).toBe(false);
  });

  it('lets a node ask for tokens of the service accounts its pods run as, and nothing else of them', async () => {
    expect(await allowed(resource(node, 'create', 'serviceaccounts', { namespace: 'shop', name: 'web-sa', subresource: 'token' }))).toBe(true);
    expect(await allowed(resource(node, 'create', 'serviceaccounts', { namespace: 'shop', name: 'default', subresource: 'token' }))).toBe(false);
    expect(await allowed(resource(node, 'get', 'serviceaccounts', { namespace: 'shop', name: 'web-sa', subresource: 'token' }))).toBe(false);
    expect(await allowed(resource(node, 'create', 'serviceaccounts', { namespace: 'shop', name: 'web-sa' }))).toBe(false);
  });

  it('keeps a node to its own Lease in kube-node-lease', async () => {
    for (const verb of ['get', 'update', 'patch']) {
      expect(await allowed(resource(node, verb, 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'gw-1' }))).toBe(true);
      expect(await allowed(resource(node, verb, 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'gw-2' }))).toBe(false);
    }
    expect(await allowed(resource(node, 'create', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease' }))).toBe(true);
    expect(await allowed(resource(node, 'get', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'default', name: 'gw-1' }))).toBe(false);
    expect(await allowed(resource(node, 'list', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease' }))).toBe(false);
  });

  it('lets a node create and patch events, and handle its own CSRs', async () => {
    expect(await allowed(resource(node, 'create', 'events', { namespace: 'shop' }))).toBe(true);
    expect(await allowed(resource(node, 'patch', 'events', { namespace: 'shop', name: 'e' }))).toBe(true);
    expect(await allowed(resource(node, 'delete', 'events', { namespace: 'shop', name: 'e' }))).toBe(false);
    const csr = { apiGroup: 'certificates.k8s.io' };
    expect(await allowed(resource(node, 'create', 'certificatesigningrequests', csr))).toBe(true);
    expect(await allowed(resource(node, 'get', 'certificatesigningrequests', { ...csr, name: 'csr-gw-1' }))).toBe(true);
    expect(await allowed(resource(node, 'get', 'certificatesigningrequests', { ...csr, name: 'csr-gw-2' }))).toBe(false);
    expect(await allowed(resource(node, 'update', 'certificatesigningrequests', { ...csr, name: 'csr-gw-1', subresource: 'approval' }))).toBe(false);
  });

  it('lets a node read every Service and EndpointSlice, and change none', async () => {
    for (const verb of ['get', 'list', 'watch']) {
      expect(await allowed(resource(node, verb, 'services', verb === 'get' ? { namespace: 'shop', name: 'web' } : {}))).toBe(true);
      expect(await allowed(resource(node, verb, 'endpointslices', { apiGroup: 'discovery.k8s.io', namespace: 'shop' }))).toBe(true);
    }
    expect(await allowed(resource(node, 'update', 'services', { namespace: 'shop', name: 'web' }))).toBe(false);
    expect(await allowed(resource(node, 'patch', 'services', { namespace: 'shop', name: 'web', subresource: 'status' }))).toBe(false);
    expect(await allowed(resource(node, 'delete', 'endpointslices', { apiGroup: 'discovery.k8s.io', namespace: 'shop', name: 'web-x' }))).toBe(false);
  });

  it('does not apply to a user that only looks like a node', async () => {
    const impostor = user('system:node:gw-1');
    expect(await allowed(resource(impostor, 'get', 'nodes', { name: 'gw-1' }))).toBe(false);
    const unnamed = user('system:node:', 'system:nodes');
    expect(await allowed(resource(unnamed, 'create', 'nodes'))).toBe(false);
  });

  it('says why a node was denied', async () => {
    const a = resource(node, 'get', 'secrets', { namespace: 'shop', name: 'gw2-only' });
    const d = await authz.authorize(a);
    expect(d.allowed).toBe(false);
    expect(forbiddenStatus(a, d.reason).message).toBe(
      `secrets "gw2-only" is forbidden: User "system:node:gw-1" cannot get resource "secrets" in API group "" in the namespace "shop": no relationship found between node 'gw-1' and this object`,
    );
  });

  it('leaves other requests of a node to RBAC', async () => {
    expect(await allowed(resource(node, 'list', 'deployments', { apiGroup: 'apps' }))).toBe(false);
    await put(rbacKeys.clusterRole('node-extra'), { metadata: { name: 'node-extra' }, rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] }] });
    await put(rbacKeys.clusterRoleBinding('node-extra'), {
      metadata: { name: 'node-extra' },
      subjects: [{ kind: 'Group', name: 'system:nodes' }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'node-extra' },
    });
    expect(await allowed(resource(node, 'list', 'deployments', { apiGroup: 'apps' }))).toBe(true);
  });
});
