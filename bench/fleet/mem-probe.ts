// The server's memory per linked node, deterministic enough to compare branches: the real server
// (test/link/harness.ts) with its inspector on, hollow nodes added in steps (sim-agents.ts, one
// process per step), and after each step, once every node of it has synced and 15 s passed, two
// forced GCs and the server's process.memoryUsage(). With --snapshot <file> a heap snapshot of the
// last step is written there (bench/fleet/heap-buffers.ts says what holds its Buffers).
//
//   node bench/fleet/mem-probe.ts [--steps 0,100,200,400] [--snapshot /dev/shm/x.heapsnapshot]
//
// One JSON line per step: {"nodes":…,"rssMb":…,"heapUsedMb":…,"externalMb":…,"arrayBuffersMb":…},
// then the slope per node between the first and last step.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { serverProcess } from '../../test/link/harness.ts';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '0,100,200,400' }, snapshot: { type: 'string' }, 'settle-s': { type: 'string', default: '15' } } });
const steps = values.steps.split(',').map(Number);
const settleMs = Number(values['settle-s']) * 1000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const server = await serverProcess(['--cluster-cidr', '10.128.0.0/9'], { nodeArgs: ['--inspect=127.0.0.1:0'], parentDir: '/dev/shm' });
const simDir = mkdtempSync('/dev/shm/edgeos-fleetidx-probe-');
const sims: ReturnType<typeof spawn>[] = [];
try {
  // (The last one: the CLI may start a short-lived helper process with the same Node flags first.)
  const url = [...server.output().matchAll(/Debugger listening on (ws:\/\/\S+)/g)].pop()?.[1];
  if (!url) throw new Error(`no inspector URL in the server's output:\n${server.output()}`);
  const ws = new WebSocket(url);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  let id = 0;
  const pending = new Map<number, (v: unknown) => void>();
  const chunks: ((s: string) => void)[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { id?: number; result?: unknown; method?: string; params?: { chunk: string } };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
    else if (m.method === 'HeapProfiler.addHeapSnapshotChunk') for (const c of chunks) c(m.params!.chunk);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((r) => {
      const i = ++id;
      pending.set(i, r);
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  const usage = async () => {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const r = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result: { value: string } };
    return JSON.parse(r.result.value) as NodeJS.MemoryUsage;
  };
  const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
  const rows: { nodes: number; u: NodeJS.MemoryUsage }[] = [];
  let have = 0;
  for (const n of steps) {
    if (n > have) {
      const sim = spawn(process.execPath, ['--max-old-space-size=8192', join(import.meta.dirname, 'sim-agents.ts'), '--token', server.token(), '--data-dir', simDir, '--first', String(have), '--count', String(n - have), '--stats-every', '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
      sims.push(sim);
      const lines = createInterface({ input: sim.stdout! });
      await new Promise<void>((resolve, reject) => {
        sim.once('exit', (code) => reject(new Error(`sim-agents exited with ${code}`)));
        lines.on('line', (l) => {
          if (l.includes('"sim":"ready"')) resolve();
        });
      });
      have = n;
    }
    await sleep(settleMs);
    const u = await usage();
    rows.push({ nodes: n, u });
    console.log(JSON.stringify({ nodes: n, rssMb: mb(u.rss), heapUsedMb: mb(u.heapUsed), externalMb: mb(u.external), arrayBuffersMb: mb(u.arrayBuffers) }));
  }
  const a = rows[0]!;
  const b = rows[rows.length - 1]!;
  const per = (k: keyof NodeJS.MemoryUsage) => Math.round((b.u[k] - a.u[k]) / (b.nodes - a.nodes) / 1024);
  if (b.nodes > a.nodes) console.log(JSON.stringify({ perNodeKb: { rss: per('rss'), heapUsed: per('heapUsed'), external: per('external'), arrayBuffers: per('arrayBuffers') } }));
  if (values.snapshot) {
    const out = createWriteStream(values.snapshot);
    chunks.push((c) => out.write(c));
    await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    await new Promise((r) => out.end(r));
    console.error(`heap snapshot: ${values.snapshot}`);
  }
  ws.close();
} finally {
  for (const s of sims) s.kill('SIGTERM');
  await Promise.all(sims.map((s) => (s.exitCode === null ? new Promise((r) => s.once('exit', r)) : undefined)));
  await server.dispose();
  rmSync(simDir, { recursive: true, force: true });
}
