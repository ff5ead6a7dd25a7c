// A fresh machine without any network, for the air-gapped install test: a network namespace with
// only lo up (no route at all) and, in a private mount namespace, an overlayfs whose lower layer is
// the host's root (read-only to us: writes land in a tmpfs upper layer). /run, /tmp and /var/lib
// are empty tmpfs mounts (containerd's overlayfs snapshotter cannot sit on an overlayfs), /proc is
// new, /sys is the netns's sysfs with the host's cgroup hierarchies bound below it, /dev is bound.
// Commands run inside with `nsenter` into the holder process's namespaces, then `chroot`.
//
// Cleanup kills, by PID, every process of the mount namespace and their descendants (the pods'
// processes hang below the shims), then the holder; its mounts go with the namespace. Then the
// netns and the temp dir are removed.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskLayerScript } from '../helpers/host-edgeos-state.ts';

export interface Result { status: number | null; stdout: string; stderr: string }

/** The environment of every command inside: what a root shell on a plain machine has. */
export const ROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Why this host cannot run the test, or undefined. */
export function freshRootUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network and mount namespaces, overlayfs, chroot)';
  for (const tool of ['ip', 'nsenter', 'unshare', 'chroot']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool} (util-linux, iproute2)`;
  }
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return 'needs overlayfs';
  return undefined;
}

function runAsync(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((ok, fail) => {
    const child = spawn(file, args, { env: opts.env ?? { PATH: ROOT_PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
      fail(new Error(`${file} ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); fail(err); });
    child.on('close', (status) => { clearTimeout(timer); ok({ status, stdout, stderr }); });
    child.stdin.on('error', () => {}); // a command that exits without reading its input
    child.stdin.end(opts.input ?? '');
  });
}

// The mask layer hides the host's own edgeos (README line 1 or an install) from the fresh machine.
const SETUP = `set -eu
B=$1
R=$B/root
mount -t tmpfs -o mode=0755 edgeos-fresh-layers "$B/layers"
mkdir "$B/layers/upper" "$B/layers/work" "$B/layers/mask"
${maskLayerScript('$B/layers/mask').join('\n')}
mount -t overlay edgeos-fresh-root -o "lowerdir=$B/layers/mask:/,upperdir=$B/layers/upper,workdir=$B/layers/work" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount --rbind /sys/fs/cgroup "$R/sys/fs/cgroup"
mount --rbind /dev "$R/dev"
for d in run tmp var/lib; do mount -t tmpfs -o mode=0755 "edgeos-fresh-$(echo $d | tr / -)" "$R/$d"; done
chmod 1777 "$R/tmp"
# libmount keeps its utab here; every real machine has it (umount would create it).
mkdir "$R/run/mount"
echo ready
exec sleep 86400
`;

export class FreshRoot {
  readonly dir: string;
  /** The merged root, as a path inside the holder's mount namespace (not visible from the host). */
  readonly root: string;
  readonly upper: string;
  readonly netns: string;
  private holder: ChildProcess | undefined;
  private holderMntNs = '';

  private constructor(dir: string, netns: string) {
    this.dir = dir;
    this.root = join(dir, 'root');
    this.upper = join(dir, 'layers', 'upper');
    this.netns = netns;
  }

  static async create(prefix: string): Promise<FreshRoot> {
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    const netns = `${prefix}-${process.pid}`.slice(0, 40);
    const fr = new FreshRoot(dir, netns);
    try {
      mkdirSync(join(dir, 'layers'));
      mkdirSync(fr.root);
      writeFileSync(join(dir, 'setup.sh'), SETUP);
      const add = spawnSync('ip', ['netns', 'add', netns], { encoding: 'utf8' });
      if (add.status !== 0) throw new Error(`ip netns add ${netns}: ${add.stderr}`);
      const lo = spawnSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
      if (lo.status !== 0) throw new Error(`lo up in ${netns}: ${lo.stderr}`);
      // nsenter and unshare exec (no fork without a PID namespace), so the child's PID is the holder.
      const holder = spawn('nsenter', [`--net=/var/run/netns/${netns}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', join(dir, 'setup.sh'), dir],
        { env: { PATH: ROOT_PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
      fr.holder = holder;
      let out = '';
      await new Promise<void>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`fresh root setup did not finish: ${out}`)), 20_000);
        const onData = (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready\n')) { clearTimeout(timer); ok(); }
        };
        holder.stdout.on('data', onData);
        holder.stderr.on('data', onData);
        holder.on('exit', (code) => { clearTimeout(timer); fail(new Error(`fresh root setup failed (${code}): ${out}`)); });
      });
      fr.holderMntNs = readlinkSync(`/proc/${holder.pid}/ns/mnt`);
      return fr;
    } catch (err) {
      await fr.close();
      throw err;
    }
  }

  private enter(): string[] {
    return ['-t', String(this.holder!.pid), '-m', '-n', '--'];
  }

  /** A command in the holder's namespaces with host paths (to copy in, to inspect the layers). */
  outside(args: string[], timeoutMs?: number): Promise<Result> {
    return runAsync('nsenter', [...this.enter(), ...args], { timeoutMs });
  }

  private chrootArgs(args: string[], env: Record<string, string>): string[] {
    const vars = Object.entries({ PATH: ROOT_PATH, HOME: '/tmp/home', LANG: 'C', ...env }).map(([k, v]) => `${k}=${v}`);
    return [...this.enter(), 'chroot', this.root, '/usr/bin/env', '-i', ...vars, ...args];
  }

  /** A command inside the fresh machine. */
  run(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<Result> {
    return runAsync('nsenter', this.chrootArgs(args, opts.env ?? {}), { ...(opts.input === undefined ? {} : { input: opts.input }), ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
  }

  /** A long-running command inside; nsenter, chroot and env exec, so the child's PID is the command's. */
  start(args: string[], env: Record<string, string> = {}): ChildProcess {
    return spawn('nsenter', this.chrootArgs(args, env), { env: { PATH: ROOT_PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** PIDs of the mount namespace (the holder excepted) and all their descendants. */
  processes(): number[] {
    const parent = new Map<number, number>();
    const members = new Set<number>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      try {
        const ppid = /^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (ppid) parent.set(pid, Number(ppid[1]));
        if (pid !== this.holder?.pid && readlinkSync(`/proc/${pid}/ns/mnt`) === this.holderMntNs) members.add(pid);
      } catch { /* exited meanwhile */ }
    }
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, ppid] of parent) {
        if (!members.has(pid) && members.has(ppid)) { members.add(pid); grew = true; }
      }
    }
    return [...members];
  }

  async close(): Promise<void> {
    if (this.holder?.pid && this.holderMntNs) {
      for (let i = 0; i < 10; i++) {
        const pids = this.processes();
        if (pids.length === 0) break;
        for (const pid of pids) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    if (this.holder?.pid && this.holder.exitCode === null && this.holder.signalCode === null) {
      const exited = new Promise((r) => this.holder!.once('exit', r));
      process.kill(this.holder.pid, 'SIGKILL');
      await exited;
    }
    spawnSync('ip', ['netns', 'del', this.netns]);
    // The mounts lived in the holder's namespace and are gone with it; nothing below dir is mounted.
    rmSync(this.dir, { recursive: true, force: true });
  }
}
