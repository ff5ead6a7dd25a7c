// What a hollow node costs the simulator, in CPU time (deterministic enough to compare on a loaded
// machine: utime+stime of the simulator process from /proc/<pid>/stat, not wall time). One server
// (tmpfs), N hollow nodes joined once by one simulator; then, for each round and each simulator
// tree given with --sim (A/B: this tree and a copy of another commit), a simulator over the same
// data dirs (no join: identities and caches are kept), `--settle-s` after every node synced, then
// its CPU over `--idle-s` of nothing happening. With `--pods-per-node P` the pods are created
// right after the join, with the first tree's simulator (Deployments at --create-rate pods/s), and
// that simulator's CPU from the first Deployment until every pod is Running is reported; the idle
// windows then have the pods running.
//
//   node bench/fleet/sim-cpu.ts --nodes 500 [--sim <repo dir>]… [--rounds 2] [--idle-s 60]
//        [--settle-s 20] [--pods-per-node 0] [--create-rate 50] [--cpu-prof <dir>]
//
// Prints a JSON line per window: {"window":"idle","sim":…,"round":…,"nodes":…,"cpuS":…,
// "msPerNodePerMin":…,"serverCpuS":…,"load":"…"}. --cpu-prof writes a V8 profile of the simulator
// for each idle window (SIGUSR2 starts and stops it, sim-agents.ts --prof-dir).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { serverProcess } from '../../test/link/harness.ts';
import type { ServerProcess } from '../../test/link/harness.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '500' },
    sim: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '1' },
    'idle-s': { type: 'string', default: '60' },
    'settle-s': { type: 'string', default: '20' },
    'pods-per-node': { type: 'string', default: '0' },
    'create-rate': { type: 'string', default: '50' },
    'cpu-prof': { type: 'string' },
  },
});
const REPO = resolve(import.meta.dirname, '../..');
const NODES = Number(values.nodes);
const SIMS = (values.sim ?? [REPO]).map((d) => resolve(d));
const ROUNDS = Number(values.rounds);
const IDLE_S = Number(values['idle-s']);
const SETTLE_S = Number(values['settle-s']);
const PODS_PER_NODE = Number(values['pods-per-node']);
const CREATE_RATE = Number(values['create-rate']);
const PROF = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100);
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks;
}
const emit = (o: object) => console.log(JSON.stringify(o));
/** CPU ms by thread name (the main thread is the process's own name; libuv's pool is "libuv-worker"; V8's "V8Worker"). */
function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const raw = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks);
    } catch {
      // the thread ended
    }
  }
  return out;
}
const threadDelta = (a: Map<string, number>, b: Map<string, number>) =>
  Object.fromEntries([...b].map(([k, v]) => [k, round((v - (a.get(k) ?? 0)) / 1000, 2)]).filter(([, v]) => (v as number) > 0));

interface Sim {
  proc: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
}

function startSim(tree: string, token: string, dataDir: string): Sim {
  const proc = spawn(process.execPath, ['--max-old-space-size=8192', join(tree, 'bench/fleet/sim-agents.ts'), '--token', token, '--data-dir', dataDir, '--count', String(NODES), '--stats-every', '5', ...(PROF ? ['--prof-dir', PROF] : [])], { cwd: tree, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const ready = new Promise<void>((res, rej) => {
    proc.once('exit', (code) => rej(new Error(`simulator exited (${code}) before ready`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.includes('"sim":"ready"')) res();
      if (line.includes('"sim":"ready"') || line.includes('"sim":"joined"')) console.error(`  ${line}`);
    });
  });
  ready.catch(() => undefined);
  return { proc, ready, exited };
}

async function stopSim(s: Sim): Promise<void> {
  s.proc.kill('SIGTERM');
  await s.exited;
}

function admin(server: ServerProcess) {
  const kc = parse(readFileSync(server.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const dec = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
  return { ca: dec(kc.clusters[0]?.cluster['certificate-authority-data']), cert: dec(kc.users[0]?.user['client-certificate-data']), key: dec(kc.users[0]?.user['client-key-data']) };
}

/** Pods of the bench Running, counted on one watch. */
function watchRunning(server: ServerProcess, running: Set<string>): () => void {
  const c = admin(server);
  const req = request(`${server.url}/api/v1/namespaces/fleet/pods?watch=1`, { ca: c.ca, cert: c.cert, key: c.key }, (res) => {
    res.on('error', () => undefined);
    const lines = createInterface({ input: res });
    lines.on('error', () => undefined);
    lines.on('line', (line) => {
      const ev = JSON.parse(line) as { object: { metadata: { uid: string }; status?: { phase?: string } } };
      if (ev.object.status?.phase === 'Running') running.add(ev.object.metadata.uid);
    });
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

async function idleWindow(sim: Sim, tree: string, r: number, server: ServerProcess, what: string): Promise<void> {
  await sleep(SETTLE_S * 1000);
  const pid = sim.proc.pid!;
  if (PROF) sim.proc.kill('SIGUSR2');
  const c0 = cpuMs(pid);
  const th0 = threadCpuMs(pid);
  const s0 = cpuMs(server.pid()!);
  const t0 = performance.now();
  const l0 = load();
  await sleep(IDLE_S * 1000);
  const cpu = cpuMs(pid) - c0;
  const wall = performance.now() - t0;
  if (PROF) sim.proc.kill('SIGUSR2');
  emit({ window: what, sim: tree, round: r, nodes: NODES, cpuS: round(cpu / 1000, 2), msPerNodePerMin: round((cpu / NODES) * (60_000 / wall), 2), threadsCpuS: threadDelta(th0, threadCpuMs(pid)), serverCpuS: round((cpuMs(server.pid()!) - s0) / 1000, 2), load: `${l0} → ${load()}` });
}

const server = await serverProcess(['--cluster-cidr', '10.128.0.0/9'], { parentDir: '/dev/shm' });
const simDir = mkdtempSync('/dev/shm/edgeos-fleetsim-cpu-');
let sim: Sim | undefined;
// Stopped by hand: the simulator, the server and both data dirs go too.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void (async () => {
      if (sim) await stopSim(sim);
      await server.dispose();
      rmSync(simDir, { recursive: true, force: true });
      process.exit(130);
    })();
  });
}
try {
  await server.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fleet' } });
  // The join, with the first tree.
  const j0 = performance.now();
  sim = startSim(SIMS[0]!, server.token(), simDir);
  const jc0 = cpuMs(sim.proc.pid!);
  await sim.ready;
  emit({ window: 'join', sim: SIMS[0], nodes: NODES, seconds: round((performance.now() - j0) / 1000), cpuS: round((cpuMs(sim.proc.pid!) - jc0) / 1000, 2), load: load() });
  if (PODS_PER_NODE > 0) {
    const running = new Set<string>();
    const stopWatch = watchRunning(server, running);
    const pods = NODES * PODS_PER_NODE;
    const per = 100;
    const c0 = cpuMs(sim.proc.pid!);
    const th0 = threadCpuMs(sim.proc.pid!);
    const s0 = cpuMs(server.pid()!);
    const t0 = performance.now();
    for (let i = 0; i * per < pods; i++) {
      const due = t0 + (i * per * 1000) / CREATE_RATE;
      if (due > performance.now()) await sleep(due - performance.now());
      const replicas = Math.min(per, pods - i * per);
      const res = await server.api('POST', '/apis/apps/v1/namespaces/fleet/deployments', {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `cpu-${i}`, namespace: 'fleet' },
        spec: { replicas, selector: { matchLabels: { app: `cpu-${i}` } }, template: { metadata: { labels: { app: `cpu-${i}` } }, spec: { containers: [{ name: 'c', image: 'edgeos.bench/pause:1' }] } } },
      });
      if (res.status !== 201) throw new Error(`deployment cpu-${i}: HTTP ${res.status}`);
    }
    for (let i = 0; running.size < pods; i++) {
      await sleep(500);
      if (i % 20 === 19) console.error(`  pods Running ${running.size}/${pods}; load ${load()}`);
    }
    const cpu = cpuMs(sim.proc.pid!) - c0;
    stopWatch();
    emit({ window: 'pods', sim: SIMS[0], nodes: NODES, pods, seconds: round((performance.now() - t0) / 1000), cpuS: round(cpu / 1000, 2), msPerPod: round(cpu / pods, 2), msPerNode: round(cpu / NODES, 2), threadsCpuS: threadDelta(th0, threadCpuMs(sim.proc.pid!)), serverCpuS: round((cpuMs(server.pid()!) - s0) / 1000, 2), load: load() });
  }
  await stopSim(sim);
  sim = undefined;
  for (let r = 1; r <= ROUNDS; r++) {
    for (const tree of SIMS) {
      sim = startSim(tree, server.token(), simDir);
      await sim.ready;
      await idleWindow(sim, tree, r, server, PODS_PER_NODE > 0 ? 'idle-with-pods' : 'idle');
      await stopSim(sim);
      sim = undefined;
    }
  }
} finally {
  if (sim) await stopSim(sim);
  await server.dispose();
  rmSync(simDir, { recursive: true, force: true });
}
