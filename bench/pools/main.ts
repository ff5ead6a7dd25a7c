// `npm run bench -- pools`: node pools and PoolSets inside a real `edgeos server` with 100 NodePools
// of 10 simulated nodes each (Node objects; --node-monitor-grace-period 1h keeps them Ready without
// Lease renewals). This process plays the kubelets: a bound pod is reported Running and Ready.
//  1. poolset_apply_to_all_ready_s: `kubectl apply` of a PoolSet of 3 replicas per pool (300 pods)
//     until its Ready condition is True with every pool ready;
//  2. template_change_to_all_updated_s: `kubectl apply` of a new image, maxConcurrentPools 10, until
//     every pool's workload rolled out the new revision and Ready is True again;
//  3. the baselines, same run: the same 100 pinned Deployments created by this process directly, and
//     their image changed all at once — what the work costs without the PoolSet and its batches.
//  4. endpoint_bytes_per_node_ratio (endpoint-bytes.ts): the EndpointSlice bytes a real linked agent
//     in pool-000 receives for one 1,000-endpoint Service spread over all pools, with
//     `service.edgeos.io/topology: pool` against without (its own baseline).
// EDGEOS_BENCH_POOLS_ONLY=endpoints runs the setup and phase 4 only (the others print null). Last line:
// {"bench":"pools","pools":…,"nodes":…,"poolset_apply_to_all_ready_s":…,"template_change_to_all_updated_s":…,"endpoint_bytes_per_node_ratio":…}
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createKubeClient } from '../../src/server/controllers/client/kube-client.ts';
import type { ClosableKubeClient } from '../../src/server/controllers/client/kube-client.ts';
import { inNamespace, resources } from '../../src/server/controllers/types.ts';
import type { KubeObject } from '../../src/server/controllers/types.ts';
import { kubectl } from '../../test/helpers/kubectl.ts';
import { startServer } from '../../test/helpers/start-server.ts';
import type { RunningServer } from '../../test/helpers/start-server.ts';
import { endpointBytesPerNode } from './endpoint-bytes.ts';

const POOLS = 100;
const NODES_PER_POOL = 10;
const REPLICAS = 3;
const CONCURRENCY = 16;
const POOL_LABEL = 'apps.edgeos.io/pool';
const ONLY = process.env.EDGEOS_BENCH_POOLS_ONLY;
if (ONLY !== undefined && ONLY !== 'endpoints') throw new Error(`EDGEOS_BENCH_POOLS_ONLY=${ONLY}: the only phase that runs alone is "endpoints"`);

const round2 = (x: number) => Math.round(x * 100) / 100;
const seconds = (t0: number) => (performance.now() - t0) / 1000;
const time = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const poolName = (i: number) => `pool-${String(i).padStart(3, '0')}`;

async function parallel<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  }));
}

async function addPools(client: ClosableKubeClient): Promise<void> {
  const pools = Array.from({ length: POOLS }, (_, i) => poolName(i));
  await parallel(pools, CONCURRENCY, (name) => client.create(resources.nodePools, { apiVersion: 'apps.edgeos.io/v1', kind: 'NodePool', metadata: { name, labels: { bench: 'pools' } }, spec: { type: 'Edge' } }));
  const nodes = pools.flatMap((p) => Array.from({ length: NODES_PER_POOL }, (_, j) => ({ name: `${p}-n${j}`, pool: p })));
  await parallel(nodes, CONCURRENCY, async ({ name, pool }) => {
    await client.create(resources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, [POOL_LABEL]: pool } } });
    const capacity = { cpu: '8', memory: '32Gi', pods: '110' };
    await client.patch(resources.nodes, name, 'merge', { status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: time(), lastTransitionTime: time() }] } }, { subresource: 'status' });
  });
}

/** The kubelets: every 250 ms, each bound pod of the namespaces not yet Ready is reported Running and Ready; terminating ones are removed. */
function playKubelets(client: ClosableKubeClient, namespaces: readonly string[]): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const ns of namespaces) {
        const ref = inNamespace(resources.pods, ns);
        const list = await client.list(ref).catch(() => ({ items: [] as KubeObject[] }));
        const todo = list.items.filter((p) => p.metadata.deletionTimestamp || ((p.spec as { nodeName?: string }).nodeName && !((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')));
        await parallel(todo, CONCURRENCY, (p) => (p.metadata.deletionTimestamp
          ? client.delete(ref, p.metadata.name ?? '', { gracePeriodSeconds: 0 })
          : client.patch(ref, p.metadata.name ?? '', 'merge', { status: { phase: 'Running', podIP: '10.42.0.10', startTime: time(), conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: time() }, { type: 'ContainersReady', status: 'True', lastTransitionTime: time() }, { type: 'PodScheduled', status: 'True', lastTransitionTime: time() }] } }, { subresource: 'status' })
        ).catch(() => undefined));
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

const template = (image: string) => ({
  replicas: REPLICAS,
  selector: { matchLabels: { app: 'shop' } },
  template: { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
});

function poolSet(image: string): object {
  return {
    apiVersion: 'apps.edgeos.io/v1',
    kind: 'PoolSet',
    metadata: { name: 'shop', namespace: 'bench-pools' },
    spec: { nodepoolSelector: { matchLabels: { bench: 'pools' } }, maxConcurrentPools: 10, workload: { workloadTemplate: { deploymentTemplate: { spec: template(image) } } } },
  };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function poolSetDone(client: ClosableKubeClient, image: string): Promise<boolean> {
  const ps = await client.get(inNamespace(resources.poolSets, 'bench-pools'), 'shop');
  const s = (ps.status ?? {}) as { observedGeneration?: number; readyWorkloads?: number; updatedWorkloads?: number; conditions?: { type: string; status: string }[] };
  if (s.observedGeneration !== ps.metadata.generation || s.readyWorkloads !== POOLS || s.updatedWorkloads !== POOLS) return false;
  if (s.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return false;
  const deployments = await client.list(inNamespace(resources.deployments, 'bench-pools'));
  return deployments.items.length === POOLS && deployments.items.every((d) => (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image === image);
}

/** Every Deployment of the namespace runs `image` with all replicas updated and available. */
async function deploymentsDone(client: ClosableKubeClient, ns: string, image: string): Promise<boolean> {
  const list = await client.list(inNamespace(resources.deployments, ns));
  return list.items.length === POOLS && list.items.every((d) => {
    const s = (d.status ?? {}) as Record<string, number>;
    return (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image === image
      && s.observedGeneration === d.metadata.generation && s.replicas === REPLICAS && s.updatedReplicas === REPLICAS && s.availableReplicas === REPLICAS;
  });
}

async function apply(server: RunningServer, obj: object): Promise<void> {
  const file = join(server.dir, 'poolset.json');
  writeFileSync(file, JSON.stringify(obj));
  const r = await kubectl(server, ['apply', '-f', file], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
}

async function main(): Promise<void> {
  const server = await startServer({ extraArgs: ['--log-level', 'warn', '--node-monitor-grace-period', '1h'], readyTimeoutMs: 120_000 });
  try {
    const kc = parse(readFileSync(server.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
    const dec = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
    const client = createKubeClient({
      url: server.url,
      caPem: dec(kc.clusters[0]?.cluster['certificate-authority-data']),
      certPem: dec(kc.users[0]?.user['client-certificate-data']),
      keyPem: dec(kc.users[0]?.user['client-key-data']),
      connections: CONCURRENCY,
    });
    const t = performance.now();
    await addPools(client);
    console.log(`setup: ${POOLS} NodePools, ${POOLS * NODES_PER_POOL} nodes in ${round2(seconds(t))} s`);
    const workloads = ONLY ? undefined : await workloadPhases(server, client);
    const bytes = await endpointBytesPerNode(server, client, { pools: POOLS, nodesPerPool: NODES_PER_POOL, poolName });
    console.log(`endpoints: a node of pool-000 received ${bytes.withTopology} bytes of EndpointSlices with topology pool, ${bytes.without} without (1,000 endpoints over ${POOLS} pools)`);
    console.log(JSON.stringify({ bench: 'pools', pools: POOLS, nodes: POOLS * NODES_PER_POOL, poolset_apply_to_all_ready_s: workloads ? round2(workloads.applyS) : null, template_change_to_all_updated_s: workloads ? round2(workloads.changeS) : null, endpoint_bytes_per_node_ratio: Math.round(bytes.ratio * 10000) / 10000 }));
    await client.close();
  } finally {
    await server.stop();
  }
}

/** Phases 1–3: the PoolSet apply and rollout, and their baselines. */
async function workloadPhases(server: RunningServer, client: ClosableKubeClient): Promise<{ applyS: number; changeS: number }> {
  for (const ns of ['bench-pools', 'bench-base']) await client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const stopKubelets = playKubelets(client, ['bench-pools', 'bench-base']);
  try {
    // 1. The PoolSet: apply → every pool Ready.
    const t1 = performance.now();
    await apply(server, poolSet('registry.example/shop:1'));
    await until('the PoolSet to be Ready', () => poolSetDone(client, 'registry.example/shop:1'), 900_000);
    const applyS = seconds(t1);
    console.log(`poolset: ${POOLS} pools × ${REPLICAS} replicas from kubectl apply to Ready in ${round2(applyS)} s`);

    // 2. A template change rolled out 10 pools at a time.
    const t2 = performance.now();
    await apply(server, poolSet('registry.example/shop:2'));
    await until('every pool to roll out shop:2', () => poolSetDone(client, 'registry.example/shop:2'), 900_000);
    const changeS = seconds(t2);
    console.log(`rollout: template change to all ${POOLS} pools updated (10 at a time) in ${round2(changeS)} s`);

    // 3. Baselines: the same pinned Deployments without a PoolSet, created and changed at once.
    const base = inNamespace(resources.deployments, 'bench-base');
    const deployment = (i: number, image: string) => {
      const spec = template(image);
      return {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `shop-${poolName(i)}`, namespace: 'bench-base' },
        spec: { ...spec, selector: { matchLabels: { app: 'shop', [POOL_LABEL]: poolName(i) } }, template: { metadata: { labels: { app: 'shop', [POOL_LABEL]: poolName(i) } }, spec: { ...spec.template.spec, nodeSelector: { [POOL_LABEL]: poolName(i) } } } },
      };
    };
    const indexes = Array.from({ length: POOLS }, (_, i) => i);
    const t3 = performance.now();
    await parallel(indexes, CONCURRENCY, (i) => client.create(base, deployment(i, 'registry.example/shop:1') as KubeObject));
    await until('the baseline Deployments to be available', () => deploymentsDone(client, 'bench-base', 'registry.example/shop:1'), 900_000);
    const baseApplyS = seconds(t3);
    const t4 = performance.now();
    await parallel(indexes, CONCURRENCY, (i) => client.patch(base, `shop-${poolName(i)}`, 'merge', { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/shop:2', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } } } }));
    await until('the baseline Deployments to roll out', () => deploymentsDone(client, 'bench-base', 'registry.example/shop:2'), 900_000);
    const baseChangeS = seconds(t4);
    console.log(`baseline: the same ${POOLS} pinned Deployments created directly → available in ${round2(baseApplyS)} s; image changed on all at once → rolled out in ${round2(baseChangeS)} s`);
    return { applyS, changeS };
  } finally {
    await stopKubelets();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
