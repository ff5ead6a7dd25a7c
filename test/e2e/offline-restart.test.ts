/**
 * Edge autonomy across process restarts, seen through containerd itself: a device joined with
 * `edgeos join` runs a Deployment; the server is killed (SIGKILL, by PID); while it is down the
 * agent process is stopped and started again as `edgeos agent --data-dir <same>`; then the server
 * comes back on the same data dir and port. At every step the agent's containerd (CRI) must show
 * the very same sandboxes and containers — ids, attempts, creation and start times, host PIDs and
 * their start times — and once the server is back the node is Ready and the pod statuses are what
 * they were. Then a reboot while the server is down: agent stopped, every pod removed through CRI,
 * containerd stopped and the bridge deleted; `edgeos agent` alone must start the same pods again
 * from its cache, and the returning server must see those very pods (same uids) Running with the
 * new containers. Before and after that reboot (which also removes the agent's cgroups), every
 * sandbox and container runs in its pod's cgroup of the agent's QoS tree (docs/kubelet.md).
 * test/e2e/agent.test.ts covers the server restart with the agent left running.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriClient } from '../../src/runtime/cri/client.ts';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { writeBusyboxArchive } from '../fixtures/images/busybox-image.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { startServer } from '../helpers/start-server.ts';
import type { RunningServer } from '../helpers/start-server.ts';
import { deleteLink, removeAgentCgroups, removeDataDir } from '../runtime/cleanup.ts';
import { releasePodCidrClaim, removePodsOfStoppedAgent, spawnEdgeos, stopProcess, stopServerKeepingData, waitFor as waitForState } from './helpers.ts';

const NODE = 'offline-device';
const NS = 'offline';
const IMAGE = 'edgeos.test/busybox:offline';

const serverDir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-offline-server-'));
const agentDir = mkdtempSync(join(tmpdir(), 'edgeos-e2e-offline-agent-'));
// The bridge name and containerd socket depend on the data dir only.
const runtimeConfig = resolveRuntimeConfig({ dataDir: agentDir });
let server: RunningServer | undefined;
let agent: ChildProcess | undefined;
let agentOut = '';

const api = (): RunningServer => {
  if (!server) throw new Error('the server is not running');
  return server;
};
const context = () => `agent output:\n${agentOut.slice(-4000)}\nserver output:\n${server?.output().slice(-2000) ?? ''}`;
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => waitForState(what, fn, timeoutMs, context);

async function ok(args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await kubectl(api(), args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}\n${context()}`);
  return r.stdout;
}

function startAgent(args: string[]): ChildProcess {
  return spawnEdgeos(args, (s) => (agentOut += s));
}

/** The agent's structured log lines from `from` (an offset into agentOut) on. */
function agentLog(from: number): { msg?: string; pods?: number }[] {
  return agentOut.slice(from).split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as { msg?: string; pods?: number }];
    } catch {
      return [];
    }
  });
}

beforeAll(async () => {
  server = await startServer({ dir: serverDir });
  // Air-gapped: the image is a tarball in the agent's images dir, imported at start.
  mkdirSync(join(agentDir, 'agent', 'images'), { recursive: true });
  writeBusyboxArchive(join(agentDir, 'agent', 'images', 'busybox.tar'), IMAGE);
  const token = readFileSync(join(serverDir, 'data', 'server', 'token'), 'utf8').trim();
  agent = startAgent(['join', token, '--node-name', NODE, '--data-dir', agentDir]);
  await waitFor('the joined node to be Ready', async () => (await nodeReady()) === 'True', 90_000);
}, 150_000);

afterAll(async () => {
  // The agent first, so its kubelet cannot recreate what we remove; then a containerd of our own
  // on its data dir removes the pods through CRI (their netns, veths and rules with them).
  try {
    await stopProcess(agent);
    await server?.stop();
  } finally {
    await removePodsOfStoppedAgent(agentDir).finally(() => {
      rmSync(serverDir, { recursive: true, force: true });
      deleteLink(runtimeConfig.cni.bridge);
      releasePodCidrClaim(agentDir);
      removeDataDir(agentDir);
    });
  }
}, 120_000);

const nodeReady = async () => (await ok(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).trim();

/** What containerd says about one sandbox or container; any recreation or restart changes it. */
interface Instance {
  readonly kind: 'sandbox' | 'container';
  readonly pod: string;
  readonly name: string;
  readonly sandbox: string;
  readonly attempt: number;
  readonly createdAt: string;
  readonly startedAt: string;
  readonly state: string;
  readonly pid: number;
  /** /proc/<pid>/stat field 22. */
  readonly pidStartTicks: string;
}

/** The process's start time in clock ticks ('' when gone): tells a reused PID from the same process. */
function procStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** The task's host PID from containerd's verbose CRI info (0 when it has none: not running). */
/** The pods' QoS tree this data dir's agent picks (docs/kubelet.md, "QoS cgroups"). */
const kubepods = `/edgeos-${createHash('sha256').update(agentDir).digest('hex').slice(0, 8)}/kubepods`;

/** Each instance's cgroup (the cpu hierarchy's on v1), as its host process's /proc/<pid>/cgroup says. */
function cgroupsOf(s: Record<string, Instance>): string[] {
  return Object.values(s).map((i) => {
    const lines = readFileSync(`/proc/${i.pid}/cgroup`, 'utf8').split('\n');
    const line = lines.find((l) => /^\d+:(cpu|cpu,cpuacct):/.test(l)) ?? lines.find((l) => l.startsWith('0::')) ?? '';
    return line.split(':').slice(2).join(':');
  });
}

function pidOf(info: Record<string, string> | undefined): number {
  return (JSON.parse(info?.info ?? '{}') as { pid?: number }).pid ?? 0;
}

/** Every sandbox and container of the agent's containerd, by id. */
async function runtimeState(): Promise<Record<string, Instance>> {
  const cri = new CriClient({ endpoint: runtimeConfig.endpoint, defaultTimeoutMs: 20_000 });
  try {
    const out: Record<string, Instance> = {};
    const { items } = await cri.call('ListPodSandbox', { filter: null });
    for (const s of items) {
      const st = (await cri.call('PodSandboxStatus', { podSandboxId: s.id, verbose: true })) as unknown as { info?: Record<string, string> };
      const pid = pidOf(st.info);
      out[s.id] = { kind: 'sandbox', pod: s.metadata?.name ?? '', name: '', sandbox: s.id, attempt: s.metadata?.attempt ?? -1, createdAt: s.createdAt, startedAt: '', state: s.state, pid, pidStartTicks: procStart(pid) };
    }
    const { containers } = await cri.call('ListContainers', { filter: null });
    for (const c of containers) {
      const st = (await cri.call('ContainerStatus', { containerId: c.id, verbose: true })) as unknown as { status: { startedAt: string }; info?: Record<string, string> };
      const pid = pidOf(st.info);
      out[c.id] = {
        kind: 'container', pod: c.labels['io.kubernetes.pod.name'] ?? '', name: c.metadata?.name ?? '', sandbox: c.podSandboxId, attempt: c.metadata?.attempt ?? -1,
        createdAt: c.createdAt, startedAt: st.status.startedAt, state: c.state, pid, pidStartTicks: procStart(pid),
      };
    }
    return out;
  } finally {
    cri.close();
  }
}

interface PodJson {
  metadata: { name: string; uid: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; containerID?: string; restartCount: number; ready: boolean; state?: { running?: { startedAt: string } } }[];
  };
}

/** The parts of the pods' statuses a restart must not change. */
async function podStatuses() {
  const { items } = JSON.parse(await ok(['get', 'pods', '-n', NS, '-o', 'json'])) as { items: PodJson[] };
  return items
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      phase: p.status?.phase,
      ready: p.status?.conditions?.find((c) => c.type === 'Ready')?.status,
      containers: (p.status?.containerStatuses ?? [])
        .map((c) => ({ name: c.name, containerID: c.containerID, restartCount: c.restartCount, ready: c.ready, startedAt: c.state?.running?.startedAt }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Sum of the events' counts per reason in the namespace. */
async function eventReasons(): Promise<Record<string, number>> {
  const { items } = JSON.parse(await ok(['get', 'events', '-n', NS, '-o', 'json'])) as { items: { reason?: string; count?: number }[] };
  const out: Record<string, number> = {};
  for (const e of items) out[e.reason ?? ''] = (out[e.reason ?? ''] ?? 0) + (e.count ?? 1);
  return out;
}

const running = (s: Record<string, Instance>) =>
  Object.values(s).every((i) => (i.kind === 'sandbox' ? i.state === 'SANDBOX_READY' : i.state === 'CONTAINER_RUNNING') && i.pid > 0 && i.pidStartTicks !== '');

let before: Record<string, Instance> = {};
let statusesBefore: Awaited<ReturnType<typeof podStatuses>> = [];

describe('server killed, agent restarted offline, server back: nothing is recreated', () => {
  it('runs a Deployment on the device and records what containerd and the API say', async () => {
    await ok(['create', 'namespace', NS]);
    await ok(['apply', '-f', '-'], {
      stdin: `
apiVersion: apps/v1
kind: Deployment
metadata: { name: app, namespace: ${NS} }
spec:
  replicas: 2
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - { name: main, image: ${IMAGE}, command: [sh, -c, 'echo started; exec sleep 3600'] }
      - { name: side, image: ${IMAGE}, command: [sleep, '3600'] }
`,
    });
    await ok(['rollout', 'status', 'deployment/app', '-n', NS, '--timeout=120s'], { timeoutMs: 130_000 });
    // The API has caught up with the device: both pods Ready, their containerIDs those in containerd,
    // and every Started event delivered (so none can arrive late and look like a restart).
    before = await waitFor('the pod statuses to match containerd', async () => {
      const state = await runtimeState();
      const statuses = await podStatuses();
      const ids = statuses.flatMap((p) => p.containers.map((c) => c.containerID)).sort();
      const cri = Object.entries(state).filter(([, i]) => i.kind === 'container').map(([id]) => `containerd://${id}`).sort();
      const allReady = statuses.length === 2 && statuses.every((p) => p.phase === 'Running' && p.ready === 'True' && p.containers.length === 2);
      return allReady && running(state) && JSON.stringify(ids) === JSON.stringify(cri) ? state : undefined;
    });
    expect(Object.values(before).filter((i) => i.kind === 'sandbox')).toHaveLength(2);
    expect(Object.values(before).filter((i) => i.kind === 'container')).toHaveLength(4);
    // BestEffort pods: sandboxes and containers in their pod's cgroup below besteffort.
    for (const cg of cgroupsOf(before)) expect(cg).toMatch(new RegExp(`^${kubepods}/besteffort/pod[0-9a-f-]{36}/[0-9a-f]{64}$`));
    await waitFor('the four Started events', async () => (await eventReasons()).Started === 4);
    statusesBefore = await podStatuses();
  }, 180_000);

  it('keeps every container when the server is killed and the agent restarts while it is down', async () => {
    const killedAt = agentOut.length;
    await stopServerKeepingData(api(), 'SIGKILL');
    await waitFor('the agent to notice the server is gone', async () => agentLog(killedAt).some((l) => l.msg === 'reconnecting to the server'));
    expect(await runtimeState()).toEqual(before);

    const old = agent;
    await stopProcess(old);
    expect(old?.exitCode).toBe(0);
    const from = agentOut.length;
    agent = startAgent(['agent', '--data-dir', agentDir]);
    // "kubelet ready" follows the first sync of every pod found in the cache: a recreation would
    // have happened (or begun) by then. Look again after a few PLEG relists.
    const ready = await waitFor('the restarted kubelet to sync its pods', async () => agentLog(from).find((l) => l.msg === 'kubelet ready'));
    expect(ready.pods).toBe(2);
    expect(await runtimeState()).toEqual(before);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await runtimeState()).toEqual(before);
    expect(agent.exitCode).toBeNull();
  }, 90_000);

  it('reports the node Ready and the same statuses once the server is back, still with nothing recreated', async () => {
    const restartedAt = Date.now();
    const port = api().port;
    server = await startServer({ dir: serverDir, port });
    await waitFor('the agent to reconnect and renew its Lease', async () => {
      const renew = (await ok(['get', 'lease', NODE, '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.renewTime}'])).trim();
      return Date.parse(renew.replace(/(\.\d{3})\d+/, '$1')) >= restartedAt - 1000;
    });
    await waitFor('the node to be Ready', async () => (await nodeReady()) === 'True');
    expect(api().output()).toContain('agent connected');
    await waitFor('the pod statuses as they were', async () => JSON.stringify(await podStatuses()) === JSON.stringify(statusesBefore), 30_000).catch(async (err: unknown) => {
      expect(await podStatuses()).toEqual(statusesBefore);
      throw err;
    });
    expect(statusesBefore.every((p) => p.phase === 'Running' && p.ready === 'True' && p.containers.every((c) => c.restartCount === 0 && c.ready))).toBe(true);
    expect(await runtimeState()).toEqual(before);
    // Events recorded offline are delivered on reconnect: none says a container started or died.
    const reasons = await eventReasons();
    expect(reasons.Started).toBe(4);
    expect(reasons.Killing ?? 0).toBe(0);
    expect(reasons.SandboxChanged ?? 0).toBe(0);
  }, 120_000);
});

describe('reboot while the server is down: the pods come back from the cache, the server finds them Running', () => {
  let afterReboot: Record<string, Instance> = {};
  let rebootedAt = 0;

  it('starts every pod again after a simulated offline reboot (no containerd, no pods, no bridge)', async () => {
    const uidsBefore = statusesBefore.map((p) => p.uid);
    expect(uidsBefore).toHaveLength(2);
    await stopServerKeepingData(api(), 'SIGKILL');
    await stopProcess(agent);
    // The reboot: every pod and its network namespace removed through CRI, containerd stopped,
    // the pods' bridge gone. What is left is the agent's data dir (its cache) and nothing running.
    await removePodsOfStoppedAgent(agentDir);
    deleteLink(runtimeConfig.cni.bridge);
    // A reboot loses every cgroup: the agent must build its QoS tree again before the pods.
    removeAgentCgroups(agentDir);
    const from = agentOut.length;
    rebootedAt = Date.now();
    agent = startAgent(['agent', '--data-dir', agentDir]);
    afterReboot = await waitFor('two pods with both containers running again, from the cache', async () => {
      const state = await runtimeState();
      const sandboxes = Object.values(state).filter((i) => i.kind === 'sandbox');
      const containers = Object.values(state).filter((i) => i.kind === 'container');
      return sandboxes.length === 2 && containers.length === 4 && running(state) ? state : undefined;
    }, 90_000);
    // New sandboxes and containers (the old ones are gone), for the same pods.
    for (const id of Object.keys(afterReboot)) expect(before[id]).toBeUndefined();
    const podsOf = (s: Record<string, Instance>) => [...new Set(Object.values(s).map((i) => i.pod))].sort();
    expect(podsOf(afterReboot)).toEqual(podsOf(before));
    for (const cg of cgroupsOf(afterReboot)) expect(cg).toMatch(new RegExp(`^${kubepods}/besteffort/pod[0-9a-f-]{36}/[0-9a-f]{64}$`));
    // The kubelet says so once its first sync of every cached pod is done (which may end just after
    // the containers run).
    const ready = await waitFor('the restarted kubelet to report its first sync', async () => agentLog(from).find((l) => l.msg === 'kubelet ready'));
    expect(ready.pods).toBe(2);
    expect(agent.exitCode).toBeNull();
  }, 150_000);

  it('reports the node Ready and the same pods Running with the new containers once the server is back', async () => {
    const port = api().port;
    server = await startServer({ dir: serverDir, port });
    await waitFor('the node to be Ready', async () => (await nodeReady()) === 'True');
    // The node's status is the one the agent computed after the reboot (its Ready condition begins
    // then), not the one the server kept from before: a Ready left over does not count.
    await waitFor('the node status of the rebooted agent', async () => {
      const since = (await ok(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].lastTransitionTime}'])).trim();
      return Date.parse(since) >= Math.floor(rebootedAt / 1000) * 1000 && (await nodeReady()) === 'True';
    }, 60_000);
    const ids = Object.entries(afterReboot).filter(([, i]) => i.kind === 'container').map(([id]) => `containerd://${id}`).sort();
    const statuses = await waitFor('the pod statuses to name the containers started after the reboot', async () => {
      const s = await podStatuses();
      const reported = s.flatMap((p) => p.containers.map((c) => c.containerID)).sort();
      return JSON.stringify(reported) === JSON.stringify(ids) && s.every((p) => p.phase === 'Running' && p.ready === 'True') ? s : undefined;
    }, 60_000);
    // The same pod objects (same uids): nothing was deleted and replaced by the Deployment.
    expect(statuses.map((p) => p.uid)).toEqual(statusesBefore.map((p) => p.uid));
    expect(statuses.every((p) => p.containers.every((c) => c.ready))).toBe(true);
    // Still the containers started offline: the server's return recreated nothing.
    expect(await runtimeState()).toEqual(afterReboot);
  }, 120_000);
});
