// Leaves the host as a runtime test found it: pods removed through CRI (which also tears down
// their netns, veths and iptables rules via CNI DEL), containerd stopped by pid, leftover mounts
// under the data dir unmounted, the test's bridge deleted, the data dir removed.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCgroupMounts } from '../../src/agent/kubelet/cgroupfs.ts';
import { CriClient } from '../../src/runtime/cri/client.ts';

export async function removeAllPods(socket: string): Promise<void> {
  const client = new CriClient({ endpoint: socket, defaultTimeoutMs: 30_000 });
  try {
    const { items } = await client.call('ListPodSandbox', { filter: null }, { timeoutMs: 5000 });
    // Each sandbox stopped and removed side by side: containerd tears their networks down in
    // parallel, as it does for a kubelet.
    await Promise.all(items.map(async (s) => {
      await client.call('StopPodSandbox', { podSandboxId: s.id }).catch(() => undefined);
      await client.call('RemovePodSandbox', { podSandboxId: s.id }).catch(() => undefined);
    }));
  } catch {
    // containerd already gone: nothing to remove through it.
  } finally {
    client.close();
  }
}

export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // Already gone with its parent.
    }
  }
}

export function deleteLink(name: string): void {
  try {
    execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
  } catch {
    // Not there.
  }
}

export function killPid(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already exited.
  }
}

function rmdirTree(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmdirTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // A process still in it, or already gone.
  }
}

/**
 * The QoS cgroup tree the agent of `dir` recorded (<dir>/agent/kubelet/cgroup-root), by rmdir in
 * every hierarchy, with its /edgeos-<hex> parent: what edgeos-killall does on a device.
 */
export function removeAgentCgroups(dir: string): void {
  let root: string;
  try {
    root = readFileSync(join(dir, 'agent', 'kubelet', 'cgroup-root'), 'utf8').trim();
  } catch {
    return;
  }
  if (!root.endsWith('/kubepods')) return;
  const { hierarchies } = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  const parent = root.slice(0, -'/kubepods'.length);
  for (const h of hierarchies) {
    rmdirTree(h.mount + root);
    if (/^\/edgeos-[0-9a-f]{8}$/.test(parent)) rmdirTree(h.mount + parent);
  }
}

export function removeDataDir(dir: string): void {
  removeAgentCgroups(dir);
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}
