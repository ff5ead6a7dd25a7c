// The agent's DNS answer path alone: CPU per query, not wall-clock (bench/services/README.md,
// "DNS: CPU per query"). A child process with the agent's V8 flags serves the cluster zone of 50
// Services (the real createDnsServer over an in-memory catalog) on loopback; this process offers
// it 2,000 queries/s over the 50 names, as bench/services does, and reads the server's own CPU
// time (process.cpuUsage, user and system) over each run. CPU per query does not depend on what
// else the machine runs, so two builds can be compared at any load; the latency figures printed
// beside it do.
//   node bench/services/dns-cpu.ts [runs=3] [seconds=5]
//   EDGEOS_DNS_SERVER_MODULE=<path to another build's dns-server.ts> compares another build;
//   EDGEOS_BENCH_PROFILE_DIR=<dir> writes the server's CPU profile (--cpu-prof) there.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundle } from '../../scripts/bundle.ts';
import { v8Flags } from '../../src/common/v8-flags.ts';
import { dnsServerScript } from './dns-fixture.ts';

const QPS = 2000;
const SERVICES = 50;
const moduleFile = resolve(process.env.EDGEOS_DNS_SERVER_MODULE ?? resolve(import.meta.dirname, '../../src/agent/dns/dns-server.ts'));

// The server, bundled as the agent is (its --lite-mode has no WebAssembly, so no TypeScript
// stripping): the real createDnsServer over an in-memory catalog of 50 Services; a line on stdin
// asks for the CPU time used since the last line.
const SERVER = `${dnsServerScript(moduleFile, SERVICES)}
dns.start(new AbortController().signal).then(() => {
  let last = process.cpuUsage();
  const rl = createInterface({ input: process.stdin });
  rl.on('close', () => void dns.stop().then(() => process.exit(0)));
  rl.on('line', () => {
    const now = process.cpuUsage();
    console.log(JSON.stringify({ user: now.user - last.user, system: now.system - last.system, stats: dns.stats }));
    last = now;
  });
  console.log(JSON.stringify({ port: dns.port }));
});
`;

{
  const runs = Number(process.argv[2] ?? 3);
  const seconds = Number(process.argv[3] ?? 5);
  const work = mkdtempSync(join(tmpdir(), 'eos-dns-cpu-'));
  writeFileSync(join(work, 'server.ts'), SERVER);
  await bundle({ entry: join(work, 'server.ts'), outfile: join(work, 'server.cjs'), minify: true, version: '0.0.0-bench' });
  const profile = process.env.EDGEOS_BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.EDGEOS_BENCH_PROFILE_DIR)}`, '--cpu-prof-interval=100'] : [];
  // EDGEOS_BENCH_TRACE_GC=1: the server's --trace-gc lines on stderr (the GCs the queries cause).
  if (process.env.EDGEOS_BENCH_TRACE_GC === '1') profile.push('--trace-gc');
  const child = spawn(process.execPath, [...v8Flags.agent, ...profile, join(work, 'server.cjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  // --trace-gc writes to stdout too: its lines are counted and shown, the rest is JSON.
  let gcs: string[] = [];
  const next = async (): Promise<Record<string, number>> => {
    for (;;) {
      const line = (await lines.next()).value as string;
      if (line.startsWith('{')) return JSON.parse(line) as Record<string, number>;
      gcs.push(line);
    }
  };
  const { port } = await next();
  const names = Array.from({ length: SERVICES }, (_, i) => `svc-${i}.bench.svc.cluster.local`);
  const query = (name: string) => Buffer.concat([Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0, 0, 1, 0, 1])]);
  const msgs = names.map(query);
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const sent = new Map<number, bigint>();
  const lat: number[] = [];
  sock.on('message', (m) => {
    const t = sent.get(m.readUInt16BE(0));
    if (t === undefined) return;
    lat.push(Number(process.hrtime.bigint() - t) / 1000);
    sent.delete(m.readUInt16BE(0));
  });
  const one = () =>
    new Promise<void>((done) => {
      const total = QPS * seconds;
      const t0 = process.hrtime.bigint();
      let n = 0;
      let id = 0;
      const tick = () => {
        const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - t0) / 1e9) * QPS));
        for (; n < due; n++) {
          id = (id + 1) & 0xffff;
          const m = msgs[n % msgs.length]!;
          m.writeUInt16BE(id, 0);
          sent.set(id, process.hrtime.bigint());
          sock.send(m, port!, '127.0.0.1');
        }
        if (n < total) setTimeout(tick, 1);
        else setTimeout(done, 500);
      };
      tick();
    });
  child.stdin!.write('\n');
  await next();
  const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  const results: number[] = [];
  for (let r = 0; r < runs; r++) {
    lat.length = 0;
    gcs = [];
    sent.clear();
    await one();
    child.stdin!.write('\n');
    const cpu = await next();
    lat.sort((a, b) => a - b);
    const q = QPS * seconds;
    const perQuery = (cpu.user! + cpu.system!) / q;
    results.push(perQuery);
    console.log(`run ${r + 1}: server CPU ${round(perQuery)} µs/query (user ${round(cpu.user! / q)}, system ${round(cpu.system! / q)}); latency p50 ${round(lat[Math.ceil(lat.length * 0.5) - 1] ?? NaN)} µs, p99 ${round(lat[Math.ceil(lat.length * 0.99) - 1] ?? NaN)} µs; ${lat.length}/${q} answered${gcs.length ? `; ${gcs.length} GCs:\n  ${gcs.map((l) => l.replace(/^\[[^\]]*\]\s*/, '')).join('\n  ')}` : ''}`);
  }
  results.sort((a, b) => a - b);
  console.log(JSON.stringify({ bench: 'dns-cpu', module: moduleFile, cpu_us_per_query_median: round(results[Math.floor(results.length / 2)]!) }));
  sock.close();
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}
