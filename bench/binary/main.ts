// `npm run bench -- binary`: what the single executable costs. Builds dist/edgeos-linux-amd64 first
// (so the figures belong to this checkout), then measures its size raw and xz-compressed, the
// median `--version` start against a bare `node -e 0`, and the time from exec of `edgeos server` to
// /readyz answering 200. Last line: {"bench":"binary",…}. Targets live in docs/build.md.
// `npm run bench -- binary --exe FILE` measures FILE instead (e.g. a downloaded release), no build.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';

const root = resolve(import.meta.dirname, '../..');
const { values: flags } = parseArgs({ options: { exe: { type: 'string' } } });
const exe = flags.exe ? resolve(flags.exe) : join(root, 'dist/edgeos-linux-amd64');
const START_RUNS = 20;
const SERVER_RUNS = 3;
const READY_TIMEOUT_MS = 30_000;

// Every start is timed without NODE_EXTRA_CA_CERTS (~47 ms per Node start here) or NODE_OPTIONS.
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function mustRun(file: string, args: string[], what: string): Buffer {
  const r = spawnSync(file, args, { cwd: root, env, maxBuffer: 256 * 1024 * 1024, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}): ${r.stderr?.toString() ?? r.error}`);
  return r.stdout;
}

/** Median wall time of a short-lived process, after one warm-up run (page cache). */
function startMs(file: string, args: string[]): number {
  mustRun(file, args, `${file} ${args.join(' ')}`);
  const times: number[] = [];
  for (let i = 0; i < START_RUNS; i++) {
    const t0 = performance.now();
    mustRun(file, args, `${file} ${args.join(' ')}`);
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok, fail) => srv.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as { port: number };
  await new Promise((ok) => srv.close(ok));
  return port;
}

interface Credentials { cert?: Buffer; key?: Buffer; token?: string }

/** The admin credentials edgeos wrote, once the kubeconfig exists: /readyz may refuse anonymous. */
function kubeconfigCredentials(file: string): Credentials {
  try {
    const kc = parseYaml(readFileSync(file, 'utf8')) as { users?: { user?: Record<string, string> }[] };
    const user = kc.users?.[0]?.user ?? {};
    const b64 = (k: string) => (user[k] ? Buffer.from(user[k], 'base64') : undefined);
    return { cert: b64('client-certificate-data'), key: b64('client-key-data'), token: user.token };
  } catch {
    return {};
  }
}

function readyz(port: number, creds: Credentials): Promise<number> {
  return new Promise((ok) => {
    const req = request({
      host: '127.0.0.1', port, path: '/readyz', method: 'GET', timeout: 1000,
      rejectUnauthorized: false, // the bench times readiness, not trust; the cert is self-signed
      cert: creds.cert, key: creds.key,
      headers: creds.token ? { authorization: `Bearer ${creds.token}` } : {},
    }, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => ok(0));
    req.end();
  });
}

/** ms from exec to the first 200 from /readyz, on a fresh data dir; the server is killed by PID. */
async function serverReadyMs(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'edgeos-bench-binary-'));
  const port = await freePort();
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  const args = ['server', '--data-dir', join(dir, 'data'), '--https-listen-port', String(port), '--disable-agent', '--write-kubeconfig', kubeconfig];
  let stderr = '';
  let exited: string | undefined;
  const t0 = performance.now();
  const child = spawn(exe, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  child.on('exit', (code, sig) => { exited = `exited with ${code ?? sig}`; });
  try {
    while (performance.now() - t0 < READY_TIMEOUT_MS) {
      if (exited) throw new Error(`edgeos ${args.join(' ')} ${exited}: ${stderr.trim()}`);
      const status = await readyz(port, kubeconfigCredentials(kubeconfig));
      if (status === 200) return performance.now() - t0;
      await sleep(5);
    }
    throw new Error(`/readyz did not answer 200 within ${READY_TIMEOUT_MS} ms: ${stderr.trim()}`);
  } finally {
    if (!exited && child.pid) {
      process.kill(child.pid, 'SIGTERM');
      const gone = await Promise.race([new Promise((ok) => child.once('exit', ok)).then(() => true), sleep(5000).then(() => false)]);
      if (!gone) process.kill(child.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!flags.exe) {
  mustRun(process.execPath, ['scripts/build-sea.ts', '--arch', 'amd64'], 'npm run build');
  console.log(`built ${exe}`);
}
const sizeMb = statSync(exe).size / 1e6;
console.log(`size: ${round1(sizeMb)} MB`);
// -9 single-threaded: the smallest, reproducible archive a release would ship.
const xzMb = mustRun('xz', ['-9', '-T1', '-c', exe], 'xz -9').length / 1e6;
console.log(`xz -9: ${round1(xzMb)} MB`);
const versionMs = startMs(exe, ['--version']);
const bareMs = startMs(process.execPath, ['-e', '0']);
console.log(`start (median of ${START_RUNS}): edgeos --version ${round1(versionMs)} ms, node -e 0 ${round1(bareMs)} ms`);
let serverMs: number | null = null;
try {
  const runs: number[] = [];
  for (let i = 0; i < SERVER_RUNS; i++) runs.push(await serverReadyMs());
  serverMs = median(runs);
  console.log(`server ready (median of ${SERVER_RUNS}, fresh data dir each): ${runs.map(round1).join(', ')} ms`);
} catch (err) {
  console.log(`server ready: not measured: ${err instanceof Error ? err.message : String(err)}`);
}
console.log(JSON.stringify({
  bench: 'binary', size_mb: round1(sizeMb), xz_mb: round1(xzMb), version_ms: round1(versionMs),
  bare_node_ms: round1(bareMs), server_ready_ms: serverMs === null ? null : Math.round(serverMs),
}));
