// PoolSets inside the real `edgeos server` (scheduler, Deployment/ReplicaSet/StatefulSet and
// PoolSet controllers) with the real kubectl and simulated nodes in node pools. The test plays the
// kubelets: a bound pod turns Running and Ready after a moment, unless its image says never-ready.
// Covered: one workload per pool pinned to its pool, per-pool replicas/image/env/RFC 6902 tweaks, a
// pool that joins or leaves, a named pool that does not exist (PoolFound), the Ready condition and
// the kubectl columns, a StatefulSet template, and pool-by-pool rollouts: canary first, at most
// maxConcurrentPools at a time, halted by a canary that never gets ready, paused, and resumed by a
// new template.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNamespace, resources } from '../../../src/server/controllers/types.ts';
import type { KubeObject } from '../../../src/server/controllers/types.ts';
import { kubectl } from '../../helpers/kubectl.ts';
import { addNode, renewLease, startCluster, waitFor } from './cluster.ts';
import type { Cluster } from './cluster.ts';

interface Cond { type: string; status: string; reason?: string; message?: string }
interface PoolLine { name: string; workload: string; replicas: number; readyReplicas: number; updatedReplicas: number; revision?: string }
interface PoolSetStatus { totalWorkloads?: number; readyWorkloads?: number; updatedWorkloads?: number; pools?: PoolLine[]; conditions?: Cond[]; observedGeneration?: number }

let c: Cluster;
let stopKubelets: (() => Promise<void>) | undefined;
const nodes: string[] = [];
const pods = inNamespace(resources.pods, 'default');
const deployments = inNamespace(resources.deployments, 'default');
const poolSets = inNamespace(resources.poolSets, 'default');
const k = (args: string[], stdin?: string) => kubectl(c.server, args, { timeoutMs: 60_000, ...(stdin !== undefined ? { stdin } : {}) });
const statusOf = (o: KubeObject) => (o.status ?? {}) as PoolSetStatus;
const cond = (o: KubeObject, type: string) => statusOf(o).conditions?.find((x) => x.type === type);
const imageOf = (d: KubeObject) => (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image;
const rolledOut = (d: KubeObject) => {
  const s = (d.status ?? {}) as Record<string, number>;
  const want = (d.spec as { replicas?: number }).replicas ?? 1;
  return s.observedGeneration === d.metadata.generation && s.replicas === want && s.updatedReplicas === want && (s.availableReplicas ?? 0) >= want;
};

async function addPoolNode(name: string, pool: string): Promise<void> {
  await addNode(c.client, name, { labels: { 'apps.edgeos.io/pool': pool } });
  nodes.push(name);
}

/**
 * The kubelets of the simulated nodes: leases renewed; a bound pod becomes Running and Ready 300 ms
 * after it is first seen unless its image names never-ready; a terminating pod is removed.
 */
function playKubelets(): () => Promise<void> {
  let stopped = false;
  const seen = new Map<string, number>();
  const loop = (async () => {
    while (!stopped) {
      for (const n of nodes) await renewLease(c.client, n).catch(() => undefined);
      const list = await c.client.list(pods).catch(() => ({ items: [] as KubeObject[] }));
      const now = Date.now();
      for (const p of list.items) {
        const name = p.metadata.name ?? '';
        if (p.metadata.deletionTimestamp) {
          await c.client.delete(pods, name, { gracePeriodSeconds: 0 }).catch(() => undefined);
          continue;
        }
        const spec = p.spec as { nodeName?: string; containers: { image: string }[] };
        if (!spec.nodeName || spec.containers.some((x) => x.image.includes('never-ready'))) continue;
        const ready = ((p.status as { conditions?: Cond[] } | undefined)?.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True');
        if (ready) continue;
        const first = seen.get(p.metadata.uid ?? '') ?? now;
        seen.set(p.metadata.uid ?? '', first);
        if (now - first < 300) continue;
        const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        await c.client.patch(pods, name, 'merge', {
          status: { phase: 'Running', podIP: '10.42.0.10', startTime: t, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }, { type: 'ContainersReady', status: 'True', lastTransitionTime: t }, { type: 'PodScheduled', status: 'True', lastTransitionTime: t }] },
        }, { subresource: 'status' }).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

beforeAll(async () => {
  c = await startCluster();
  stopKubelets = playKubelets();
  const applied = await k(['apply', '-f', '-'], ['shop-a', 'shop-b', 'p1', 'p2', 'p3', 'p4', 'p5'].map((p) => `
apiVersion: apps.edgeos.io/v1
kind: NodePool
metadata: {name: ${p}, labels: {region: ${p.startsWith('shop') ? 'eu' : 'us'}}}
`).join('---\n'));
  expect(applied.stderr).toBe('');
  for (const [n, p] of [['a1', 'shop-a'], ['a2', 'shop-a'], ['b1', 'shop-b'], ['g1', 'ghost'], ['n1', 'p1'], ['n2', 'p2'], ['n3', 'p3'], ['n4', 'p4'], ['n5', 'p5']] as const) await addPoolNode(n, p);
}, 90_000);

afterAll(async () => {
  await stopKubelets?.();
  await c?.stop();
});

const WEB = `
apiVersion: apps.edgeos.io/v1
kind: PoolSet
metadata: {name: web}
spec:
  pools: [shop-a, ghost]
  nodepoolSelector: {matchLabels: {region: eu}}
  workload:
    workloadTemplate:
      deploymentTemplate:
        metadata: {labels: {app: web}}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: "registry.example/web:1", env: [{name: MODE, value: normal}]}]}
    workloadTweaks:
    - pools: [shop-b]
      tweaks:
        replicas: 3
        containerImages: [{name: web, targetImage: "registry.example/web:1-b"}]
        env: [{name: MODE, value: shop-b}]
    - nodepoolSelector: {matchLabels: {region: eu}}
      tweaks:
        patches:
        - {op: add, path: /spec/template/spec/containers/0/resources, value: {limits: {memory: 64Mi}}}
        - {op: add, path: /metadata/annotations, value: {tweaked: "yes"}}
`;

describe('PoolSet', () => {
  it('runs one workload per pool, pinned to its nodes, with the pool\'s tweaks; a named pool that does not exist is a condition', async () => {
    const applied = await k(['apply', '-f', '-'], WEB);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('poolset.apps.edgeos.io/web created');

    const ps = await waitFor(async () => {
      const x = await c.client.get(poolSets, 'web');
      return statusOf(x).readyWorkloads === 2 ? x : undefined;
    }, 'both pools of web to be ready', 60_000);
    expect(cond(ps, 'PoolFound')).toMatchObject({ status: 'False', reason: 'PoolNotFound', message: 'no NodePool named ghost' });
    expect(cond(ps, 'Ready')).toMatchObject({ status: 'True' });
    expect(statusOf(ps).pools?.map((p) => [p.name, p.workload, p.replicas, p.readyReplicas])).toEqual([['shop-a', 'web-shop-a', 2, 2], ['shop-b', 'web-shop-b', 3, 3]]);

    const a = await c.client.get(deployments, 'web-shop-a');
    const b = await c.client.get(deployments, 'web-shop-b');
    expect(a.metadata.ownerReferences?.[0]).toMatchObject({ apiVersion: 'apps.edgeos.io/v1', kind: 'PoolSet', name: 'web', controller: true });
    expect(a.metadata.labels).toMatchObject({ app: 'web', 'apps.edgeos.io/poolset': 'web', 'apps.edgeos.io/pool': 'shop-a' });
    expect(a.metadata.annotations?.tweaked).toBe('yes');
    expect(imageOf(a)).toBe('registry.example/web:1');
    expect(imageOf(b)).toBe('registry.example/web:1-b');
    const bPod = (b.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    expect(bPod.nodeSelector).toEqual({ 'apps.edgeos.io/pool': 'shop-b' });
    expect((bPod.containers as { env: unknown; resources: unknown }[])[0]).toMatchObject({ env: [{ name: 'MODE', value: 'shop-b' }], resources: { limits: { memory: '64Mi' } } });

    // Every pod runs on a node of its own pool.
    const placed = (await c.client.list(pods, { labelSelector: 'app=web' })).items.map((p) => `${p.metadata.labels?.['apps.edgeos.io/pool'] ?? ''}@${(p.spec as { nodeName?: string }).nodeName ?? ''}`);
    expect(placed).toHaveLength(5);
    for (const x of placed) expect(['shop-a@a1', 'shop-a@a2', 'shop-b@b1']).toContain(x);

    const table = await k(['get', 'poolsets']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+UPDATED\s+STATUS\s+AGE$/);
    expect(table.stdout).toMatch(/\nweb\s+2\/2\s+2\/2\s+PoolNotFound\s+\d+s/);
    const events = await k(['get', 'events', '--field-selector=involvedObject.name=web', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    expect(events.stdout).toContain('PoolNotFound: NodePool ghost does not exist');
    expect(events.stdout).toContain('SuccessfulCreate: Created Deployment web-shop-b for pool shop-b');
  }, 90_000);

  it('follows pools joining and leaving: a new NodePool gets its workload, a pool no longer targeted loses it', async () => {
    await k(['apply', '-f', '-'], 'apiVersion: apps.edgeos.io/v1\nkind: NodePool\nmetadata: {name: ghost}\n');
    const ps = await waitFor(async () => {
      const x = await c.client.get(poolSets, 'web');
      return statusOf(x).readyWorkloads === 3 && cond(x, 'PoolFound')?.status === 'True' ? x : undefined;
    }, 'the ghost pool to get its ready workload');
    expect(statusOf(ps).pools?.map((p) => p.name)).toEqual(['ghost', 'shop-a', 'shop-b']);
    const ghostPods = (await c.client.list(pods, { labelSelector: 'apps.edgeos.io/pool=ghost' })).items;
    expect(ghostPods.map((p) => (p.spec as { nodeName?: string }).nodeName)).toEqual(['g1', 'g1']);
    // Tweaks by selector do not reach a pool outside it.
    expect((await c.client.get(deployments, 'web-ghost')).metadata.annotations?.tweaked).toBeUndefined();
    const waited = await k(['wait', '--for=condition=Ready', 'poolset/web', '--timeout=30s']);
    expect(waited.stdout).toContain('poolset.apps.edgeos.io/web condition met');
    expect((await k(['get', 'pset', 'web'])).stdout).toMatch(/\nweb\s+3\/3\s+3\/3\s+Ready\s/);

    // shop-b leaves the selector (its NodePool's label changes): its Deployment and pods go.
    await k(['label', 'nodepool', 'shop-b', 'region=us', '--overwrite']);
    await waitFor(async () => ((await k(['get', 'deployment', 'web-shop-b'])).code !== 0 ? true : undefined), 'web-shop-b to be deleted');
    // ghost's NodePool is deleted: its workload goes too, and PoolFound names it again.
    await k(['delete', 'nodepool', 'ghost']);
    const after = await waitFor(async () => {
      const x = await c.client.get(poolSets, 'web');
      return statusOf(x).totalWorkloads === 1 && cond(x, 'PoolFound')?.status === 'False' ? x : undefined;
    }, 'web to have shop-a only');
    expect(statusOf(after).pools?.map((p) => p.name)).toEqual(['shop-a']);
    await waitFor(async () => ((await c.client.list(pods, { labelSelector: 'apps.edgeos.io/pool in (ghost,shop-b)' })).items.length === 0 ? true : undefined), 'the pods of the pools that left to go');
  }, 90_000);

  it('refuses a tweak that does not apply, naming it (422), and a template that is not a valid workload', async () => {
    const bad = WEB.replace('path: /spec/template/spec/containers/0/resources', 'path: /spec/template/spec/containers/3/resources').replace('name: web}', 'name: web-bad}');
    const r = await k(['apply', '-f', '-'], bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.workload.workloadTweaks[1].tweaks.patches[0]');
    expect(r.stderr).toContain('does not apply to the template: the path does not exist in the workload');
    const image = await k(['apply', '-f', '-'], WEB.replace('{name: web, targetImage', '{name: nope, targetImage').replace('name: web}', 'name: web-bad}'));
    expect(image.stderr).toContain('spec.workload.workloadTweaks[0].tweaks.containerImages[0].name: Invalid value: "nope"');
    const selector = await k(['apply', '-f', '-'], WEB.replace('selector: {matchLabels: {app: web}}', 'selector: {matchLabels: {app: other}}').replace('name: web}', 'name: web-bad}'));
    expect(selector.stderr).toContain('spec.workload.workloadTemplate.deploymentTemplate.spec.template.metadata.labels: Invalid value');
    expect((await k(['get', 'poolset', 'web-bad'])).code).not.toBe(0);
  });

  it('runs a StatefulSet per pool from a statefulSetTemplate', async () => {
    const r = await k(['apply', '-f', '-'], `
apiVersion: apps.edgeos.io/v1
kind: PoolSet
metadata: {name: db}
spec:
  pools: [shop-a]
  workload:
    workloadTemplate:
      statefulSetTemplate:
        spec:
          replicas: 2
          serviceName: db
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec: {containers: [{name: db, image: "registry.example/db:1"}]}
`);
    expect(r.stderr).toBe('');
    await waitFor(async () => (cond(await c.client.get(poolSets, 'db'), 'Ready')?.status === 'True' ? true : undefined), 'db to be Ready');
    const sts = await c.client.get(inNamespace(resources.statefulSets, 'default'), 'db-shop-a');
    expect((sts.status as { readyReplicas?: number }).readyReplicas).toBe(2);
    const names = (await c.client.list(pods, { labelSelector: 'app=db' })).items.map((p) => `${p.metadata.name ?? ''}@${(p.spec as { nodeName?: string }).nodeName ?? ''}`).sort();
    expect(names.map((n) => n.split('@')[0])).toEqual(['db-shop-a-0', 'db-shop-a-1']);
    for (const n of names) expect(n).toMatch(/@a[12]$/);
    expect((await k(['get', 'pset', 'db', '-o', 'wide'])).stdout).toMatch(/\ndb\s+1\/1\s+1\/1\s+Ready\s+\S+\s+StatefulSet\s+shop-a/);
  }, 60_000);
});

// A long progress deadline where pools are meant to get ready (a loaded machine must not halt them), a short one to see a halt.
const ROLL = (image: string, extra = '', deadline = 90) => `
apiVersion: apps.edgeos.io/v1
kind: PoolSet
metadata: {name: roll}
spec:
  pools: [p1, p2, p3, p4, p5]
  canaryPools: [p3]
  maxConcurrentPools: 2
  progressDeadlineSeconds: ${deadline}
${extra}
  workload:
    workloadTemplate:
      deploymentTemplate:
        spec:
          replicas: 1
          selector: {matchLabels: {app: roll}}
          template:
            metadata: {labels: {app: roll}}
            spec: {containers: [{name: app, image: "${image}"}]}
`;

/** Each pool's Deployment: its image and whether it rolled out. */
async function rollState(): Promise<Map<string, { image: string; done: boolean }>> {
  const out = new Map<string, { image: string; done: boolean }>();
  for (const d of (await c.client.list(deployments, { labelSelector: 'apps.edgeos.io/poolset=roll' })).items)
    out.set(d.metadata.labels?.['apps.edgeos.io/pool'] ?? '', { image: imageOf(d) ?? '', done: rolledOut(d) });
  return out;
}

describe('pool-by-pool rollout', () => {
  it('updates the canary pool first, then at most maxConcurrentPools pools at a time', async () => {
    expect((await k(['apply', '-f', '-'], ROLL('registry.example/app:1'))).stderr).toBe('');
    await waitFor(async () => (cond(await c.client.get(poolSets, 'roll'), 'Ready')?.status === 'True' ? true : undefined), 'roll to be Ready', 60_000);

    expect((await k(['apply', '-f', '-'], ROLL('registry.example/app:2'))).stderr).toBe('');
    // Watch every pool's Deployment until all run app:2: which were updating (new image, not rolled
    // out) at each look, and in what order pools started.
    const started: string[] = [];
    let maxUpdating = 0;
    let canaryDoneBeforeOthers = true;
    await waitFor(async () => {
      const s = await rollState();
      const updating = [...s].filter(([, v]) => v.image.endsWith(':2') && !v.done).map(([p]) => p);
      maxUpdating = Math.max(maxUpdating, updating.length);
      for (const [p, v] of s) if (v.image.endsWith(':2') && !started.includes(p)) started.push(p);
      if ([...s].some(([p, v]) => p !== 'p3' && v.image.endsWith(':2')) && !(s.get('p3')?.done && s.get('p3')?.image.endsWith(':2'))) canaryDoneBeforeOthers = false;
      return s.size === 5 && [...s.values()].every((v) => v.image.endsWith(':2') && v.done) ? true : undefined;
    }, 'every pool to run app:2', 90_000);
    expect(started[0]).toBe('p3');
    expect(canaryDoneBeforeOthers).toBe(true);
    expect(maxUpdating).toBeGreaterThanOrEqual(1);
    expect(maxUpdating).toBeLessThanOrEqual(2);
    // The rest went by name, in batches of two at most.
    expect(started.slice(1).sort()).toEqual(['p1', 'p2', 'p4', 'p5']);
    const ps = await waitFor(async () => {
      const x = await c.client.get(poolSets, 'roll');
      return cond(x, 'Progressing')?.reason === 'RolloutComplete' && cond(x, 'Ready')?.status === 'True' ? x : undefined;
    }, 'roll to report the rollout complete');
    expect(statusOf(ps).updatedWorkloads).toBe(5);
    const events = await k(['get', 'events', '--field-selector=involvedObject.name=roll', '--sort-by=.metadata.creationTimestamp', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
    const updates = events.stdout.split('\n').filter((l) => l.startsWith('Updating pool')).map((l) => l.split(':')[0]);
    expect(updates[0]).toBe('Updating pool p3');
    expect(updates).toHaveLength(5);
  }, 150_000);

  it('halts on a canary that never gets ready: no other pool is touched; a condition and a Warning say so', async () => {
    expect((await k(['apply', '-f', '-'], ROLL('registry.example/never-ready:3', '', 6))).stderr).toBe('');
    const halted = await waitFor(async () => {
      const x = await c.client.get(poolSets, 'roll');
      return cond(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? x : undefined;
    }, 'the rollout to halt', 60_000);
    expect(cond(halted, 'Progressing')).toMatchObject({ status: 'False' });
    expect(cond(halted, 'Progressing')?.message).toContain('pool p3 was not ready 6s after its update');
    expect(cond(halted, 'Ready')?.status).toBe('False');
    expect((await k(['get', 'pset', 'roll'])).stdout).toMatch(/\nroll\s+5\/5\s+0\/5\s+Halted\s/);
    const warn = await k(['get', 'events', '--field-selector=involvedObject.name=roll,type=Warning', '-o', 'jsonpath={.items[*].reason}']);
    expect(warn.stdout).toContain('PoolRolloutHalted');
    // Some seconds later: still only the canary was touched.
    await new Promise((r) => setTimeout(r, 3000));
    const s = await rollState();
    expect([...s].filter(([, v]) => v.image.includes('never-ready')).map(([p]) => p)).toEqual(['p3']);
    expect(cond(await c.client.get(poolSets, 'roll'), 'Progressing')?.reason).toBe('ProgressDeadlineExceeded');
  }, 90_000);

  it('a paused PoolSet starts no pool; a new template, unpaused, lifts the halt and rolls out', async () => {
    expect((await k(['apply', '-f', '-'], ROLL('registry.example/app:4', '  paused: true'))).stderr).toBe('');
    const paused = await waitFor(async () => {
      const x = await c.client.get(poolSets, 'roll');
      return cond(x, 'Progressing')?.reason === 'RolloutPaused' ? x : undefined;
    }, 'roll to be paused');
    expect(cond(paused, 'Progressing')?.status).toBe('Unknown');
    expect((await k(['get', 'pset', 'roll'])).stdout).toMatch(/\nroll\s+\S+\s+\S+\s+Paused\s/);
    await new Promise((r) => setTimeout(r, 2000));
    expect([...(await rollState()).values()].filter((v) => v.image.endsWith(':4'))).toEqual([]);

    expect((await k(['patch', 'pset', 'roll', '--type=merge', '-p', '{"spec":{"paused":false}}'])).stderr).toBe('');
    await waitFor(async () => {
      const s = await rollState();
      return s.size === 5 && [...s.values()].every((v) => v.image.endsWith(':4') && v.done) ? true : undefined;
    }, 'every pool to run app:4', 90_000);
    const done = await waitFor(async () => {
      const x = await c.client.get(poolSets, 'roll');
      return cond(x, 'Ready')?.status === 'True' ? x : undefined;
    }, 'roll to be Ready again');
    expect(cond(done, 'Progressing')?.reason).toBe('RolloutComplete');
  }, 150_000);
});
