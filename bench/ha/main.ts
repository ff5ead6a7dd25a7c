// `npm run bench -- ha`: two `edgeos server` processes on one PostgreSQL (docs/ha.md), started
// here (test/helpers/postgres.ts, fsync and full-page writes on like a real database), plus an
// agent that runs no pods.
//  1. cross_server_watch_p99_ms: ConfigMaps created through server A at 25/s; for each, the time
//     from A's acknowledgement arriving here to the ADDED event arriving here on a watch through
//     server B — how long after a client knows its write happened a watcher elsewhere sees it
//     (kine's SQL watch polls once a second). The create's own latency is not in it (that is 2).
//     Baseline in the same run: the same writes seen by a watch through A itself.
//  2. create_p99_ms: ConfigMap creates through A at 200/s, open loop (one due every 5 ms whatever
//     the answers do; latency from the due time), for 10 s, over 50 keep-alive connections warmed
//     up with 500 creates, as bench/api drives a server (bench/api/load.ts). Baselines in the same
//     run: the same load on a lone server on SQLite; and the database alone — single-row INSERTs
//     of a ConfigMap's size into a key/value table, each its own transaction, open loop at the
//     same rate from this process over a pool of 10 connections like a server's — so a tail that
//     the database (its fsync) or this process gives any client is told apart from the server's.
//     This process's own event-loop lag during the creates is logged as well.
//  3. agent_failover_s: the agent is linked to B; kill -9 of B until its node Lease is renewed
//     through A (the node counts as alive again: what node lifecycle reads).
//  4. leader_failover_s: B restarted; kill -9 of the leader A; a Deployment created through B at
//     that moment until its ReplicaSet exists (the controllers act again on B).
// Last line: {"bench":"ha","cross_server_watch_p99_ms":…,"agent_failover_s":…,"leader_failover_s":…,"create_p99_ms":…}.
// Targets (issue 18): ≤ 50 ms, ≤ 10 s, ≤ 15 s, ≤ 50 ms.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pgClient from 'pg';
import { join, resolve } from 'node:path';
import { Clients, closedLoopCount, quantile } from '../api/load.ts';
import type { Call } from '../api/load.ts';
import { decodeJoinToken, encodeJoinToken } from '../../src/common/link/join-token.ts';
import { apiWatch, joinTokenOf, kill9, leaseHolder, serverTokenFile, startHaServer } from '../../test/helpers/ha-cluster.ts';
import type { HaServer } from '../../test/helpers/ha-cluster.ts';
import { startPostgres } from '../../test/helpers/postgres.ts';
import { readCredentials, startServer } from '../../test/helpers/start-server.ts';
import type { RunningServer } from '../../test/helpers/start-server.ts';

const REPO = resolve(import.meta.dirname, '../..');
/** As bench/api drives a server: 50 keep-alive TLS connections, warmed up with 500 creates. */
const CLIENTS = 50;
const WARM_CREATES = 500;
const log = (msg: string) => console.log(`ha bench: ${msg}`);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function namespace(s: RunningServer, name: string): Promise<void> {
  const r = await s.request('POST', '/api/v1/namespaces', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }), headers: { 'content-type': 'application/json' } });
  if (r.status !== 201) throw new Error(`create namespace ${name}: ${r.status} ${r.body}`);
}

const currentRevision = async (s: RunningServer, path: string) => (JSON.parse((await s.request('GET', path)).body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;

/**
 * Single-row INSERTs at `perSecond` for `seconds`, open loop (latency from the due time) over a
 * pool of 10 connections, each its own transaction: what the database gives any client at this rate.
 */
async function rawInserts(url: string, perSecond: number, seconds: number): Promise<number[]> {
  const pool = new pgClient.Pool({ connectionString: url, max: 10 });
  try {
    await pool.query('CREATE TABLE raw_kv (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL)');
    // A ConfigMap's stored size, as the creates write.
    const value = Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c-0000', namespace: 'create', uid: randomUUID(), creationTimestamp: new Date().toISOString(), managedFields: [] }, data: { k: 'c-0000' } }));
    const insert = (key: string) => pool.query({ name: 'raw-insert', text: 'INSERT INTO raw_kv (key, value) VALUES ($1, $2)', values: [key, value] });
    for (let i = 0; i < 10; i++) await insert(`warm-${i}`);
    const latencies: number[] = [];
    const pending: Promise<void>[] = [];
    const t0 = performance.now() + 10;
    for (let i = 0; i < perSecond * seconds; i++) {
      const due = t0 + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(insert(`raw-${i}`).then(() => void latencies.push(performance.now() - due)));
    }
    await Promise.all(pending);
    return latencies;
  } finally {
    await pool.end();
  }
}

const configMapCall = (ns: string, name: string): Call => ({ method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps`, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { k: name } }) });

/** `CLIENTS` keep-alive connections to `s` (as bench/api drives a server), warmed up with `WARM_CREATES` creates. */
async function warmClients(s: RunningServer, ns: string): Promise<Clients> {
  const clients = new Clients(s.url, readCredentials(s.kubeconfig), CLIENTS);
  // One TLS handshake at a time: 50 at once can outlast undici's 10 s connect timeout on a loaded machine.
  for (let i = 0; i < CLIENTS; i++) await clients.send(i, { method: 'GET', path: '/version' });
  const warm = await closedLoopCount(clients, WARM_CREATES, (n) => configMapCall(ns, `warm-${n}`));
  if (warm.ok !== WARM_CREATES) throw new Error(`warm-up creates: ${warm.errors.filter(Boolean).join('; ')}`);
  return clients;
}

/**
 * Creates at `perSecond`, open loop over `clients`, for `seconds`: each create's latency in ms from
 * its due time (so a server that falls behind shows as latency). Any create not acknowledged stops
 * the bench with its answer.
 */
async function openLoopCreates(clients: Clients, ns: string, prefix: string, perSecond: number, seconds: number, onAcked: (name: string, at: number) => void = () => undefined): Promise<number[]> {
  const n = perSecond * seconds;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now() + 10;
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const name = `${prefix}-${i}`;
    pending.push(clients.send(i, configMapCall(ns, name)).then((r) => {
      const at = performance.now();
      if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.body.slice(0, 300)}`);
      latencies.push(at - due);
      onAcked(name, at);
    }));
  }
  await Promise.all(pending);
  return latencies;
}

/** "create acknowledged → ADDED on a watch through `watcher`" for each create through `writer`, per watcher. */
async function watchLatencies(writer: RunningServer, clients: Clients, watchers: RunningServer[], ns: string, perSecond: number, seconds: number): Promise<number[][]> {
  const path = `/api/v1/namespaces/${ns}/configmaps`;
  const rv = await currentRevision(writer, path);
  const ackedAt = new Map<string, number>();
  const seen = watchers.map(() => new Map<string, number>());
  const watches = watchers.map((w, i) => apiWatch(w, path, rv, (e, at) => {
    if (e.type === 'ADDED') seen[i]!.set(e.object.metadata.name!, at);
  }));
  await sleep(500); // the watches are established
  await openLoopCreates(clients, ns, 'w', perSecond, seconds, (name, at) => ackedAt.set(name, at));
  await until('every create on every watch', async () => seen.every((m) => m.size === ackedAt.size), 30_000);
  for (const w of watches) w.close();
  return seen.map((m) => [...ackedAt].map(([name, at]) => m.get(name)! - at));
}

function spawnAgent(args: string[]): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, [join(REPO, 'src/cli/main.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  return { child, output: () => out };
}

const leaseRenewTime = async (s: RunningServer, node: string) => {
  const r = await s.request('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`);
  return r.status === 200 ? Date.parse((JSON.parse(r.body) as { spec: { renewTime: string } }).spec.renewTime) : 0;
};

// The machine is shared: its load says how far these figures are from an idle one's.
log(`load average at start: ${loadavg().map((x) => round(x, 2)).join(' ')} (${cpus().length} CPUs)`);
const pg = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on', shared_buffers: '128MB' } });
const url = pg.url(await pg.createDatabase('benchha'));
const agentDir = mkdtempSync(join(tmpdir(), 'edgeos-bench-ha-agent-'));
const dirs: string[] = [];
const running: RunningServer[] = [];
let agent: ReturnType<typeof spawnAgent> | undefined;
try {
  let a: HaServer = await startHaServer(url);
  let b: HaServer = await startHaServer(url, { tokenFile: serverTokenFile(a) });
  running.push(a, b);
  dirs.push(a.dir, b.dir);
  log(`servers ${a.id} (${a.url}, leader: ${(await leaseHolder(a)) === a.id}) and ${b.id} (${b.url}) on one PostgreSQL`);

  // 1. Cross-server watch latency, and the same-server baseline from the same writes.
  await namespace(a, 'watch');
  await namespace(a, 'create');
  const clientsA = await warmClients(a, 'create');
  const [cross, same] = await watchLatencies(a, clientsA, [b, a], 'watch', 25, 12);
  const crossP99 = quantile(cross!, 0.99);
  log(`watch latency, acknowledged by A → event on a watch through B: p50 ${round(quantile(cross!, 0.5))} ms, p99 ${round(crossP99)} ms (${cross!.length} writes; negative: the watch saw it before the writer heard back)`);
  log(`baseline, acknowledged by A → event on a watch through A: p50 ${round(quantile(same!, 0.5))} ms, p99 ${round(quantile(same!, 0.99))} ms`);

  // 2. Creates at 200/s through one server of the cluster.
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const creates = await openLoopCreates(clientsA, 'create', 'c', 200, 10);
  lag.disable();
  await clientsA.close();
  const createP99 = quantile(creates, 0.99);
  log(`creates at 200/s through A (open loop, ${CLIENTS} connections, latency from the due time): p50 ${round(quantile(creates, 0.5))} ms, p99 ${round(createP99)} ms (${creates.length}, all acknowledged); this process's event-loop lag meanwhile p99 ${round(lag.percentile(99) / 1e6)} ms, max ${round(lag.max / 1e6)} ms`);
  const raw = await rawInserts(url, 200, 10);
  log(`baseline, single-row INSERTs at 200/s into the same PostgreSQL from this process (pool of 10, each its own transaction): p50 ${round(quantile(raw, 0.5))} ms, p99 ${round(quantile(raw, 0.99))} ms`);

  // 3. Agent failover: linked to B, B killed.
  const token = encodeJoinToken({ ...decodeJoinToken(joinTokenOf(a)), servers: [b.url, a.url] });
  agent = spawnAgent(['join', token, '--node-name', 'bench-agent', '--data-dir', agentDir, '--disable-runtime']);
  await until('the agent linked to B', async () => b.output().includes('"node":"bench-agent"') && (await leaseRenewTime(b, 'bench-agent')) > 0, 60_000, 200);
  await sleep(2000);
  await kill9(b);
  const agentKilledAt = Date.now();
  const agentFailover = (await until('the node Lease renewed through A', async () => ((await leaseRenewTime(a, 'bench-agent')) > agentKilledAt ? Date.now() : undefined), 60_000)) - agentKilledAt;
  log(`agent failover: its server killed → its Lease renewed through the other server in ${round(agentFailover / 1000, 2)} s`);

  // 4. Leader failover: B back, then the leader A killed.
  b = await startHaServer(url, { dir: b.dir, port: b.port, tokenFile: serverTokenFile(a) });
  running.push(b);
  if ((await leaseHolder(b)) !== a.id) throw new Error('A should still lead');
  await namespace(b, 'leader');
  const rsPath = '/apis/apps/v1/namespaces/leader/replicasets';
  const rsRv = await currentRevision(b, rsPath);
  let rsAt = 0;
  const rsWatch = apiWatch(b, rsPath, rsRv, (e) => {
    if (e.type === 'ADDED' && !rsAt) rsAt = Date.now();
  });
  await sleep(500);
  await kill9(a);
  const leaderKilledAt = Date.now();
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'after-kill', namespace: 'leader' }, spec: { replicas: 1, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } };
  const created = await b.request('POST', '/apis/apps/v1/namespaces/leader/deployments', { body: JSON.stringify(deployment), headers: { 'content-type': 'application/json' } });
  if (created.status !== 201) throw new Error(`create deployment: ${created.status} ${created.body}`);
  await until('the ReplicaSet of the Deployment created after the kill', async () => rsAt > 0, 60_000);
  rsWatch.close();
  const leaderFailover = rsAt - leaderKilledAt;
  log(`leader failover: leader killed → the controllers acted on the other server in ${round(leaderFailover / 1000, 2)} s (Lease ${(await leaseHolder(b)) === b.id ? 'taken by B' : 'not taken?'})`);
  a = b;

  // Baseline for 2: the same load on a lone server on SQLite, after the cluster's load is over.
  for (const s of running) await s.stop().catch(() => undefined);
  running.length = 0;
  const lone = await startServer();
  running.push(lone);
  await namespace(lone, 'create');
  const loneClients = await warmClients(lone, 'create');
  const loneCreates = await openLoopCreates(loneClients, 'create', 'c', 200, 10);
  await loneClients.close();
  log(`baseline, creates at 200/s through a lone server on SQLite: p50 ${round(quantile(loneCreates, 0.5))} ms, p99 ${round(quantile(loneCreates, 0.99))} ms`);

  log(`load average at the end: ${loadavg().map((x) => round(x, 2)).join(' ')}`);
  console.log(JSON.stringify({ bench: 'ha', cross_server_watch_p99_ms: round(crossP99), agent_failover_s: round(agentFailover / 1000, 2), leader_failover_s: round(leaderFailover / 1000, 2), create_p99_ms: round(createP99) }));
} finally {
  if (agent?.child.pid && agent.child.exitCode === null) {
    const exited = new Promise((r) => agent!.child.once('exit', r));
    agent.child.kill('SIGTERM');
    await exited;
  }
  for (const s of running) await s.stop().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  rmSync(agentDir, { recursive: true, force: true });
  await pg.destroy();
}
