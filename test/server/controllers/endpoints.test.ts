// Endpoints and EndpointSlices from the real server's controllers: ready pods become addresses,
// unready ones notReadyAddresses / ready:false, named targetPorts resolve per pod.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNamespace, resources } from '../../../src/server/controllers/types.ts';

import { kubectl } from '../../helpers/kubectl.ts';
import { addNode, pod, startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

let c: Cluster;
const ns = 'default';
const pods = inNamespace(resources.pods, ns);

async function podWithIp(name: string, ip: string, ready: boolean, containerPort: number): Promise<void> {
  await c.client.create(pods, pod(name, { labels: { app: 'web' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'registry.example/web:1', ports: [{ name: 'http', containerPort }] }] } }));
  await setReady(name, ip, ready);
}

async function setReady(name: string, ip: string, ready: boolean): Promise<void> {
  // Stands in for the kubelet: the pod runs with an IP and a readiness verdict.
  await c.client.patch(pods, name, 'merge', {
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }, { subresource: 'status' });
}

beforeAll(async () => {
  c = await startCluster();
  await addNode(c.client, 'n1', { labels: { 'topology.kubernetes.io/zone': 'z1' } });
}, 90_000);

afterAll(async () => {
  await c?.stop();
});

describe('endpoints and endpointslices', () => {
  it('follow ready pods, resolving a named targetPort per pod', async () => {
    await c.client.create(inNamespace(resources.services, ns), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { team: 'a' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await podWithIp('web-1', '10.42.0.11', true, 8080);
    await podWithIp('web-2', '10.42.0.12', false, 8080);
    await podWithIp('web-3', '10.42.0.13', true, 9090);

    const ep = await waitFor(async () => {
      const e = await c.client.get(inNamespace(resources.endpoints, ns), 'web');
      const subsets = (e.subsets ?? []) as { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[]; ports?: { port: number }[] }[];
      const all = subsets.flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]);
      return all.length === 3 ? subsets : undefined;
    }, 'Endpoints with three pods');
    const byPort = new Map(ep.map((s) => [s.ports?.[0]?.port, s]));
    expect(byPort.get(8080)?.addresses?.map((a) => a.ip)).toEqual(['10.42.0.11']);
    expect(byPort.get(8080)?.notReadyAddresses?.map((a) => a.ip)).toEqual(['10.42.0.12']);
    expect(byPort.get(9090)?.addresses?.map((a) => a.ip)).toEqual(['10.42.0.13']);

    const slices = await waitFor(async () => {
      const l = await c.client.list(inNamespace(resources.endpointSlices, ns), { labelSelector: 'kubernetes.io/service-name=web' });
      const n = l.items.reduce((a, s) => a + ((s.endpoints as unknown[] | undefined)?.length ?? 0), 0);
      return n === 3 ? l.items : undefined;
    }, 'EndpointSlices with three endpoints');
    for (const s of slices) {
      expect(s.addressType).toBe('IPv4');
      expect(s.metadata.labels?.['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');
      expect(s.metadata.labels?.team).toBe('a');
      expect(s.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'web', controller: true });
    }
    const eps = slices.flatMap((s) => (s.endpoints as { addresses: string[]; conditions: { ready: boolean }; zone?: string; nodeName?: string }[]));
    expect(eps.find((e) => e.addresses[0] === '10.42.0.12')?.conditions.ready).toBe(false);
    expect(eps.find((e) => e.addresses[0] === '10.42.0.11')).toMatchObject({ conditions: { ready: true }, zone: 'z1', nodeName: 'n1' });

    // Readiness flips: web-2 becomes an address.
    await setReady('web-2', '10.42.0.12', true);
    await waitFor(async () => {
      const e = await c.client.get(inNamespace(resources.endpoints, ns), 'web');
      const s = ((e.subsets ?? []) as { addresses?: { ip: string }[]; ports?: { port: number }[] }[]).find((x) => x.ports?.[0]?.port === 8080);
      return s?.addresses?.length === 2 ? true : undefined;
    }, 'web-2 to become ready in Endpoints');

    const out = await kubectl(c.server, ['get', 'endpoints', 'web']);
    expect(out.stdout).toContain('10.42.0.11:8080');
  });

  it('removes the Endpoints and slices with the Service', async () => {
    await c.client.delete(inNamespace(resources.services, ns), 'web');
    await waitFor(async () => {
      const e = await c.client.get(inNamespace(resources.endpoints, ns), 'web').catch(() => undefined);
      const l = await c.client.list(inNamespace(resources.endpointSlices, ns), { labelSelector: 'kubernetes.io/service-name=web' });
      return !e && l.items.length === 0 ? true : undefined;
    }, 'Endpoints and EndpointSlices to go');
  });
});

