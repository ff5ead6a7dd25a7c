/**
 * The whole chain, as an operator uses it: a real `edgeos server`, a device joined with
 * `edgeos join <token>` as its own process (private containerd, images imported air-gapped), and
 * the real kubectl 1.32 doing what people do: a Deployment with ConfigMap/Secret env and volumes,
 * rollout status, exec, logs, a Service, deleting a pod — then the server dies, the pods keep
 * running, and when it returns the node is Ready again without a container being recreated.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLAIMS_DIR } from '../../src/runtime/cni/pod-cidr.ts';
import { silentLogger } from '../../src/common/log.ts';
import { createContainerRuntime, resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { startServer } from '../helpers/start-server.ts';
import type { RunningServer } from '../helpers/start-server.ts';
import { deleteLink, removeAllPods, removeDataDir } from '../runtime/cleanup.ts';

const REPO = resolve(import.meta.dirname, '../..');
const NODE = 'e2e-device';
const IMAGE = 'edgeos.test/busybox:e2e';

let server: RunningServer;
let serverDir: string | undefined;
let agent: ChildProcess | undefined;
let agentOut = '';
const agentDir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-agent-'));
const runtimeConfig = resolveRuntimeConfig({ dataDir: agentDir });

const k = (args: string[], opts: { stdin?: string; timeoutMs?: number } = {}) => kubectl(server, args, opts);
async function ok(args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await k(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\nagent output:\n${agentOut.slice(-3000)}`);
  return r.stdout;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nagent output:\n${agentOut.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function startAgent(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [join(REPO, 'src/cli/main.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (b: Buffer) => (agentOut += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (agentOut += b.toString()));
  return child;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

const containerIds = async () =>
  (await ok(['get', 'pods', '-n', 'e2e', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.status.containerStatuses[0].containerID}{"\\n"}{end}']))
    .split('\n')
    .filter(Boolean)
    .sort();

beforeAll(async () => {
  server = await startServer();
  // Air-gapped: the image is a tarball in the agent's images dir, imported at start.
  mkdirSync(join(agentDir, 'agent', 'images'), { recursive: true });
  writeBusyboxArchive(join(agentDir, 'agent', 'images', 'busybox.tar'), IMAGE, ['sh', '-c', 'echo started $GREETING; exec httpd -f -p 8080 -h /srv']);
  const token = readFileSync(join(server.dir, 'data', 'server', 'token'), 'utf8').trim();
  agent = startAgent(['join', token, '--node-name', NODE, '--data-dir', agentDir, '--node-label', 'site=e2e']);
  await waitFor('the joined node to be Ready', async () =>
    (await k(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
  );
}, 180_000);

afterAll(async () => {
  // The agent first, so its kubelet cannot recreate what we remove; its containerd stops with it
  // (pods keep running, by design), so a containerd of the test's own on the agent's data dir
  // removes every pod through CRI, which also tears down their network namespaces and rules.
  try {
    await stopProcess(agent);
    await server?.stop();
  } finally {
    await removePodsOfStoppedAgent();
    if (serverDir) rmSync(serverDir, { recursive: true, force: true });
    deleteLink(runtimeConfig.cni.bridge);
    releasePodCidrClaim(agentDir);
    removeDataDir(agentDir);
  }
}, 120_000);

async function removePodsOfStoppedAgent(): Promise<void> {
  const kept = join(agentDir, 'agent', 'pod-cidr');
  const podCidr = existsSync(kept) ? readFileSync(kept, 'utf8').trim() : undefined;
  const config = resolveRuntimeConfig({ dataDir: agentDir, ...(podCidr ? { podCidr } : {}) });
  const rt = createContainerRuntime(config, { log: silentLogger() });
  try {
    await rt.start(AbortSignal.timeout(60_000));
    if (config.containerd) await removeAllPods(config.containerd.address);
  } finally {
    await rt.stop();
  }
}

describe('a device joined with edgeos join runs workloads driven by kubectl', () => {
  it('runs a Deployment with ConfigMap/Secret env and volumes until rollout status succeeds', async () => {
    await ok(['create', 'namespace', 'e2e']);
    await ok(['create', 'configmap', 'web-config', '-n', 'e2e', '--from-literal=greeting=hello-from-configmap', '--from-literal=index.html=served-by-edgeos']);
    await ok(['create', 'secret', 'generic', 'web-secret', '-n', 'e2e', '--from-literal=password=s3cret']);
    const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: e2e }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      nodeSelector: { site: e2e }
      containers:
      - name: web
        image: ${IMAGE}
        ports: [{ containerPort: 8080, name: http }]
        env:
        - { name: GREETING, valueFrom: { configMapKeyRef: { name: web-config, key: greeting } } }
        - { name: PASSWORD, valueFrom: { secretKeyRef: { name: web-secret, key: password } } }
        volumeMounts:
        - { name: site, mountPath: /srv }
        - { name: secret, mountPath: /etc/secret, readOnly: true }
        readinessProbe: { httpGet: { path: /index.html, port: 8080 }, periodSeconds: 2 }
      volumes:
      - { name: site, configMap: { name: web-config, items: [{ key: index.html, path: index.html }] } }
      - { name: secret, secret: { secretName: web-secret } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: e2e }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: http }]
`;
    await ok(['apply', '-f', '-'], { stdin: manifest });
    const status = await ok(['rollout', 'status', 'deployment/web', '-n', 'e2e', '--timeout=150s'], { timeoutMs: 160_000 });
    expect(status).toContain('deployment "web" successfully rolled out');
    const pods = await ok(['get', 'pods', '-n', 'e2e', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase} {.status.podIP}{"\\n"}{end}']);
    const lines = pods.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(new RegExp(`^${NODE} Running 10\\.42\\.\\d+\\.\\d+$`));
  }, 240_000);

  it('exec, logs and the Service endpoints reach the pods on the device', async () => {
    const pod = (await ok(['get', 'pods', '-n', 'e2e', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    expect(await ok(['exec', pod, '-n', 'e2e', '--', 'sh', '-c', 'echo $GREETING $PASSWORD; cat /etc/secret/password; echo; wget -qO- http://127.0.0.1:8080/index.html'])).toBe(
      'hello-from-configmap s3cret\ns3cret\nserved-by-edgeos',
    );
    const failed = await k(['exec', pod, '-n', 'e2e', '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(3);
    expect(await ok(['logs', pod, '-n', 'e2e'])).toContain('started hello-from-configmap');
    const endpoints = await waitFor('two ready endpoints', async () => {
      const ips = (await ok(['get', 'endpoints', 'web', '-n', 'e2e', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).trim().split(' ').filter(Boolean);
      return ips.length === 2 ? ips : undefined;
    });
    for (const ip of endpoints) expect(ip).toMatch(/^10\.42\./);
  }, 120_000);

  it('kubectl delete pod returns once the device has stopped it, and the Deployment replaces it', async () => {
    const pod = (await ok(['get', 'pods', '-n', 'e2e', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    await ok(['delete', 'pod', pod, '-n', 'e2e', '--timeout=90s'], { timeoutMs: 100_000 });
    await ok(['rollout', 'status', 'deployment/web', '-n', 'e2e', '--timeout=120s'], { timeoutMs: 130_000 });
    const names = await ok(['get', 'pods', '-n', 'e2e', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}']);
    expect(names.split(' ')).not.toContain(pod);
  }, 240_000);

  it('keeps pods running while the server is down, and reports Ready again without recreating them', async () => {
    await waitFor('both pods Running and Ready', async () => {
      const r = await ok(['get', 'pods', '-n', 'e2e', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.status.containerStatuses[0].ready}{"\\n"}{end}']);
      return r.trim() === 'true\ntrue';
    });
    const before = await containerIds();
    const ips = (await ok(['get', 'pods', '-n', 'e2e', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(' ');
    const dir = server.dir;
    const port = server.port;
    serverDir = dir; // the restarted server reuses it; afterAll removes it
    await stopServerKeepingData(server);
    // Offline: the pods keep serving on the device (their IPs are on the agent's own bridge).
    await new Promise((r) => setTimeout(r, 3000));
    for (const ip of ips) expect(await httpGet(`http://${ip}:8080/index.html`)).toBe('served-by-edgeos');
    expect(agent?.exitCode).toBeNull();
    server = await startServer({ dir, port });
    await waitFor('the node to be Ready again', async () =>
      (await k(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
    120_000);
    expect(await containerIds()).toEqual(before);
    const restarts = await ok(['get', 'pods', '-n', 'e2e', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.containerStatuses[0].restartCount}']);
    expect(restarts.trim()).toBe('0 0');
  }, 300_000);
});

/** RunningServer.stop() removes a directory it created; this stops the process only. */
async function stopServerKeepingData(s: RunningServer): Promise<void> {
  const exited = waitForExit(s.pid);
  process.kill(s.pid, 'SIGTERM');
  await exited;
}

async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
}

function httpGet(url: string): Promise<string> {
  return new Promise((res, rej) => {
    const req = get(url, { timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => (body += b.toString()));
      r.on('end', () => res(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', rej);
  });
}

/** The agent claimed a pod CIDR host-wide (/run/edgeos/pod-cidrs); give it back. */
function releasePodCidrClaim(dataDir: string): void {
  const kept = join(dataDir, 'agent', 'pod-cidr');
  if (!existsSync(kept)) return;
  const claim = join(DEFAULT_CLAIMS_DIR, readFileSync(kept, 'utf8').trim().replace('/', '_'));
  if (existsSync(claim) && readFileSync(claim, 'utf8').trim() === dataDir) rmSync(claim);
}
