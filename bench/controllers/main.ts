// `npm run bench -- controllers`: the scheduler and the workload controllers inside a real
// `edgeos server`, with 100 simulated nodes (Node objects whose Leases this process renews).
//  1. baseline: this process binds 1,000 pods itself through pods/binding, 16 at a time — the
//     API's ceiling for the scheduler's writes;
//  2. pods_bound_per_s: 1,000 pods wait while every node is cordoned; all nodes are uncordoned at
//     once and the time until the scheduler has bound all 1,000 is measured;
//  3. deploy_1000_to_bound_s: `kubectl apply` of a Deployment with 1,000 replicas until all of its
//     pods are bound (Deployment → ReplicaSet → pods → scheduler).
// Last line: {"bench":"controllers","pods_bound_per_s":…,"deploy_1000_to_bound_s":…}. Target in
// docs/controllers.md: pods_bound_per_s ≥ 500.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createKubeClient } from '../../src/server/controllers/client/kube-client.ts';
import type { ClosableKubeClient } from '../../src/server/controllers/client/kube-client.ts';
import { inNamespace, resources } from '../../src/server/controllers/types.ts';
import type { KubeObject } from '../../src/server/controllers/types.ts';
import { kubectl } from '../../test/helpers/kubectl.ts';
import { startServer } from '../../test/helpers/start-server.ts';

const NODES = 100;
const PODS = 1000;
const CONCURRENCY = 16;

const round2 = (x: number) => Math.round(x * 100) / 100;
const stamp = () => new Date().toISOString().replace(/(\.\d{3})\d*Z$/, '$1000Z');

async function parallel<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  }));
}

async function addNodes(client: ClosableKubeClient, names: string[]): Promise<void> {
  await parallel(names, CONCURRENCY, async (name) => {
    await client.create(resources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
    const capacity = { cpu: '8', memory: '32Gi', pods: '110' };
    await client.patch(resources.nodes, name, 'merge', { status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: stamp().replace(/\.\d+Z$/, 'Z'), lastTransitionTime: stamp().replace(/\.\d+Z$/, 'Z') }] } }, { subresource: 'status' });
    await client.create(inNamespace(resources.leases, 'kube-node-lease'), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: stamp() } });
  });
}

function renewLeases(client: ClosableKubeClient, names: string[]): () => void {
  const timer = setInterval(() => {
    void parallel(names, 4, (name) => client.patch(inNamespace(resources.leases, 'kube-node-lease'), name, 'merge', { spec: { renewTime: stamp() } }).catch(() => undefined));
  }, 10_000);
  return () => clearInterval(timer);
}

const podSpec = (schedulerName?: string) => ({
  ...(schedulerName ? { schedulerName } : {}),
  containers: [{ name: 'c', image: 'registry.example/app:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
});

/** Resolves once `target` pods matching the selector in `namespace` are bound; watches, never polls. */
async function boundCount(client: ClosableKubeClient, namespace: string, labelSelector: string, target: number, timeoutMs: number): Promise<void> {
  const ref = inNamespace(resources.pods, namespace);
  const bound = new Set<string>();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    for (;;) {
      const list = await client.list(ref, { labelSelector });
      for (const p of list.items) if ((p.spec as { nodeName?: string }).nodeName) bound.add(p.metadata.uid ?? '');
      if (bound.size >= target) return;
      try {
        for await (const ev of client.watch(ref, { labelSelector, resourceVersion: list.resourceVersion, signal: abort.signal })) {
          if (ev.type === 'ERROR') break;
          if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && (ev.object.spec as { nodeName?: string } | undefined)?.nodeName) bound.add(ev.object.metadata.uid ?? '');
          if (bound.size >= target) return;
        }
      } catch (err) {
        if (abort.signal.aborted) break;
        throw err;
      }
      if (abort.signal.aborted) break;
    }
    throw new Error(`only ${bound.size}/${target} pods bound in ${namespace} within ${timeoutMs} ms`);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

async function createNamespace(client: ClosableKubeClient, name: string): Promise<void> {
  await client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

async function main(): Promise<void> {
  const server = await startServer({ extraArgs: ['--log-level', 'warn'], readyTimeoutMs: 120_000 });
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
    const names = Array.from({ length: NODES }, (_, i) => `sim-${String(i).padStart(3, '0')}`);
    await addNodes(client, names);
    const stopRenewing = renewLeases(client, names);
    try {
      // 1. Baseline: bindings written by this process, no scheduler involved (another schedulerName).
      await createNamespace(client, 'bench-baseline');
      const base = inNamespace(resources.pods, 'bench-baseline');
      const baseNames = Array.from({ length: PODS }, (_, i) => `b-${i}`);
      await parallel(baseNames, CONCURRENCY, (name) => client.create(base, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'baseline' } }, spec: podSpec('bench-manual') } as KubeObject));
      const t0 = performance.now();
      let k = 0;
      await parallel(baseNames, CONCURRENCY, (name) =>
        client.createSubresource(base, name, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: names[k++ % NODES] ?? '' } }),
      );
      const baselinePerS = PODS / ((performance.now() - t0) / 1000);
      console.log(`baseline: this process bound ${PODS} pods through pods/binding at ${round2(baselinePerS)}/s (${CONCURRENCY} in flight)`);

      // 2. The scheduler's binding rate: 1,000 pods pending while every node is cordoned, then
      //    every node uncordoned (spec and the node.kubernetes.io/unschedulable taint in one write)
      //    and the time until the scheduler has bound all of them.
      await parallel(names, CONCURRENCY, (name) => client.patch(resources.nodes, name, 'merge', { spec: { unschedulable: true } }));
      await createNamespace(client, 'bench-bind');
      const bind = inNamespace(resources.pods, 'bench-bind');
      await parallel(Array.from({ length: PODS }, (_, i) => `p-${i}`), CONCURRENCY, (name) =>
        client.create(bind, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'bind' } }, spec: podSpec() } as KubeObject),
      );
      // Start the clock only once the scheduler has seen every pod fail (PodScheduled=False).
      for (;;) {
        const l = await client.list(bind, { labelSelector: 'bench=bind' });
        const seen = l.items.filter((p) => ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.status === 'False')).length;
        if (seen === PODS) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const t1 = performance.now();
      const waitBound = boundCount(client, 'bench-bind', 'bench=bind', PODS, 300_000);
      await parallel(names, CONCURRENCY, (name) => client.patch(resources.nodes, name, 'merge', { spec: { unschedulable: null, taints: null } }));
      await waitBound;
      const bindS = (performance.now() - t1) / 1000;
      const podsBoundPerS = PODS / bindS;
      console.log(`scheduler: bound ${PODS} pending pods onto ${NODES} nodes in ${round2(bindS)} s after uncordoning them (${round2(podsBoundPerS)}/s)`);

      // 3. kubectl apply of a Deployment with 1,000 replicas until all its pods are bound.
      await createNamespace(client, 'bench-deploy');
      const manifest = join(server.dir, 'deploy.yaml');
      writeFileSync(manifest, JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'fleet', namespace: 'bench-deploy' },
        spec: { replicas: PODS, selector: { matchLabels: { app: 'fleet' } }, template: { metadata: { labels: { app: 'fleet' } }, spec: podSpec() } },
      }));
      const t2 = performance.now();
      const applied = await kubectl(server, ['apply', '-f', manifest], { timeoutMs: 120_000 });
      if (applied.code !== 0) throw new Error(`kubectl apply failed: ${applied.stderr}`);
      await boundCount(client, 'bench-deploy', 'app=fleet', PODS, 600_000);
      const deployS = (performance.now() - t2) / 1000;
      console.log(`deployment: ${PODS} replicas from kubectl apply to all bound in ${round2(deployS)} s`);

      console.log(JSON.stringify({ bench: 'controllers', pods_bound_per_s: round2(podsBoundPerS), deploy_1000_to_bound_s: round2(deployS) }));
    } finally {
      stopRenewing();
      await client.close();
    }
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
