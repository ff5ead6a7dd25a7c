/**
 * The kubectl commands operators type every day, against a real `edgeos server` and a device
 * joined with `edgeos join` (its own process and containerd), with the real kubectl 1.33 and 1.27:
 * the node's kubelet endpoints through `/api/v1/nodes/<n>/proxy/…` (answered by the agent over its
 * link, as for a device behind NAT), authorized as nodes/proxy, and `kubectl cp` both ways.
 */
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { startServer } from '../helpers/start-server.ts';
import type { RunningServer } from '../helpers/start-server.ts';
import { removeJoinedDevice, spawnEdgeos, waitFor as waitForState } from './helpers.ts';

const NODE = 'daily-device';
const IMAGE = 'edgeos.test/busybox:daily';
const SDK = '/usr/lib/google-cloud-sdk/bin';

let server: RunningServer;
let agent: ChildProcess | undefined;
let agentOut = '';
const agentDir = mkdtempSync(join(tmpdir(), 'edgeos-daily-agent-'));

const k = (args: string[], opts: { stdin?: string; timeoutMs?: number; bin?: string } = {}) => kubectl(server, args, opts);
async function ok(args: string[], opts: { stdin?: string; timeoutMs?: number; bin?: string } = {}): Promise<string> {
  const r = await k(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\nagent output:\n${agentOut.slice(-3000)}`);
  return r.stdout;
}
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> =>
  waitForState(what, fn, timeoutMs, () => `agent output:\n${agentOut.slice(-3000)}`);

beforeAll(async () => {
  server = await startServer();
  mkdirSync(join(agentDir, 'agent', 'images'), { recursive: true });
  writeBusyboxArchive(join(agentDir, 'agent', 'images', 'busybox.tar'), IMAGE);
  const token = readFileSync(join(server.dir, 'data', 'server', 'token'), 'utf8').trim();
  agent = spawnEdgeos(['join', token, '--node-name', NODE, '--data-dir', agentDir], (s) => (agentOut += s));
  await waitFor('the joined node to be Ready', async () =>
    (await k(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True',
  );
  await ok(['create', 'namespace', 'daily']);
  await ok(['run', 'box', '-n', 'daily', `--image=${IMAGE}`, '--image-pull-policy=Never', '--', 'sh', '-c', 'while true; do echo tick; sleep 1; done']);
  await ok(['wait', '-n', 'daily', '--for=condition=Ready', 'pod/box', '--timeout=120s'], { timeoutMs: 130_000 });
}, 240_000);

afterAll(() => removeJoinedDevice(agent, server, agentDir), 120_000);

describe.each(['1.33', '1.27'])('node proxy through the link with kubectl %s', (v) => {
  const bin = `${SDK}/kubectl.${v}`;
  const raw = (path: string) => ok(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/${path}`], { bin });

  it('healthz and pods', async () => {
    expect(await raw('healthz')).toBe('ok');
    const pods = JSON.parse(await raw('pods')) as { kind: string; items: { metadata: { name: string; namespace: string } }[] };
    expect(pods.kind).toBe('PodList');
    expect(pods.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toContain('daily/box');
  });

  it('stats/summary has the node and the pod with CPU and memory', async () => {
    const s = JSON.parse(await raw('stats/summary')) as {
      node: { nodeName: string; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } };
      pods: { podRef: { name: string; namespace: string }; containers: { name: string; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } }[] }[];
    };
    expect(s.node.nodeName).toBe(NODE);
    expect(s.node.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
    expect(s.node.memory.workingSetBytes).toBeGreaterThan(0);
    const box = s.pods.find((p) => p.podRef.namespace === 'daily' && p.podRef.name === 'box');
    expect(box?.containers.map((c) => c.name)).toEqual(['box']);
    expect(box?.containers[0]?.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
    expect(box?.containers[0]?.memory.workingSetBytes).toBeGreaterThan(0);
  });

  it('metrics, metrics/resource and metrics/cadvisor in the Prometheus text format', async () => {
    expect(await raw('metrics')).toMatch(/^kubelet_running_pods [1-9]\d*$/m);
    const resource = await raw('metrics/resource');
    expect(resource).toMatch(/^# TYPE container_cpu_usage_seconds_total counter$/m);
    expect(resource).toMatch(/^container_cpu_usage_seconds_total\{container="box",namespace="daily",pod="box"\} [\d.e-]+ \d+$/m);
    expect(resource).toMatch(/^node_memory_working_set_bytes [1-9]\d* \d+$/m);
    const cadvisor = await raw('metrics/cadvisor');
    expect(cadvisor).toMatch(new RegExp(`^container_memory_working_set_bytes\\{container="box",id="[0-9a-f]+",image="${IMAGE.replace(/[.]/g, '\\.')}",name="[0-9a-f]+",namespace="daily",pod="box"\\} [1-9]\\d* \\d+$`, 'm'));
  });

  it('an unknown path is the kubelet 404, and an unknown node is NotFound', async () => {
    const r = await k(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/nope`], { bin });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('NotFound');
    const n = await k(['get', '--raw', '/api/v1/nodes/no-such-node/proxy/healthz'], { bin });
    expect(n.stderr).toContain('nodes "no-such-node" not found');
  });
});

describe('node proxy authorization', () => {
  it('is nodes/proxy: a user with get nodes only is refused, one with nodes/proxy is served', async () => {
    const rbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: node-reader }
rules: [{ apiGroups: [""], resources: [nodes], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: node-reader }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-reader }
subjects: [{ kind: User, apiGroup: rbac.authorization.k8s.io, name: reader }, { kind: User, apiGroup: rbac.authorization.k8s.io, name: scraper }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: node-scraper }
rules: [{ apiGroups: [""], resources: [nodes/proxy], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: node-scraper }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-scraper }
subjects: [{ kind: User, apiGroup: rbac.authorization.k8s.io, name: scraper }]
`;
    const file = join(server.dir, 'proxy-rbac.yaml');
    writeFileSync(file, rbac);
    await ok(['apply', '-f', file]);
    const denied = await k(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics`, '--as', 'reader']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(`nodes "${NODE}" is forbidden: User "reader" cannot get resource "nodes/proxy" in API group "" at the cluster scope`);
    expect(await ok(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`, '--as', 'scraper'])).toBe('ok');
  });
});

describe('kubectl cp', () => {
  it('copies a file into the pod and back out', async () => {
    const local = join(server.dir, 'cp-in.txt');
    writeFileSync(local, 'copied-by-kubectl\n'.repeat(1000));
    await ok(['cp', local, 'daily/box:/tmp/in.txt']);
    expect((await ok(['exec', '-n', 'daily', 'box', '--', 'wc', '-c', '/tmp/in.txt'])).trim()).toBe('18000 /tmp/in.txt');
    const back = join(server.dir, 'cp-out.txt');
    await ok(['cp', 'daily/box:/tmp/in.txt', back]);
    expect(readFileSync(back, 'utf8')).toBe(readFileSync(local, 'utf8'));
  });
});

describe('kubectl autoscale', () => {
  it('scales a CPU-burning Deployment out, and back in when it idles', async () => {
    const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: burn, namespace: daily }
spec:
  replicas: 1
  selector: { matchLabels: { app: burn } }
  template:
    metadata: { labels: { app: burn } }
    spec:
      containers:
      - name: burn
        image: ${IMAGE}
        imagePullPolicy: Never
        env: [{ name: BURN, value: "yes" }]
        command: [sh, -c, 'if [ "$BURN" = yes ]; then while :; do :; done; else exec sleep 3600; fi']
        resources: { requests: { cpu: 20m }, limits: { cpu: 100m } }
`;
    await ok(['apply', '-f', '-'], { stdin: manifest });
    await ok(['rollout', 'status', '-n', 'daily', 'deployment/burn', '--timeout=120s'], { timeoutMs: 130_000 });
    await ok(['autoscale', '-n', 'daily', 'deployment/burn', '--min=1', '--max=3', '--cpu-percent=50']);
    // Short windows for the test: no scale-down stabilization.
    await ok(['patch', '-n', 'daily', 'hpa', 'burn', '--type=merge', '-p', '{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":0}}}}']);
    const replicas = () => ok(['get', '-n', 'daily', 'deployment/burn', '-o', 'jsonpath={.spec.replicas}']);
    await waitFor('the HPA to scale burn out to 3', async () => (await replicas()) === '3', 150_000);
    const v1 = JSON.parse(await ok(['get', '--raw', '/apis/autoscaling/v1/namespaces/daily/horizontalpodautoscalers/burn'])) as { status: { currentCPUUtilizationPercentage?: number; desiredReplicas: number } };
    expect(v1.status.currentCPUUtilizationPercentage ?? 0).toBeGreaterThan(50);
    const described = await ok(['describe', '-n', 'daily', 'hpa', 'burn']);
    expect(described).toMatch(/AbleToScale\s+True\s+\w+/);
    expect(described).toMatch(/ScalingActive\s+True\s+ValidMetricFound\s+the HPA was able to successfully calculate a replica count from cpu resource utilization \(percentage of request\)/);
    expect(described).toMatch(/SuccessfulRescale\s+.*New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);
    await ok(['set', 'env', '-n', 'daily', 'deployment/burn', 'BURN=no']);
    await waitFor('the HPA to scale burn back in to 1', async () => (await replicas()) === '1', 180_000);
    expect(await ok(['describe', '-n', 'daily', 'hpa', 'burn'])).toMatch(/New size: 1; reason: All metrics below target/);
  }, 400_000);
});

/** kubectl under `script`, which gives it a pseudo-terminal (debug -it). */
function kubectlInTerminal(bin: string, args: string, input: string): Promise<{ code: number; output: string }> {
  const cmd = `stty cols 100 rows 40; ${bin} --kubeconfig=${server.kubeconfig} --cache-dir=${server.cacheDir} ${args}`;
  return new Promise((resolve, reject) => {
    const child = execFile('script', ['-qec', cmd, '/dev/null'], { timeout: 120_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TERM: 'dumb' } }, (err, stdout) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      if (typeof code !== 'number') reject(err instanceof Error ? err : new Error(String(err)));
      else resolve({ code, output: stdout });
    });
    // The shell's prompt first, then the commands (a pty echoes them).
    setTimeout(() => child.stdin?.end(input), 8000);
  });
}

describe('kubectl debug with ephemeral containers', () => {
  it('validates the subresource as Kubernetes does', async () => {
    const pod = JSON.parse(await ok(['get', 'pod', 'box', '-n', 'daily', '-o', 'json'])) as { spec: Record<string, unknown> };
    const put = (ecs: unknown[]) => server.request('PUT', '/api/v1/namespaces/daily/pods/box/ephemeralcontainers', {
      body: JSON.stringify({ ...pod, spec: { ...pod.spec, ephemeralContainers: ecs } }), headers: { 'content-type': 'application/json' },
    });
    const bad = await put([{ name: 'box', image: IMAGE, ports: [{ containerPort: 80 }], targetContainerName: 'nope' }]);
    expect(bad.status).toBe(422);
    const causes = (JSON.parse(bad.body) as { details: { causes: { field: string; message: string }[] } }).details.causes;
    expect(causes.map((c) => c.field).sort()).toEqual(['spec.ephemeralContainers[0].name', 'spec.ephemeralContainers[0].ports', 'spec.ephemeralContainers[0].targetContainerName']);
    // A regular update may not add them.
    const viaPod = await server.request('PUT', '/api/v1/namespaces/daily/pods/box', { body: JSON.stringify({ ...pod, spec: { ...pod.spec, ephemeralContainers: [{ name: 'x', image: IMAGE }] } }), headers: { 'content-type': 'application/json' } });
    expect(viaPod.status).toBe(422);
  });

  it('starts a debug container in the pod sharing the target process namespace; its status and logs show', async () => {
    await ok(['debug', 'box', '-n', 'daily', `--image=${IMAGE}`, '--image-pull-policy=Never', '--target=box', '-c', 'peek', '--', 'sh', '-c', 'ps; sleep 3600']);
    await waitFor('the ephemeral container to run', async () =>
      (await ok(['get', 'pod', 'box', '-n', 'daily', '-o', 'jsonpath={.status.ephemeralContainerStatuses[?(@.name=="peek")].state.running.startedAt}'])) !== '');
    // The target's shell loop is visible: same process namespace.
    await waitFor('ps output in the debug container log', async () => (await ok(['logs', 'box', '-n', 'daily', '-c', 'peek'])).includes('while true'));
    const removed = await server.request('PATCH', '/api/v1/namespaces/daily/pods/box/ephemeralcontainers', { body: '{"spec":{"ephemeralContainers":[]}}', headers: { 'content-type': 'application/merge-patch+json' } });
    expect(removed.status).toBe(422);
    expect(removed.body).toContain('existing ephemeral containers \\"peek\\" may not be removed');
  }, 120_000);

  it.each(['1.33', '1.27'])('kubectl %s debug -it attaches through the link', async (v) => {
    const name = `it${v.replace('.', '')}`;
    const r = await kubectlInTerminal(`${SDK}/kubectl.${v}`, `debug -it box -n daily --image=${IMAGE} --image-pull-policy=Never -c ${name} -- sh`, 'echo debug-$((6*7)); exit 4\n');
    expect(r.output).toContain('debug-42');
    // attach does not carry the exit code (kubectl says the session ended); the status does.
    expect(r.code).toBe(0);
    await waitFor('the ephemeral container to be terminated with code 4', async () =>
      (await ok(['get', 'pod', 'box', '-n', 'daily', '-o', `jsonpath={.status.ephemeralContainerStatuses[?(@.name=="${name}")].state.terminated.exitCode}`])) === '4');
  }, 150_000);
});

describe('kubectl debug node', () => {
  it.each([['1.33', 'general'], ['1.27', 'general']])('kubectl %s debug node/<n> -it (profile %s): host namespaces and the host root at /host', async (v, profile) => {
    const r = await kubectlInTerminal(`${SDK}/kubectl.${v}`, `debug node/${NODE} -it --image=${IMAGE} --image-pull-policy=Never --profile=${profile} -- sh`,
      'cat /host/proc/sys/kernel/hostname; ls /host/bin >/dev/null && echo host-root-ok; ps | grep -c edgeos; exit\n');
    expect(r.output).toContain('host-root-ok');
    // The host's PID namespace: the edgeos agent process is visible.
    expect(r.output).toMatch(/^[1-9]\d*\s*$/m);
    const pods = await ok(['get', 'pods', '-n', 'default', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.hostPID} {.spec.hostNetwork} {.spec.nodeName}{"\\n"}{end}']);
    expect(pods).toMatch(new RegExp(`^node-debugger-${NODE}-\\w+ true true ${NODE}$`, 'm'));
  }, 150_000);
});
