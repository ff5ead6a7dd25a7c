// Services and cluster DNS on a real node (docs/services.md), each figure against its baseline in
// the same run. A network namespace of the bench's own holds a real `edgeos server` (src) and a
// joined agent (bundled and started as bench/agent starts it); a second namespace is the client
// outside the cluster. Measured:
// - requests/s and bytes/s through a ClusterIP against the same pod by pod IP, from the node
//   (HTTP/1.0, a connection per request, to busybox httpd; iperf3 for bytes);
// - the agent's DNS p99 at a fixed 2,000 queries/s against dnsmasq serving the same names from a
//   hosts file in the same namespace, alternating;
// - the agent's RSS with 20 pods and 50 Services over a bare `node` (bench/agent's measure);
// - network programming latency, Service created (a POST to the API) → its ClusterIP answering on
//   the node, p99 with 1,000 Services present; and the first sync of 1,000 Services into an empty table.
// Last line: {"bench":"services",…}
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { bundle } from '../../scripts/bundle.ts';
import { pct, rssMb, settledRss } from '../memory.ts';
import { launchEnvOf, v8Flags } from '../../src/common/v8-flags.ts';
import { buildMallocAddon, hostNodeInclude } from '../../scripts/native-addon.ts';
import { busyboxArchive, hostExecutables } from '../../test/fixtures/images/busybox-image.ts';
import { KUBECTL } from '../../test/helpers/kubectl.ts';
import { createNetns, linkNetns } from '../../test/helpers/netns.ts';
import type { Netns } from '../../test/helpers/netns.ts';
import { releasePodCidrClaim } from '../../test/e2e/helpers.ts';
import { removeDataDir } from '../../test/runtime/cleanup.ts';

const REPO = resolve(import.meta.dirname, '../..');
const NODE_NAME = 'bench-svc';
const NS = 'bench';
const IMAGE = 'edgeos.bench/busybox:services';
const NODE_IP = '10.97.5.1';
const CLIENT_IP = '10.97.5.2';
const PODS = 20;
/**
 * EDGEOS_BENCH_SERVICES=<n>: the Services beside the 20 pods (default 50, the issue's). With 0
 * (only with EDGEOS_BENCH_UNTIL=idle) the node has just the `kubernetes` and `kube-dns` Services,
 * bench/agent's node: a paired A/B of what the 50 cost the agent's memory.
 */
const SERVICES = Number(process.env.EDGEOS_BENCH_SERVICES ?? 50);
const MANY = 1000;
const LATENCY_SAMPLES = Number(process.env.EDGEOS_BENCH_LATENCY_SAMPLES ?? 60);
const DNS_QPS = 2000;
const DNS_SECONDS = 5;
/**
 * Bytes/s: rounds of one iperf3 run per path back to back (the order flips every round), seconds
 * per run; the figure is the median of the per-round ratios, as for requests/s. Until session 7 it
 * was three runs per path and the ratio of the two medians: pairs of one quiet run read 1.08, 1.07
 * and 0.83, and the ratio of medians 0.901 (bench/services/README.md, session 7).
 */
const IPERF_SECONDS = 2;
const IPERF_ROUNDS = Number(process.env.EDGEOS_BENCH_IPERF_ROUNDS ?? 12);
/**
 * Requests/s: rounds of one short run per path, back to back (the order flips every round), so
 * each round's ratio compares the two paths under the same neighbours' load.
 */
const RPS_ROUNDS = 10;
const RPS_SECONDS = 1.5;
/**
 * Connections in flight: below busybox httpd's listen backlog (9, fixed in its source). With 16,
 * the pod's accept queue overflowed whenever httpd was descheduled (TcpExtListenOverflows), each
 * dropped SYN cost its worker a 1 s retransmission, and requests/s measured how many of those
 * timers fell into a run — 500 to 2,500 on the same machine (bench/services/README.md, session 6).
 */
const HTTP_CONCURRENCY = 8;
/**
 * EDGEOS_BENCH_PROFILE_DIR=<dir>: the agent runs with --cpu-prof into <dir> and the bench stops
 * after the DNS phase (the profile's last seconds are that phase; bench/services/README.md).
 */
const PROFILE_DIR = process.env.EDGEOS_BENCH_PROFILE_DIR;
/**
 * EDGEOS_BENCH_LOOP_DELAY=1: the agent runs with loop-delay.mjs preloaded and the bench logs its
 * event-loop delay over the idle window and over the DNS runs (bench/services/README.md).
 */
const LOOP_DELAY = process.env.EDGEOS_BENCH_LOOP_DELAY === '1';
/**
 * EDGEOS_BENCH_TRACE_GC=1: the agent runs with --trace-gc and the bench logs the agent's GCs during
 * each DNS run (count, pause total and longest): the pauses every query waits behind.
 */
const TRACE_GC = process.env.EDGEOS_BENCH_TRACE_GC === '1';
/**
 * EDGEOS_BENCH_HEAP_STATS=1: the agent runs with heap-stats.mjs preloaded (and --expose-gc), and
 * after the RSS samples the bench logs its V8 heap by space after two full GCs (the live heap);
 * with EDGEOS_BENCH_HEAP_SNAPSHOT=<file> the agent then writes a heap snapshot there.
 */
const HEAP_STATS = process.env.EDGEOS_BENCH_HEAP_STATS === '1';
/**
 * EDGEOS_BENCH_UNTIL=dns: stop after the DNS phase (no 1,000 Services; the JSON line is not
 * printed); =load: after requests/s and bytes/s; =idle: after the idle window (memory, idle link,
 * the idle agent's CPU).
 */
const UNTIL = process.env.EDGEOS_BENCH_UNTIL;
const UNTIL_DNS = UNTIL === 'dns';
/** The idle link window with 20 pods and 50 Services (bench/agent measures 120 s with 20 pods). */
const IDLE_WINDOW_MS = Number(process.env.EDGEOS_BENCH_IDLE_MS ?? 60_000);

/**
 * The median, of an even count the mean of the two middle values. The per-round ratios used
 * pct(…, 50), the nearest rank, which for an even count is the lower of the two: with 12 rounds
 * whose ratios spread ±20 % that alone moved the figure by up to half the gap between the middle
 * two (0.938 where the middles were 0.938 and 1.028, session 7).
 */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
/** How per-round ratios spread: median, quartiles (nearest rank) and range. */
const spread = (xs: number[]) => `median ${round(median(xs), 3)}, quartiles ${round(pct(xs, 25), 3)}–${round(pct(xs, 75), 3)}, range ${round(Math.min(...xs), 3)}–${round(Math.max(...xs), 3)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const log = (s: string) => console.log(`[services-bench ${(performance.now() / 1000).toFixed(1)}s] ${s}`);

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const work = mkdtempSync(join(tmpdir(), 'eos-svc-bench-'));
const agentDir = join(work, 'a');
const kubeconfig = join(work, 'kc.yaml');
const bundleFile = join(work, 'edgeos-agent.cjs');
// The agent runs as it ships, with its malloc trimmer (native/malloc.c, compiled for this host as
// the executable embeds it, loaded through EDGEOS_MALLOC_ADDON outside the executable; bench/agent's way).
const mallocAddon = join(work, 'edgeos_malloc.node');
const agentEnv: NodeJS.ProcessEnv = { ...env, ...launchEnvOf('agent'), NODE_PATH: join(REPO, 'node_modules'), EDGEOS_LOG_LEVEL: 'info', EDGEOS_MALLOC_ADDON: mallocAddon };
const port = 20000 + Math.floor(Math.random() * 20000);
let node: Netns | undefined;
let client: Netns | undefined;
const procs: ChildProcess[] = [];
let agent: ChildProcess | undefined;
let agentOut = '';

function run(ns: Netns, argv: readonly string[], input?: string, timeoutMs = 120_000): Promise<string> {
  return new Promise((res, rej) => {
    const child = execFile(ns.prefix[0]!, [...ns.prefix.slice(1), ...argv], { timeout: timeoutMs, maxBuffer: 64 << 20, env }, (err, stdout, stderr) =>
      err ? rej(new Error(`${argv.slice(0, 3).join(' ')}: ${err.message}\n${stderr}`)) : res(stdout),
    );
    // A command that exits without reading its input (a failing kubectl) must fail the call with
    // its own error, not kill the bench with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}
const k = (args: string[], input?: string) => run(node!, [KUBECTL, `--kubeconfig=${kubeconfig}`, ...args], input);
function start(ns: Netns, argv: string[], e: NodeJS.ProcessEnv, onOut?: (s: string) => void): ChildProcess {
  const c = spawn(ns.prefix[0]!, [...ns.prefix.slice(1), ...argv], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  c.stdout?.on('data', (b: Buffer) => onOut?.(b.toString()));
  c.stderr?.on('data', (b: Buffer) => onOut?.(b.toString()));
  procs.push(c);
  return c;
}
async function stop(c: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill(signal);
  const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}
async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nagent output:\n${agentOut.slice(-3000)}`);
    await sleep(everyMs);
  }
}
const list = (items: object[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const service = (name: string, selector: string, port: number, targetPort: number) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { selector: { app: selector }, ports: [{ port, targetPort }] } });
/**
 * `cpu`: the container's CPU request. A pod without one is BestEffort, and its cgroup gets the
 * smallest CPU weight there is (cpu.shares 2, as the kubelet sets it), so it runs only when
 * nothing else wants a core: the bench's own client and any neighbour's process outweigh it 512 to
 * 1, and requests/s measured that, not the datapath (bench/services/README.md, session 6). The
 * servers the figures are taken against request a core's share, as a load-bearing pod would.
 */
const pod = (name: string, app: string, cmd: string, cpu?: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app } },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', cmd], ...(cpu ? { resources: { requests: { cpu } } } : {}) }] },
});

// Load generators, run inside the node's namespace (the only place that reaches the ClusterIPs).
const HTTP_LOAD = `
const net = require('node:net'); const fs = require('node:fs'); const [host, port, secs, conc] = process.argv.slice(1).map((x, i) => (i ? Number(x) : x));
const retrans = () => { const l = fs.readFileSync('/proc/self/net/snmp', 'utf8').split('\\n').filter((x) => x.startsWith('Tcp:')); return Number(l[1].split(' ')[l[0].split(' ').indexOf('RetransSegs')]); };
let done = 0, failed = 0; const end = Date.now() + secs * 1000; const r0 = retrans(); const c0 = process.cpuUsage();
async function worker() { while (Date.now() < end) { await new Promise((res) => {
  const s = net.connect({ host, port }); let got = 0;
  s.on('connect', () => s.write('GET / HTTP/1.0\\r\\n\\r\\n')); s.on('data', (b) => (got += b.length));
  s.on('close', () => { if (got > 0) done++; else failed++; res(); }); s.on('error', () => {}); }); } }
Promise.all(Array.from({ length: conc }, worker)).then(() => { const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ rps: done / secs, failed, retransmits: retrans() - r0, userUs: c.user / done, systemUs: c.system / done })); });
`;
const DNS_LOAD = `
const dgram = require('node:dgram'); const [server, port, qps, secs, ...names] = process.argv.slice(1);
const s = dgram.createSocket('udp4'); const sent = new Map(); const lat = []; let id = 0; let lost = 0;
function q(name) { const labels = name.split('.'); const parts = [Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l)); parts.push(Buffer.from([0, 0, 1, 0, 1])); return Buffer.concat(parts); }
const msgs = names.map(q);
s.on('message', (m) => { const t = sent.get(m.readUInt16BE(0)); if (t !== undefined) { lat.push(Number(process.hrtime.bigint() - t) / 1000); sent.delete(m.readUInt16BE(0)); } });
const total = Number(qps) * Number(secs); const t0 = process.hrtime.bigint(); let n = 0;
function tick() { const due = Math.min(total, Math.floor(Number(process.hrtime.bigint() - t0) / 1e9 * Number(qps)));
  for (; n < due; n++) { id = (id + 1) & 0xffff; const m = msgs[n % msgs.length]; m.writeUInt16BE(id, 0); sent.set(id, process.hrtime.bigint()); s.send(m, Number(port), server); }
  if (n < total) setTimeout(tick, 1); else setTimeout(() => { lost = sent.size; lat.sort((a, b) => a - b);
    console.log(JSON.stringify({ p99: lat[Math.ceil(lat.length * 0.99) - 1], p50: lat[Math.ceil(lat.length * 0.5) - 1], answered: lat.length, lost })); s.close(); }, 1000); }
s.bind(() => tick());
`;
/**
 * The network programming SLI: creates a Service straight through the API (the change; no kubectl
 * start-up in the figure), then connects to its ClusterIP until it answers; ms from the request.
 */
const PROGRAM = `
const https = require('node:https'); const net = require('node:net'); const fs = require('node:fs');
const [api, tls, path, body, host, port] = process.argv.slice(1); const t0 = Date.now();
const creds = JSON.parse(fs.readFileSync(tls, 'utf8'));
const req = https.request(api + path, { method: 'POST', ...creds, headers: { 'content-type': 'application/json' } }, (res) => {
  let text = ''; res.on('data', (b) => (text += b)); res.on('end', () => { if (res.statusCode !== 201) { console.error(res.statusCode, text); process.exit(2); } }); });
req.on('error', (e) => { console.error(e.message); process.exit(2); }); req.end(body);
(function again() { const s = net.connect({ host, port: Number(port) }); s.on('connect', () => { console.log(Date.now() - t0); process.exit(0); });
  s.on('error', () => setTimeout(again, 2)); s.setTimeout(1000, () => { s.destroy(); again(); }); })();
`;
/** Connects to ip:port until it answers; ms from t0. */
const PROBE = `
const net = require('node:net'); const [host, port] = process.argv.slice(1); const t0 = Date.now();
(function again() { const s = net.connect({ host, port: Number(port) }); s.on('connect', () => { console.log(Date.now() - t0); process.exit(0); });
  s.on('error', () => setTimeout(again, 2)); s.setTimeout(1000, () => { s.destroy(); again(); }); })();
`;

interface HttpRun {
  rps: number;
  failed: number;
  /** The node's TCP retransmissions during the run (a dropped SYN costs its worker 1 s). */
  retransmits: number;
  /** The client's CPU per request, µs: its user time, and its system time (connect, send, and the NAT of its packets). */
  userUs: number;
  systemUs: number;
}
async function httpRun(ip: string, p: number, seconds = RPS_SECONDS): Promise<HttpRun> {
  return JSON.parse(await run(node!, [process.execPath, '-e', HTTP_LOAD, ip, String(p), String(seconds), String(HTTP_CONCURRENCY)])) as HttpRun;
}
interface IperfRun {
  /** Bytes/s the receiver got. */
  bps: number;
  /**
   * CPU the sender (iperf3 on the node) and the receiver (iperf3 in the pod) used per MB, ms:
   * their user + system time, which holds the kernel's work on their packets done in their context
   * (the NAT of each one included). Unlike bytes/s, it does not depend on how much of a core the
   * neighbours left: on a loaded machine it is the measure of what the ClusterIP path costs.
   */
  senderMsPerMb: number;
  receiverMsPerMb: number;
}
async function iperf(ip: string, p: number, seconds = IPERF_SECONDS, tries = 5): Promise<IperfRun> {
  // EDGEOS_BENCH_PERF_DIR=<dir>: each iperf3 client runs under `perf record` (cpu-clock samples with
  // call graphs, kernel included: the NAT and routing of its packets run in its context), one file
  // per run in <dir>, named by the address (diagnosis: `perf report -i …`).
  const perfDir = process.env.EDGEOS_BENCH_PERF_DIR;
  const perf = perfDir ? ['perf', 'record', '-q', '-e', 'cpu-clock', '-g', '-o', join(resolve(perfDir), `iperf-${ip}-${Date.now()}.data`), '--'] : [];
  const text = await run(node!, [...perf, 'iperf3', '-c', ip, '-p', String(p), '-t', String(seconds), '-J']).catch((err: unknown) => String(err));
  const out = JSON.parse(text.slice(text.indexOf('{'))) as { error?: string; end?: { sum_received?: { bits_per_second: number; bytes: number; seconds: number }; cpu_utilization_percent?: { host_total: number; remote_total: number } } };
  if (!out.end?.sum_received) {
    // The iperf3 server takes one test at a time, and on a loaded machine it may still be closing
    // the last one when the next client asks.
    if (out.error?.includes('busy') && tries > 1) {
      await sleep(1000);
      return iperf(ip, p, seconds, tries - 1);
    }
    throw new Error(`iperf3 to ${ip}:${p}: ${out.error ?? text.slice(0, 500)}`);
  }
  const { bits_per_second: bits, bytes, seconds: secs } = out.end.sum_received;
  const cpu = out.end.cpu_utilization_percent;
  // cpu_utilization_percent: the process's CPU time over the test's wall time, in %.
  const msPerMb = (percent: number | undefined) => (percent === undefined ? NaN : (percent / 100) * secs * 1000 / (bytes / 1e6));
  return { bps: bits / 8, senderMsPerMb: msPerMb(cpu?.host_total), receiverMsPerMb: msPerMb(cpu?.remote_total) };
}
/**
 * Bytes the agent's link connection has carried both ways (TLS records included), from the
 * kernel's TCP counters of the agent's socket to the server port (`ss -tinp`).
 */
async function linkBytes(pid: number): Promise<number> {
  const out = await run(node!, ['ss', '-tinpH', 'state', 'established', 'dport', `= :${port}`]);
  // Each socket: a line naming its process, then a line of counters.
  const lines = out.split('\n');
  let total = 0;
  let found = false;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.includes(`pid=${pid},`)) continue;
    const counters = lines[i + 1] ?? '';
    const sent = /bytes_sent:(\d+)/.exec(counters)?.[1];
    const received = /bytes_received:(\d+)/.exec(counters)?.[1];
    if (sent === undefined || received === undefined) continue;
    total += Number(sent) + Number(received);
    found = true;
  }
  if (!found) throw new Error(`no link connection of the agent (pid ${pid}) in:\n${out}`);
  return total;
}
/** CPU time (user + system) a process has used, ms: /proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
/** The agent's event-loop delay since the last call (loop-delay.mjs answers SIGUSR2 on stderr). */
async function loopDelay(): Promise<string> {
  if (!LOOP_DELAY || !agent?.pid) return '';
  const from = agentOut.length;
  process.kill(agent.pid, 'SIGUSR2');
  const line = await waitFor('the loop delay', async () => agentOut.slice(from).split('\n').find((l) => l.startsWith('{"loopDelayMs"')), 10_000, 50);
  const d = (JSON.parse(line) as { loopDelayMs: { p50: number; p99: number; max: number } }).loopDelayMs;
  return ` (agent event-loop delay p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms)`;
}
/** The agent's GCs since `from` in its output (--trace-gc lines: `…: Scavenge … MB, pooled: … MB, 0.54 / 0.00 ms …`). */
function gcsSince(from: number): string {
  if (!TRACE_GC) return '';
  const pauses = agentOut
    .slice(from)
    .split('\n')
    .filter((l) => /: (Scavenge|Mark-Compact|Minor)/.test(l))
    .map((l) => Number(/MB, ([\d.]+) \/ [\d.]+ ms/.exec(l)?.[1] ?? NaN))
    .filter((ms) => !Number.isNaN(ms));
  return ` (agent GCs: ${pauses.length}, ${round(pauses.reduce((a, b) => a + b, 0))} ms in all, longest ${round(Math.max(0, ...pauses))} ms)`;
}
async function dnsP99(server: string, p: number, names: string[]): Promise<{ p99: number; lost: number }> {
  return JSON.parse(await run(node!, [process.execPath, '-e', DNS_LOAD, server, String(p), String(DNS_QPS), String(DNS_SECONDS), ...names])) as { p99: number; lost: number };
}

/** Ends the measuring early (EDGEOS_BENCH_UNTIL=idle); the clean-up still runs. */
class StopHere extends Error {}

/**
 * Everything the run made goes, once, whatever ends it: the end of the run, an error, SIGINT or
 * SIGTERM (a ^C or a `kill` by PID), or a reader of stdout that went away (`… | head`: console.log
 * then fails with EPIPE, an unhandled 'error' event that ended the process before its clean-up
 * and left the server, the agent, its containerd and 20 pods, and two namespaces behind).
 */
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await stop(agent);
    // EDGEOS_BENCH_AGENT_LOG=<file>: the agent's output, kept (diagnosis).
    if (process.env.EDGEOS_BENCH_AGENT_LOG) writeFileSync(process.env.EDGEOS_BENCH_AGENT_LOG, agentOut);
    for (const p of procs.reverse()) await stop(p);
    if (node) {
      await run(node, [process.execPath, '--input-type=module', '-e', `const m = await import(${JSON.stringify(join(REPO, 'test/e2e/helpers.ts'))}); await m.removePodsOfStoppedAgent(${JSON.stringify(agentDir)});`]).catch((err: unknown) => log(`pod clean-up: ${String(err)}`));
    }
    // The agent ran in the node namespace: its claim is in that namespace's directory (left behind
    // before, one per run).
    releasePodCidrClaim(agentDir, node?.name);
    node?.remove();
    client?.remove();
    removeDataDir(agentDir);
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[services-bench] ${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

const t0 = performance.now();
try {
  // EDGEOS_BENCH_MINIFY=0: names kept (heap snapshots that say which function holds what).
  await bundle({ entry: 'src/cli/agent-main.ts', outfile: bundleFile, minify: process.env.EDGEOS_BENCH_MINIFY !== '0', external: ['better-sqlite3'], version: '0.0.0-bench' });
  buildMallocAddon(process.arch === 'arm64' ? 'arm64' : 'amd64', mallocAddon, hostNodeInclude());
  node = createNetns('bsnode');
  client = createNetns('bsclient');
  linkNetns(node, NODE_IP, client, CLIENT_IP);
  const bare = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { env, stdio: 'ignore' });
  procs.push(bare);
  // The agent's upstream: none (names outside the cluster are not part of the measure).
  writeFileSync(join(work, 'resolv.conf'), '# no upstream\n');
  start(node, [process.execPath, join(REPO, 'src/cli/main.ts'), 'server', '--data-dir', join(work, 's'), '--https-listen-port', String(port), '--advertise-address', NODE_IP, '--disable-agent', '--write-kubeconfig', kubeconfig], { ...env, EDGEOS_LOG_LEVEL: 'warn' });
  await waitFor('the server', async () => (await k(['get', '--raw', '/readyz'])) === 'ok', 90_000);
  mkdirSync(join(agentDir, 'agent', 'images'), { recursive: true });
  writeFileSync(join(agentDir, 'agent', 'images', 'busybox.tar'), busyboxArchive(IMAGE, ['sleep', '3600'], hostExecutables(['/usr/bin/iperf3'])));
  const token = readFileSync(join(work, 's', 'server', 'token'), 'utf8').trim();
  const profiling = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${resolve(PROFILE_DIR)}`, '--cpu-prof-interval=250'] : [];
  const probe = LOOP_DELAY ? ['--import', join(import.meta.dirname, 'loop-delay.mjs')] : [];
  if (TRACE_GC) probe.push('--trace-gc');
  if (HEAP_STATS) probe.push('--expose-gc', '--import', join(import.meta.dirname, 'heap-stats.mjs'));
  if (process.env.EDGEOS_BENCH_MEM_TRACE) probe.push('--import', join(import.meta.dirname, 'mem-trace.mjs'));
  if (process.env.EDGEOS_BENCH_ALLOC_PROF) probe.push('--import', join(import.meta.dirname, 'alloc-prof.mjs'));
  agent = start(node, [process.execPath, ...v8Flags.agent, ...profiling, ...probe, bundleFile, 'join', token, '--node-name', NODE_NAME, '--data-dir', agentDir, '--resolv-conf', join(work, 'resolv.conf')], agentEnv, (s) => (agentOut += s));
  await waitFor('the node to be Ready', async () => (await k(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', 120_000);
  log('server and joined agent up in the node namespace');

  // 20 pods (an HTTP server, an iperf3 server, 18 idle) and 50 Services.
  await k(['create', 'namespace', NS]);
  const pods = [pod('web', 'web', 'mkdir -p /www && head -c 1024 /dev/zero > /www/index.html && exec httpd -f -p 8080 -h /www', '1'), pod('iperf', 'iperf', 'exec iperf3 -s -p 5201', '500m')];
  for (let i = pods.length; i < PODS; i++) pods.push(pod(`idle-${i}`, 'idle', 'exec sleep 36000'));
  const services = SERVICES > 0 ? [service('web', 'web', 80, 8080), service('iperf', 'iperf', 5201, 5201)] : [];
  for (let i = services.length; i < SERVICES; i++) services.push(service(`svc-${i}`, 'web', 80, 8080));
  if (SERVICES < 2 && UNTIL !== 'idle') throw new Error('EDGEOS_BENCH_SERVICES below 2 needs EDGEOS_BENCH_UNTIL=idle (the load phases dial the web and iperf Services)');
  await k(['apply', '-f', '-'], list([...pods, ...services]));
  await waitFor('20 pods ready', async () => (await k(['-n', NS, 'get', 'pods', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}'])).split(' ').filter((s) => s === 'True').length === PODS, 180_000, 1000);
  const ipOf = async (kind: string, name: string, path: string) => (await k(['-n', NS, 'get', kind, name, '-o', `jsonpath=${path}`])).trim();
  const webSvc = SERVICES > 0 ? await ipOf('svc', 'web', '{.spec.clusterIP}') : '';
  const webPod = await ipOf('pod', 'web', '{.status.podIP}');
  const iperfSvc = SERVICES > 0 ? await ipOf('svc', 'iperf', '{.spec.clusterIP}') : '';
  const iperfPod = await ipOf('pod', 'iperf', '{.status.podIP}');
  if (SERVICES > 0) {
    await waitFor('the ClusterIPs to answer', async () => (await run(node!, [process.execPath, '-e', PROBE, webSvc, '80'], undefined, 5000)) && (await run(node!, [process.execPath, '-e', PROBE, iperfSvc, '5201'], undefined, 5000)), 60_000);
  }

  // Memory, as bench/agent measures it: after a settle, median of 5 samples, against a bare node.
  // EDGEOS_BENCH_RSS_TRACE=1: the agent's RSS every 200 ms from here to the end of the samples.
  const trace: string[] = [];
  const tracer = process.env.EDGEOS_BENCH_RSS_TRACE === '1' ? setInterval(() => trace.push(`${Date.now() % 100_000}:${round(rssMb(agent!.pid!), 1)}`), 200) : undefined;
  await sleep(5000);
  const agentRss = await settledRss(agent.pid!);
  clearInterval(tracer);
  if (tracer) log(`agent RSS every 200 ms (epoch ms mod 100 s:MB): ${trace.join(' ')}`);
  const bareRss = await settledRss(bare.pid!, 3);
  log(`agent RSS with ${PODS} pods and ${SERVICES} Services ${round(agentRss)} MB, bare node ${round(bareRss)} MB`);
  if (HEAP_STATS) {
    const from = agentOut.length;
    process.kill(agent.pid!, 'SIGWINCH');
    log(`agent heap: ${await waitFor('the heap stats', async () => agentOut.slice(from).split('\n').find((l) => l.startsWith('{"heapStatsMb"')), 20_000, 100)}`);
    if (process.env.EDGEOS_BENCH_HEAP_SNAPSHOT) log(`agent heap snapshot: ${await waitFor('the heap snapshot', async () => agentOut.slice(from).split('\n').find((l) => l.startsWith('{"heapSnapshot"')), 180_000, 500)}`);
  }

  // The idle link with 50 Services (issue #13: ≤ 100 KB per hour), as bench/agent's idle window.
  if (IDLE_WINDOW_MS > 0) {
    const b0 = await linkBytes(agent.pid!);
    await loopDelay();
    const w0 = performance.now();
    const c0 = cpuMs(agent.pid!);
    await sleep(IDLE_WINDOW_MS);
    const idleCpu = cpuMs(agent.pid!) - c0;
    const idleBytes = (await linkBytes(agent.pid!)) - b0;
    const secs = (performance.now() - w0) / 1000;
    log(`idle link with ${PODS} pods and ${SERVICES} Services: ${idleBytes} B in ${round(secs, 1)} s → ${Math.round(idleBytes / (secs / 3600))} B/h; the idle agent's CPU ${idleCpu} ms (${round((100 * idleCpu) / (secs * 1000), 2)} % of a core)${await loopDelay()}; agent RSS after the window ${round(await settledRss(agent.pid!))} MB (bench/agent takes the larger of the two)`);
  }

  if (UNTIL === 'idle') {
    log(`EDGEOS_BENCH_UNTIL=idle: stopping after the idle window; agent_rss_ratio ${round(agentRss / bareRss, 3)}`);
    throw new StopHere();
  }
  // Requests and bytes: ClusterIP vs pod IP from the same client, after a warm-up of each path
  // (the pod's httpd pages in, the first conntrack entries), in alternating rounds whose order
  // flips (neither path always runs right after the other); the ratio of the medians.
  const rps = { svc: [] as HttpRun[], pod: [] as HttpRun[], baseline: [] as HttpRun[] };
  // The baseline: the same busybox httpd binary, not in a container, in the plain client
  // namespace across one veth, dialled by the same client: what this machine does at all.
  mkdirSync(join(work, 'www'));
  writeFileSync(join(work, 'www', 'index.html'), Buffer.alloc(1024));
  start(client, ['busybox', 'httpd', '-f', '-p', '8080', '-h', join(work, 'www')], env);
  await httpRun(webPod, 8080, 1);
  await httpRun(webSvc, 80, 1);
  await waitFor('the baseline httpd', async () => (await httpRun(CLIENT_IP, 8080, 0.5)).rps > 0, 10_000);
  for (let i = 0; i < RPS_ROUNDS; i++) {
    const pair = [async () => rps.pod.push(await httpRun(webPod, 8080)), async () => rps.svc.push(await httpRun(webSvc, 80))];
    for (const f of i % 2 ? pair.reverse() : pair) await f();
    if (i % 3 === 0) rps.baseline.push(await httpRun(CLIENT_IP, 8080));
  }
  const roundRatios = rps.svc.map((s, i) => s.rps / rps.pod[i]!.rps);
  const rpsRatio = median(roundRatios);
  const summary = (runs: HttpRun[]) =>
    `median ${round(pct(runs.map((r) => r.rps), 50))} req/s (${runs.map((r) => Math.round(r.rps)).join(', ')}), ${runs.reduce((n, r) => n + r.retransmits, 0)} retransmissions, ${runs.reduce((n, r) => n + r.failed, 0)} failed, client CPU ${round(pct(runs.map((r) => r.userUs), 50), 1)} µs user + ${round(pct(runs.map((r) => r.systemUs), 50), 1)} µs system per request`;
  log(`requests/s, ${HTTP_CONCURRENCY} connections in flight, a connection per request: pod IP ${summary(rps.pod)}; ClusterIP ${summary(rps.svc)}; baseline (host busybox httpd in a plain namespace) ${summary(rps.baseline)}; ClusterIP ÷ pod per round ${roundRatios.map((r) => round(r, 3)).join(', ')} → ${spread(roundRatios)}`);
  // Bytes/s the same way: a warm-up run of each path, then rounds of one run per path back to back
  // (the order flips every round), each round's ratio taken under the same neighbours' load.
  const bps = { svc: [] as IperfRun[], pod: [] as IperfRun[] };
  await iperf(iperfPod, 5201, 1);
  await iperf(iperfSvc, 5201, 1);
  for (let i = 0; i < IPERF_ROUNDS; i++) {
    const pair = [async () => bps.pod.push(await iperf(iperfPod, 5201)), async () => bps.svc.push(await iperf(iperfSvc, 5201))];
    for (const f of i % 2 ? pair.reverse() : pair) await f();
  }
  const bpsRatios = bps.svc.map((s, i) => s.bps / bps.pod[i]!.bps);
  const throughputRatio = median(bpsRatios);
  const mbps = (runs: IperfRun[]) => `median ${round(pct(runs.map((r) => r.bps), 50) / 1e6)} (${runs.map((r) => Math.round(r.bps / 1e6)).join(', ')}), CPU per MB sender ${round(pct(runs.map((r) => r.senderMsPerMb), 50), 3)} ms + receiver ${round(pct(runs.map((r) => r.receiverMsPerMb), 50), 3)} ms`;
  const cpuRatios = bps.svc.map((s, i) => (s.senderMsPerMb + s.receiverMsPerMb) / (bps.pod[i]!.senderMsPerMb + bps.pod[i]!.receiverMsPerMb));
  log(`MB/s, ${IPERF_ROUNDS} rounds of ${IPERF_SECONDS} s per path: pod IP ${mbps(bps.pod)}; ClusterIP ${mbps(bps.svc)}; ClusterIP ÷ pod per round ${bpsRatios.map((r) => round(r, 3)).join(', ')} → ${spread(bpsRatios)}; CPU per MB (sender + receiver) ClusterIP ÷ pod per round ${cpuRatios.map((r) => round(r, 3)).join(', ')} → ${spread(cpuRatios)}`);
  if (UNTIL === 'load') {
    log(`EDGEOS_BENCH_UNTIL=load: stopping after requests/s and bytes/s; clusterip_rps_ratio ${round(rpsRatio, 3)}, clusterip_throughput_ratio ${round(throughputRatio, 3)}`);
    throw new StopHere();
  }

  // DNS: the agent on the cluster DNS address vs dnsmasq with the same names in a hosts file.
  const names = services.map((s) => `${s.metadata.name}.${NS}.svc.cluster.local`);
  const hosts = (await k(['-n', NS, 'get', 'svc', '-o', 'jsonpath={range .items[*]}{.spec.clusterIP} {.metadata.name}.bench.svc.cluster.local{"\\n"}{end}'])).trim();
  writeFileSync(join(work, 'hosts'), hosts + '\n');
  start(node, ['dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', `--addn-hosts=${join(work, 'hosts')}`, '--bind-interfaces', '--listen-address=127.0.0.1', '--port=5353', '--cache-size=1000'], env);
  await sleep(500);
  const dns = { agent: [] as number[], dnsmasq: [] as number[] };
  for (let i = 0; i < 2; i++) {
    await loopDelay();
    const gcFrom = agentOut.length;
    const a = await dnsP99('10.43.0.10', 53, names);
    const during = (await loopDelay()) + gcsSince(gcFrom);
    const b = await dnsP99('127.0.0.1', 5353, names);
    dns.agent.push(a.p99);
    dns.dnsmasq.push(b.p99);
    log(`DNS p99 at ${DNS_QPS}/s: agent ${round(a.p99)} µs (${a.lost} lost)${during}, dnsmasq ${round(b.p99)} µs (${b.lost} lost)`);
  }
  if (PROFILE_DIR || UNTIL_DNS) {
    await stop(agent);
    log(PROFILE_DIR ? `profiled: the agent's CPU profile is in ${PROFILE_DIR}; stopping after the DNS phase` : 'EDGEOS_BENCH_UNTIL=dns: stopping after the DNS phase');
    log(`ratios so far: clusterip_rps_ratio ${round(rpsRatio, 3)}, clusterip_throughput_ratio ${round(throughputRatio, 3)}, dns_p99_ratio ${round(Math.min(...dns.agent) / Math.min(...dns.dnsmasq), 3)}, agent_rss_ratio ${round(agentRss / bareRss, 3)}`);
    process.exitCode = 0;
  } else {

    // 1,000 Services present, then Service → rule-live latency.
    const more: object[] = [];
    for (let i = SERVICES; i < MANY; i++) more.push(service(`svc-${i}`, 'web', 80, 8080));
    for (let i = 0; i < more.length; i += 100) await k(['apply', '-f', '-'], list(more.slice(i, i + 100)));
    const last = await waitFor('1000 ClusterIPs', async () => (await ipOf('svc', `svc-${MANY - 1}`, '{.spec.clusterIP}')) || undefined, 60_000);
    await waitFor('the 1000th Service to answer', async () => run(node!, [process.execPath, '-e', PROBE, last, '80'], undefined, 5000), 300_000, 1000);
    log(`${MANY} Services programmed`);
    const latency: number[] = [];
    // The admin's credentials from the kubeconfig, for PROGRAM's request.
    const kc = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[] };
    const apiUrl = kc.clusters[0]!.cluster.server;
    const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    const tlsFile = join(work, 'admin-tls.json');
    writeFileSync(tlsFile, JSON.stringify({ ca: pem(kc.clusters[0]!.cluster['certificate-authority-data']), cert: pem(kc.users[0]!.user['client-certificate-data']), key: pem(kc.users[0]!.user['client-key-data']) }), { mode: 0o600 });
    const taken = new Set((await k(['get', 'svc', '-A', '-o', 'jsonpath={.items[*].spec.clusterIP}'])).split(' '));
    const free = Array.from({ length: 250 }, (_, i) => `10.43.250.${i + 1}`).filter((ip) => !taken.has(ip));
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const name = `lat-${i}`;
      // A ClusterIP chosen up front, so the probe can start before the create returns.
      const ip = free[i]!;
      const body = JSON.stringify({ ...service(name, 'web', 80, 8080), spec: { ...service(name, 'web', 80, 8080).spec, clusterIP: ip } });
      latency.push(Number((await run(node, [process.execPath, '-e', PROGRAM, apiUrl, tlsFile, `/api/v1/namespaces/${NS}/services`, body, ip, '80'], undefined, 60_000)).trim()));
    }
    log(`programming latency over ${LATENCY_SAMPLES} Services: p50 ${pct(latency, 50)} ms, p99 ${pct(latency, 99)} ms, max ${Math.max(...latency)} ms`);

    // From empty: the agent restarted (its table removed at stop) syncs 1,000+ Services at once.
    const from = agentOut.length;
    await stop(agent);
    agent = start(node, [process.execPath, ...v8Flags.agent, bundleFile, 'agent', '--data-dir', agentDir, '--resolv-conf', join(work, 'resolv.conf')], agentEnv, (s) => (agentOut += s));
    const line = await waitFor('the first sync', async () => agentOut.slice(from).split('\n').find((l) => l.includes('"Service rules programmed"')), 120_000);
    const first = JSON.parse(line) as { ms: number; servicePorts: number };
    log(`restarted agent programmed ${first.servicePorts} Service ports into an empty table in ${first.ms} ms`);

    const result = {
      bench: 'services',
      clusterip_rps_ratio: round(rpsRatio, 3),
      clusterip_throughput_ratio: round(throughputRatio, 3),
      programming_p99_ms: pct(latency, 99),
      programming_1000_services_s: round(first.ms / 1000, 3),
      dns_p99_us: round(Math.min(...dns.agent)),
      dnsmasq_p99_us: round(Math.min(...dns.dnsmasq)),
      dns_p99_ratio: round(Math.min(...dns.agent) / Math.min(...dns.dnsmasq), 3),
      agent_rss_ratio: round(agentRss / bareRss, 3),
    };
    log(`total ${round((performance.now() - t0) / 1000, 1)} s`);
    console.log(JSON.stringify(result));
  }
} catch (err) {
  if (!(err instanceof StopHere)) throw err;
} finally {
  await cleanUp();
}
