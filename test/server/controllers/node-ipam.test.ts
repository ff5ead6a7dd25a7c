// node.spec.podCIDR from --cluster-cidr inside the real `edgeos server`: a /22 split into /24s
// gives four nodes four distinct blocks in order, a fifth gets a CIDRNotAvailable Event, a deleted
// node's block goes to it; a podCIDR set at creation (an agent's --pod-cidr) is kept and
// occupied, one outside the range is reported, and the API refuses to change a set podCIDR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, resources } from '../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../src/server/controllers/types.ts';
import { addNode, startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

let c: Cluster;
const podCidr = async (name: string) => ((await c.client.get(resources.nodes, name)).spec as { podCIDR?: string; podCIDRs?: string[] } | undefined);
const assigned = (name: string) => waitFor(async () => (await podCidr(name))?.podCIDR, `${name}'s pod CIDR`, 30_000);
const eventsOf = async (name: string) =>
  (await c.client.list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>(resources.events)).items.filter((e) => e.involvedObject?.name === name);

beforeAll(async () => {
  c = await startCluster({ extraArgs: ['--cluster-cidr', '10.99.0.0/22', '--node-cidr-mask-size', '24'] });
}, 90_000);

afterAll(async () => {
  await c?.stop();
});

describe('pod CIDRs of nodes (node-ipam)', () => {
  it('gives each node its own block, reports a full range and hands a deleted node\'s block on', async () => {
    const got: string[] = [];
    for (const n of ['a', 'b', 'c', 'd']) {
      await addNode(c.client, n);
      got.push(await assigned(n));
    }
    expect(got).toEqual(['10.99.0.0/24', '10.99.1.0/24', '10.99.2.0/24', '10.99.3.0/24']);
    expect((await podCidr('a'))?.podCIDRs).toEqual(['10.99.0.0/24']);

    await addNode(c.client, 'e');
    const full = await waitFor(async () => (await eventsOf('e')).find((x) => x.reason === 'CIDRNotAvailable'), 'the CIDRNotAvailable event', 30_000);
    expect(full.message).toBe('no free /24 left in the cluster CIDR 10.99.0.0/22: all 4 are held by other nodes');
    expect((await podCidr('e'))?.podCIDR).toBeUndefined();

    await c.client.delete(resources.nodes, 'b');
    expect(await assigned('e')).toBe('10.99.1.0/24');
  });

  it('keeps a podCIDR a node was created with, reports one it cannot give, refuses changes', async () => {
    await c.client.delete(resources.nodes, 'c');
    await c.client.create(resources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pinned' }, spec: { podCIDR: '10.99.2.0/24', podCIDRs: ['10.99.2.0/24'] } });
    await c.client.create(resources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'stray' }, spec: { podCIDR: '10.50.0.0/24', podCIDRs: ['10.50.0.0/24'] } });
    const stray = await waitFor(async () => (await eventsOf('stray')).find((x) => x.reason === 'CIDRNotAvailable'), 'the stray node\'s event', 30_000);
    expect(stray.message).toBe('node.spec.podCIDR 10.50.0.0/24: 10.50.0.0/24 is outside the cluster CIDR 10.99.0.0/22');
    // The pinned block is not handed out again: a new node finds the range full.
    await addNode(c.client, 'late');
    await waitFor(async () => (await eventsOf('late')).find((x) => x.reason === 'CIDRNotAvailable'), 'the late node\'s event', 30_000);
    expect((await podCidr('pinned'))?.podCIDR).toBe('10.99.2.0/24');

    const err = await c.client.patch(resources.nodes, 'a', 'merge', { spec: { podCIDR: '10.99.9.0/24', podCIDRs: ['10.99.9.0/24'] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as Error).message).toContain('spec.podCIDR: Forbidden: node updates may not change podCIDR except from "" to valid');
  });
});
