// The pod network across nodes and sites (docs/podnet.md, issue #14 point 7), in the two-site NAT
// topology of test/e2e/podnet-sites.ts (namespaces of the bench's own: a cloud with the server,
// site A with a1 and a2, site B with b1, each site behind its own masquerading router). Agents run
// from src with the agent's shipped V8 flags and malloc tunables (src/common/v8-flags.ts). In one run:
// - host_mbps: iperf3 TCP a1 → a2 on their LAN addresses (the limit the direct path can reach);
// - direct_mbps: iperf3 pod on a1 → pod on a2 over the direct path, which for these two nodes on
//   one LAN subnet is native routing (no encapsulation); direct_ratio: the two measured in ROUNDS
//   paired rounds (host then direct, direct then host, alternating), the median of the per-round
//   ratios (host_mbps and direct_mbps are the medians of each side);
// - relay_mbps: iperf3 pod on a1 → pod on b1 (other site: through the server over both links);
// - direct_rtt_ratio: pings pod → pod (direct path) and node → node on the LAN, PINGS of each per
//   round in ROUNDS alternating rounds: the median of the per-round ratios of median RTTs;
//   relay_rtt_ms: median RTT pod a1 → pod b1;
// - failover_s: a client in a1's pod sending HTTP requests to a2's pod every 50 ms; the LAN between
//   a1 and a2 cut at t0 (their site's bridge drops frames between their ports); the time from t0 to
//   the first request that got its answer afterwards.
// Then a1 and a2 are restarted with --pod-network-backend vxlan and the paired throughput and RTT
// rounds run again over VXLAN: a line before the last gives those figures (vxlan_*), so the VXLAN
// direct path (what peers on different subnets get) stays measured too.
// iperf3 (Debian, scripts/setup.sh --test) runs inside the node's or the pod's network namespace.
// Last line: {"bench":"podnet",…}
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundle } from '../../scripts/bundle.ts';
import { launchEnvOf, v8Flags } from '../../src/common/v8-flags.ts';
import { Sites, podNetnsOf, stopChild } from '../../test/e2e/podnet-sites.ts';
import type { SiteNode } from '../../test/e2e/podnet-sites.ts';

const REPO = resolve(import.meta.dirname, '../..');
const IPERF_SECONDS = Number(process.env.PODNET_BENCH_SECONDS ?? 5);
/** Paired host/direct rounds (throughput and RTT): one 5 s run per path scattered 0.68–1.1 in ratio under load. */
const ROUNDS = Number(process.env.PODNET_BENCH_ROUNDS ?? 6);
/** Pings per path per RTT round. */
const PINGS = 50;
const log = (s: string) => console.log(`[podnet-bench ${(performance.now() / 1000).toFixed(1)}s] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The agent's program bundled as for the executable (as bench/agent and bench/services run it):
// `--lite-mode` has no WebAssembly, which Node's TypeScript stripping needs, so src cannot run under it.
const work = mkdtempSync(join(tmpdir(), 'pnb-'));
const bundleFile = join(work, 'edgeos-agent.cjs');
const t = new Sites('pnb', [
  { name: 'a1', site: 'a' },
  { name: 'a2', site: 'a' },
  { name: 'b1', site: 'b' },
], { argv: [...v8Flags.agent, bundleFile], env: { ...launchEnvOf('agent'), NODE_PATH: join(REPO, 'node_modules') } });
const [a1, a2, b1] = [t.node('a1'), t.node('a2'), t.node('b1')];
const children: ChildProcess[] = [];

const netnsPath = (ns: string) => `/var/run/netns/${ns}`;
function inNet(path: string, argv: readonly string[]): ChildProcess {
  const c = spawn('nsenter', [`--net=${path}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}
function output(c: ChildProcess): Promise<string> {
  let out = '';
  c.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  c.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((r) => c.once('close', () => r(out)));
}
function stop(c: ChildProcess): void {
  if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGTERM');
}

/** iperf3 TCP from `client` to `server` (network namespace paths), `address` being the server's; Mbit/s received. */
async function iperf(serverNs: string, clientNs: string, address: string, label = address): Promise<number> {
  const server = inNet(serverNs, ['iperf3', '-s', '-1', '-B', address]);
  await sleep(500);
  const out = await output(inNet(clientNs, ['iperf3', '-c', address, '-t', String(IPERF_SECONDS), '-J']));
  stop(server);
  type End = { sum_received?: { bits_per_second: number; bytes: number; seconds: number }; cpu_utilization_percent?: { host_total: number; remote_total: number } };
  const j = JSON.parse(out) as { end?: End; error?: string };
  if (!j.end?.sum_received) throw new Error(`iperf3 ${address}: ${j.error ?? out.slice(0, 400)}`);
  // CPU the two iperf3 processes used per GB (the kernel's path runs mostly inside them, in their
  // system time): less dependent on what others run than Mbit/s, though softirq work that
  // ksoftirqd takes over is not in it.
  const { sum_received: r, cpu_utilization_percent: cpu } = j.end;
  if (cpu) log(`  ${label}: ${(r.bits_per_second / 1e6).toFixed(0)} Mbit/s, iperf3 CPU ${(((cpu.host_total + cpu.remote_total) / 100) * r.seconds / (r.bytes / 1e9)).toFixed(3)} s per GB (client ${cpu.host_total.toFixed(0)} %, server ${cpu.remote_total.toFixed(0)} %)`);
  return r.bits_per_second / 1e6;
}

/** Median RTT (ms) of `count` pings, 0.05 s apart (the median: a stall of the loaded machine is one sample, not a share of the mean). */
async function rtt(ns: string, address: string, count = PINGS): Promise<number> {
  const out = await output(inNet(ns, ['busybox', 'ping', '-c', String(count), '-i', '0.05', '-W', '2', address]));
  const times = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (times.length < count / 2) throw new Error(`ping ${address}: ${out.slice(-300)}`);
  return median(times);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

const spread = (xs: readonly number[]) => `median ${r3(median(xs))}, min ${r3(Math.min(...xs))}, max ${r3(Math.max(...xs))}`;

/**
 * `ROUNDS` rounds of the same measure on the host path and the direct path back to back, the
 * order alternating (host first in even rounds), so both see the same machine: the ratio is taken
 * per round and its median reported, with each side's median.
 */
async function paired(what: string, host: () => Promise<number>, direct: () => Promise<number>): Promise<{ host: number; direct: number; ratio: number }> {
  const hosts: number[] = [];
  const directs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let h: number;
    let d: number;
    if (i % 2 === 0) {
      h = await host();
      d = await direct();
    } else {
      d = await direct();
      h = await host();
    }
    hosts.push(h);
    directs.push(d);
    ratios.push(d / h);
    log(`${what} round ${i + 1}/${ROUNDS} (${i % 2 === 0 ? 'host first' : 'direct first'}): host ${r3(h)}, direct ${r3(d)}, ratio ${r3(d / h)} (load ${loadavg()[0]!.toFixed(1)})`);
  }
  log(`${what}: ratio ${spread(ratios)}; host ${spread(hosts)}; direct ${spread(directs)}`);
  return { host: median(hosts), direct: median(directs), ratio: median(ratios) };
}

const podNs = (n: SiteNode, ip: string) => netnsPath(podNetnsOf(n, ip));
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** A client in `ns` asking http://address:8080/ every 50 ms (300 ms timeout); prints the end time (ms since the epoch) of each answered request. */
const CLIENT = `
const net = require('node:net');
const [host] = process.argv.slice(1);
setInterval(() => {
  const s = net.connect({ host, port: 8080 });
  let got = '';
  const t = setTimeout(() => s.destroy(), 300);
  s.on('connect', () => s.write('GET / HTTP/1.0\\r\\n\\r\\n'));
  s.on('data', (b) => (got += b));
  s.on('end', () => { clearTimeout(t); if (got.includes('200 OK')) console.log(Date.now()); });
  s.on('error', () => clearTimeout(t));
}, 50);
`;

async function failover(ns: string, address: string): Promise<number> {
  const client = inNet(ns, [process.execPath, '-e', CLIENT, address]);
  const answered: number[] = [];
  client.stdout?.on('data', (b: Buffer) => answered.push(...b.toString().trim().split('\n').filter(Boolean).map(Number)));
  await sleep(2000);
  if (answered.length === 0) throw new Error('the failover client got no answer before the cut');
  t.cut(a1, a2);
  const cutAt = Date.now();
  try {
    for (let i = 0; i < 300 && !answered.some((a) => a > cutAt + 300); i++) await sleep(100);
  } finally {
    stop(client);
    t.restore(a1);
  }
  // The first answer of a request sent after the cut (one in flight at t0 may still end within 300 ms).
  const first = answered.find((a) => a > cutAt + 300);
  if (first === undefined) throw new Error('no answer within 30 s of cutting the direct path');
  return (first - cutAt) / 1000;
}

/** CPU time (ms, user + system) a process has used so far; NaN once it is gone. */
const cpuMs = (pid: number | undefined) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return NaN;
  }
};

const rssKb = (n: SiteNode) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${n.agent!.pid}/status`, 'utf8'))?.[1]);
  } catch {
    return NaN;
  }
};

async function main(): Promise<void> {
  log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  await bundle({ entry: 'src/cli/agent-main.ts', outfile: bundleFile, minify: true, external: ['better-sqlite3'], version: '0.0.0-bench' });
  log(`bundled the agent; node flags ${v8Flags.agent.join(' ')}`);
  await t.up();
  await t.webPods();
  const [ipA1, ipA2, ipB1] = [await t.podIp('web-a1'), await t.podIp('web-a2'), await t.podIp('web-b1')];
  await t.waitFor('a1 ↔ a2 native and a1 → b1 relayed', async () => t.via(a1, a2) === 'native' && t.via(a2, a1) === 'native' && t.via(a1, b1) === 'relay' && t.via(b1, a1) === 'relay', 60_000);
  const rssBefore = rssKb(a1);
  const [nsA1, nsA2] = [netnsPath(a1.ns.name), netnsPath(a2.ns.name)];
  const throughput = await paired('Mbit/s', () => iperf(nsA2, nsA1, a2.ip, 'host'), () => iperf(podNs(a2, ipA2), podNs(a1, ipA1), ipA2, 'direct'));
  // CPU per relayed Mbit (deterministic enough under load, where Mbit/s is not): the two agents and the server.
  const relayPids = { a1: a1.agent?.pid, b1: b1.agent?.pid, server: t.server?.pid };
  const cpuBefore = Object.fromEntries(Object.entries(relayPids).map(([k, pid]) => [k, cpuMs(pid)]));
  const relay_mbps = await iperf(podNs(b1, ipB1), podNs(a1, ipA1), ipB1, 'relay');
  const mbit = relay_mbps * IPERF_SECONDS;
  const perMbit = Object.entries(relayPids).map(([k, pid]) => `${k} ${((cpuMs(pid) - cpuBefore[k]!) / mbit).toFixed(1)}`).join(', ');
  log(`relay ${relay_mbps.toFixed(0)} Mbit/s (load ${loadavg()[0]!.toFixed(1)}); CPU ms per relayed Mbit: ${perMbit}; a1 agent RSS ${rssBefore} → ${rssKb(a1)} kB`);
  const rtts = await paired('RTT ms', () => rtt(nsA1, a2.ip), () => rtt(podNs(a1, ipA1), ipA2));
  const relay_rtt_ms = await rtt(podNs(a1, ipA1), ipB1);
  log(`rtt relay ${r3(relay_rtt_ms)} ms (median of ${PINGS})`);
  const failover_s = await failover(podNs(a1, ipA1), ipA2);
  log(`failover ${failover_s} s (load ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  // The VXLAN direct path: both nodes forced to VXLAN (an agent restart each; pods keep running).
  for (const n of [a1, a2]) {
    await stopChild(n.agent);
    const from = n.out.length;
    t.startAgent(n, ['agent', '--data-dir', n.data, '--resolv-conf', join(t.dir, 'resolv.conf'), '--pod-network-backend', 'vxlan']);
    await t.waitFor(`${n.name}'s agent with --pod-network-backend vxlan`, async () => n.out.slice(from).includes('pod network overlay programmed'), 120_000);
  }
  await t.waitFor('a1 ↔ a2 over VXLAN', async () => t.via(a1, a2) === 'direct' && t.via(a2, a1) === 'direct', 60_000);
  const vxlanThroughput = await paired('VXLAN Mbit/s', () => iperf(nsA2, nsA1, a2.ip, 'host'), () => iperf(podNs(a2, ipA2), podNs(a1, ipA1), ipA2, 'vxlan'));
  const vxlanRtts = await paired('VXLAN RTT ms', () => rtt(nsA1, a2.ip), () => rtt(podNs(a1, ipA1), ipA2));
  console.log(`vxlan direct path (a1, a2 with --pod-network-backend vxlan): ${JSON.stringify({ vxlan_host_mbps: r3(vxlanThroughput.host), vxlan_direct_mbps: r3(vxlanThroughput.direct), vxlan_direct_ratio: r3(vxlanThroughput.ratio), vxlan_direct_rtt_ratio: r3(vxlanRtts.ratio) })}`);
  const metrics = await t.kubectl(['get', '--raw', '/metrics']);
  log(`server: ${metrics.split('\n').filter((l) => l.startsWith('edgeos_link_relay')).join(', ')}`);
  for (const n of ['a1', 'b1']) {
    const m = await t.kubectl(['get', '--raw', `/api/v1/nodes/${n}/proxy/metrics`]);
    log(`${n}: ${m.split('\n').filter((l) => l.startsWith('edgeos_agent_pod_relay')).join(', ')}`);
  }
  console.log(JSON.stringify({
    bench: 'podnet',
    host_mbps: r3(throughput.host),
    direct_mbps: r3(throughput.direct),
    direct_ratio: r3(throughput.ratio),
    relay_mbps: r3(relay_mbps),
    direct_rtt_ratio: r3(rtts.ratio),
    relay_rtt_ms: r3(relay_rtt_ms),
    failover_s: r3(failover_s),
  }));
}

main()
  .catch((err: unknown) => {
    console.error(err);
    console.error(t.context());
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of children) stop(c);
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });
