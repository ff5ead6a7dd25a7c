// The joined agent as a device runs it: memory (idle and with 20 pods, against a bare Node measured
// alongside), apply-to-Running latency through kubectl vs raw CRI calls on the same containerd,
// bytes on the agent↔server link while idle (counted by a TCP proxy of our own between them), and
// recovery after an offline reboot. One real `edgeos server` (src, --disable-agent) on 127.0.0.1;
// the agent is the executable's agent program (src/cli/agent-main.ts) bundled as `npm run build`
// bundles it (better-sqlite3 left external and resolved from node_modules through NODE_PATH),
// started with `edgeos join`. See README.md.
// Last line: {"bench":"agent",…}
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { bundle } from '../../scripts/bundle.ts';
import { pct, settledRss } from '../memory.ts';
import { launchEnvOf, v8Flags } from '../../src/common/v8-flags.ts';
import { decodeJoinToken, encodeJoinToken } from '../../src/common/link/join-token.ts';
import { DEFAULT_CLAIMS_DIR } from '../../src/runtime/cni/pod-cidr.ts';
import { CriClient } from '../../src/runtime/cri/client.ts';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import { writeBusyboxArchive } from '../../test/fixtures/images/busybox-image.ts';
import { kubectl } from '../../test/helpers/kubectl.ts';
import { buildMallocAddon, hostNodeInclude } from '../../scripts/native-addon.ts';
import { startServer } from '../../test/helpers/start-server.ts';
import type { RunningServer } from '../../test/helpers/start-server.ts';
import { deleteLink, killPid, removeAllPods, removeDataDir } from '../../test/runtime/cleanup.ts';

const REPO = resolve(import.meta.dirname, '../..');
const NODE_NAME = 'bench-device';
const IMAGE = 'edgeos.bench/busybox:agent';
const NS = 'bench';
const APPLY_PODS = Number(process.env.EDGEOS_BENCH_APPLY_PODS ?? 50);
const KEEP_PODS = 20;
const RAW_WARMUP = 3;
const IDLE_WINDOW_MS = Number(process.env.EDGEOS_BENCH_IDLE_MS ?? 120_000);
const SETTLE_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const log = (s: string): void => console.log(`[agent-bench ${(performance.now() / 1000).toFixed(1)}s] ${s}`);
/** VmRSS split as the kernel counts it (anonymous = heaps; file = mapped code such as node and the addon). */
function rssParts(pid: number): string {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(st)?.[1] ?? NaN);
  return `RssAnon ${round(kb('RssAnon') / 1024)} MB, RssFile ${round(kb('RssFile') / 1024)} MB, RssShmem ${round(kb('RssShmem') / 1024)} MB`;
}
/** CPU seconds (user + system) the process has used so far (/proc/<pid>/stat, clock ticks of 100 Hz). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

interface Proc { child: ChildProcess; exited: Promise<void>; output(): string }
function startProc(cmd: string, args: string[], env: NodeJS.ProcessEnv, teeFile?: string): Proc {
  const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const add = (b: Buffer): void => {
    if (teeFile) appendFileSync(teeFile, b);
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
  return { child, exited, output: () => out };
}
async function stopProc(p: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.pid === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  process.kill(p.child.pid, signal);
  const t = setTimeout(() => {
    if (p.child.pid !== undefined && p.child.exitCode === null && p.child.signalCode === null) process.kill(p.child.pid, 'SIGKILL');
  }, 20_000);
  await p.exited;
  clearTimeout(t);
}

/** 127.0.0.1 TCP proxy to the server that counts every byte both ways (TLS records included). */
interface CountingProxy { server: Server; port: number; up: number; down: number; upChunks: number; downChunks: number; sockets: Set<Socket>; trace?: string[] }
async function startProxy(targetPort: number): Promise<CountingProxy> {
  const p: CountingProxy = { server: createServer(), port: 0, up: 0, down: 0, upChunks: 0, downChunks: 0, sockets: new Set() };
  p.server.on('connection', (client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      p.sockets.add(s);
      s.on('close', () => p.sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (b: Buffer) => {
      p.up += b.length;
      p.upChunks++;
      p.trace?.push(`+${(performance.now() / 1000).toFixed(1)}s:${b.length}`);
    });
    upstream.on('data', (b: Buffer) => {
      p.down += b.length;
      p.downChunks++;
      p.trace?.push(`-${(performance.now() / 1000).toFixed(1)}s:${b.length}`);
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', r));
  const addr = p.server.address();
  p.port = typeof addr === 'object' && addr ? addr.port : 0;
  return p;
}
async function stopProxy(p: CountingProxy | undefined): Promise<void> {
  if (!p) return;
  for (const s of p.sockets) s.destroy();
  await new Promise<void>((r) => p.server.close(() => r()));
}

/** A pod watch through the API with the admin certificate: the time each pod is first seen Running with its container started. */
interface PodWatch { runningAt: Map<string, number>; waiters: Map<string, (t: number) => void>; stop(): void }
function watchPods(server: RunningServer): Promise<PodWatch> {
  const kc = parse(readFileSync(server.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const dec = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');
  const w: PodWatch = { runningAt: new Map(), waiters: new Map(), stop: () => undefined };
  return new Promise((resolveWatch, reject) => {
    const req = request(`${server.url}/api/v1/namespaces/${NS}/pods?watch=true&allowWatchBookmarks=false`, {
      ca: dec(kc.clusters[0]?.cluster['certificate-authority-data']),
      cert: dec(kc.users[0]?.user['client-certificate-data']),
      key: dec(kc.users[0]?.user['client-key-data']),
    }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        reject(new Error(`pod watch: HTTP ${res.statusCode}`));
        return;
      }
      let buf = '';
      res.on('data', (b: Buffer) => {
        const now = performance.now();
        buf += b.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as { type: string; object: { metadata?: { name?: string }; status?: { phase?: string; containerStatuses?: { state?: { running?: unknown } }[] } } };
          const name = ev.object.metadata?.name;
          if (!name || ev.type === 'DELETED' || w.runningAt.has(name)) continue;
          const st = ev.object.status;
          if (st?.phase === 'Running' && st.containerStatuses?.[0]?.state?.running) {
            w.runningAt.set(name, now);
            w.waiters.get(name)?.(now);
          }
        }
      });
      resolveWatch(w);
    });
    req.on('error', (e) => reject(e));
    w.stop = () => req.destroy();
    req.end();
  });
}

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const work = mkdtempSync(join(tmpdir(), 'eos-agent-bench-'));
const agentDir = join(work, 'a'); // short: containerd's socket path must fit sun_path
const runtimeConfig = resolveRuntimeConfig({ dataDir: agentDir });
const criSocket = runtimeConfig.containerd!.address;
const bundleFile = join(work, 'edgeos-agent.cjs');
// EDGEOS_BENCH_AGENT_GLIBC_TUNABLES (diagnosis only): the agent's GLIBC_TUNABLES instead of the shipped ones.
const tunablesOverride = process.env.EDGEOS_BENCH_AGENT_GLIBC_TUNABLES;
// The malloc addon (native/malloc.c), compiled for this host as the executable embeds it; the
// agent's trimmer loads it through EDGEOS_MALLOC_ADDON outside the executable. EDGEOS_MALLOC_TRIM=off
// in the bench's environment reaches the agent too (the A/B of docs in bench/agent/README.md).
const mallocAddon = join(work, 'edgeos_malloc.node');
const agentEnv: NodeJS.ProcessEnv = { ...env, ...launchEnvOf('agent'), ...(tunablesOverride === undefined ? {} : { GLIBC_TUNABLES: tunablesOverride }), NODE_PATH: join(REPO, 'node_modules'), EDGEOS_LOG_LEVEL: 'warn', EDGEOS_MALLOC_ADDON: mallocAddon };
// The agent runs with the flags it ships with (src/common/v8-flags.ts). EDGEOS_BENCH_HEAP_SNAPSHOTS=<dir>
// adds heap snapshots of the agent at idle, with 20 pods and after the idle window (they distort
// the RSS figures that follow them: diagnosis only).
const snapshotDir = process.env.EDGEOS_BENCH_HEAP_SNAPSHOTS;
if (snapshotDir) mkdirSync(snapshotDir, { recursive: true });
// EDGEOS_BENCH_AGENT_TRACE=<file> (diagnosis only): the agent also runs with --trace-gc-nvp and its
// output is appended to <file> (each GC's `allocated=` bytes: the garbage per apply), with a line
// `=== <phase> <epoch ms>` at each phase. EDGEOS_BENCH_AGENT_NODE_ARGS: more node flags for the
// agent only (diagnosis, e.g. `--require <file>`).
const traceFile = process.env.EDGEOS_BENCH_AGENT_TRACE;
/** A line `=== <what>` in the trace file, between the agent's GC lines. */
const traceMark = (what: string): void => {
  if (traceFile) appendFileSync(traceFile, `=== ${what} ${Date.now()}\n`);
};
const agentNodeArgs = [...v8Flags.agent, ...(snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${resolve(snapshotDir)}`] : []), ...(traceFile ? ['--trace-gc-nvp'] : []), ...(process.env.EDGEOS_BENCH_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
async function heapSnapshot(pid: number, label: string): Promise<void> {
  if (!snapshotDir) return;
  const before = new Set(readdirSync(snapshotDir));
  process.kill(pid, 'SIGUSR2');
  const file = await waitFor(`heap snapshot ${label}`, async () => readdirSync(snapshotDir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot')), 120_000, 500);
  // The file is complete when its size stops changing.
  let size = -1;
  for (;;) {
    await sleep(1000);
    const now = statSync(join(snapshotDir, file)).size;
    if (now === size) break;
    size = now;
  }
  renameSync(join(snapshotDir, file), join(snapshotDir, `${label}.heapsnapshot`));
  log(`heap snapshot ${join(snapshotDir, label)}.heapsnapshot (${round(size / 1e6, 1)} MB)`);
}

let bare: Proc | undefined;
let server: RunningServer | undefined;
let proxy: CountingProxy | undefined;
let agent: Proc | undefined;
let ownContainerd: Proc | undefined;
let watch: PodWatch | undefined;
let cri: CriClient | undefined;
const t0 = performance.now();

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nagent output:\n${agent?.output().slice(-3000) ?? ''}`);
    await sleep(everyMs);
  }
}
async function runningContainers(c: CriClient): Promise<number> {
  const { containers } = await c.call('ListContainers', { filter: null }, { timeoutMs: 2000 });
  return containers.filter((x) => x.state === 'CONTAINER_RUNNING').length;
}

/** The baseline: one pod's RunPodSandbox + CreateContainer + StartContainer through plain CRI calls; removed untimed. */
async function rawStart(c: CriClient, i: number): Promise<number> {
  const metadata = { name: `raw-${i}`, uid: `raw-uid-${i}`, namespace: 'raw-bench', attempt: 0 };
  const ns = { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } };
  const sandboxConfig = { metadata, hostname: metadata.name, logDirectory: join(work, 'raw-logs', metadata.name), linux: { securityContext: ns } };
  const start = performance.now();
  const { podSandboxId } = await c.call('RunPodSandbox', { config: sandboxConfig });
  const { containerId } = await c.call('CreateContainer', {
    podSandboxId,
    config: { metadata: { name: 'main', attempt: 0 }, image: { image: IMAGE }, command: ['sleep', '3600'], logPath: 'main/0.log', linux: { securityContext: ns } },
    sandboxConfig,
  });
  await c.call('StartContainer', { containerId });
  const ms = performance.now() - start;
  await c.call('StopPodSandbox', { podSandboxId });
  await c.call('RemovePodSandbox', { podSandboxId });
  return ms;
}

/** EDGEOS_BENCH_NO_SA_TOKEN=1: pods without the kube-api-access volume, to measure what tokens cost. */
const NO_TOKEN = process.env.EDGEOS_BENCH_NO_SA_TOKEN === '1';

function podManifest(i: number): string {
  return `apiVersion: v1
kind: Pod
metadata: { name: p-${i}, namespace: ${NS}, labels: { group: ${i < KEEP_PODS ? 'keep' : 'extra'} } }
spec:
  terminationGracePeriodSeconds: 0${NO_TOKEN ? '\n  automountServiceAccountToken: false' : ''}
  containers:
  - { name: main, image: ${IMAGE}, imagePullPolicy: IfNotPresent, command: [sleep, '3600'] }
`;
}

try {
  // 1. The agent program, bundled as the single executable's (minified, names kept): the script the
  //    executable runs for `join` and `agent` (src/cli/sea-scripts.ts).
  await bundle({ entry: 'src/cli/agent-main.ts', outfile: bundleFile, minify: true, external: ['better-sqlite3'], version: '0.0.0-bench' });
  buildMallocAddon(process.arch === 'arm64' ? 'arm64' : 'amd64', mallocAddon, hostNodeInclude());
  log(`bundled the agent (${(readFileSync(bundleFile).length / 1e6).toFixed(1)} MB); node flags: ${agentNodeArgs.join(' ') || 'none'}; GLIBC_TUNABLES ${agentEnv.GLIBC_TUNABLES ?? 'none'}; malloc trim ${agentEnv.EDGEOS_MALLOC_TRIM === 'off' ? 'off (EDGEOS_MALLOC_TRIM=off)' : 'on'}`);

  // 2. The bare Node baseline runs alongside the whole bench.
  bare = startProc(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], env);

  // 3. Server, counting proxy, join through the proxy.
  server = await startServer({ extraArgs: [] });
  const k = async (args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<string> => {
    const r = await kubectl(server!, args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return r.stdout;
  };
  proxy = await startProxy(server.port);
  const original = decodeJoinToken(readFileSync(join(server.dir, 'data', 'server', 'token'), 'utf8'));
  const token = encodeJoinToken({ ...original, servers: [`https://127.0.0.1:${proxy.port}`] });
  log(`server on 127.0.0.1:${server.port}, counting proxy on 127.0.0.1:${proxy.port}`);
  mkdirSync(join(agentDir, 'agent', 'images'), { recursive: true });
  writeBusyboxArchive(join(agentDir, 'agent', 'images', 'busybox.tar'), IMAGE);
  agent = startProc(process.execPath, [...agentNodeArgs, bundleFile, 'join', token, '--node-name', NODE_NAME, '--data-dir', agentDir], agentEnv, traceFile);
  const joinStart = performance.now();
  await waitFor('the node to be Ready', async () =>
    (await kubectl(server!, ['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True', 120_000, 250);
  log(`node Ready ${round((performance.now() - joinStart) / 1000, 1)} s after join`);
  const agentPid = agent.child.pid!;
  cri = new CriClient({ endpoint: criSocket, defaultTimeoutMs: 30_000 });
  await sleep(SETTLE_MS);
  const idleRss = await settledRss(agentPid);
  const bareRssIdle = await settledRss(bare.child.pid!, 3);
  log(`idle agent RSS ${round(idleRss)} MB (bare node ${round(bareRssIdle)} MB); ${rssParts(agentPid)}; containerd pid ${childPids(agentPid).join(',')} not counted`);
  await heapSnapshot(agentPid, 'idle');

  // 4. Apply-to-Running, one pod at a time (as the raw baseline), raw and kubectl interleaved.
  await k(['create', 'namespace', NS]);
  watch = await watchPods(server);
  for (let i = 0; i < RAW_WARMUP; i++) await rawStart(cri, 1000 + i);
  const rawMs: number[] = [];
  const applyMs: number[] = [];
  const cpuBefore = cpuSeconds(agentPid);
  traceMark('applies start');
  const kubectlMs: number[] = [];
  for (let i = 0; i < APPLY_PODS; i++) {
    rawMs.push(await rawStart(cri, i));
    const name = `p-${i}`;
    const running = new Promise<number>((r) => watch!.waiters.set(name, r));
    const start = performance.now();
    await k(['apply', '-f', '-'], { stdin: podManifest(i) });
    kubectlMs.push(performance.now() - start);
    const at = await Promise.race([running, sleep(60_000).then(() => { throw new Error(`${name} not Running in 60 s\n${agent!.output().slice(-3000)}`); })]);
    applyMs.push(at - start);
    if ((i + 1) % 10 === 0) {
      log(`pods ${i + 1}/${APPLY_PODS}: apply→Running p50 ${round(pct(applyMs, 50))} ms p99 ${round(pct(applyMs, 99))} ms (kubectl apply itself p50 ${round(pct(kubectlMs, 50))} ms); raw CRI p50 ${round(pct(rawMs, 50))} ms p99 ${round(pct(rawMs, 99))} ms`);
    }
  }
  watch.stop();
  traceMark('applies end');
  log(`agent CPU time during the ${APPLY_PODS} applies: ${round(cpuSeconds(agentPid) - cpuBefore)} s`);

  // 5. Down to 20 pods; settle; RSS.
  await k(['delete', 'pods', '-n', NS, '-l', 'group=extra', '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
  await waitFor(`${KEEP_PODS} running containers and sandboxes`, async () => {
    const { items } = await cri!.call('ListPodSandbox', { filter: null }, { timeoutMs: 2000 });
    return items.length === KEEP_PODS && (await runningContainers(cri!)) === KEEP_PODS;
  }, 120_000, 500);
  log(`${KEEP_PODS} pods running`);
  await sleep(SETTLE_MS);

  // 6. Idle link bytes with 20 pods, at least 2 minutes; RSS at both ends of the window.
  traceMark('20 pods settled');
  const rss20a = await settledRss(agentPid);
  await heapSnapshot(agentPid, 'pods-20');
  const before = { up: proxy.up, down: proxy.down, upChunks: proxy.upChunks, downChunks: proxy.downChunks, t: performance.now() };
  log(`agent RSS with ${KEEP_PODS} pods ${round(rss20a)} MB (${rssParts(agentPid)}); agent CPU so far ${round(cpuSeconds(agentPid))} s; idle link window of ${IDLE_WINDOW_MS / 1000} s starts`);
  proxy.trace = [];
  await sleep(IDLE_WINDOW_MS);
  log(`idle link socket reads (+ agent→server, - server→agent, bench time:bytes): ${proxy.trace.join(' ')}`);
  proxy.trace = undefined;
  const after = { up: proxy.up, down: proxy.down, upChunks: proxy.upChunks, downChunks: proxy.downChunks, t: performance.now() };
  const rss20b = await settledRss(agentPid);
  traceMark('idle window end');
  const mallocLines = (await k(['get', '--raw', `/api/v1/nodes/${NODE_NAME}/proxy/metrics`])).split('\n').filter((l) => l.startsWith('edgeos_malloc_') || l.startsWith('edgeos_heap_'));
  log(`agent malloc: ${mallocLines.join('; ') || 'no edgeos_malloc_* metrics (trimmer off or addon not loaded)'}`);
  await heapSnapshot(agentPid, 'pods-20-after-idle');
  const bareRss = await settledRss(bare.child.pid!, 3);
  const windowH = (after.t - before.t) / 3_600_000;
  const upB = after.up - before.up;
  const downB = after.down - before.down;
  const linkPerHour = (upB + downB) / windowH;
  const rss20 = Math.max(rss20a, rss20b);
  log(`idle link: ${upB} B agent→server + ${downB} B server→agent in ${round((after.t - before.t) / 1000, 1)} s (${after.upChunks - before.upChunks} / ${after.downChunks - before.downChunks} socket reads, i.e. about ${Math.round(upB / Math.max(1, after.upChunks - before.upChunks))} B per agent→server read) → ${Math.round(linkPerHour)} B/h; agent RSS ${round(rss20a)} → ${round(rss20b)} MB (${rssParts(agentPid)}); bare node ${round(bareRss)} MB (${rssParts(bare.child.pid!)}); agent CPU so far ${round(cpuSeconds(agentPid))} s`);
  if (agent.child.exitCode !== null) throw new Error(`the agent exited\n${agent.output().slice(-3000)}`);

  // 7. Offline reboot: server stopped; agent stopped (SIGTERM, it stops its containerd); every pod
  //    removed through CRI (a containerd of ours on the agent's config) and that containerd killed;
  //    then `edgeos agent` again, offline, until CRI shows all 20 containers running.
  await stopProxy(proxy);
  proxy = undefined;
  await server.stop();
  server = undefined;
  const agentContainerd = childPids(agentPid);
  await stopProc(agent);
  for (const pid of agentContainerd) if (!(await waitGone(pid, 15_000))) killPid(pid);
  const left = await purgePods('SIGKILL');
  log(`"rebooted": pods removed (${left} containers left running), containerd killed; starting edgeos agent offline`);
  const rebootStart = performance.now();
  agent = startProc(process.execPath, [...agentNodeArgs, bundleFile, 'agent', '--data-dir', agentDir], agentEnv);
  let criUpS = NaN;
  await waitFor(`${KEEP_PODS} containers RUNNING again`, async () => {
    const n = await runningContainers(cri!);
    if (Number.isNaN(criUpS)) criUpS = (performance.now() - rebootStart) / 1000;
    return n >= KEEP_PODS;
  }, 120_000, 50);
  const recoveryS = (performance.now() - rebootStart) / 1000;
  log(`offline reboot recovery: ${KEEP_PODS} containers running ${round(recoveryS, 2)} s after edgeos agent started (its containerd answered CRI after ${round(criUpS, 2)} s)`);
  // The process a device runs after a reboot is `edgeos agent`, not `join`: its memory too.
  await sleep(SETTLE_MS);
  log(`rebooted agent (edgeos agent) RSS with ${KEEP_PODS} pods ${round(await settledRss(agent.child.pid!))} MB; ${rssParts(agent.child.pid!)}`);

  const rawP99 = pct(rawMs, 99);
  log(`total ${round((performance.now() - t0) / 1000, 1)} s`);
  console.log(JSON.stringify({
    bench: 'agent',
    bare_node_rss_mb: round(bareRss),
    idle_rss_mb: round(idleRss),
    rss_mb_20_pods: round(rss20),
    rss_ratio_20_pods: round(rss20 / bareRss, 3),
    apply_to_running_p50_ms: round(pct(applyMs, 50)),
    apply_to_running_p99_ms: round(pct(applyMs, 99)),
    raw_cri_p99_ms: round(rawP99),
    idle_link_bytes_per_hour: Math.round(linkPerHour),
    offline_reboot_recovery_s: round(recoveryS, 3),
  }));
} finally {
  watch?.stop();
  // The agent stops its containerd on SIGTERM but leaves pods running (shims survive): stop it
  // first, so it cannot recreate what we remove, then remove every pod through a containerd of ours.
  await stopProc(agent);
  try {
    const pid = Number(readFileSync(runtimeConfig.containerd!.pidFile, 'utf8').trim());
    if (pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(agentDir)) {
      process.kill(pid, 'SIGTERM');
      if (!(await waitGone(pid, 15_000))) killPid(pid);
    }
  } catch { /* none */ }
  await stopProc(ownContainerd, 'SIGKILL');
  if (existsSync(runtimeConfig.containerd!.configFile)) await purgePods('SIGTERM').catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
  cri?.close();
  await stopProxy(proxy);
  await server?.stop();
  await stopProc(bare);
  deleteLink(runtimeConfig.cni.bridge);
  releasePodCidrClaim(agentDir);
  removeDataDir(work);
}

/** Every pod of the agent's containerd removed through CRI, by a containerd of ours on the agent's own config, then that containerd stopped; returns how many containers were still running after. */
async function purgePods(signal: NodeJS.Signals): Promise<number> {
  ownContainerd = startProc('containerd', ['--config', runtimeConfig.containerd!.configFile], env);
  try {
    const c = cri ?? new CriClient({ endpoint: criSocket, defaultTimeoutMs: 30_000 });
    cri = c;
    await waitFor('our containerd on the agent config', async () => (await c.call('Version', { version: '' }, { timeoutMs: 1000 })) !== undefined, 30_000, 100);
    await removeAllPods(criSocket);
    return await runningContainers(c);
  } finally {
    await stopProc(ownContainerd, signal);
    ownContainerd = undefined;
    rmSync(runtimeConfig.containerd!.pidFile, { force: true });
  }
}

/** The agent claimed a pod CIDR host-wide (/run/edgeos/pod-cidrs); give it back. */
function releasePodCidrClaim(dataDir: string): void {
  const kept = join(dataDir, 'agent', 'pod-cidr');
  if (!existsSync(kept)) return;
  const claim = join(DEFAULT_CLAIMS_DIR, readFileSync(kept, 'utf8').trim().replace('/', '_'));
  if (existsSync(claim) && readFileSync(claim, 'utf8').trim() === dataDir) rmSync(claim);
}
