// The cgroupfs side of the QoS cgroups (qos-cgroups.ts): which hierarchies the host mounts, and
// creating, setting and removing one cgroup by its absolute path (`/kubepods/besteffort`), the way
// runc's cgroupfs driver places a container's cgroupsPath: `<mount point><path>` in every hierarchy.
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One mounted hierarchy: a v1 one with its controllers (`name=systemd` for a named one), or the v2 one. */
export interface CgroupHierarchy {
  readonly mount: string;
  readonly version: 1 | 2;
  readonly controllers: readonly string[];
}

export interface CgroupLayout {
  /** 2 when /sys/fs/cgroup is cgroup2 (unified); 1 otherwise (a hybrid host's cgroup2 mount is only cleaned up). */
  readonly version: 1 | 2;
  /** Every cgroup hierarchy mounted (runc creates a container's path in each). */
  readonly hierarchies: readonly CgroupHierarchy[];
}

/** The settings the kubelet gives a QoS or pod cgroup, in cgroup v1 units (as kubelet's ResourceConfig). */
export interface CgroupSettings {
  cpuShares?: number;
  cpuQuotaUs?: number;
  cpuPeriodUs?: number;
  memoryLimitBytes?: number;
}

/** The mount-point field of /proc/self/mountinfo escapes space, tab, newline and backslash as octal. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The cgroup mounts of a mountinfo text. */
export function parseCgroupMounts(mountinfo: string): CgroupLayout {
  const hierarchies: CgroupHierarchy[] = [];
  let unified = false;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const mount = unescape(line.slice(0, sep).split(' ')[4] ?? '');
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    if (fstype === 'cgroup2') {
      hierarchies.push({ mount, version: 2, controllers: [] });
      if (mount === '/sys/fs/cgroup') unified = true;
    } else if (fstype === 'cgroup') {
      const controllers = superOptions.split(',').filter((o) => !['rw', 'ro'].includes(o) && (o.startsWith('name=') || !o.includes('=')) && !['clone_children', 'noprefix', 'xattr', 'cpuset_v2_mode'].includes(o));
      hierarchies.push({ mount, version: 1, controllers });
    }
  }
  return unified ? { version: 2, hierarchies: hierarchies.filter((h) => h.version === 2 && h.mount === '/sys/fs/cgroup') } : { version: 1, hierarchies };
}

export async function readCgroupLayout(): Promise<CgroupLayout> {
  return parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8'));
}

const hierarchyOf = (l: CgroupLayout, controller: string): CgroupHierarchy | undefined =>
  l.version === 2 ? l.hierarchies[0] : l.hierarchies.find((h) => h.controllers.includes(controller));

/** runc's ConvertCPUSharesToCgroupV2Value: shares [2, 262144] onto cpu.weight [1, 10000]. */
export const sharesToWeight = (shares: number): number => 1 + Math.floor(((shares - 2) * 9999) / 262142);

/** The files and values one cgroup's settings are written as, per controller (v1) or in the one v2 directory. */
export function settingFiles(version: 1 | 2, s: CgroupSettings): { controller: string; file: string; value: string }[] {
  const out: { controller: string; file: string; value: string }[] = [];
  if (version === 1) {
    if (s.cpuShares !== undefined) out.push({ controller: 'cpu', file: 'cpu.shares', value: String(s.cpuShares) });
    if (s.cpuQuotaUs !== undefined) {
      out.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(s.cpuPeriodUs ?? 100_000) });
      out.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(s.cpuQuotaUs) });
    }
    if (s.memoryLimitBytes !== undefined) out.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(s.memoryLimitBytes) });
  } else {
    if (s.cpuShares !== undefined) out.push({ controller: 'cpu', file: 'cpu.weight', value: String(sharesToWeight(s.cpuShares)) });
    if (s.cpuQuotaUs !== undefined) out.push({ controller: 'cpu', file: 'cpu.max', value: `${s.cpuQuotaUs} ${s.cpuPeriodUs ?? 100_000}` });
    if (s.memoryLimitBytes !== undefined) out.push({ controller: 'memory', file: 'memory.max', value: String(s.memoryLimitBytes) });
  }
  return out;
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/**
 * cgroup v2: a child has a controller's files only once its parent lists the controller in
 * cgroup.subtree_control. Like runc's CreateCgroupPath, every level from the root down to `dir`
 * enables all the controllers it has (all at once; one by one when one of them is refused).
 */
async function enableControllersDown(mount: string, path: string): Promise<void> {
  let dir = mount;
  for (const part of ['', ...path.split('/').filter(Boolean)]) {
    dir = part ? join(dir, part) : dir;
    const available = (await readFile(join(dir, 'cgroup.controllers'), 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean);
    const enabled = new Set((await readFile(join(dir, 'cgroup.subtree_control'), 'utf8').catch(() => '')).trim().split(/\s+/));
    const missing = available.filter((c) => !enabled.has(c));
    if (!missing.length) continue;
    const file = join(dir, 'cgroup.subtree_control');
    await writeFile(file, missing.map((c) => `+${c}`).join(' ')).catch(async () => {
      for (const c of missing) await writeFile(file, `+${c}`).catch(() => undefined);
    });
  }
}

/**
 * Creates the cgroup at `path` (and its parents) where its settings are written — the cpu and
 * memory hierarchies on v1 (runc creates the path in the others when a container joins it), the
 * one directory on v2 — and writes the settings. Existing directories are kept and set again.
 */
export async function ensureCgroup(layout: CgroupLayout, path: string, s: CgroupSettings): Promise<void> {
  const files = settingFiles(layout.version, s);
  if (layout.version === 2) {
    const mount = layout.hierarchies[0]!.mount;
    const parent = path.split('/').filter(Boolean).slice(0, -1).join('/');
    await enableControllersDown(mount, parent);
    await mkdir(join(mount, path), { recursive: true });
    await enableControllersDown(mount, path);
    for (const f of files) await writeFile(join(mount, path, f.file), f.value);
    return;
  }
  for (const controller of ['cpu', 'memory']) {
    const h = hierarchyOf(layout, controller);
    if (!h) continue;
    await mkdir(join(h.mount, path), { recursive: true });
    for (const f of files.filter((x) => x.controller === controller)) await writeFile(join(h.mount, path, f.file), f.value);
  }
}

/** The children of `path` in the hierarchy that holds cpu (the one v2 hierarchy); none if it does not exist. */
export async function listChildCgroups(layout: CgroupLayout, path: string): Promise<string[]> {
  const h = hierarchyOf(layout, 'cpu');
  if (!h) return [];
  const entries = await readdir(join(h.mount, path), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/** rmdir of `dir` after its subdirectories, deepest first; false if some cgroup still holds a process. */
async function removeTree(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!entries) return true;
  let removed = true;
  for (const e of entries) if (e.isDirectory() && !(await removeTree(join(dir, e.name)))) removed = false;
  if (!removed) return false;
  try {
    await rmdir(dir);
    return true;
  } catch (err) {
    if (errno(err) === 'ENOENT') return true;
    if (errno(err) === 'EBUSY') return false;
    throw err;
  }
}

/**
 * Removes the cgroup at `path` and everything below it from every hierarchy, by rmdir only: a
 * cgroup that still holds a process stays (the kernel refuses with EBUSY), nothing is killed.
 * Returns false when something stayed.
 */
export async function removeCgroup(layout: CgroupLayout, path: string): Promise<boolean> {
  const results = await Promise.all(layout.hierarchies.map((h) => removeTree(join(h.mount, path))));
  return results.every(Boolean);
}
