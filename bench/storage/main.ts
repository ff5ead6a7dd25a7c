// Local persistent volumes (bench/storage/README.md), against the real `edgeos server` with its
// local agent on a private containerd:
// 1. apply → Running of 20 StatefulSet pods that each get a new claim (provisioned by the built-in
//    local-path provisioner: WaitForFirstConsumer, PV created, claim bound, directory created on
//    the node, volume mounted), against the same 20 pods without a claim — the provisioning
//    overhead. Rounds alternate the two kinds (and which goes first) so drift hits both; each round
//    prints where the time went, step by step (claim, pod, volume, claim bound, pod bound, Running).
// 2. Sequential write throughput through a mounted volume (busybox `time dd … conv=fsync` inside a
//    pod) against the same busybox command on the host, run in the pod container's cgroups, into
//    the same storage directory (the same filesystem). Alternating pairs, the median of the pairs'
//    ratios; busybox times both the same way (Debian's busybox dd prints no rate of its own).
// Last line: {"bench":"storage","pvc_to_running_p99_ms":…,"pod_to_running_p99_ms":…,
//             "volume_write_mbps":…,"host_write_mbps":…,"volume_write_ratio":…}
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const WRITE_MB = 512;
const WRITE_RUNS = 7;
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
const volumes = resources.persistentVolumes;

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
  // When the watches first showed each step of each pod, keyed by ordinal.
  const at = { claim: new Map<string, number>(), pod: new Map<string, number>(), volume: new Map<string, number>(), claimBound: new Map<string, number>(), bound: new Map<string, number>(), running: new Map<string, number>() };
  const ordinal = (n: string | undefined) => n?.slice(n.lastIndexOf('-') + 1) ?? '';
  const first = (m: Map<string, number>, k: string) => { if (!m.has(k)) m.set(k, performance.now()); };
  const watchers: Promise<unknown>[] = [];
  const follow = async (ref: typeof pods, on: (o: KubeObject & { spec?: Record<string, unknown>; status?: { phase?: string } }) => void, labelSelector?: string) => {
    const list = await c.list(ref);
    watchers.push((async () => {
      for await (const ev of c.watch(ref, { resourceVersion: list.resourceVersion, signal: ac.signal, ...(labelSelector ? { labelSelector } : {}) })) on(ev.object as never);
    })().catch(() => undefined));
  };
  await follow(pods, (p) => {
    const k = ordinal(p.metadata.name);
    first(at.pod, k);
    if (p.spec?.nodeName) first(at.bound, k);
    if (p.status?.phase === 'Running') first(at.running, k);
  }, `app=${name}`);
  if (withClaim) {
    const prefix = `data-${name}-`;
    await follow(claims, (pvc) => {
      if (!pvc.metadata.name?.startsWith(prefix)) return;
      const k = ordinal(pvc.metadata.name);
      first(at.claim, k);
      if (pvc.spec?.volumeName) first(at.claimBound, k);
    });
    await follow(volumes, (pv) => {
      const ref = (pv.spec?.claimRef ?? {}) as { name?: string };
      if (ref.name?.startsWith(prefix)) first(at.volume, ordinal(ref.name));
    });
  }
  const t0 = performance.now();
  await c.patch(sets, name, 'apply', statefulSet(name, withClaim), { fieldManager: 'bench', force: true });
  await until(`${PODS} ${name} pods Running`, async () => at.running.size >= PODS);
  ac.abort();
  await Promise.all(watchers);
  const ms = [...at.running.values()].map((t) => t - t0);
  // Where the time goes, step by step (each from the step before, as the watches saw them):
  // claim created, pod created, volume created, claim bound, pod bound to the node, Running.
  const steps: [string, Map<string, number>][] = withClaim
    ? [['claim', at.claim], ['pod', at.pod], ['volume', at.volume], ['claim bound', at.claimBound], ['pod bound', at.bound], ['Running', at.running]]
    : [['pod', at.pod], ['pod bound', at.bound], ['Running', at.running]];
  const parts: string[] = [];
  let prev: Map<string, number> | undefined;
  for (const [label, m] of steps) {
    const d = [...at.running.keys()].map((k) => (m.get(k) ?? NaN) - (prev ? (prev.get(k) ?? NaN) : t0)).filter((x) => !Number.isNaN(x));
    parts.push(`${label} +${Math.round(median(d))}/${Math.round(p99(d))}`);
    prev = m;
  }
  console.log(`  ${name} (ms p50/p99 per step): ${parts.join(', ')}`);

  await c.delete(sets, name, { propagationPolicy: 'Background' });
  await until(`the ${name} pods to go`, async () => (await c.list(pods, { labelSelector: `app=${name}` })).items.length === 0);
  if (withClaim) {
    for (const pvc of (await c.list(claims)).items) await c.delete(claims, pvc.metadata.name ?? '').catch((e: unknown) => { if (!(e instanceof NotFoundError)) throw e; });
    // Reclaim Delete: the volumes go once the agent deleted their directories.
    await until('the volumes to go', async () => (await c.list(volumes)).items.length === 0);
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

/** The cgroup controllers that decide how fast a writer runs: CPU time, memory (page cache), block I/O. */
const WRITER_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpu,cpuacct', 'cpuacct,cpu', 'memory', 'blkio', 'cpuset']);

/**
 * The cgroup.procs files of the io pod's container (cgroup v1 per controller, or the v2 unified
 * one): the host-side dd joins them, so both writers get the same CPU share (a pod's is set by its
 * request), memory accounting and block I/O weight, and only the path they write through differs.
 */
async function containerCgroupProcs(podName: string): Promise<string[]> {
  const pod = await client!.get(pods, podName) as KubeObject & { status?: { containerStatuses?: { containerID?: string }[] } };
  const id = pod.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '') ?? '';
  const st = await cri.call('ContainerStatus', { containerId: id, verbose: true }) as { info?: Record<string, string> };
  const pid = (JSON.parse(st.info?.info ?? '{}') as { pid?: number }).pid;
  if (!pid) throw new Error(`no pid for container ${id} of pod ${podName}`);
  const out: string[] = [];
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, controllers = '', path = ''] = line.split(':');
    if (controllers === '' && existsSync('/sys/fs/cgroup/cgroup.controllers')) out.push(join('/sys/fs/cgroup', path, 'cgroup.procs'));
    else if (WRITER_CONTROLLERS.has(controllers)) out.push(join('/sys/fs/cgroup', controllers, path, 'cgroup.procs'));
  }
  if (out.length === 0) throw new Error(`no cgroup of container ${id} found in /proc/${pid}/cgroup`);
  return out;
}

/**
 * Sequential writes through the mounted volume (busybox dd inside the pod) against the same dd on
 * the host, run inside the pod container's cgroups, into a directory beside the volume (the same
 * filesystem). Each run writes a fresh file after a `sync`; pairs alternate which goes first, and
 * the ratio is the median of the pairs' ratios, so drift of the shared disk between pairs cancels.
 */
async function writeThroughput(): Promise<{ volume: number; host: number; ratio: number }> {
  await client!.create(claims, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'io' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  // A CPU request of one core: cpu.shares 1024, as any process on the host, instead of a
  // BestEffort pod's 2 (which starves the writer whenever the machine is busy).
  await client!.create(pods, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'io', namespace: NS },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: IMAGE, command: ['sleep', '3600'], resources: { requests: { cpu: '1' } }, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'io' } }],
    },
  });
  await until('the io pod Running', async () => ((await client!.get(pods, 'io')).status as { phase?: string } | undefined)?.phase === 'Running');
  const volumeName = ((await client!.get(claims, 'io')).spec as { volumeName?: string }).volumeName ?? '';
  const volumeDir = ((await client!.get(volumes, volumeName)).spec as { local?: { path?: string } }).local?.path ?? '';
  if (!volumeDir.startsWith(join(data, 'storage'))) throw new Error(`the io volume is not under the storage path: ${volumeDir}`);
  const hostDir = join(data, 'storage', 'bench-host');
  mkdirSync(hostDir, { recursive: true });
  const procs = await containerCgroupProcs('io');
  const fresh = (file: string) => {
    rmSync(file, { force: true });
    spawnSync('sync');
  };
  const volume: number[] = [];
  const host: number[] = [];
  const inPod = async () => {
    fresh(join(volumeDir, 'f'));
    const r = await kubectl(server!, ['exec', '-n', NS, 'io', '--', ...ddArgs('/data/f')], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`dd in the pod: ${r.stderr}`);
    volume.push(ddMbps(r.stderr));
  };
  const onHost = async () => {
    fresh(join(hostDir, 'f'));
    // The same busybox as in the image, as `time` and as `dd`; the shell joins the cgroups, then execs.
    const join_ = procs.map((f) => `echo $$ > ${f}`).join(' && ');
    const r = spawnSync('/bin/busybox', ['sh', '-c', `${join_} && exec /bin/busybox ${ddArgs(join(hostDir, 'f')).join(' ')}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`dd on the host: ${r.stderr}`);
    host.push(ddMbps(r.stderr));
  };
  const ratios: number[] = [];
  for (let i = 0; i < WRITE_RUNS; i++) {
    for (const run of i % 2 === 0 ? [inPod, onHost] : [onHost, inPod]) await run();
    ratios.push(volume.at(-1)! / host.at(-1)!);
    console.log(`write run ${i + 1}/${WRITE_RUNS}: volume ${volume.at(-1)!.toFixed(1)} MB/s, host ${host.at(-1)!.toFixed(1)} MB/s, ratio ${ratios.at(-1)!.toFixed(3)}`);
  }
  rmSync(hostDir, { recursive: true, force: true });
  rmSync(join(volumeDir, 'f'), { force: true });
  return { volume: median(volume), host: median(host), ratio: median(ratios) };
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
    volume_write_ratio: Math.round(write.ratio * 1000) / 1000,
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
