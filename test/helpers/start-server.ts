/**
 * Starts the real `edgeos server` (node src/cli/main.ts server) on a free loopback port with its own
 * data dir and kubeconfig, waits for /readyz, and stops it by PID. Every integration test that
 * drives kubectl goes through this.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { KubectlTarget } from './kubectl.ts';

const REPO = resolve(import.meta.dirname, '../..');

export interface RunningServer extends KubectlTarget {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Everything the server wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** The process's exit code once it exited (null while running or when killed by a signal). */
  exitCode(): number | null;
  /** GET/POST/... with the admin client certificate from the kubeconfig. */
  request(method: string, path: string, opts?: { body?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
  stop(): Promise<void>;
}

/** A TCP port free on loopback right now (servers the tests start listen on it). */
export function freePort(): Promise<number> {
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

export interface Credentials {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** The CA and the admin client certificate a kubeconfig embeds. */
export function readCredentials(kubeconfig: string): Credentials {
  const kc = parse(readFileSync(kubeconfig, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[];
    users: { user: Record<string, string> }[];
  };
  const dec = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');
  return {
    ca: dec(kc.clusters[0]?.cluster['certificate-authority-data']),
    cert: dec(kc.users[0]?.user['client-certificate-data']),
    key: dec(kc.users[0]?.user['client-key-data']),
  };
}

function httpsRequest(creds: Credentials, url: string, method: string, opts: { body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((res, rej) => {
    const length = opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) };
    const req = request(url, { method, ca: creds.ca, cert: creds.cert, key: creds.key, headers: { ...length, ...(opts.headers ?? {}) }, timeout: 10_000 }, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => (body += b.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', rej);
    req.end(opts.body);
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  process.kill(child.pid, 'SIGTERM');
  const killer = setTimeout(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, 10_000);
  await exited;
  clearTimeout(killer);
}

export interface StartOptions {
  extraArgs?: string[];
  readyTimeoutMs?: number;
  /** Reuse the directory of a stopped server (restart tests); the caller then owns its removal. */
  dir?: string;
  /** Listen on this port (a restart where agents hold the old address); default a free one. */
  port?: number;
  /** Run the server's local agent (no --disable-agent): it starts a containerd under the data dir. */
  localAgent?: boolean;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'edgeos-server-'));
  const port = opts.port ?? (await freePort());
  const kubeconfig = join(dir, 'kc.yaml');
  const child = spawn(
    process.execPath,
    [join(REPO, 'src/cli/main.ts'), 'server', '--data-dir', join(dir, 'data'), '--bind-address', '127.0.0.1', '--https-listen-port', String(port), ...(opts.localAgent ? [] : ['--disable-agent']), '--write-kubeconfig', kubeconfig, ...(opts.extraArgs ?? [])],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEOS_LOG_LEVEL: process.env.EDGEOS_LOG_LEVEL ?? 'info' } },
  );
  if (child.pid === undefined) throw new Error('edgeos server did not start');
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  let creds: Credentials | undefined;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`edgeos server exited with ${child.exitCode}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`edgeos server was not ready within the timeout:\n${out}`);
      if (!creds && existsSync(kubeconfig)) creds = readCredentials(kubeconfig);
      if (creds) {
        const ready = await httpsRequest(creds, `${url}/readyz`, 'GET').catch(() => undefined);
        if (ready?.status === 200) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stopChild(child, exited);
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const c = creds;
  return {
    dir,
    port,
    url,
    pid: child.pid,
    kubeconfig,
    cacheDir: join(dir, 'kube-cache'),
    output: () => out,
    exitCode: () => child.exitCode,
    request: (method, path, o) => httpsRequest(c, `${url}${path}`, method, o),
    stop: async () => {
      await stopChild(child, exited);
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
