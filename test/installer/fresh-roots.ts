// Fresh root file systems for the installer's end-to-end test: each root is an overlayfs whose
// lower layer is the host's / and whose upper layer starts empty, so everything the installer,
// edgeos and uninstall write lands in the upper dir, where the test can list it.
//
// All roots live in ONE private mount namespace, held open by a `sleep` that `unshare` starts:
// killing that process drops every mount made inside (overlays, proc, the netns bind mounts CNI
// makes), even when the test fails half-way. One namespace for all roots matters: the killall
// script finds edgeos by /proc/<pid>/exe, which resolves to /usr/local/bin/edgeos only from inside
// the same root (from another root of the same namespace it is the full overlay path), just as a
// second host's edgeos would never match.
//
// What the overlay does not isolate (the roots model hosts that share one kernel):
// - /run is one tmpfs made by the test and bound into every root, so the roots share it as
//   processes on one host share /run (netns files, containerd's shim sockets). It is not the
//   host's /run, except for /run/edgeos with the pod CIDR claims: the host's is bound in, because
//   the roots' agents share the host's network namespace with every other agent on it (other
//   tests), and the claims are what keeps their bridge subnets apart. (/run/edgeos itself, not
//   pod-cidrs: edgeos-killall.sh unmounts whatever is mounted below /run/edgeos.)
// - `sameAs` directories of the host appear at the same path in every root (the data dirs): an
//   agent decides whether another agent's claim is stale by reading that agent's data dir, which
//   must therefore be visible at its own path from the host and from each root. (With per-root
//   data dirs the second agent took over the first one's 10.42.0.0/24.)
// - /proc, /sys (with the cgroup mounts) and /dev are the host's; the network namespace is the
//   host's too (loopback between server and device; bridges, veths and iptables rules are
//   visible on the host, which is why the test checks them there).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { maskLayerScript } from '../helpers/host-edgeos-state.ts';

export interface FreshRoots {
  /** The pid of the process holding the mount namespace. */
  readonly holder: number;
  /** Path of a root's merged tree as the host sees it (through /proc/<holder>/root). */
  merged(name: string): string;
  /** Path of a root's upper dir as the host sees it. */
  upper(name: string): string;
  /** Path of the shared /run as the host sees it. */
  run(): string;
  /** argv that runs `argv` chrooted into a root, with exactly `env`. */
  chrootArgv(name: string, env: Record<string, string>, argv: string[]): string[];
  /**
   * The namespace's mounts below `dir` (mount point and type per line). The rest of its table is a
   * copy of the host's at unshare time, which other tests on the host change meanwhile.
   */
  mounts(): string[];
  /** Pids of every process in the namespace except the holder. */
  processes(): number[];
  close(): void;
}

const ns = (pid: number | string) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
};

export const HOST_CLAIMS_DIR = '/run/edgeos/pod-cidrs';
const HOST_EDGEOS_RUN = '/run/edgeos';

/**
 * Mounts one overlay root per name below `dir`. `sameAs` directories must exist before, as must
 * any file the roots read from the host through the lower layer (the binary under test).
 */
export async function freshRoots(dir: string, names: string[], sameAs: string[] = []): Promise<FreshRoots> {
  mkdirSync(dir, { recursive: true });
  mkdirSync(HOST_CLAIMS_DIR, { recursive: true });
  const script = [
    'set -eu',
    `mount -t tmpfs -o mode=0755 edgeos-e2e "${dir}"`,
    `mkdir -p "${dir}/run/edgeos"`,
    `mount --bind "${HOST_EDGEOS_RUN}" "${dir}/run/edgeos"`,
    // Whiteouts that hide the host's own edgeos (README line 1 or an install) from every root.
    `mkdir -p "${dir}/mask"`,
    ...maskLayerScript(`${dir}/mask`),
    ...names.flatMap((n) => [
      `mkdir -p "${dir}/${n}/upper" "${dir}/${n}/work" "${dir}/${n}/root"`,
      // The upper dir is on the tmpfs, not below the lower layer: overlayfs refuses overlapping layers.
      `mount -t overlay overlay -o "lowerdir=${dir}/mask:/,upperdir=${dir}/${n}/upper,workdir=${dir}/${n}/work" "${dir}/${n}/root"`,
      `mount -t proc proc "${dir}/${n}/root/proc"`,
      `mount --rbind /sys "${dir}/${n}/root/sys"`,
      `mount --rbind /dev "${dir}/${n}/root/dev"`,
      `mount --rbind "${dir}/run" "${dir}/${n}/root/run"`, // rbind: with the claims dir in it
      ...sameAs.map((d) => `mount --bind "${d}" "${dir}/${n}/root${d}"`),
    ]),
    'echo ready',
    'exec sleep 3600',
  ].join('\n');
  const child: ChildProcess = spawn('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && ok());
    child.on('exit', (code) => fail(new Error(`setting up the fresh roots failed (${code}): ${err}`)));
    child.on('error', fail);
  });
  const holder = child.pid!;
  const inside = (p: string) => `/proc/${holder}/root${p}`;
  return {
    holder,
    merged: (n) => inside(`${dir}/${n}/root`),
    upper: (n) => inside(`${dir}/${n}/upper`),
    run: () => inside(`${dir}/run`),
    chrootArgv: (n, env, argv) => ['nsenter', `--target=${holder}`, '--mount', '--', 'chroot', `${dir}/${n}/root`, 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv],
    mounts: () =>
      readFileSync(`/proc/${holder}/mounts`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ').slice(1, 3).join(' '))
        .filter((m) => m.startsWith(`${dir}/`) || m.startsWith(`${dir} `)),
    processes: () => {
      const mine = ns(holder);
      return readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p) && Number(p) !== holder && ns(p) === mine)
        .map(Number);
    },
    close: () => {
      try {
        process.kill(holder, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
}

/** Every file and directory below `dir`, relative, sorted; directories end with '/'. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(`${p}/`);
        walk(p);
      } else out.push(p);
    }
  };
  walk('');
  return out.sort();
}

/** Runs argv to completion (bounded); the child is killed by its PID on timeout. */
export function runSync(argv: string[], timeoutMs = 60_000, input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', ...(input !== undefined ? { input } : {}) });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
