/**
 * Local persistent volumes end to end, with real containerd and kubectl on two nodes: the server's
 * local agent and a device joined with `edgeos join`. A StatefulSet of 2 with volumeClaimTemplates
 * runs non-root with fsGroup and supplementalGroups and writes to its volumes (subPath and readOnly
 * mounts too); its data survives a container restart, a pod deleted and recreated, and the whole
 * StatefulSet deleted and recreated — each pod back on the node that holds its volume even when
 * the scheduler would rather put it elsewhere, and Pending with kube-scheduler's message while
 * that node takes no pods. On the joined device: the agent restarted while the server is down, a
 * reboot while it is down (the volume mounted again from the agent's cache), the server restarted;
 * then a claim deleted while the device is offline, whose data goes when the device returns. A
 * StorageClass with reclaim Retain, dropped into the manifests folder before the server starts,
 * keeps the data of a deleted claim.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriClient } from '../../src/runtime/cri/client.ts';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { startServer } from '../helpers/start-server.ts';
import type { RunningServer } from '../helpers/start-server.ts';
import { deleteLink, removeDataDir } from '../runtime/cleanup.ts';
import { releasePodCidrClaim, removePodsOfStoppedAgent, spawnEdgeos, stopProcess, stopServerKeepingData, waitFor as waitForState } from './helpers.ts';

const LOCAL = hostname().toLowerCase();
const EDGE = 'storage-edge';
const NS = 'st';
const IMAGE = 'edgeos.test/busybox:storage';

const serverDir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-storage-server-'));
const serverData = join(serverDir, 'data');
const agentDir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-storage-agent-'));
const runtimes = { [LOCAL]: resolveRuntimeConfig({ dataDir: serverData }), [EDGE]: resolveRuntimeConfig({ dataDir: agentDir }) };
let server: RunningServer | undefined;
let agent: ChildProcess | undefined;
let agentOut = '';

const api = (): RunningServer => {
  if (!server) throw new Error('the server is not running');
  return server;
};
const context = () => `agent output:\n${agentOut.slice(-3000)}\nserver output:\n${server?.output().slice(-3000) ?? ''}`;
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> => waitForState(what, fn, timeoutMs, context);

async function ok(args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await kubectl(api(), args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\n${context()}`);
  return r.stdout;
}
const jsonpath = async (args: string[], path: string) => (await ok([...args, '-o', `jsonpath=${path}`])).trim();
const startAgent = (args: string[]) => spawnEdgeos(args, (s) => (agentOut += s));
const nodeReady = async (node: string) => (await jsonpath(['get', 'node', node], '{.status.conditions[?(@.type=="Ready")].status}')) === 'True';

function statefulSet(name: string, replicas: number, nodeSelector?: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      serviceName: name,
      replicas,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          ...(nodeSelector ? { nodeSelector } : {}),
          securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, supplementalGroups: [3000] },
          initContainers: [{ name: 'init', image: IMAGE, command: ['sh', '-c', 'mkdir -p /data/sub && echo hello > /data/sub/greeting'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          containers: [
            { name: 'main', image: IMAGE, command: ['sh', '-c', 'id -G > /data/groups; echo "start $(date +%s%N)" >> /data/log; exec sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
            { name: 'reader', image: IMAGE, command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/ro', subPath: 'sub', readOnly: true }] },
          ],
        },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } }],
    },
  });
}

interface PodInfo {
  node: string;
  phase: string;
  restarts: number;
  ready: boolean;
}
async function podInfo(name: string): Promise<PodInfo | undefined> {
  const r = await kubectl(api(), ['get', 'pod', name, '-n', NS, '-o', 'json']);
  if (r.code !== 0) return undefined;
  const p = JSON.parse(r.stdout) as { spec: { nodeName?: string }; status?: { phase?: string; containerStatuses?: { name: string; restartCount: number; ready: boolean; containerID?: string }[] } };
  const main = p.status?.containerStatuses?.find((c) => c.name === 'main');
  return { node: p.spec.nodeName ?? '', phase: p.status?.phase ?? '', restarts: main?.restartCount ?? 0, ready: (p.status?.containerStatuses ?? []).length === 2 && (p.status?.containerStatuses ?? []).every((c) => c.ready) };
}
const running = (name: string) => waitFor(`${name} Running and ready`, async () => {
  const i = await podInfo(name);
  return i?.phase === 'Running' && i.ready ? i : undefined;
});

/** The claim's volume: its name, node and directory on this host. */
async function volumeOf(claim: string): Promise<{ name: string; node: string; path: string }> {
  const name = await jsonpath(['get', 'pvc', claim, '-n', NS], '{.spec.volumeName}');
  const node = await jsonpath(['get', 'pv', name], '{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}');
  return { name, node, path: await jsonpath(['get', 'pv', name], '{.spec.local.path}') };
}
const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean) : []);

beforeAll(async () => {
  // Air-gapped, as on a device: each agent imports <data-dir>/agent/images at start.
  for (const d of [serverData, agentDir]) {
    mkdirSync(join(d, 'agent', 'images'), { recursive: true });
    writeBusyboxArchive(join(d, 'agent', 'images', 'busybox.tar'), IMAGE);
  }
  // A manifest in the folder before the first start: applied with everything else at start.
  mkdirSync(join(serverData, 'server', 'manifests'), { recursive: true });
  writeFileSync(join(serverData, 'server', 'manifests', 'keep.yaml'), [
    'apiVersion: storage.k8s.io/v1', 'kind: StorageClass', 'metadata: { name: local-keep }',
    // K3s's provisioner name: StorageClasses written for K3s work as they are.
    'provisioner: rancher.io/local-path', 'reclaimPolicy: Retain', 'volumeBindingMode: WaitForFirstConsumer', '',
  ].join('\n'));
  server = await startServer({ dir: serverDir, localAgent: true });
  const token = readFileSync(join(serverData, 'server', 'token'), 'utf8').trim();
  agent = startAgent(['join', token, '--node-name', EDGE, '--data-dir', agentDir]);
  await waitFor('both nodes Ready', async () => (await nodeReady(LOCAL)) && (await nodeReady(EDGE)), 120_000);
  await ok(['create', 'namespace', NS]);
}, 180_000);

afterAll(async () => {
  // Agents first, so no kubelet recreates what a containerd of our own then removes through CRI.
  try {
    await stopProcess(agent);
    await server?.stop();
  } finally {
    for (const [dir, rt] of [[agentDir, runtimes[EDGE]!], [serverData, runtimes[LOCAL]!]] as const) {
      await removePodsOfStoppedAgent(dir).catch(() => undefined);
      deleteLink(rt.cni.bridge);
      releasePodCidrClaim(dir);
      removeDataDir(dir);
    }
    rmSync(serverDir, { recursive: true, force: true });
  }
}, 120_000);

describe('a StatefulSet with volumeClaimTemplates on two nodes', () => {
  const volumes: Record<string, { name: string; node: string; path: string }> = {};

  it('provisions each claim on the node of its pod, where non-root containers write as fsGroup', async () => {
    await ok(['apply', '-f', '-'], { stdin: statefulSet('db', 2) });
    for (const pod of ['db-0', 'db-1']) {
      const info = await running(pod);
      volumes[pod] = await volumeOf(`data-${pod}`);
      expect(volumes[pod]!.node).toBe(info.node);
      expect(volumes[pod]!.path).toBe(join(info.node === EDGE ? agentDir : serverData, 'storage', `${volumes[pod]!.name}_${NS}_data-${pod}`));
    }
    // kubectl get pvc,pv as upstream prints them.
    const pvc = (await ok(['get', 'pvc', 'data-db-0', '-n', NS, '--no-headers'])).trim().split(/\s+/);
    expect(pvc.slice(0, 7)).toEqual(['data-db-0', 'Bound', volumes['db-0']!.name, '64Mi', 'RWO', 'local-path', '<unset>']);
    const pv = (await ok(['get', 'pv', volumes['db-0']!.name, '--no-headers'])).trim().split(/\s+/);
    expect(pv.slice(0, 8)).toEqual([volumes['db-0']!.name, '64Mi', 'RWO', 'Delete', 'Bound', `${NS}/data-db-0`, 'local-path', '<unset>']);
    // Every process has fsGroup and supplementalGroups among its groups; the files are the fsGroup's.
    expect((await ok(['exec', 'db-0', '-n', NS, '-c', 'main', '--', 'id', '-G'])).trim()).toBe('1000 2000 3000');
    const { path } = volumes['db-0']!;
    await waitFor('the first log line', async () => lines(join(path, 'log')).length === 1);
    expect(readFileSync(join(path, 'groups'), 'utf8').trim()).toBe('1000 2000 3000');
    expect(statSync(path).gid).toBe(2000);
    expect(statSync(path).mode & 0o2070).toBe(0o2070);
    expect(statSync(join(path, 'log')).gid).toBe(2000);
    // subPath, read-only: the reader sees the init container's file and cannot write.
    expect(await ok(['exec', 'db-0', '-n', NS, '-c', 'reader', '--', 'cat', '/ro/greeting'])).toBe('hello\n');
    const write = await kubectl(api(), ['exec', 'db-0', '-n', NS, '-c', 'reader', '--', 'touch', '/ro/x']);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('Read-only file system');
  }, 180_000);

  it('keeps the data across a container restart and a pod deleted and recreated', async () => {
    const { node } = volumes['db-0']!;
    const cri = new CriClient({ endpoint: runtimes[node]!.endpoint, defaultTimeoutMs: 20_000 });
    try {
      const { containers } = await cri.call('ListContainers', { filter: { labelSelector: { 'io.kubernetes.pod.name': 'db-0', 'io.kubernetes.container.name': 'main' } } });
      const live = containers.find((c) => c.state === 'CONTAINER_RUNNING');
      await cri.call('StopContainer', { containerId: live?.id ?? '', timeout: 0 });
    } finally {
      cri.close();
    }
    await waitFor('main restarted', async () => (await podInfo('db-0'))?.restarts === 1 && lines(join(volumes['db-0']!.path, 'log')).length === 2);
    await ok(['delete', 'pod', 'db-1', '-n', NS]);
    const again = await running('db-1');
    expect(again.node).toBe(volumes['db-1']!.node);
    await waitFor('db-1 to append to its log', async () => lines(join(volumes['db-1']!.path, 'log')).length === 2);
    expect(await ok(['exec', 'db-1', '-n', NS, '-c', 'main', '--', 'cat', '/data/log'])).toBe(`${lines(join(volumes['db-1']!.path, 'log')).join('\n')}\n`);
  }, 120_000);

  it('brings the recreated StatefulSet back to its data, on the nodes that hold it', async () => {
    // The scheduler would rather use the other node now: the volumes' node affinity decides.
    const node = volumes['db-0']!.node;
    await ok(['taint', 'node', node, 'storage-test=avoid:PreferNoSchedule']);
    try {
      await ok(['delete', 'statefulset', 'db', '-n', NS, '--wait=true'], { timeoutMs: 60_000 });
      await waitFor('the pods to go', async () => (await podInfo('db-0')) === undefined && (await podInfo('db-1')) === undefined);
      expect(await jsonpath(['get', 'pvc', '-n', NS], '{.items[*].status.phase}')).toBe('Bound Bound');
      await ok(['apply', '-f', '-'], { stdin: statefulSet('db', 2) });
      for (const pod of ['db-0', 'db-1']) {
        expect((await running(pod)).node).toBe(volumes[pod]!.node);
        expect((await volumeOf(`data-${pod}`)).name).toBe(volumes[pod]!.name);
        await waitFor(`${pod} to append to its old log`, async () => lines(join(volumes[pod]!.path, 'log')).length === 3);
      }
    } finally {
      await ok(['taint', 'node', node, 'storage-test-']);
    }
  }, 180_000);

  it("leaves a pod Pending while its volume's node takes no pods, saying why", async () => {
    const { node } = volumes['db-1']!;
    await ok(['cordon', node]);
    try {
      await ok(['delete', 'pod', 'db-1', '-n', NS]);
      const message = await waitFor('db-1 unschedulable', async () =>
        (await jsonpath(['get', 'pod', 'db-1', '-n', NS], '{.status.conditions[?(@.type=="PodScheduled")].message}')) || undefined);
      expect(message).toBe('0/2 nodes are available: 1 node(s) had volume node affinity conflict, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
    } finally {
      await ok(['uncordon', node]);
    }
    expect((await running('db-1')).node).toBe(node);
  }, 120_000);
});

describe('on the joined device, with the server down and back', () => {
  let volume = { name: '', node: '', path: '' };
  const log = () => lines(join(volume.path, 'log'));

  it('runs a pod with a claim on the device', async () => {
    await ok(['apply', '-f', '-'], { stdin: statefulSet('edge', 1, { 'kubernetes.io/hostname': EDGE }) });
    await running('edge-0');
    volume = await volumeOf('data-edge-0');
    expect(volume.node).toBe(EDGE);
    await waitFor('its first log line', async () => log().length === 1);
  }, 120_000);

  it('keeps the data when the agent restarts and when the device reboots, with the server unreachable', async () => {
    await stopServerKeepingData(api(), 'SIGKILL');
    await stopProcess(agent);
    let from = agentOut.length;
    agent = startAgent(['agent', '--data-dir', agentDir]);
    await waitFor('the restarted kubelet', async () => agentOut.slice(from).includes('"msg":"kubelet ready"'));
    await new Promise((r) => setTimeout(r, 2000));
    expect(log()).toHaveLength(1); // adopted, not restarted

    // The reboot: every pod gone from containerd, containerd stopped, the bridge deleted.
    await stopProcess(agent);
    await removePodsOfStoppedAgent(agentDir);
    deleteLink(runtimes[EDGE]!.cni.bridge);
    from = agentOut.length;
    agent = startAgent(['agent', '--data-dir', agentDir]);
    // The pod starts again from the cache, its claim and volume too: it appends to the same file.
    await waitFor('the pod to run again from the cache and append to its volume', async () => log().length === 2, 120_000);
    expect(agentOut.slice(from)).not.toContain('FailedMount');
  }, 240_000);

  it('finds everything in place once the server is back', async () => {
    const from = agentOut.length;
    server = await startServer({ dir: serverDir, port: api().port, localAgent: true });
    // The Ready condition may still be the one from before the server went; the link is the device's own word.
    await waitFor('the device linked again', async () => agentOut.slice(from).includes('"msg":"linked to the server"'), 120_000);
    await waitFor('both nodes Ready', async () => (await nodeReady(LOCAL)) && (await nodeReady(EDGE)), 120_000);
    await running('edge-0');
    expect(await ok(['exec', 'edge-0', '-n', NS, '-c', 'main', '--', 'cat', '/data/log'])).toBe(`${log().join('\n')}\n`);
    expect(await jsonpath(['get', 'pvc', 'data-edge-0', '-n', NS], '{.status.phase}')).toBe('Bound');
  }, 180_000);

  it('deletes the data of a claim deleted while the device is offline when it returns', async () => {
    await ok(['delete', 'statefulset', 'edge', '-n', NS, '--wait=true'], { timeoutMs: 60_000 });
    await waitFor('edge-0 to go', async () => (await podInfo('edge-0')) === undefined);
    await stopProcess(agent);
    await ok(['delete', 'pvc', 'data-edge-0', '-n', NS]);
    const status = await waitFor('the volume to wait Terminating for its node', async () => {
      const row = (await kubectl(api(), ['get', 'pv', volume.name, '--no-headers'])).stdout.trim().split(/\s+/);
      return row[4] === 'Terminating' ? row : undefined;
    });
    expect(status[3]).toBe('Delete');
    expect(existsSync(volume.path)).toBe(true);
    agent = startAgent(['agent', '--data-dir', agentDir]);
    await waitFor('the volume and its data to go', async () => (await kubectl(api(), ['get', 'pv', volume.name])).code === 1 && !existsSync(volume.path));
  }, 180_000);
});

describe('reclaim policy Retain', () => {
  it('keeps the data of a deleted claim, and of its volume deleted by hand', async () => {
    await ok(['apply', '-f', '-'], {
      stdin: JSON.stringify({
        apiVersion: 'v1', kind: 'List', items: [
          { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'kept', namespace: NS }, spec: { storageClassName: 'local-keep', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } } },
          {
            apiVersion: 'v1', kind: 'Pod', metadata: { name: 'keeper', namespace: NS },
            spec: {
              terminationGracePeriodSeconds: 1, nodeSelector: { 'kubernetes.io/hostname': LOCAL },
              containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', 'echo precious > /data/file; exec sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
              volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'kept' } }],
            },
          },
        ],
      }),
    });
    await waitFor('keeper Running', async () => (await jsonpath(['get', 'pod', 'keeper', '-n', NS], '{.status.phase}')) === 'Running');
    const name = await jsonpath(['get', 'pvc', 'kept', '-n', NS], '{.spec.volumeName}');
    const path = await jsonpath(['get', 'pv', name], '{.spec.local.path}');
    await waitFor('the file', async () => existsSync(join(path, 'file')));
    await ok(['delete', 'pod', 'keeper', '-n', NS]);
    await ok(['delete', 'pvc', 'kept', '-n', NS]);
    const row = await waitFor('the volume Released', async () => {
      const r = (await ok(['get', 'pv', name, '--no-headers'])).trim().split(/\s+/);
      return r[4] === 'Released' ? r : undefined;
    });
    expect(row.slice(3, 7)).toEqual(['Retain', 'Released', `${NS}/kept`, 'local-keep']);
    await ok(['delete', 'pv', name], { timeoutMs: 60_000 });
    expect(readFileSync(join(path, 'file'), 'utf8')).toBe('precious\n');
  }, 120_000);
});
