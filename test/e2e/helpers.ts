/**
 * What the end-to-end tests share: edgeos processes started and stopped by PID, load-tolerant
 * waits, and the clean-up of a device whose agent has stopped (its pods keep running by design,
 * so a containerd of the test's own on the agent's data dir removes them through CRI).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { join, resolve } from 'node:path';
import { claimsDirOf } from '../../src/runtime/cni/pod-cidr.ts';
import { silentLogger } from '../../src/common/log.ts';
import { ContainerdSupervisor } from '../../src/runtime/containerd/supervisor.ts';
import { CriClient } from '../../src/runtime/cri/client.ts';
import { resolveRuntimeConfig } from '../../src/runtime/index.ts';
import type { RunningServer } from '../helpers/start-server.ts';
import { deleteLink, removeAllPods, removeDataDir } from '../runtime/cleanup.ts';

export const REPO = resolve(import.meta.dirname, '../..');

/** `node src/cli/main.ts <args>`, everything it prints handed to `onOutput`. */
export function spawnEdgeos(args: string[], onOutput: (s: string) => void): ChildProcess {
  const child = spawn(process.execPath, [join(REPO, 'src/cli/main.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (b: Buffer) => onOutput(b.toString()));
  child.stderr?.on('data', (b: Buffer) => onOutput(b.toString()));
  return child;
}

/** SIGTERM by PID and wait for the exit; SIGKILL after 15 s. */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

/** Poll `fn` until it yields a value (not undefined/false); `context` is appended to a timeout. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000, context: () => string = () => ''): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** RunningServer.stop() removes a directory it created; this stops the process only. */
export async function stopServerKeepingData(s: RunningServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const exited = waitForExit(s.pid);
  process.kill(s.pid, signal);
  await exited;
}

export async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
}

export function httpGet(url: string): Promise<string> {
  return new Promise((res, rej) => {
    const req = get(url, { timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => (body += b.toString()));
      r.on('end', () => res(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', rej);
  });
}

/** The pod CIDR the agent of `dataDir` picked and kept, if it got that far. */
export function keptPodCidr(dataDir: string): string | undefined {
  const kept = join(dataDir, 'agent', 'pod-cidr');
  return existsSync(kept) ? readFileSync(kept, 'utf8').trim() : undefined;
}

/**
 * The agent of `dataDir` has stopped (its containerd with it) and left its pods running: start a
 * containerd on the same data dir with the config the agent wrote, and remove every pod through
 * CRI, which also tears down their network namespaces and rules (the CNI config is on disk too).
 * Only containerd, not the whole runtime: a runtime start re-checks the pod CIDR against the
 * host's routes, and clean-up must not depend on what other agents on the host do meanwhile.
 */
export async function removePodsOfStoppedAgent(dataDir: string): Promise<void> {
  const paths = resolveRuntimeConfig({ dataDir }).containerd;
  if (!paths || !existsSync(paths.configFile)) return;
  const cri = new CriClient({ endpoint: paths.address, defaultTimeoutMs: 5000 });
  // Also stops a containerd the agent left behind (pid file), if it was killed before stopping it.
  const containerd = new ContainerdSupervisor({ paths, log: silentLogger(), probe: async () => void (await cri.call('Version', {}, { timeoutMs: 1000 })) });
  try {
    await containerd.start(AbortSignal.timeout(120_000));
    await removeAllPods(paths.address);
  } finally {
    cri.close();
    await containerd.stop();
  }
}

/**
 * The agent claimed a pod CIDR host-wide (/run/edgeos/pod-cidrs, or its subdirectory of the
 * network namespace `netns` the agent ran in); give it back.
 */
export function releasePodCidrClaim(dataDir: string, netns?: string): void {
  const cidr = keptPodCidr(dataDir);
  if (!cidr) return;
  const dir = claimsDirOf(netns ? statSync(`/var/run/netns/${netns}`).ino : undefined);
  const claim = join(dir, cidr.replace('/', '_'));
  if (existsSync(claim) && readFileSync(claim, 'utf8').trim() === dataDir) rmSync(claim);
  // A namespace's own directory goes with its last claim.
  if (netns) rmSync(dir, { recursive: true, force: true });
}

/**
 * After a test with a joined agent: stop the agent first (so its kubelet cannot recreate what is
 * removed), then the server, then remove the device's pods through a containerd of our own, its
 * bridge, its pod CIDR claim and its data dir.
 */
export async function removeJoinedDevice(agent: ChildProcess | undefined, server: RunningServer | undefined, agentDir: string): Promise<void> {
  try {
    await stopProcess(agent);
    await server?.stop();
  } finally {
    await removePodsOfStoppedAgent(agentDir);
    deleteLink(resolveRuntimeConfig({ dataDir: agentDir }).cni.bridge);
    releasePodCidrClaim(agentDir);
    removeDataDir(agentDir);
  }
}
