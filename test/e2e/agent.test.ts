/**
 * The whole chain, as an operator uses it: a real `edgeos server`, a device joined with
 * `edgeos join <token>` as its own process (private containerd, images imported air-gapped), and
 * the real kubectl 1.32 doing what people do: a Deployment with ConfigMap/Secret env and volumes,
 * rollout status, exec, logs, a Service, deleting a pod — then the server dies, the pods keep
 * running, and when it returns the node is Ready again without a container being recreated.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { jsonLineCount, linesWithDuplicateKeys } from '../helpers/log-lines.ts';
import { startServer } from '../helpers/start-server.ts';
import type { RunningServer } from '../helpers/start-server.ts';
import { deleteLink, removeDataDir } from '../runtime/cleanup.ts';
import { httpGet, releasePodCidrClaim, removePodsOfStoppedAgent, spawnEdgeos, stopProcess, stopServerKeepingData, waitFor as waitForState } from './helpers.ts';

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

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> =>
  waitForState(what, fn, timeoutMs, () => `agent output:\n${agentOut.slice(-3000)}`);

const startAgent = (args: string[]): ChildProcess => spawnEdgeos(args, (s) => (agentOut += s));

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
    await removePodsOfStoppedAgent(agentDir);
    if (serverDir) rmSync(serverDir, { recursive: true, force: true });
    deleteLink(runtimeConfig.cni.bridge);
    releasePodCidrClaim(agentDir);
    removeDataDir(agentDir);
  }
}, 120_000);

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
    const restartedAt = Date.now();
    server = await startServer({ dir, port });
    // The stored Ready condition outlives the server's stop (the lifecycle controller waits its grace
    // period), so "Ready" alone could be the old status: wait for a Lease renewed by the returning
    // link, then for Ready.
    await waitFor('the agent to renew its Lease through the restarted server', async () => {
      const renew = (await k(['get', 'lease', '-n', 'kube-node-lease', NODE, '-o', 'jsonpath={.spec.renewTime}'])).stdout;
      return renew !== '' && Date.parse(renew) >= restartedAt - 1000;
    }, 120_000);
    await waitFor('the node to be Ready again', async () =>
      (await k(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
    120_000);
    expect(await containerIds()).toEqual(before);
    const restarts = await ok(['get', 'pods', '-n', 'e2e', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.containerStatuses[0].restartCount}']);
    expect(restarts.trim()).toBe('0 0');
  }, 300_000);

  it('logs each key once per line: the agent (cache, runtime, link, kubelet, tunnel) and the server', async () => {
    // One more tunnel stream for the agent to log about, once its link is back (the restarted
    // server finds the Node Ready before the agent's backoff has redialled).
    await waitFor('kubectl logs through the relinked agent', async () => (await k(['logs', '-n', 'e2e', 'deployment/web'])).code === 0);
    expect(jsonLineCount(agentOut)).toBeGreaterThan(20);
    expect(linesWithDuplicateKeys(agentOut)).toEqual([]);
    expect(linesWithDuplicateKeys(server.output())).toEqual([]);
  }, 120_000);
});
