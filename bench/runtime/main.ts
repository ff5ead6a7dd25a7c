// Pod start latency through the ContainerRuntime contract vs raw CRI calls, in one run against one
// private containerd. A "pod start" is RunPodSandbox + CreateContainer + StartContainer of a
// busybox `sleep`. Raw and edgeos pods alternate (and swap who goes first) so drift on a loaded
// machine hits both equally; every pod is stopped and removed, untimed, before the next.
// Last line: {"bench":"runtime","raw_start_ms_p50":…,"edgeos_start_ms_p50":…,"overhead_ratio":…}
import * as grpc from '@grpc/grpc-js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/log.ts';
import { channelOptions, criRpcs, endpointAddress } from '../../src/runtime/cri/client.ts';
import { createContainerRuntime, resolveRuntimeConfig } from '../../src/runtime/index.ts';
import type { PodSandboxConfig } from '../../src/runtime/index.ts';
import { busyboxArchive } from '../../test/fixtures/images/busybox-image.ts';
import { deleteLink, killPid, removeAllPods, removeDataDir } from '../../test/runtime/cleanup.ts';

const pods = Number(process.argv[2] ?? 50);
const warmup = 3;
const image = 'edgeos.bench/busybox:1';

const dir = mkdtempSync('/tmp/eos-bench-');
mkdirSync(join(dir, 'agent/images'), { recursive: true });
writeFileSync(join(dir, 'agent/images/busybox.tar'), busyboxArchive(image));
const config = resolveRuntimeConfig({
  dataDir: dir, privateRegistry: join(dir, 'registries.yaml'), podCidr: '10.231.99.0/24', cniBridge: 'eosbench0',
});
const rt = createContainerRuntime(config, { log: silentLogger() });
const ac = new AbortController();

const raw = new grpc.Client(endpointAddress(config.endpoint), grpc.credentials.createInsecure(), channelOptions);
const rawCall = (method: string, req: object): Promise<Record<string, unknown>> => {
  const rpc = criRpcs.get(method)!;
  return new Promise((resolve, reject) => raw.makeUnaryRequest(rpc.path, rpc.serialize, rpc.deserialize, req, new grpc.Metadata(), {},
    (err, res) => (err ? reject(err) : resolve(res as Record<string, unknown>))));
};

function sandboxFor(kind: string, i: number): PodSandboxConfig {
  return { metadata: { name: `${kind}-${i}`, uid: `${kind}-uid-${i}`, namespace: 'bench', attempt: 0 } };
}

/** The baseline: the same requests, written by hand as plain objects, through grpc-js directly. */
async function rawStart(i: number): Promise<{ ms: number; sid: string }> {
  const s = sandboxFor('raw', i);
  const sandboxConfig = {
    metadata: s.metadata,
    hostname: s.metadata.name,
    logDirectory: join(config.podLogsDir, `bench_${s.metadata.name}_${s.metadata.uid}`),
    linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
  const t0 = performance.now();
  const { podSandboxId } = await rawCall('RunPodSandbox', { config: sandboxConfig });
  const { containerId } = await rawCall('CreateContainer', {
    podSandboxId,
    config: {
      metadata: { name: 'main', attempt: 0 },
      image: { image },
      command: ['sleep', '3600'],
      logPath: 'main/0.log',
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    },
    sandboxConfig,
  });
  await rawCall('StartContainer', { containerId });
  return { ms: performance.now() - t0, sid: podSandboxId as string };
}

async function edgeosStart(i: number): Promise<{ ms: number; sid: string }> {
  const s = sandboxFor('edgeos', i);
  const t0 = performance.now();
  const sid = await rt.runPodSandbox(s);
  const cid = await rt.createContainer(sid, { name: 'main', image, command: ['sleep', '3600'] }, s);
  await rt.startContainer(cid);
  return { ms: performance.now() - t0, sid };
}

async function remove(sid: string): Promise<void> {
  await rt.stopPodSandbox(sid);
  await rt.removePodSandbox(sid);
}

const p50 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number): number => Math.round(x * 100) / 100;

let pid: number | undefined;
try {
  await rt.start(ac.signal);
  pid = rt.containerdPid();
  const rawMs: number[] = [];
  const edgeosMs: number[] = [];
  for (let i = 0; i < warmup + pods; i++) {
    const order = i % 2 === 0 ? [rawStart, edgeosStart] : [edgeosStart, rawStart];
    for (const start of order) {
      const r = await start(i);
      await remove(r.sid);
      if (i >= warmup) (start === rawStart ? rawMs : edgeosMs).push(r.ms);
    }
    if (i >= warmup && (i - warmup + 1) % 10 === 0) {
      console.log(`pods ${i - warmup + 1}/${pods}: raw p50 ${round(p50(rawMs))} ms, edgeos p50 ${round(p50(edgeosMs))} ms`);
    }
  }
  const rawP50 = p50(rawMs);
  const edgeosP50 = p50(edgeosMs);
  console.log(JSON.stringify({
    bench: 'runtime',
    raw_start_ms_p50: round(rawP50),
    edgeos_start_ms_p50: round(edgeosP50),
    overhead_ratio: Math.round((edgeosP50 / rawP50) * 1000) / 1000,
  }));
} finally {
  raw.close();
  await removeAllPods(config.endpoint);
  await rt.stop();
  killPid(pid);
  deleteLink(config.cni.bridge);
  removeDataDir(dir);
}
