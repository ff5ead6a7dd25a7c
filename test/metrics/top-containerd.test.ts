/**
 * `kubectl top` with real numbers: a device joined with `edgeos join` (its own process, private
 * containerd, busybox imported air-gapped) runs a pod; when metrics are read the server asks its
 * agent over the link (`stats-request`) and the kubelet answers from the runtime; kubectl 1.32
 * then prints the pod's and the node's usage.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLAIMS_DIR } from '../../src/runtime/cni/pod-cidr.ts';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { startServer } from '../helpers/start-server.ts';
import type { RunningServer } from '../helpers/start-server.ts';
import { deleteLink, removeAllPods, removeDataDir } from '../runtime/cleanup.ts';

const REPO = resolve(import.meta.dirname, '../..');
const NODE = 'top-device';
const IMAGE = 'edgeos.test/busybox:top';

let server: RunningServer | undefined;
let agent: ChildProcess | undefined;
let agentOut = '';
const agentDir = mkdtempSync(join(tmpdir(), 'edgeos-top-agent-'));
const runtimeConfig = resolveRuntimeConfig({ dataDir: agentDir });

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const v = await fn().catch((e: unknown) => {
      last = e;
      return undefined;
    });
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}\nagent output:\n${agentOut.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

beforeAll(async () => {
  server = await startServer();
  mkdirSync(join(agentDir, 'agent', 'images'), { recursive: true });
  writeBusyboxArchive(join(agentDir, 'agent', 'images', 'busybox.tar'), IMAGE);
  const token = readFileSync(join(server.dir, 'data', 'server', 'token'), 'utf8').trim();
  agent = spawn(process.execPath, [join(REPO, 'src/cli/main.ts'), 'join', token, '--node-name', NODE, '--data-dir', agentDir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout?.on('data', (b: Buffer) => (agentOut += b.toString()));
  agent.stderr?.on('data', (b: Buffer) => (agentOut += b.toString()));
  await waitFor('the joined node to be Ready', async () =>
    (await kubectl(server!, ['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
  120_000);
}, 180_000);

afterAll(async () => {
  try {
    if (runtimeConfig.containerd) await removeAllPods(runtimeConfig.containerd.address).catch(() => undefined);
  } finally {
    await stopProcess(agent);
    await server?.stop();
    deleteLink(runtimeConfig.cni.bridge);
    releasePodCidrClaim(agentDir);
    removeDataDir(agentDir);
  }
}, 120_000);

describe('kubectl top on a joined device with containerd', () => {
  it('prints the pod’s and the node’s CPU and memory', async () => {
    const pod = `
apiVersion: v1
kind: Pod
metadata: { name: busy, namespace: default, labels: { app: busy } }
spec:
  nodeName: ${NODE}
  containers:
  - name: work
    image: ${IMAGE}
    # A little work every second, so there is CPU to see (not a busy loop: others share the host).
    command: ['sh', '-c', 'while true; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; sleep 1; done']
`;
    const applied = await kubectl(server!, ['apply', '-f', '-'], { stdin: pod });
    expect(applied.code, applied.stderr).toBe(0);
    await waitFor('the pod Running', async () =>
      (await kubectl(server!, ['get', 'pod', 'busy', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running',
    120_000);
    // A container's CPU is a rate since the kubelet's last kept reading (every 15 s); a container
    // younger than that reading has the runtime's own rate, which may still be 0 — the server
    // reuses a sample for 10 s, so this may take a couple of reads.
    const raw = await waitFor('a PodMetrics with CPU', async () => {
      const r = await kubectl(server!, ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy']);
      if (r.code !== 0) return undefined;
      const m = JSON.parse(r.stdout) as { containers: { name: string; usage: { cpu: string; memory: string } }[] };
      return m.containers[0] && m.containers[0].usage.cpu !== '0' ? m : undefined;
    }, 60_000);
    expect(raw.containers.map((c) => c.name)).toEqual(['work']);
    expect(raw.containers[0]!.usage.cpu).toMatch(/^[1-9]\d*[num]?$/);
    expect(raw.containers[0]!.usage.memory).toMatch(/^[1-9]\d*(Ki|Mi)?$/);
    const top = await kubectl(server!, ['top', 'pod', 'busy', '--no-headers']);
    expect(top.code, top.stderr).toBe(0);
    const row = top.stdout.trim().split(/\s+/);
    expect(row[0]).toBe('busy');
    expect(row[1]).toMatch(/^[1-9]\d*m$/);
    expect(row[2]).toMatch(/^\d+Mi$/);
    const node = await kubectl(server!, ['top', 'node']);
    expect(node.code, node.stderr).toBe(0);
    const [header, nodeRow] = node.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(header).toEqual(['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    expect(nodeRow?.[0]).toBe(NODE);
    expect(nodeRow?.[1]).toMatch(/^[1-9]\d*m$/); // the host is never fully idle
    expect(nodeRow?.[3]).toMatch(/^[1-9]\d*Mi$/);
    expect(nodeRow?.[2]).toMatch(/^\d+%$/);
  }, 240_000);
});

/** The agent claimed a pod CIDR host-wide (/run/edgeos/pod-cidrs); give it back. */
function releasePodCidrClaim(dataDir: string): void {
  const kept = join(dataDir, 'agent', 'pod-cidr');
  if (!existsSync(kept)) return;
  const claim = join(DEFAULT_CLAIMS_DIR, readFileSync(kept, 'utf8').trim().replace('/', '_'));
  if (existsSync(claim) && readFileSync(claim, 'utf8').trim() === dataDir) rmSync(claim);
}
