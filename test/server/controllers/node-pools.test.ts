// NodePools inside the real `edgeos server` with the real kubectl: membership by the node label,
// the pool's labels/annotations/taints kept on members (and taken off a node that leaves, or when the
// pool changes or goes), the status counts and the kubectl columns; and the node lifecycle's pool
// rules — a Cloud pool's node is evicted from after its default 5 minutes (shortened here by its own
// annotation), but a pool whose nodes are all silent is cut off, not failed: no NoExecute taint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resources } from '../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../src/server/controllers/types.ts';
import { kubectl } from '../../helpers/kubectl.ts';
import { addNode, renewLease, startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

type Taint = { key: string; effect: string; value?: string };

let c: Cluster;
let renewing: NodeJS.Timeout | undefined;
const k = (args: string[], stdin?: string) => kubectl(c.server, args, { timeoutMs: 60_000, ...(stdin !== undefined ? { stdin } : {}) });
const taints = (o: KubeObject) => ((o.spec as { taints?: Taint[] } | undefined)?.taints ?? []);
const statusOf = (o: KubeObject) => (o.status ?? {}) as { readyNodeNum?: number; unreadyNodeNum?: number; nodes?: string[] };
const node = (name: string) => c.client.get(resources.nodes, name);
const pool = (name: string) => c.client.get(resources.nodePools, name);
const alive = ['a1', 'a2', 'b1', 'free'];

beforeAll(async () => {
  c = await startCluster({ extraArgs: ['--node-monitor-grace-period', '3s'] });
  await addNode(c.client, 'a1', { labels: { 'apps.edgeos.io/pool': 'shop-a' } });
  await addNode(c.client, 'a2', { labels: { 'apps.edgeos.io/pool': 'shop-a' } });
  await addNode(c.client, 'b1', { labels: { 'apps.edgeos.io/pool': 'shop-b' } });
  await addNode(c.client, 'free');
  renewing = setInterval(() => {
    for (const n of alive) void renewLease(c.client, n).catch(() => {});
  }, 500);
}, 90_000);

afterAll(async () => {
  if (renewing) clearInterval(renewing);
  await c?.stop();
});

describe('NodePool', () => {
  it('puts its labels, annotations and taints on the members, counts them, and kubectl shows it', async () => {
    const applied = await k(['apply', '-f', '-'], `
apiVersion: apps.edgeos.io/v1
kind: NodePool
metadata: {name: shop-a}
spec:
  labels: {site: shop-a, tier: edge}
  annotations: {owner: ops}
  taints: [{key: site, value: shop-a, effect: NoSchedule}]
`);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('nodepool.apps.edgeos.io/shop-a created');
    for (const name of ['a1', 'a2']) {
      const n = await waitFor(async () => {
        const cur = await node(name);
        return cur.metadata.labels?.site === 'shop-a' && taints(cur).some((t) => t.key === 'site') ? cur : undefined;
      }, `${name} to carry shop-a's attributes`);
      expect(n.metadata.labels).toMatchObject({ site: 'shop-a', tier: 'edge' });
      expect(n.metadata.annotations?.owner).toBe('ops');
      expect(taints(n)).toEqual([{ key: 'site', value: 'shop-a', effect: 'NoSchedule' }]);
    }
    expect((await node('b1')).metadata.labels?.site).toBeUndefined();
    expect((await node('free')).metadata.labels?.site).toBeUndefined();

    await waitFor(async () => (statusOf(await pool('shop-a')).readyNodeNum === 2 ? true : undefined), 'shop-a status');
    expect(statusOf(await pool('shop-a'))).toEqual({ readyNodeNum: 2, unreadyNodeNum: 0, nodes: ['a1', 'a2'] });
    const table = await k(['get', 'nodepools']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+READYNODES\s+NOTREADYNODES\s+AGE$/);
    expect(table.stdout).toMatch(/\nshop-a\s+Edge\s+2\s+0\s+\d+s/);
    const wide = await k(['get', 'np', 'shop-a', '-o', 'wide']);
    expect(wide.stdout).toMatch(/shop-a\s+Edge\s+2\s+0\s+\S+\s+a1,a2/);
  }, 60_000);

  it('keeps the attributes in sync: a changed pool, a node that leaves, a node that joins, a pool that goes', async () => {
    // A key dropped from the pool leaves the nodes; a changed value is rewritten; the taint changes value.
    await k(['patch', 'nodepool', 'shop-a', '--type=merge', '-p', '{"spec":{"labels":{"tier":null,"site":"shop-a2"},"taints":[{"key":"site","value":"a2","effect":"NoSchedule"}]}}']);
    const n = await waitFor(async () => {
      const cur = await node('a1');
      return cur.metadata.labels?.site === 'shop-a2' && taints(cur)[0]?.value === 'a2' ? cur : undefined;
    }, 'a1 to follow the changed pool');
    expect(n.metadata.labels?.tier).toBeUndefined();
    expect(taints(n)).toEqual([{ key: 'site', value: 'a2', effect: 'NoSchedule' }]);

    // A label a user put on the node (not the pool's) stays when the node leaves.
    await k(['label', 'node', 'a2', 'rack=r7']);
    await k(['label', 'node', 'a2', 'apps.edgeos.io/pool-']);
    const left = await waitFor(async () => {
      const cur = await node('a2');
      return cur.metadata.labels?.site === undefined && taints(cur).length === 0 ? cur : undefined;
    }, 'a2 to lose shop-a\'s attributes');
    expect(left.metadata.labels?.rack).toBe('r7');
    expect(left.metadata.annotations?.owner).toBeUndefined();
    expect(left.metadata.annotations?.['apps.edgeos.io/pool-attributes']).toBeUndefined();
    await waitFor(async () => (JSON.stringify(statusOf(await pool('shop-a')).nodes) === '["a1"]' ? true : undefined), 'shop-a to count a1 only');

    // A node that joins later gets them; a node's own taint of another key is kept beside the pool's.
    await k(['taint', 'node', 'free', 'gpu=yes:NoSchedule']);
    await k(['label', 'node', 'free', 'apps.edgeos.io/pool=shop-a']);
    const joined = await waitFor(async () => {
      const cur = await node('free');
      return taints(cur).length === 2 ? cur : undefined;
    }, 'free to get shop-a\'s taint');
    expect(taints(joined).map((t) => `${t.key}=${t.value}:${t.effect}`).sort()).toEqual(['gpu=yes:NoSchedule', 'site=a2:NoSchedule']);
    expect(joined.metadata.labels?.site).toBe('shop-a2');

    // The pool goes: every member loses what it had from it, and keeps its membership label.
    const deleted = await k(['delete', 'nodepool', 'shop-a']);
    expect(deleted.stdout).toContain('deleted');
    for (const name of ['a1', 'free']) {
      const cur = await waitFor(async () => {
        const x = await node(name);
        return x.metadata.labels?.site === undefined && x.metadata.annotations?.owner === undefined ? x : undefined;
      }, `${name} to lose the deleted pool's attributes`);
      expect(taints(cur).map((t) => t.key)).toEqual(name === 'free' ? ['gpu'] : []);
      expect(cur.metadata.labels?.['apps.edgeos.io/pool']).toBe('shop-a');
    }
  }, 90_000);

  it('refuses what it cannot keep: an unknown type, the membership label, the lifecycle taints', async () => {
    const bad = await k(['apply', '-f', '-'], `
apiVersion: apps.edgeos.io/v1
kind: NodePool
metadata: {name: bad}
spec:
  type: Fog
  labels: {apps.edgeos.io/pool: other}
  taints: [{key: node.kubernetes.io/unreachable, effect: NoExecute}]
`);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.type: Unsupported value: "Fog"');
    expect(bad.stderr).toContain('spec.labels[apps.edgeos.io/pool]: Forbidden');
    expect(bad.stderr).toContain('spec.taints[0].key: Forbidden');
  });
});

describe('node lifecycle with pools', () => {
  it('evicts from a lone silent node of a Cloud pool, but a Cloud pool silent as a whole is cut off, not failed', async () => {
    await k(['apply', '-f', '-'], `
apiVersion: apps.edgeos.io/v1
kind: NodePool
metadata: {name: cloud-a}
spec: {type: Cloud}
---
apiVersion: apps.edgeos.io/v1
kind: NodePool
metadata: {name: cloud-b}
spec: {type: Cloud}
`);
    // cloud-a: c1 stays alive, c2 goes silent → c2 alone fails and gets NoExecute (its annotation shortens the 5 minutes).
    // cloud-b: both go silent → the pool is cut off: NoSchedule only.
    for (const [name, p] of [['c1', 'cloud-a'], ['c2', 'cloud-a'], ['d1', 'cloud-b'], ['d2', 'cloud-b']] as const)
      await addNode(c.client, name, { labels: { 'apps.edgeos.io/pool': p } });
    alive.push('c1');
    for (const name of ['c2', 'd1', 'd2']) await k(['annotate', 'node', name, 'edgeos.io/evict-after=1s']);

    const failed = await waitFor(async () => {
      const n = await node('c2');
      return taints(n).some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? n : undefined;
    }, 'c2 to get the NoExecute taint', 60_000);
    expect(failed.metadata.labels?.['apps.edgeos.io/pool']).toBe('cloud-a');
    for (const name of ['d1', 'd2']) {
      const n = await waitFor(async () => {
        const x = await node(name);
        return taints(x).some((t) => t.key === 'node.kubernetes.io/unreachable') ? x : undefined;
      }, `${name} to be marked unreachable`, 60_000);
      expect(taints(n).filter((t) => t.key === 'node.kubernetes.io/unreachable').map((t) => t.effect)).toEqual(['NoSchedule']);
    }
    // Well past the eviction delay, the cut-off pool still has no NoExecute taint.
    await new Promise((r) => setTimeout(r, 4000));
    for (const name of ['d1', 'd2']) expect(taints(await node(name)).map((t) => t.effect)).not.toContain('NoExecute');
    const status = await waitFor(async () => {
      const s = statusOf(await pool('cloud-b'));
      return s.unreadyNodeNum === 2 ? s : undefined;
    }, 'cloud-b to count two unready nodes');
    expect(status).toEqual({ readyNodeNum: 0, unreadyNodeNum: 2, nodes: ['d1', 'd2'] });
  }, 120_000);
});
