/**
 * Test harness of the link and join tests: the real `edgeos server` process on a fixed loopback
 * port (so it can be killed, restarted on the same port, or frozen with SIGSTOP), and agents run
 * in the test process through the real join and agent code, without a container runtime.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { createAgent } from '../../src/agent/agent.ts';
import type { Agent } from '../../src/agent/agent.ts';
import { joinCluster } from '../../src/agent/join/join.ts';
import type { TunnelHandler } from '../../src/common/tunnel.ts';
import type { ContainerRuntime } from '../../src/runtime/types.ts';
import { silentLogger, createLogger } from '../../src/common/log.ts';
import { createApiHandler } from '../../src/server/api/index.ts';
import { createEdgeosServer, resolveServerConfig } from '../../src/server/index.ts';
import type { EdgeosServer, ServerDeps } from '../../src/server/index.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import type { KubectlTarget } from '../helpers/kubectl.ts';
import { onProcessEnd } from '../helpers/process-end.ts';

export const REPO = resolve(import.meta.dirname, '../..');
export const testLog = process.env.EDGEOS_TEST_LOG ? createLogger({ level: process.env.EDGEOS_TEST_LOG }) : silentLogger();

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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

/** API answers, read by path in assertions (a failed path read fails the test, which is the point). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiJson = any;

export interface ServerProcess extends KubectlTarget {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  pid(): number | undefined;
  output(): string;
  /** The default join token the server wrote. */
  token(): string;
  start(): Promise<void>;
  /** SIGTERM (or SIGKILL) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: ApiJson }>;
  /** Stops the process and removes the directory. */
  dispose(): Promise<void>;
}

/**
 * `extraArgs` go to `edgeos server`; `o.nodeArgs` to Node before the script (bench/fleet's
 * --cpu-prof); `o.parentDir` holds the server's directory (default the OS's temporary directory).
 * The directory and the process end with this process even when it does not reach dispose()
 * (a start that fails, process.exit(), a signal it does not handle: helpers/process-end.ts).
 */
export async function serverProcess(extraArgs: string[] = [], o: { nodeArgs?: readonly string[]; parentDir?: string } = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(o.parentDir ?? tmpdir(), 'edgeos-link-'));
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'kc.yaml');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let out = '';
  const forget = onProcessEnd(() => {
    const pid = child?.pid;
    if (pid !== undefined && child?.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGTERM');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const creds = () => {
    const kc = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
    const dec = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
    return { ca: dec(kc.clusters[0]?.cluster['certificate-authority-data']), cert: dec(kc.users[0]?.user['client-certificate-data']), key: dec(kc.users[0]?.user['client-key-data']) };
  };

  function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: ApiJson }> {
    const c = creds();
    return new Promise((res, rej) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${url}${path}`, { method, ca: c.ca, cert: c.cert, key: c.key, agent: false, timeout: 10_000, headers: text ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {} }, (r) => {
        let data = '';
        r.on('data', (b: Buffer) => (data += b.toString()));
        r.on('end', () => {
          let parsed: unknown = data;
          try {
            parsed = JSON.parse(data);
          } catch {
            /* text */
          }
          res({ status: r.statusCode ?? 0, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', rej);
      req.end(text);
    });
  }

  async function start(): Promise<void> {
    const c = spawn(
      process.execPath,
      [...(o.nodeArgs ?? []), join(REPO, 'src/cli/main.ts'), 'server', '--data-dir', join(dir, 'data'), '--bind-address', '127.0.0.1', '--https-listen-port', String(port), '--disable-agent', '--write-kubeconfig', kubeconfig, ...extraArgs],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEOS_LOG_LEVEL: 'info' } },
    );
    child = c;
    c.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    exited = new Promise<void>((r) => c.once('exit', () => r()));
    // (waitFor retries a check that throws: an exit is an answer, not a failed check.)
    const state = await waitFor(`edgeos server on port ${port}:\n${out}`, async () => {
      if (c.exitCode !== null || c.signalCode !== null) return 'exited';
      const r = await api('GET', '/readyz').catch(() => undefined);
      return r?.status === 200 ? 'ready' : undefined;
    }, 60_000);
    if (state === 'exited') throw new Error(`edgeos server exited with ${c.exitCode ?? c.signalCode}:\n${out}`);
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = child;
    if (!c || c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
    process.kill(c.pid, 'SIGCONT');
    process.kill(c.pid, signal);
    const killer = setTimeout(() => c.pid !== undefined && c.exitCode === null && process.kill(c.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }

  try {
    await start();
  } catch (err) {
    await stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    forget();
    throw err;
  }
  return {
    dir,
    port,
    url,
    kubeconfig,
    cacheDir: join(dir, 'kube-cache'),
    pid: () => child?.pid,
    output: () => out,
    token: () => readFileSync(join(dir, 'data', 'server', 'token'), 'utf8').trim(),
    start,
    stop,
    signal: (sig) => {
      if (child?.pid !== undefined) process.kill(child.pid, sig);
    },
    api,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}

/**
 * The real server in this process (so a test can call its NodeTunnel, or give it a local agent),
 * on a free loopback port, with the API and no controllers; the admin kubeconfig is <dir>/kc.yaml.
 */
export async function startInProcessServer(dir: string, signal: AbortSignal, extra: Pick<ServerDeps, 'startLocalAgent'> = {}): Promise<{ server: EdgeosServer; port: number }> {
  const port = await freePort();
  const config = resolveServerConfig({ dataDir: join(dir, 'data'), bindAddress: '127.0.0.1', httpsListenPort: String(port), writeKubeconfig: join(dir, 'kc.yaml') }, {});
  const server = createEdgeosServer({
    config,
    log: testLog,
    build: { version: 'v0.0.0-test', commit: 'test' },
    openStore: (o) => openSqliteStore(o),
    mountApi: (deps) => createApiHandler(deps),
    onFailure: (err) => {
      throw err;
    },
    ...extra,
  });
  await server.start(signal);
  await server.ready;
  return { server, port };
}

export interface TestAgent {
  readonly agent: Agent;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/**
 * Joins `name` with `token` and runs its agent in this process (link + cache; no runtime, or the
 * kubelet over `o.runtime`, e.g. the in-memory FakeRuntime).
 */
export async function startTestAgent(
  token: string,
  name: string,
  parentDir: string,
  o: { tunnelHandler?: TunnelHandler; pingIntervalMs?: number; leaseIntervalMs?: number; labels?: Record<string, string>; runtime?: ContainerRuntime } = {},
): Promise<TestAgent> {
  const dataDir = join(parentDir, `agent-${name}`);
  await joinCluster({ token, nodeName: name, dataDir, register: { labels: o.labels ?? {}, taints: [] }, log: testLog });
  const agent = createAgent({
    dataDir,
    log: testLog,
    runtime: o.runtime ? { instance: o.runtime } : false,
    onFailure: (err) => {
      throw err;
    },
    backoff: { initialMs: 200, maxMs: 2000 },
    ...(o.tunnelHandler ? { tunnelHandler: o.tunnelHandler } : {}),
    ...(o.pingIntervalMs ? { pingIntervalMs: o.pingIntervalMs } : {}),
    ...(o.leaseIntervalMs ? { leaseIntervalMs: o.leaseIntervalMs } : {}),
  });
  const ac = new AbortController();
  await agent.start(ac.signal);
  await agent.ready;
  return { agent, dataDir, stop: () => agent.stop() };
}
