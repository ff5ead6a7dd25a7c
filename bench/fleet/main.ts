// The fleet benchmark: N hollow nodes (the real agent over the in-memory runtime, sim-agents.ts in
// a few worker processes) against one real `edgeos server` (controllers and scheduler on) on
// this machine. See README.md. Measures, in order: the idle server alone (the in-run baseline),
// join of every node until all are Ready, PODS_PER_NODE pods per node through Deployments created
// at a steady rate until all are Running (each pod's start-up latency: creation observed → Running
// observed, on one watch), mutating API latency under a steady churn of pod creates + deletes,
// link bytes per idle node (TCP payload of the server port's sockets, i.e. TLS records, both ways,
// from `ss`), server RSS and CPU, and the time from a server restart until every link is back and
// every node Ready.
// Last line: {"bench":"fleet","nodes":…,"pods":…,"create_rate_pods_per_s":…,…}
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { serverProcess } from '../../test/link/harness.ts';
import type { ServerProcess } from '../../test/link/harness.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    'pods-per-node': { type: 'string', default: '10' },
    'create-rate': { type: 'string', default: '100' },
    workers: { type: 'string' },
    'churn-s': { type: 'string', default: '30' },
    'idle-s': { type: 'string', default: '120' },
    /** Where the server's data dir goes (its SQLite store): a directory, default /dev/shm when there is one. */
    'server-dir': { type: 'string' },
    /** Write V8 CPU profiles of the server and of each simulator into this directory (node --cpu-prof). */
    'cpu-prof': { type: 'string' },
    /** Stop after this phase: join, density, churn, idle (default: all, through the restart). */
    until: { type: 'string' },
  },
});
/** A flag's value as a positive integer, or an exit naming the flag. */
function count(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${flag}: expected a positive whole number, got "${value}"`);
    process.exit(2);
  }
  return n;
}
const NODES = count('nodes', values.nodes);
const PODS_PER_NODE = count('pods-per-node', values['pods-per-node']);
const CREATE_RATE = count('create-rate', values['create-rate']);
const WORKERS = values.workers === undefined ? Math.max(1, Math.ceil(NODES / 2500)) : count('workers', values.workers);
const CHURN_S = count('churn-s', values['churn-s']);
const IDLE_S = count('idle-s', values['idle-s']);
const REPLICAS_PER_DEPLOYMENT = 100;
const CHURN_PER_S = 20;
const REPO = resolve(import.meta.dirname, '../..');
const PHASES = ['join', 'density', 'churn', 'idle', 'restart'] as const;
const UNTIL = values.until ?? 'restart';
if (!(PHASES as readonly string[]).includes(UNTIL)) {
  console.error(`--until: one of ${PHASES.join(', ')}, got "${UNTIL}"`);
  process.exit(2);
}
const runs = (phase: (typeof PHASES)[number]) => PHASES.indexOf(phase) <= PHASES.indexOf(UNTIL as (typeof PHASES)[number]);
const CPU_PROF = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
// (--cpu-prof is refused in NODE_OPTIONS: given to each process; a profile is written at its exit.)
const profArgs = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];
// Room for every node's pod CIDR: a /24 each (the default --cluster-cidr, a /16, holds 256 nodes);
// a /9 holds 32,768, away from the default Service CIDR (10.43.0.0/16).
const CLUSTER_CIDR = '10.128.0.0/9';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/**
 * SIGINT to this process (not its group) ends the run where it is: the phase waiting stops, the
 * figures measured so far are printed as the last line (the others null) and everything is cleaned
 * up — a 10,000-node run that cannot finish in the time there is still says how far it got.
 */
let stopRequested = false;
process.on('SIGINT', () => {
  stopRequested = true;
});
/** A wait inside a phase: ends the run when SIGINT asked for it. */
async function pause(ms: number): Promise<void> {
  await sleep(ms);
  if (stopRequested) throw new Error('stopped by SIGINT');
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const log = (s: string) => console.log(`[fleet-bench ${(performance.now() / 1000).toFixed(1)}s] ${s}`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100);
function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks;
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
/**
 * The links' payload: bytes_acked (sent, acknowledged) + bytes_received of every established
 * connection to the server port that a simulator holds (read on the agents' side: `ss -p` names
 * the process). Not the server's own loopback API clients — its controllers watch every Lease
 * renewal (50 a second at 1,000 nodes; ~100 kB per node-hour, as much again as the links) — nor
 * this bench's watches: they are no agent's link.
 */
function linkPayloadBytes(port: number, pids: ReadonlySet<number>): number {
  const out = spawnSync('ss', ['-tinpH', 'state', 'established', `( dport = :${port} )`], { maxBuffer: 512 * 1024 * 1024 }).stdout.toString();
  let total = 0;
  let counted = false;
  // Each connection is a line with its process (users:(("…",pid=N,…))) and a line of TCP info.
  for (const line of out.split('\n')) {
    const pid = /pid=(\d+)/.exec(line);
    if (pid) counted = pids.has(Number(pid[1]));
    else if (counted) for (const m of line.matchAll(/bytes_(?:acked|received):(\d+)/g)) total += Number(m[1]);
  }
  return total;
}

interface Worker {
  proc: ChildProcess;
  stats: { connected: number; relists: number; resumes: number; connects: number; pings: number; failures: number; loopDelayMaxMs: number };
  /** While its nodes join: how many started (joined and their agent started) and synced. */
  progress: { started: number; synced: number; loopDelayMaxMs: number };
  ready: Promise<void>;
}

function startWorker(token: string, dataDir: string, first: number, count: number): Worker {
  // 2,500 hollow nodes are ~2 GB of one process: room above V8's default heap limit.
  const proc = spawn(process.execPath, [...profArgs, '--max-old-space-size=8192', join(REPO, 'bench/fleet/sim-agents.ts'), '--token', token, '--data-dir', dataDir, '--first', String(first), '--count', String(count), '--stats-every', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let markReady!: () => void;
  let markFailed!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  ready.catch(() => undefined);
  const w: Worker = { proc, stats: { connected: 0, relists: 0, resumes: 0, connects: 0, pings: 0, failures: 0, loopDelayMaxMs: 0 }, progress: { started: 0, synced: 0, loopDelayMaxMs: 0 }, ready };
  // A simulator that dies before its nodes are ready fails the run (the finally cleans up).
  proc.once('exit', (code, signal) => markFailed(new Error(`a simulator process exited (${code ?? signal}) before its nodes were ready`)));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let m: { sim?: string } & Partial<Worker['stats']>;
    try {
      m = JSON.parse(line) as typeof m;
    } catch {
      return;
    }
    if (m.sim === 'ready') markReady();
    if (m.sim === 'joined') log(`a simulator started its nodes: ${line}`);
    if (m.sim === 'progress') Object.assign(w.progress, m);
    if (m.sim === 'stats') {
      Object.assign(w.stats, m);
      if (w.stats.loopDelayMaxMs > 2000) log(`a simulator's event loop stalled ${w.stats.loopDelayMaxMs} ms (its nodes waited that long)`);
    }
  });
  return w;
}

function admin(server: ServerProcess) {
  const kc = parse(readFileSync(server.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const dec = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
  return { ca: dec(kc.clusters[0]?.cluster['certificate-authority-data']), cert: dec(kc.users[0]?.user['client-certificate-data']), key: dec(kc.users[0]?.user['client-key-data']) };
}

/**
 * The churn's API client: the admin credentials read once and kept-alive connections, as kubectl
 * and client-go talk to an API server, so a mutating request's latency is the server's answer, not
 * a new TLS handshake with a client certificate on this (shared, loaded) machine.
 */
function keepAliveApi(server: ServerProcess) {
  const c = admin(server);
  // Idle sockets are dropped after 4 s, before the server's keep-alive timeout (Node's 5 s) closes
  // them under a request; a request that still finds its reused socket reset is sent once more,
  // as Node's documentation advises (request.reusedSocket) and Go's transport does for a request
  // the server never read. The second attempt's time counts in the request's.
  const agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 4000, ca: c.ca, cert: c.cert, key: c.key });
  const once = (method: string, path: string, text: string | undefined) =>
    new Promise<{ status: number }>((resolve, reject) => {
      const req = request(`${server.url}${path}`, { method, agent, timeout: 30_000, headers: text ? { 'content-type': 'application/json' } : {} }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { reused: req.reusedSocket })));
      req.end(text);
    });
  const call = async (method: string, path: string, body?: unknown) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    try {
      return await once(method, path, text);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { reused?: boolean };
      if (!e.reused || e.code !== 'ECONNRESET') throw err;
      return once(method, path, text);
    }
  };
  return { call, close: () => agent.destroy() };
}

/** One watch of the bench's pods: when each was first seen, and first seen Running. */
function watchPods(server: ServerProcess, created: Map<string, number>, running: Map<string, number>): () => void {
  const c = admin(server);
  const req = request(`${server.url}/api/v1/namespaces/fleet/pods?watch=1&labelSelector=bench%3Dfleet`, { ca: c.ca, cert: c.cert, key: c.key }, (res) => {
    res.on('error', () => undefined); // aborted by stopWatch
    const lines = createInterface({ input: res });
    lines.on('error', () => undefined);
    lines.on('line', (line) => {
      const now = performance.now();
      const ev = JSON.parse(line) as { type: string; object: { metadata: { uid: string }; status?: { phase?: string } } };
      const uid = ev.object.metadata.uid;
      if (!created.has(uid)) created.set(uid, now);
      if (ev.object.status?.phase === 'Running' && !running.has(uid)) running.set(uid, now);
    });
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

const deployment = (i: number, replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: `density-${i}`, namespace: 'fleet' },
  spec: {
    replicas,
    selector: { matchLabels: { app: `density-${i}` } },
    template: { metadata: { labels: { app: `density-${i}`, bench: 'fleet' } }, spec: { containers: [{ name: 'c', image: 'edgeos.bench/pause:1' }] } },
  },
});

/**
 * The server's counters that say what a storm cost it, from /metrics: full and resumed TLS
 * handshakes (each full one an ECDSA signature and key exchange), links opened, joins answered.
 */
async function serverCounters(server: ServerProcess): Promise<{ fullTls: number; resumedTls: number; links: number } | undefined> {
  const r = await server.api('GET', '/metrics').catch(() => undefined);
  if (!r || r.status !== 200 || typeof r.body !== 'string') return undefined;
  const text = r.body;
  const read = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    fullTls: read(/^edgeos_tls_handshakes_total\{resumed="false"\} (\d+)/m),
    resumedTls: read(/^edgeos_tls_handshakes_total\{resumed="true"\} (\d+)/m),
    links: read(/^edgeos_link_connects_total (\d+)/m),
  };
}
const perNode = (c: { fullTls: number; resumedTls: number; links: number } | undefined, since: { fullTls: number; resumedTls: number; links: number } = { fullTls: 0, resumedTls: 0, links: 0 }) =>
  c ? `per node: ${round((c.fullTls - since.fullTls) / NODES, 2)} full TLS handshakes, ${round((c.resumedTls - since.resumedTls) / NODES, 2)} resumed, ${round((c.links - since.links) / NODES, 2)} links opened` : 'server counters unreadable';

/**
 * The store's writes so far, from /metrics: the current revision (one per written key) and the
 * store requests that write, by operation and stored type (`edgeos_store_request_duration_seconds`
 * counts; a `txn` is one transaction of the Lease batch, labelled by its first key's type).
 */
async function storeWrites(server: ServerProcess): Promise<{ revision: number; ops: Map<string, number> } | undefined> {
  const r = await server.api('GET', '/metrics').catch(() => undefined);
  if (!r || r.status !== 200 || typeof r.body !== 'string') return undefined;
  const ops = new Map<string, number>();
  for (const m of r.body.matchAll(/^edgeos_store_request_duration_seconds_count\{operation="(create|update|delete|txn)",type="([^"]*)"\} (\d+)/gm)) ops.set(`${m[1]} ${m[2]}`, Number(m[3]));
  return { revision: Number(/^edgeos_store_current_revision (\d+)/m.exec(r.body)?.[1] ?? 0), ops };
}
/** What was written between two readings, per pod: revisions, then each operation and type (largest first). */
function writesPerPod(before: Awaited<ReturnType<typeof storeWrites>>, after: Awaited<ReturnType<typeof storeWrites>>, pods: number): string {
  if (!before || !after) return 'store counters unreadable';
  const rows = [...after.ops].map(([k, v]) => [k, v - (before.ops.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  return `${round((after.revision - before.revision) / pods, 2)} store revisions per pod (${rows.map(([k, v]) => `${k} ${round(v / pods, 2)}`).join(', ')})`;
}

/** The Events of the bench's namespace now, per pod by reason: which writers' Events were written (a recorder drops what it cannot keep up with). */
async function eventsByReason(server: ServerProcess, pods: number): Promise<string> {
  const r = await server.api('GET', '/api/v1/namespaces/fleet/events').catch(() => undefined);
  const items = (r?.body as { items?: { reason?: string; count?: number }[] } | undefined)?.items;
  if (!items) return 'unreadable';
  const by = new Map<string, number>();
  for (const e of items) by.set(e.reason ?? '', (by.get(e.reason ?? '') ?? 0) + 1);
  return `${round(items.length / pods, 2)} per pod (${[...by].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${round(v / pods, 2)}`).join(', ')})`;
}

const isReady = (n: { status?: { conditions?: { type: string; status: string }[] } }) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * Which nodes are Ready=True, kept from one list and then a watch of the Nodes (listed again after
 * the watch ends: the server's restart). Listing 10,000 Nodes (~30 MB of JSON) every few seconds
 * to count them was itself a large part of the server's "idle" CPU at 1,000 nodes; a watch costs
 * the server only the Node changes it writes anyway.
 */
function nodeReadiness(server: ServerProcess) {
  const ready = new Map<string, boolean>();
  /** Lists done: a count taken after `lists` grew past a moment is not older than that moment. */
  let lists = 0;
  let stopped = false;
  let current: { destroy(): void } | undefined;
  const get = (path: string, onLine?: (line: string) => void) =>
    new Promise<string | undefined>((resolve) => {
      const c = admin(server);
      const req = request(`${server.url}${path}`, { ca: c.ca, cert: c.cert, key: c.key, agent: false, ...(onLine ? {} : { timeout: 120_000 }) }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return resolve(undefined);
        }
        if (onLine) {
          const lines = createInterface({ input: res });
          lines.on('line', onLine);
          lines.on('error', () => undefined);
          res.on('error', () => resolve(undefined));
          res.on('close', () => resolve(undefined));
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
        res.on('error', () => resolve(undefined));
      });
      current = req;
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', () => resolve(undefined));
      req.end();
    });
  void (async () => {
    while (!stopped) {
      const body = await get('/api/v1/nodes');
      if (body === undefined) {
        await sleep(1000);
        continue;
      }
      const list = JSON.parse(body) as { metadata: { resourceVersion: string }; items: ({ metadata: { name: string } } & Parameters<typeof isReady>[0])[] };
      ready.clear();
      for (const n of list.items) ready.set(n.metadata.name, isReady(n));
      lists++;
      await get(`/api/v1/nodes?watch=1&allowWatchBookmarks=false&resourceVersion=${list.metadata.resourceVersion}`, (line) => {
        const ev = JSON.parse(line) as { type: string; object: { metadata: { name: string } } & Parameters<typeof isReady>[0] };
        if (ev.type === 'DELETED') ready.delete(ev.object.metadata.name);
        else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') ready.set(ev.object.metadata.name, isReady(ev.object));
      });
      if (!stopped) await sleep(500);
    }
  })();
  return {
    /** Nodes Ready=True now, as far as the watch has told. */
    count: () => [...ready.values()].filter(Boolean).length,
    lists: () => lists,
    stop() {
      stopped = true;
      current?.destroy();
    },
  };
}

// The server's data on tmpfs by default, like the hollow nodes' (below): the bench measures the
// server's work, not this shared machine's disk (--server-dir puts it elsewhere).
const serverParent = values['server-dir'] ?? (existsSync('/dev/shm') ? '/dev/shm' : undefined);
const server = await serverProcess(['--cluster-cidr', CLUSTER_CIDR], { nodeArgs: profArgs, ...(serverParent ? { parentDir: serverParent } : {}) });
const workers: Worker[] = [];
let readiness: ReturnType<typeof nodeReadiness> | undefined;
/** The figures so far (null: not measured), printed as the last line even when the run stops early. */
let result: Record<string, string | number> | undefined;
let printed = false;
let progress: NodeJS.Timeout | undefined;
const printResult = () => {
  if (!result || printed) return;
  printed = true;
  // JSON has no NaN: a phase left out (--until) or not reached is null.
  console.log(JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v)));
};
// The hollow nodes' data on tmpfs: their synchronous fsyncs would stall the simulators' event loops
// on a disk (sim-agents.ts); a hollow node's "disk" is memory, like its container runtime.
const simDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/edgeos-fleet-bench-') : join(server.dir, 'sim');
try {
  log(`server pid ${server.pid()} on port ${server.port}; ${NODES} nodes in ${WORKERS} simulator processes, ${PODS_PER_NODE} pods per node`);
  // Baseline: the idle server with no node.
  await sleep(5000);
  let cpu0 = procCpuMs(server.pid()!);
  const t0 = performance.now();
  await sleep(10_000);
  const baseCpu = (100 * (procCpuMs(server.pid()!) - cpu0)) / (performance.now() - t0);
  const baseRss = rssMb(server.pid()!);
  log(`baseline (no nodes): server RSS ${round(baseRss)} MB, CPU ${round(baseCpu)} %`);
  await server.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fleet' } });

  result = {
    bench: 'fleet',
    nodes: NODES,
    pods: NaN,
    create_rate_pods_per_s: NaN,
    join_all_ready_s: NaN,
    pods_all_running_s: NaN,
    pod_startup_p99_ms: NaN,
    mutating_p99_ms: NaN,
    server_rss_mb: NaN,
    server_cpu_pct: NaN,
    idle_bytes_per_node_hour: NaN,
    reconnect_all_ready_s: NaN,
  };

  // Join storm.
  const benchCpu0 = process.cpuUsage();
  const runStart = performance.now();
  cpu0 = procCpuMs(server.pid()!);
  const joinStart = performance.now();
  const per = Math.ceil(NODES / WORKERS);
  for (let w = 0; w < WORKERS; w++) workers.push(startWorker(server.token(), simDir, w * per, Math.min(per, NODES - w * per)));
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  // What the run is doing, every 10 s until it ends: the operator of a long unattended run sees it move.
  let phase = 'join';
  progress = setInterval(() => {
    try {
      reportProgress();
    } catch {
      // the server is between a stop and a start (the restart storm)
    }
  }, 10_000);
  progress.unref();
  function reportProgress() {
    const started = workers.reduce((a, w) => a + w.progress.started, 0);
    const synced = workers.reduce((a, w) => a + Math.max(w.progress.synced, w.stats.connected), 0);
    const stall = Math.max(...workers.map((w) => Math.max(w.progress.loopDelayMaxMs, w.stats.loopDelayMaxMs)));
    const elapsed = (performance.now() - joinStart) / 1000;
    const sim = workers.reduce((a, w) => a + procCpuMs(w.proc.pid!), 0);
    log(`${phase}: nodes started ${started}/${NODES}, linked ${synced}, Ready ${readiness?.count() ?? 0}; ${round(elapsed)} s; server RSS ${round(rssMb(server.pid()!))} MB, CPU ${round(procCpuMs(server.pid()!) / 1000)} s; simulators CPU ${round(sim / 1000)} s, RSS ${round(workers.reduce((a, w) => a + rssMb(w.proc.pid!), 0))} MB, longest loop stall ${stall} ms; load ${load()}`);
  }
  readiness = nodeReadiness(server);
  await Promise.all(workers.map((w) => w.ready));
  while (readiness.count() < NODES) await pause(500);
  const joinAllReadyS = (performance.now() - joinStart) / 1000;
  result.join_all_ready_s = round(joinAllReadyS);
  const joinCpuMs = procCpuMs(server.pid()!) - cpu0;
  const joinSimCpuMs = workers.reduce((a, w) => a + procCpuMs(w.proc.pid!), 0);
  log(`all ${NODES} nodes Ready after ${round(joinAllReadyS)} s; server RSS ${round(rssMb(server.pid()!))} MB, CPU ${round((100 * joinCpuMs) / (performance.now() - joinStart))} % during the join (${round(joinCpuMs / NODES)} ms per node; simulators ${round(joinSimCpuMs / NODES)} ms per node); ${perNode(await serverCounters(server))}; load ${load()}`);

  // What the joined fleet costs doing nothing (Lease renewals and their writes, pings, the agents'
  // own timers), before any pod: whether N nodes fit this machine at all. 20 s, CPU from /proc.
  {
    const s0 = procCpuMs(server.pid()!);
    const w0 = workers.reduce((a, w) => a + procCpuMs(w.proc.pid!), 0);
    const t = performance.now();
    await sleep(20_000);
    const dt = performance.now() - t;
    const srv = (100 * (procCpuMs(server.pid()!) - s0)) / dt;
    const sim = (100 * (workers.reduce((a, w) => a + procCpuMs(w.proc.pid!), 0) - w0)) / dt;
    log(`idle after the join (20 s): server ${round(srv)} % of a core (${round((srv * 1000) / NODES, 2)} % per 1,000 nodes), simulators ${round(sim)} % (${round((sim * 1000) / NODES, 2)} % per 1,000 nodes); load ${load()}`);
  }


  // Density: Deployments of 100 replicas at a steady pod creation rate.
  if (runs('density')) {
    phase = 'density';
    const created = new Map<string, number>();
    const running = new Map<string, number>();
    const stopWatch = watchPods(server, created, running);
    const pods = NODES * PODS_PER_NODE;
    const deployments = Math.ceil(pods / REPLICAS_PER_DEPLOYMENT);
    const densityStart = performance.now();
    const densityCpu0 = { server: procCpuMs(server.pid()!), sims: workers.reduce((a, w) => a + procCpuMs(w.proc.pid!), 0) };
    const densityWrites0 = await storeWrites(server);
    // Kept-alive connections with a 30 s timeout, and a create that timed out or was refused as
    // busy is sent again (409: the first one was done): a slow answer on a loaded machine is not
    // what this phase measures (the pods' start-up is, on the watch).
    const creator = keepAliveApi(server);
    const create = async (i: number) => {
      for (let attempt = 1; ; attempt++) {
        const r = await creator.call('POST', '/apis/apps/v1/namespaces/fleet/deployments', deployment(i, Math.min(REPLICAS_PER_DEPLOYMENT, pods - i * REPLICAS_PER_DEPLOYMENT))).catch((err: unknown) => ({ status: 0, err }));
        if (r.status === 201 || r.status === 409) return;
        if (attempt >= 5 || (r.status >= 400 && r.status < 500 && r.status !== 429)) throw new Error(`create deployment density-${i}: HTTP ${r.status}`);
        log(`create deployment density-${i}: ${r.status === 0 ? 'no answer' : `HTTP ${r.status}`}, again`);
        await sleep(1000);
      }
    };
    const creating: Promise<void>[] = [];
    for (let i = 0; i < deployments; i++) {
      const due = densityStart + (i * REPLICAS_PER_DEPLOYMENT * 1000) / CREATE_RATE;
      if (due > performance.now()) await pause(due - performance.now());
      creating.push(create(i));
    }
    await Promise.all(creating);
    creator.close();
    let lastLog = 0;
    while (running.size < pods) {
      await pause(2000);
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`pods seen ${created.size}, Running ${running.size}/${pods}; load ${load()}`);
      }
    }
    const podsAllRunningS = (performance.now() - densityStart) / 1000;
    const seen = [...created.values()];
    const firstSeen = seen.reduce((a, b) => Math.min(a, b), Infinity);
    const lastSeen = seen.reduce((a, b) => Math.max(a, b), -Infinity);
    const createRate = pods / Math.max(0.001, (lastSeen - firstSeen) / 1000);
    const startup = [...running].map(([uid, t]) => t - created.get(uid)!);
    stopWatch();
    log(`all ${pods} pods Running after ${round(podsAllRunningS)} s; created at ${round(createRate)} pods/s; start-up p50 ${round(pct(startup, 50))} ms p99 ${round(pct(startup, 99))} ms; load ${load()}`);
    // CPU per pod survives the shared machine's load better than the wall clock (it includes the
    // nodes' idle work over the phase: the idle line above says how much that is).
    const simsCpu = workers.reduce((a, w) => a + procCpuMs(w.proc.pid!), 0) - densityCpu0.sims;
    log(`density CPU per pod: server ${round((procCpuMs(server.pid()!) - densityCpu0.server) / pods, 2)} ms, simulators ${round(simsCpu / pods, 2)} ms (over ${round(podsAllRunningS)} s)`);
    log(`density writes: ${writesPerPod(densityWrites0, await storeWrites(server), pods)}`);
    log(`density Events: ${await eventsByReason(server, pods)}`);
    Object.assign(result, { pods, create_rate_pods_per_s: round(createRate), pods_all_running_s: round(podsAllRunningS), pod_startup_p99_ms: round(pct(startup, 99), 0) });
  }

  // Churn: 20 pod creates + deletes per second; every mutating request timed.
  if (runs('churn')) {
    phase = 'churn';
    const mutating: number[] = [];
    const client = keepAliveApi(server);
    let failed = 0;
    const timed = async (method: string, path: string, body?: unknown) => {
      const t = performance.now();
      const r = await client.call(method, path, body).catch((err: unknown) => {
        failed++;
        log(`churn: ${method} ${path}: ${(err as Error).message}`);
        return { status: 0 };
      });
      mutating.push(performance.now() - t);
      return r;
    };
    const churnStart = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; performance.now() - churnStart < CHURN_S * 1000; i++) {
      const due = churnStart + (i * 1000) / CHURN_PER_S;
      if (due > performance.now()) await sleep(due - performance.now());
      const name = `churn-${i}`;
      inFlight.push(timed('POST', '/api/v1/namespaces/fleet/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'edgeos.bench/pause:1' }] } })
        .then(() => sleep(1000))
        .then(() => timed('DELETE', `/api/v1/namespaces/fleet/pods/${name}`)));
    }
    await Promise.all(inFlight);
    client.close();
    log(`churn: ${mutating.length} mutating requests (${failed} failed), p50 ${round(pct(mutating, 50))} ms p99 ${round(pct(mutating, 99))} ms; load ${load()}`);
    result.mutating_p99_ms = round(pct(mutating, 99), 0);
  }

  // Idle link bytes.
  if (runs('idle')) {
    phase = 'idle';
    await sleep(10_000);
    const sims = new Set(workers.map((w) => w.proc.pid!));
    const b0 = linkPayloadBytes(server.port, sims);
    const i0 = performance.now();
    await sleep(IDLE_S * 1000);
    const idleBytes = linkPayloadBytes(server.port, sims) - b0;
    result.idle_bytes_per_node_hour = round((idleBytes / NODES) * (3_600_000 / (performance.now() - i0)), 0);
  }
  result.server_cpu_pct = round((100 * (procCpuMs(server.pid()!) - cpu0)) / (performance.now() - runStart));
  result.server_rss_mb = round(rssMb(server.pid()!));
  const simCpuMs = workers.reduce((a, w) => a + procCpuMs(w.proc.pid!), 0);
  const simCpuPct = (100 * simCpuMs) / (performance.now() - runStart);
  const simRss = workers.reduce((a, w) => a + rssMb(w.proc.pid!), 0);
  const bu = process.cpuUsage(benchCpu0);
  log(`${runs('idle') ? `idle: ${result.idle_bytes_per_node_hour} bytes per node-hour; ` : ''}server RSS ${result.server_rss_mb} MB, CPU ${result.server_cpu_pct} % (of one core, since the join); simulator CPU ${round(simCpuPct)} %, RSS ${round(simRss)} MB; bench CPU ${round((100 * (bu.user + bu.system)) / 1000 / (performance.now() - runStart))} %; load ${load()}`);

  // Restart storm.
  if (runs('restart')) {
    phase = 'restart';
    const listsBefore = readiness.lists();
    await server.stop();
    const restart = performance.now();
    await server.start();
    const before = workers.reduce((a, w) => a + w.stats.connects, 0);
    while (workers.reduce((a, w) => a + w.stats.connected, 0) < NODES || workers.reduce((a, w) => a + w.stats.connects, 0) < before + NODES) await pause(500);
    // A count from a list made after the restart (the watch from before ended with the server).
    while (readiness.lists() === listsBefore || readiness.count() < NODES) await pause(500);
    const reconnectAllReadyS = (performance.now() - restart) / 1000;
    const relists = workers.reduce((a, w) => a + w.stats.relists, 0);
    log(`after the restart, ${perNode(await serverCounters(server))}`);
    log(`after the restart every link is back and every node Ready in ${round(reconnectAllReadyS)} s (relists in total ${relists}, of which ${NODES} at join); load ${load()}`);
    result.reconnect_all_ready_s = round(reconnectAllReadyS);
  }
  clearInterval(progress);

  printResult();
} catch (err) {
  clearInterval(progress);
  log(`the run ended early: ${err instanceof Error ? err.message : String(err)}; the figures measured so far follow (the others null)`);
  printResult();
  process.exitCode = 1;
} finally {
  readiness?.stop();
  for (const w of workers) w.proc.kill('SIGTERM');
  // (A simulator killed by a signal has a signalCode and no exitCode: waiting for its exit again would hang.)
  await Promise.all(workers.map((w) => new Promise((r) => (w.proc.exitCode !== null || w.proc.signalCode !== null ? r(null) : w.proc.once('exit', r)))));
  await server.dispose();
  rmSync(simDir, { recursive: true, force: true });
}
