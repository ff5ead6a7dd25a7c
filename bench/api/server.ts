// The server under test: `edgeos server` bundled as the product ships it (scripts/bundle.ts, minified
// as the single executable's), so the RSS it reports has no TypeScript stripper in it
// (~40 MB). better-sqlite3 stays external: a plain `node dist/edgeos.cjs` looks for the addon at
// <bundle dir>/../build/Release (only the SEA carries it), while an external better-sqlite3
// resolves from node_modules as the bundle lives under the repo (.cache/bench). It runs with exactly
// the server role's V8 flags (src/common/v8-flags.ts), which the single executable applies too.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'undici';
import { parse } from 'yaml';
import { bundle } from '../../scripts/bundle.ts';
import { launchEnvOf, v8Flags } from '../../src/common/v8-flags.ts';

const REPO = resolve(import.meta.dirname, '../..');

export interface Credentials {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface BenchServer {
  readonly url: string;
  readonly pid: number;
  readonly creds: Credentials;
  /** VmRSS and VmHWM of the server process, in MB. */
  memory(): { rssMb: number; hwmMb: number };
  /**
   * Full GCs in the server (SIGUSR2 → the preload below), then `idleMs` of nothing; returns, in MB
   * right after the GCs, the server's process.memoryUsage(), its resident memory split from
   * /proc/self/smaps_rollup and the sizes of V8's heap spaces.
   */
  settle(idleMs: number): Promise<Record<'usage' | 'rollup' | 'spaces' | 'v8', Record<string, number>>>;
  output(): string;
  stop(): Promise<void>;
}

async function bundleServer(): Promise<string> {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  mkdirSync(join(REPO, '.cache', 'bench'), { recursive: true });
  // Minified (names kept) as scripts/build-sea.ts bundles the single executable: an unminified
  // bundle keeps comments with non-ASCII characters, which makes V8 hold the whole 5.5 MB source
  // as a two-byte string (11 MB of heap the product does not have).
  return bundle({ entry: join(REPO, 'src/cli/main.ts'), outfile: join(REPO, '.cache', 'bench', 'edgeos-api.cjs'), minify: true, external: ['better-sqlite3'], version: pkg.version });
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function readCredentials(kubeconfig: string): Credentials {
  const kc = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const dec = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');
  return {
    ca: dec(kc.clusters[0]?.cluster['certificate-authority-data']),
    cert: dec(kc.users[0]?.user['client-certificate-data']),
    key: dec(kc.users[0]?.user['client-key-data']),
  };
}

function statusMb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

async function stopChild(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(pid, 'SIGTERM');
  const killer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  }, 10_000);
  await exited;
  clearTimeout(killer);
}

async function waitReady(url: string, kubeconfig: string, child: ChildProcess, out: () => string): Promise<Credentials> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`edgeos server exited with ${child.exitCode}:\n${out()}`);
    if (Date.now() > deadline) throw new Error(`edgeos server was not ready within 60 s:\n${out()}`);
    if (existsSync(kubeconfig)) {
      const creds = readCredentials(kubeconfig);
      const client = new Client(url, { connect: { ca: creds.ca, cert: creds.cert, key: creds.key } });
      try {
        const r = await client.request({ path: '/readyz', method: 'GET' });
        await r.body.dump();
        if (r.statusCode === 200) return creds;
      } catch { /* not listening yet */ } finally {
        await client.close();
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Bundles and starts `edgeos server --disable-controllers`; the caller must stop() it (try/finally). */
export async function startBundledServer(): Promise<BenchServer> {
  const entry = await bundleServer();
  const dir = mkdtempSync(join(tmpdir(), 'edgeos-bench-api-'));
  let child: ChildProcess | undefined;
  try {
    // Lets the bench force full GCs in the server without touching the product: a preload that
    // only installs a signal handler (the server does not use SIGUSR2) and reports the heap split.
    const preload = join(dir, 'settle.cjs');
    const memFile = join(dir, 'memory.json');
    // Besides process.memoryUsage() it reports the split of resident memory (/proc smaps_rollup:
    // anonymous vs file pages) and V8's heap spaces, so a reader can tell heap from native.
    writeFileSync(preload, [
      "process.on('SIGUSR2', () => {",
      '  for (let i = 0; i < 3; i++) globalThis.gc();',
      "  const fs = require('node:fs');",
      "  const rollup = Object.fromEntries([...fs.readFileSync('/proc/self/smaps_rollup', 'utf8').matchAll(/^(Rss|Anonymous|Shared_Clean|Private_Clean|Private_Dirty):\\s+(\\d+) kB/gm)].map((m) => [m[1], Number(m[2]) * 1024]));",
      "  const spaces = Object.fromEntries(require('node:v8').getHeapSpaceStatistics().map((s) => [s.space_name.replace(/_space$/, ''), s.space_size]));",
      "  const h = require('node:v8').getHeapStatistics();",
      "  const v8stats = { physical: h.total_physical_size, malloced: h.malloced_memory, external: h.external_memory };",
      `  fs.writeFileSync(${JSON.stringify(memFile)}, JSON.stringify({ usage: process.memoryUsage(), rollup, spaces, v8: v8stats }));`,
      '});',
    ].join('\n'));
    const port = await freePort();
    const kubeconfig = join(dir, 'kc.yaml');
    const env = { ...process.env, ...launchEnvOf('server'), EDGEOS_LOG_LEVEL: 'warn' };
    child = spawn(process.execPath, [
      ...v8Flags.server, '--expose-gc', '--require', preload, entry, 'server',
      '--data-dir', join(dir, 'data'), '--bind-address', '127.0.0.1', '--https-listen-port', String(port),
      '--disable-agent', '--disable-controllers', '--write-kubeconfig', kubeconfig, '--log-level', 'warn',
    ], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env });
    const started = child;
    const pid = started.pid;
    if (pid === undefined) throw new Error('edgeos server did not start');
    let out = '';
    const keep = (b: Buffer): void => {
      out = (out + b.toString()).slice(-20_000);
    };
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    const url = `https://127.0.0.1:${port}`;
    const creds = await waitReady(url, kubeconfig, started, () => out);
    return {
      url,
      pid,
      creds,
      memory: () => ({ rssMb: statusMb(pid, 'VmRSS'), hwmMb: statusMb(pid, 'VmHWM') }),
      settle: async (idleMs) => {
        rmSync(memFile, { force: true });
        process.kill(pid, 'SIGUSR2');
        await new Promise((r) => setTimeout(r, idleMs));
        const report = JSON.parse(readFileSync(memFile, 'utf8')) as Record<'usage' | 'rollup' | 'spaces' | 'v8', Record<string, number>>;
        const mb = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v / 1024 / 102.4) / 10]));
        return { usage: mb(report.usage), rollup: mb(report.rollup), spaces: mb(report.spaces), v8: mb(report.v8) };
      },
      output: () => out,
      stop: async () => {
        try {
          await stopChild(started, pid);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    if (child?.pid !== undefined) await stopChild(child, child.pid);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
