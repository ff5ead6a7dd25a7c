// Each agent receives only its own pods and the ConfigMaps/Secrets/ServiceAccounts they
// reference: the server filters; of other nodes only what the pod network needs reaches the
// device (their name, pod CIDR and network.edgeos.io annotations).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedKind } from '../../src/agent/types.ts';
import { serverProcess, startTestAgent, waitFor } from './harness.ts';
import type { ServerProcess, TestAgent } from './harness.ts';

let server: ServerProcess;
const agents: TestAgent[] = [];

const pod = (name: string, node: string, refs: { secret?: string; configMap?: string; sa?: string }) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: {
    nodeName: node,
    ...(refs.sa ? { serviceAccountName: refs.sa } : {}),
    containers: [
      {
        name: 'c',
        image: 'busybox',
        env: refs.configMap ? [{ name: 'X', valueFrom: { configMapKeyRef: { name: refs.configMap, key: 'k' } } }] : [],
      },
    ],
    volumes: refs.secret ? [{ name: 's', secret: { secretName: refs.secret } }] : [],
  },
});

const names = async (a: TestAgent, kind: CachedKind) =>
  (await a.agent.cache!.list(kind)).map((o) => (o.metadata as { name: string }).name).sort();

beforeAll(async () => {
  server = await serverProcess();
  for (const [kind, path, body] of [
    ['Secret', '/api/v1/namespaces/default/secrets', { metadata: { name: 's-a' }, stringData: { k: 'a' } }],
    ['Secret', '/api/v1/namespaces/default/secrets', { metadata: { name: 's-b' }, stringData: { k: 'b' } }],
    ['Secret', '/api/v1/namespaces/default/secrets', { metadata: { name: 's-none' }, stringData: { k: 'n' } }],
    ['ConfigMap', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm-a' }, data: { k: 'a' } }],
    ['ConfigMap', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm-none' }, data: { k: 'n' } }],
    ['ServiceAccount', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'sa-a' } }],
    ['ServiceAccount', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'sa-b' } }],
  ] as const) {
    const r = await server.api('POST', path, { apiVersion: 'v1', kind, ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  agents.push(await startTestAgent(server.token(), 'node-a', server.dir));
  agents.push(await startTestAgent(server.token(), 'node-b', server.dir));
  for (const p of [pod('p-a', 'node-a', { secret: 's-a', configMap: 'cm-a', sa: 'sa-a' }), pod('p-b', 'node-b', { secret: 's-b', sa: 'sa-b' }), pod('p-c', 'node-c', { secret: 's-none' })]) {
    const r = await server.api('POST', '/api/v1/namespaces/default/pods', p);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
});

afterAll(async () => {
  for (const a of agents) await a.stop();
  await server?.dispose();
});

describe('node-scoped desired state', () => {
  it('gives each agent its own pods and exactly what they reference', async () => {
    const [a, b] = agents as [TestAgent, TestAgent];
    await waitFor('node-a pod', async () => ((await names(a, 'Pod')).includes('p-a') ? true : undefined));
    await waitFor('node-b pod', async () => ((await names(b, 'Pod')).includes('p-b') ? true : undefined));
    // Every pod's kube-api-access volume references the namespace's CA ConfigMap.
    for (const x of [a, b]) await waitFor('kube-root-ca.crt', async () => ((await names(x, 'ConfigMap')).includes('kube-root-ca.crt') ? true : undefined));
    expect(await names(a, 'Pod')).toEqual(['p-a']);
    expect(await names(a, 'Secret')).toEqual(['s-a']);
    expect(await names(a, 'ConfigMap')).toEqual(['cm-a', 'kube-root-ca.crt']);
    expect(await names(a, 'ServiceAccount')).toEqual(['sa-a']);
    // Its own Node whole; node-b runs no pod network here (the test agents' runtime is in memory:
    // no overlay endpoint annotations), so it is no peer and node-a gets nothing of it.
    expect(await names(a, 'Node')).toEqual(['node-a']);
    expect((await a.agent.cache!.get('Node', '', 'node-a'))!.metadata).toHaveProperty('labels');
    // Once node-b publishes an overlay endpoint (as an agent with the pod network does at its
    // hello), node-a gets it as its peers see it (the pod network's view).
    const annotate = await server.api('PATCH', '/api/v1/nodes/node-b', { metadata: { annotations: { 'network.edgeos.io/vtep-ip': '192.0.2.11', 'network.edgeos.io/vtep-mac': '02:00:00:00:00:0b' } } });
    expect(annotate.status, JSON.stringify(annotate.body)).toBe(200);
    const peer = await waitFor('node-b as a peer of node-a', async () => (await a.agent.cache!.get('Node', '', 'node-b')) ?? undefined);
    expect(peer.status).toBeUndefined();
    expect(Object.keys(peer.metadata as object).sort()).toEqual(['annotations', 'name', 'uid']);
    expect(Object.keys((peer.metadata as { annotations: object }).annotations).sort()).toEqual(['network.edgeos.io/vtep-ip', 'network.edgeos.io/vtep-mac']);
    expect((peer.spec as { podCIDR?: string }).podCIDR).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    expect(await names(b, 'Pod')).toEqual(['p-b']);
    expect(await names(b, 'Secret')).toEqual(['s-b']);
    expect(await names(b, 'ConfigMap')).toEqual(['kube-root-ca.crt']);
    expect(await names(b, 'ServiceAccount')).toEqual(['sa-b']);
    expect(await names(b, 'Node')).toEqual(['node-b']);
    const secret = await a.agent.cache!.get('Secret', 'default', 's-a');
    expect(Buffer.from((secret!.data as { k: string }).k, 'base64').toString()).toBe('a');
  });

  it('follows changes: updates of referenced objects arrive, unreferenced ones are removed', async () => {
    const [a] = agents as [TestAgent, TestAgent];
    await server.api('PATCH', '/api/v1/namespaces/default/configmaps/cm-a', { data: { k: 'a2' } });
    await waitFor('cm-a update', async () => ((await a.agent.cache!.get('ConfigMap', 'default', 'cm-a'))?.data as { k?: string } | undefined)?.k === 'a2' || undefined);
    // Another node's secret changing never reaches node-a.
    await server.api('PATCH', '/api/v1/namespaces/default/secrets/s-none', { stringData: { k: 'n2' } });
    // A new pod on node-a that references s-none brings it; deleting the pod takes it away again.
    expect((await server.api('POST', '/api/v1/namespaces/default/pods', pod('p-a2', 'node-a', { secret: 's-none', sa: 'sa-a' }))).status).toBe(201);
    await waitFor('s-none on node-a', async () => ((await names(a, 'Secret')).includes('s-none') ? true : undefined));
    expect(await names(a, 'Pod')).toEqual(['p-a', 'p-a2']);
    const del = await server.api('DELETE', '/api/v1/namespaces/default/pods/p-a2?gracePeriodSeconds=0');
    expect(del.status).toBeLessThan(300);
    await waitFor('p-a2 gone from node-a', async () => (!(await names(a, 'Pod')).includes('p-a2') ? true : undefined));
    // The pod may linger with a deletionTimestamp until the kubelet confirms; once it is gone, so is its secret.
    await waitFor('s-none gone from node-a', async () => (!(await names(a, 'Secret')).includes('s-none') ? true : undefined));
    expect(await names(a, 'Secret')).toEqual(['s-a']);
  });
});
