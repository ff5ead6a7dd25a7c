/**
 * The kubectl commands operators type every day, against a real `edgeos server` and a device
 * joined with `edgeos join` (its own process and containerd), with the real kubectl 1.33 and 1.27:
 * the node's kubelet endpoints through `/api/v1/nodes/<n>/proxy/…` (answered by the agent over its
 * link, as for a device behind NAT), authorized as nodes/proxy, and `kubectl cp` both ways.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { readCredentials, startServer } from '../helpers/start-server.ts';
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
    const own = await raw('metrics');
    expect(own).toMatch(/^kubelet_running_pods [1-9]\d*$/m);
    expect(own).toMatch(/^kubelet_running_containers\{container_state="running"\} [1-9]\d*$/m);
    // The agent's runtime calls, PLEG and pod syncs, kubelet-style, and its link.
    expect(own).toMatch(/^kubelet_runtime_operations_total\{operation_type="list_podsandbox"\} [1-9]\d*$/m);
    expect(own).toMatch(/^kubelet_runtime_operations_total\{operation_type="create_container"\} [1-9]\d*$/m);
    expect(own).toMatch(/^kubelet_runtime_operations_errors_total\{operation_type="run_podsandbox"\} 0$/m);
    expect(own).toMatch(/^# TYPE kubelet_runtime_operations_duration_seconds histogram$/m);
    expect(own).toMatch(/^kubelet_runtime_operations_duration_seconds_bucket\{operation_type="start_container",le="\+Inf"\} [1-9]\d*$/m);
    expect(own).toMatch(/^kubelet_pleg_relist_duration_seconds_count [1-9]\d*$/m);
    expect(own).toMatch(/^kubelet_pod_worker_duration_seconds_count\{operation_type="sync"\} [1-9]\d*$/m);
    expect(own).toMatch(/^edgeos_agent_link_connected 1$/m);
    expect(own).toMatch(/^edgeos_agent_link_connects_total [1-9]\d*$/m);
    expect(own).toMatch(/^edgeos_agent_link_receive_bytes_total [1-9]\d*$/m);
    expect(own).toMatch(/^edgeos_agent_link_transmit_bytes_total [1-9]\d*$/m);
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

describe('a Prometheus-style scrape of the node\'s metrics through the server', () => {
  it('with a ServiceAccount token allowed nodes/proxy, as docs/metrics.md configures it', async () => {
    await ok(['create', 'serviceaccount', 'prometheus', '-n', 'daily']);
    await ok(['create', 'clusterrole', 'node-metrics-scraper', '--verb=get', '--resource=nodes/proxy,nodes']);
    await ok(['create', 'clusterrolebinding', 'node-metrics-scraper', '--clusterrole=node-metrics-scraper', '--serviceaccount=daily:prometheus']);
    const token = (await ok(['create', 'token', 'prometheus', '-n', 'daily'])).trim();
    const { ca } = readCredentials(server.kubeconfig);
    const scrape = (bearer: string) => new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${server.url}/api/v1/nodes/${NODE}/proxy/metrics`, { ca, headers: { authorization: `Bearer ${bearer}`, accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' }, timeout: 10_000 }, (res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      });
      req.on('timeout', () => req.destroy(new Error('scrape timed out')));
      req.on('error', reject);
      req.end();
    });
    const r = await scrape(token);
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toMatch(/^kubelet_runtime_operations_total\{operation_type="list_containers"\} [1-9]\d*$/m);
    expect(r.body).toMatch(/^edgeos_agent_link_connected 1$/m);
    // Every line is a comment or `name{labels} value`: what Prometheus's text parser accepts.
    for (const line of r.body.trimEnd().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="(?:[^"\\]|\\.)*",?)*\})? (-?[\d.e+-]+|NaN|[+-]Inf)( \d+)?)$/);
    expect((await scrape('not-a-token')).status).toBe(401);
  });
});

describe.each(['1.27', '1.32', '1.33'])('kubectl %s cp', (v) => {
  const bin = `${SDK}/kubectl.${v}`;
  const tag = v.replace('.', '');

  it('copies a binary file and a directory into the pod and back out', async () => {
    const local = join(server.dir, `cp-in-${tag}.bin`);
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
    writeFileSync(local, bytes);
    await ok(['cp', '-c', 'box', local, `daily/box:/tmp/in-${tag}.bin`], { bin });
    expect((await ok(['exec', '-n', 'daily', 'box', '-c', 'box', '--', 'wc', '-c', `/tmp/in-${tag}.bin`])).trim()).toBe(`70000 /tmp/in-${tag}.bin`);
    const back = join(server.dir, `cp-out-${tag}.bin`);
    await ok(['cp', '-c', 'box', `daily/box:/tmp/in-${tag}.bin`, back], { bin });
    expect(readFileSync(back).equals(bytes)).toBe(true);

    const dir = join(server.dir, `cp-dir-${tag}`);
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'note.txt'), `from kubectl ${v}\n`);
    await ok(['cp', '-c', 'box', dir, `daily/box:/tmp/dir-${tag}`], { bin });
    expect(await ok(['exec', '-n', 'daily', 'box', '-c', 'box', '--', 'cat', `/tmp/dir-${tag}/sub/note.txt`])).toBe(`from kubectl ${v}\n`);
    const dirBack = join(server.dir, `cp-dir-back-${tag}`);
    await ok(['cp', '-c', 'box', `daily/box:/tmp/dir-${tag}`, dirBack], { bin });
    expect(readFileSync(join(dirBack, 'sub', 'note.txt'), 'utf8')).toBe(`from kubectl ${v}\n`);
  }, 60_000);
});

describe('kubectl autoscale', () => {
  const burnManifest = `
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

  // Both Deployments roll out together, before either HPA exists: an HPA reads its pods' metrics
  // (and so acts) only once they have run for a metrics window, which then overlaps the other test.
  beforeAll(async () => {
    await ok(['apply', '-f', '-'], { stdin: burnManifest });
    await ok(['create', 'deployment', 'idle', '-n', 'daily', `--image=${IMAGE}`, '--', 'sleep', '3600']);
    await ok(['patch', '-n', 'daily', 'deployment/idle', '--type=json', '-p',
      '[{"op":"add","path":"/spec/template/spec/containers/0/imagePullPolicy","value":"Never"},{"op":"add","path":"/spec/template/spec/containers/0/resources","value":{"requests":{"cpu":"20m"}}}]']);
    await Promise.all(['burn', 'idle'].map((d) => ok(['rollout', 'status', '-n', 'daily', `deployment/${d}`, '--timeout=120s'], { timeoutMs: 130_000 })));
  }, 150_000);

  it('scales a CPU-burning Deployment out, and back in when it idles', async () => {
    await ok(['autoscale', '-n', 'daily', 'deployment/burn', '--min=1', '--max=3', '--cpu-percent=50'], { bin: `${SDK}/kubectl.1.33` });
    // Short windows for the test: no scale-down stabilization.
    await ok(['patch', '-n', 'daily', 'hpa', 'burn', '--type=merge', '-p', '{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":0}}}}']);
    const replicas = () => ok(['get', '-n', 'daily', 'deployment/burn', '-o', 'jsonpath={.spec.replicas}']);
    await waitFor('the HPA to scale burn out to 3', async () => (await replicas()) === '3', 150_000);
    const v1 = JSON.parse(await ok(['get', '--raw', '/apis/autoscaling/v1/namespaces/daily/horizontalpodautoscalers/burn'])) as { status: { currentCPUUtilizationPercentage?: number; desiredReplicas: number } };
    expect(v1.status.currentCPUUtilizationPercentage ?? 0).toBeGreaterThan(50);
    const described = await ok(['describe', '-n', 'daily', 'hpa', 'burn'], { bin: `${SDK}/kubectl.1.33` });
    expect(described).toMatch(/AbleToScale\s+True\s+\w+/);
    expect(described).toMatch(/ScalingActive\s+True\s+ValidMetricFound\s+the HPA was able to successfully calculate a replica count from cpu resource utilization \(percentage of request\)/);
    expect(described).toMatch(/SuccessfulRescale\s+.*New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);
    await ok(['set', 'env', '-n', 'daily', 'deployment/burn', 'BURN=no']);
    await waitFor('the HPA to scale burn back in to 1', async () => (await replicas()) === '1', 180_000);
    expect(await ok(['describe', '-n', 'daily', 'hpa', 'burn'])).toMatch(/New size: 1; reason: All metrics below target/);
  }, 400_000);

  it('kubectl 1.27 autoscale: the HPA it creates is served and acted on', async () => {
    const k127 = { bin: `${SDK}/kubectl.1.27` };
    await ok(['autoscale', '-n', 'daily', 'deployment/idle', '--min=1', '--max=2', '--cpu-percent=50'], k127);
    const described = await waitFor('the HPA made by kubectl 1.27 to read its metric', async () => {
      const out = await ok(['describe', '-n', 'daily', 'hpa', 'idle'], k127);
      return /ScalingActive\s+True\s+ValidMetricFound/.test(out) ? out : undefined;
    }, 120_000);
    expect(described).toMatch(/Min replicas:\s+1/);
    expect(described).toMatch(/Max replicas:\s+2/);
    expect(await ok(['get', '-n', 'daily', 'deployment/idle', '-o', 'jsonpath={.spec.replicas}'], k127)).toBe('1');
  }, 300_000);
});

/** What kubectl -it prints just before it attaches its stdin (1.27 and 1.33 alike). */
const ATTACHING = "If you don't see a command prompt, try pressing enter.";

/**
 * kubectl under `script`, which gives it a pseudo-terminal (debug -it). The input goes in once
 * kubectl says it attaches: the pty holds it until kubectl reads its stdin, so nothing is lost
 * and no fixed wait for the container to start is needed.
 */
function kubectlInTerminal(bin: string, args: string, input: string): Promise<{ code: number; output: string }> {
  const cmd = `stty cols 100 rows 40; ${bin} --kubeconfig=${server.kubeconfig} --cache-dir=${server.cacheDir} ${args}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let sent = false;
    const send = () => {
      if (sent) return;
      sent = true;
      child.stdin.end(input);
    };
    child.stdout.on('data', (b: Buffer) => {
      output += b.toString();
      if (output.includes(ATTACHING)) send();
    });
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    // kubectl prints the line in every version the tests use; should one not, the input still goes.
    const fallback = setTimeout(send, 30_000);
    const killer = setTimeout(() => child.pid && child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(fallback);
      clearTimeout(killer);
      if (code === null) reject(new Error(`kubectl ${args} ended by ${signal}:\n${output}`));
      else resolve({ code, output });
    });
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
  it.each([['1.33', 'general'], ['1.27', 'general'], ['1.33', 'sysadmin']])('kubectl %s debug node/<n> -it (profile %s): host namespaces and the host root at /host', async (v, profile) => {
    const r = await kubectlInTerminal(`${SDK}/kubectl.${v}`, `debug node/${NODE} -it --image=${IMAGE} --image-pull-policy=Never --profile=${profile} -- sh`,
      'cat /host/proc/sys/kernel/hostname; ls /host/bin >/dev/null && echo host-root-ok; ps | grep -c edgeos; exit\n');
    expect(r.output).toContain('host-root-ok');
    // The host's PID namespace: the edgeos agent process is visible.
    expect(r.output).toMatch(/^[1-9]\d*\s*$/m);
    const pods = await ok(['get', 'pods', '-n', 'default', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.hostPID} {.spec.hostNetwork} {.spec.nodeName}{"\\n"}{end}']);
    expect(pods).toMatch(new RegExp(`^node-debugger-${NODE}-\\w+ true true ${NODE}$`, 'm'));
  }, 150_000);
});

/** What a debug container reports about itself: effective capabilities, no_new_privs, seccomp mode, uid, the host root. */
const SELF_REPORT = 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; echo "uid: $(id -u)"; if [ -d /host/bin ]; then echo "host-root: yes"; fi; echo end';
const CAP = { NET_ADMIN: 12, SYS_PTRACE: 19, SYS_ADMIN: 21 } as const;

interface SelfReport { caps: bigint; noNewPrivs: string; seccomp: string; uid: string; hostRoot: boolean }
function parseReport(log: string): SelfReport {
  const field = (k: string): string => new RegExp(`^${k}:\\s*(\\S+)$`, 'm').exec(log)?.[1] ?? '';
  return { caps: BigInt(`0x${field('CapEff') || '0'}`), noNewPrivs: field('NoNewPrivs'), seccomp: field('Seccomp'), uid: field('uid'), hostRoot: /^host-root: yes$/m.test(log) };
}
const has = (r: SelfReport, cap: keyof typeof CAP): boolean => ((r.caps >> BigInt(CAP[cap])) & 1n) === 1n;

/**
 * What each profile must give, from kubectl's profiles (pkg/cmd/debug/profiles.go): sysadmin is
 * privileged (every capability), netadmin adds NET_ADMIN, general adds SYS_PTRACE for pod
 * debugging, baseline clears the security context, restricted drops every capability with
 * no_new_privs, RuntimeDefault seccomp (2 = filter) and a non-root user. general and sysadmin
 * mount the host root for node debugging; general, netadmin and sysadmin use host namespaces.
 */
function expectProfile(profile: string, style: 'node' | 'ephemeral' | 'copy', r: SelfReport): void {
  expect(has(r, 'SYS_ADMIN')).toBe(profile === 'sysadmin');
  expect(has(r, 'NET_ADMIN')).toBe(profile === 'sysadmin' || profile === 'netadmin');
  if (style !== 'node') expect(has(r, 'SYS_PTRACE')).toBe(profile === 'sysadmin' || profile === 'general');
  expect(r.hostRoot).toBe(style === 'node' && (profile === 'general' || profile === 'sysadmin'));
  if (profile === 'restricted') expect(r).toMatchObject({ caps: 0n, noNewPrivs: '1', seccomp: '2', uid: '65534' });
  else expect(r).toMatchObject({ noNewPrivs: '0', seccomp: '0', uid: '0' });
}

describe('kubectl 1.33 debug profiles: node, ephemeral container and pod copy', () => {
  const bin = `${SDK}/kubectl.1.33`;
  // restricted requires a non-root user; the busybox image runs as root, so the user comes from
  // --custom (kubectl ≥ 1.30), as an operator would do with such an image.
  const profileArgs = (profile: string): string[] => {
    if (profile !== 'restricted') return [`--profile=${profile}`];
    const custom = join(server.dir, 'debug-custom.json');
    writeFileSync(custom, JSON.stringify({ securityContext: { runAsUser: 65534 } }));
    return [`--profile=${profile}`, `--custom=${custom}`];
  };
  /** The container's log once its report ended (a copy's debug container then sleeps: its pod restarts what exits). */
  const report = (ns: string, pod: string, container: string): Promise<string> =>
    waitFor(`the report of ${ns}/${pod} ${container}`, async () => {
      const log = await ok(['logs', pod, '-n', ns, '-c', container]);
      return /^end$/m.test(log) ? log : undefined;
    });

  it.each(['general', 'baseline', 'restricted', 'netadmin', 'sysadmin'])('profile %s', async (profile) => {
    const tag = profile.slice(0, 4);
    const args = [`--image=${IMAGE}`, '--image-pull-policy=Never', ...profileArgs(profile)];

    const created = await k(['debug', `node/${NODE}`, ...args, '--', 'sh', '-c', SELF_REPORT], { bin });
    expect(created.code, created.stderr).toBe(0);
    const nodePod = /Creating debugging pod (\S+) with container debugger/.exec(created.stdout + created.stderr)?.[1] ?? '';
    expect(nodePod).toMatch(new RegExp(`^node-debugger-${NODE}-`));
    expectProfile(profile, 'node', parseReport(await report('default', nodePod, 'debugger')));
    const hostNs = await ok(['get', 'pod', nodePod, '-o', 'jsonpath={.spec.hostNetwork} {.spec.hostPID}']);
    expect(hostNs).toBe(['general', 'netadmin', 'sysadmin'].includes(profile) ? 'true true' : ' ');

    await ok(['debug', 'box', '-n', 'daily', '-c', `e-${tag}`, ...args, '--', 'sh', '-c', SELF_REPORT], { bin });
    expectProfile(profile, 'ephemeral', parseReport(await report('daily', 'box', `e-${tag}`)));

    await ok(['debug', 'box', '-n', 'daily', '-c', `c-${tag}`, `--copy-to=copy-${tag}`, ...args, '--', 'sh', '-c', `ps; ${SELF_REPORT}; exec sleep 3600`], { bin });
    const copyLog = await report('daily', `copy-${tag}`, `c-${tag}`);
    expectProfile(profile, 'copy', parseReport(copyLog));
    // Every profile shares the copy's process namespace: the original container's loop shows.
    expect(copyLog).toContain('while true');
    await ok(['delete', 'pod', '-n', 'daily', `copy-${tag}`, '--wait=false']);
  }, 180_000);

  it('restricted with an image that runs as root: CreateContainerConfigError with the kubelet\'s message (kubectl 1.27)', async () => {
    const created = await k(['debug', `node/${NODE}`, `--image=${IMAGE}`, '--image-pull-policy=Never', '--profile=restricted', '--', 'id'], { bin: `${SDK}/kubectl.1.27` });
    expect(created.code, created.stderr).toBe(0);
    const pod = /Creating debugging pod (\S+) with container debugger/.exec(created.stdout + created.stderr)?.[1] ?? '';
    const waiting = await waitFor('the config error', async () => {
      const w = await ok(['get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}']);
      return w.startsWith('CreateContainerConfigError') ? w : undefined;
    });
    expect(waiting).toContain(`container has runAsNonRoot and image will run as root (pod: "${pod}_default(`);
    await ok(['delete', 'pod', pod, '--wait=false']);
  }, 120_000);

  it('netadmin on the node interactively (kubectl 1.27 and 1.33): NET_ADMIN in the host network namespace', async () => {
    for (const v of ['1.27', '1.33']) {
      const r = await kubectlInTerminal(`${SDK}/kubectl.${v}`, `debug node/${NODE} -it --image=${IMAGE} --image-pull-policy=Never --profile=netadmin -- sh`,
        // Setting loopback's MTU to what it is changes nothing but needs CAP_NET_ADMIN (busybox's
        // ip skips a flag change that changes nothing, so `set lo up` would prove nothing).
        'ip link set dev lo mtu $(cat /sys/class/net/lo/mtu) && echo net-admin-$((6*7)); exit\n');
      expect(r.output).toContain('net-admin-42');
    }
  }, 200_000);
});
