// Local persistent volumes (bench/storage/README.md), against the real `edgeos server` with its
// local agent on a private containerd:
// 1. apply → Running of 20 StatefulSet pods that each get a new claim (provisioned by the built-in
//    local-path provisioner: WaitForFirstConsumer, PV created, claim bound, directory created on
//    the node, volume mounted), against the same 20 pods without a claim — the provisioning
//    overhead. Rounds alternate the two kinds (and which goes first) so drift hits both.
// 2. Sequential write throughput through a mounted volume (busybox `time dd … conv=fsync` inside a
//    pod) against the same busybox command on the host into the same storage directory (the same
//    filesystem). Alternating runs; busybox times both the same way (Debian's busybox dd prints no
//    rate of its own).
// Last line: {"bench":"storage","pvc_to_running_p99_ms":…,"pod_to_running_p99_ms":…,
//             "volume_write_mbps":…,"host_write_mbps":…,"volume_write_ratio":…}
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createKubeClient } from '../../src/server/controllers/client/kube-client.ts';
import type { ClosableKubeClient } from '../../src/server/controllers/client/kube-client.ts';
import { NotFoundError, inNamespace, resources } from '../../src/server/controllers/types.ts';
import type { KubeObject } from '../../src/server/controllers/types.ts';
import { CriClient } from '../../src/runtime/cri/client.ts';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { releasePodCidrClaim, removePodsOfStoppedAgent } from '../../test/e2e/helpers.ts';
import { writeBusyboxArchive } from '../../test/fixtures/images/busybox-image.ts';
import { kubectl } from '../../test/helpers/kubectl.ts';
import { startServer } from '../../test/helpers/start-server.ts';
import type { RunningServer } from '../../test/helpers/start-server.ts';
import { deleteLink, removeDataDir } from '../../test/runtime/cleanup.ts';

const PODS = Number(process.env.EDGEOS_BENCH_STORAGE_PODS ?? 20);
const ROUNDS = Number(process.env.EDGEOS_BENCH_STORAGE_ROUNDS ?? 2);
const WRITE_MB = 256;
const WRITE_RUNS = 5;
const NS = 'bench';
const IMAGE = 'edgeos.bench/busybox:storage';

const dir = mkdtempSync('/tmp/eos-bench-storage-');
const data = join(dir, 'data');
const runtime = resolveRuntimeConfig({ dataDir: data });
let server: RunningServer | undefined;
let client: ClosableKubeClient | undefined;
const cri = new CriClient({ endpoint: runtime.endpoint, defaultTimeoutMs: 20_000 });

const sets = inNamespace(resources.statefulSets, NS);
const claims = inNamespace(resources.persistentVolumeClaims, NS);
const pods = inNamespace(resources.pods, NS);

function statefulSet(name: string, withClaim: boolean): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      serviceName: name,
      replicas: PODS,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'main', image: IMAGE, command: ['sleep', '3600'], ...(withClaim ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}) }],
        },
      },
      ...(withClaim ? { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } } }] } : {}),
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server?.output().slice(-3000) ?? ''}`);
    await sleep(200);
  }
}

/**
 * One round: server-side apply of the StatefulSet, then the time from the apply to each pod's
 * first Running status as a watch delivers it. Then everything is deleted, untimed.
 */
async function round(name: string, withClaim: boolean): Promise<number[]> {
  const c = client!;
  const ac = new AbortController();
  const runningAt = new Map<string, number>();
  const boundAt = new Map<string, number>();
  const list = await c.list(pods);
  const watching = (async () => {
    for await (const ev of c.watch(pods, { resourceVersion: list.resourceVersion, signal: ac.signal, labelSelector: `app=${name}` })) {
      const p = ev.object as KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } };
      if (p.spec?.nodeName && !boundAt.has(p.metadata.name ?? '')) boundAt.set(p.metadata.name ?? '', performance.now());
      if (p.status?.phase === 'Running' && !runningAt.has(p.metadata.name ?? '')) runningAt.set(p.metadata.name ?? '', performance.now());
    }
  })().catch(() => undefined);
  const t0 = performance.now();
  await c.patch(sets, name, 'apply', statefulSet(name, withClaim), { fieldManager: 'bench', force: true });
  await until(`${PODS} ${name} pods Running`, async () => runningAt.size >= PODS);
  ac.abort();
  await watching;
  const ms = [...runningAt.values()].map((t) => t - t0);
  // Where the time goes: until the scheduler bound the pod (claims provisioned and bound first),
  // and from there until the node reported it Running.
  const bound = [...boundAt.values()].map((t) => t - t0);
  const onNode = [...runningAt].map(([pod, t]) => t - (boundAt.get(pod) ?? t0));
  console.log(`  ${name}: bound p50 ${Math.round(median(bound))} ms max ${Math.round(Math.max(...bound))} ms; bound→Running p50 ${Math.round(median(onNode))} ms max ${Math.round(Math.max(...onNode))} ms`);

  await c.delete(sets, name, { propagationPolicy: 'Background' });
  await until(`the ${name} pods to go`, async () => (await c.list(pods, { labelSelector: `app=${name}` })).items.length === 0);
  if (withClaim) {
    for (const pvc of (await c.list(claims)).items) await c.delete(claims, pvc.metadata.name ?? '').catch((e: unknown) => { if (!(e instanceof NotFoundError)) throw e; });
    // Reclaim Delete: the volumes go once the agent deleted their directories.
    await until('the volumes to go', async () => (await c.list({ group: '', version: 'v1', resource: 'persistentvolumes' })).items.length === 0);
  }
  // The next round starts on an idle node: the kubelet has removed every sandbox of this one.
  await until('the node to remove the sandboxes', async () => (await cri.call('ListPodSandbox', { filter: null })).items.length === 0);
  await sleep(2000);
  return ms;
}

/** busybox time's "real\t0m 0.74s" after the dd → MB/s (1 MB = 10^6 bytes). */
function ddMbps(output: string): number {
  const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(output);
  if (!m) throw new Error(`cannot read the time of dd: ${output}`);
  return (WRITE_MB * 1024 * 1024) / (Number(m[1]) * 60 + Number(m[2])) / 1e6;
}

const ddArgs = (file: string) => ['time', 'dd', 'if=/dev/zero', `of=${file}`, 'bs=1M', `count=${WRITE_MB}`, 'conv=fsync'];

async function writeThroughput(): Promise<{ volume: number; host: number }> {
  await client!.create(claims, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'io' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  await client!.create(pods, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'io', namespace: NS },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: IMAGE, command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'io' } }] },
  });
  await until('the io pod Running', async () => ((await client!.get(pods, 'io')).status as { phase?: string } | undefined)?.phase === 'Running');
  // The host side writes into the same storage directory, beside the volume: same filesystem.
  const hostDir = join(data, 'storage', 'bench-host');
  mkdirSync(hostDir, { recursive: true });
  const volume: number[] = [];
  const host: number[] = [];
  const inPod = async () => {
    const r = await kubectl(server!, ['exec', '-n', NS, 'io', '--', ...ddArgs('/data/f')], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`dd in the pod: ${r.stderr}`);
    volume.push(ddMbps(r.stderr));
  };
  const onHost = async () => {
    // The same busybox as in the image, as `time` and as `dd`.
    const r = spawnSync('/bin/busybox', ['time', '/bin/busybox', ...ddArgs(join(hostDir, 'f')).slice(1)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`dd on the host: ${r.stderr}`);
    host.push(ddMbps(r.stderr));
  };
  for (let i = 0; i < WRITE_RUNS; i++) {
    for (const run of i % 2 === 0 ? [inPod, onHost] : [onHost, inPod]) await run();
    console.log(`write run ${i + 1}/${WRITE_RUNS}: volume ${volume.at(-1)!.toFixed(1)} MB/s, host ${host.at(-1)!.toFixed(1)} MB/s`);
  }
  rmSync(hostDir, { recursive: true, force: true });
  return { volume: median(volume), host: median(host) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** Nearest-rank percentile. */
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(0.99 * xs.length) - 1)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;

try {
  mkdirSync(join(data, 'agent', 'images'), { recursive: true });
  writeBusyboxArchive(join(data, 'agent', 'images', 'busybox.tar'), IMAGE);
  server = await startServer({ dir, localAgent: true, readyTimeoutMs: 120_000 });
  const kc = parse(readFileSync(server.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const dec = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
  client = createKubeClient({
    url: server.url, caPem: dec(kc.clusters[0]?.cluster['certificate-authority-data']),
    certPem: dec(kc.users[0]?.user['client-certificate-data']), keyPem: dec(kc.users[0]?.user['client-key-data']), userAgent: 'edgeos-bench-storage',
  });
  const c = client;
  await until('the node Ready and the default StorageClass', async () => {
    const nodes = (await c.list(resources.nodes)).items as (KubeObject & { status?: { conditions?: { type: string; status: string }[] } })[];
    const ready = nodes.some((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
    const sc = await c.get({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, 'local-path').then(() => true, () => false);
    return ready && sc;
  });
  await c.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });

  const withClaim: number[] = [];
  const without: number[] = [];
  // A warm-up pair (image cache, first sandbox), then rounds alternating who goes first.
  await round('warm', false);
  await round('warm-claimed', true);
  for (let i = 0; i < ROUNDS; i++) {
    const order: [string, boolean][] = i % 2 === 0 ? [['plain', false], ['claimed', true]] : [['claimed', true], ['plain', false]];
    for (const [name, claim] of order) {
      const ms = await round(name, claim);
      (claim ? withClaim : without).push(...ms);
      console.log(`round ${i + 1}/${ROUNDS} ${name}: p99 ${Math.round(p99(ms))} ms, max ${Math.round(Math.max(...ms))} ms over ${ms.length} pods`);
    }
  }
  const write = await writeThroughput();
  console.log(JSON.stringify({
    bench: 'storage',
    pvc_to_running_p99_ms: Math.round(p99(withClaim)),
    pod_to_running_p99_ms: Math.round(p99(without)),
    volume_write_mbps: round1(write.volume),
    host_write_mbps: round1(write.host),
    volume_write_ratio: Math.round((write.volume / write.host) * 1000) / 1000,
  }));
} finally {
  cri.close();
  await client?.close();
  await server?.stop();
  await removePodsOfStoppedAgent(data).catch(() => undefined);
  deleteLink(runtime.cni.bridge);
  releasePodCidrClaim(data);
  removeDataDir(dir);
}
