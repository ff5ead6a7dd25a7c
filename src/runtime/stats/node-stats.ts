import { readFile, statfs } from 'node:fs/promises';

/**
 * Node-level usage for kubectl top node, from /proc (works on cgroup v1 and v2 alike):
 * CPU time is the sum of non-idle jiffies in /proc/stat; the working set is MemTotal − MemAvailable,
 * which like kubelet's root-cgroup working set excludes reclaimable page cache.
 */
export interface NodeCpuMem {
  cpuUsageCoreNanoSeconds: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  memoryWorkingSetBytes: number;
}

/** USER_HZ is 100 on every Linux architecture edgeos targets. */
const NS_PER_TICK = 1e7;

export function parseProcStat(text: string): number {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat: no aggregate cpu line');
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest times are already in user/nice)
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy * NS_PER_TICK;
}

export function parseMeminfo(text: string): { total: number; available: number } {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`/proc/meminfo: no ${key}`);
    return Number(m[1]) * 1024;
  };
  return { total: kb('MemTotal'), available: kb('MemAvailable') };
}

export async function readNodeCpuMem(): Promise<NodeCpuMem> {
  const [stat, mem] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8')]);
  const { total, available } = parseMeminfo(mem);
  return {
    cpuUsageCoreNanoSeconds: parseProcStat(stat),
    memoryTotalBytes: total,
    memoryAvailableBytes: available,
    memoryWorkingSetBytes: total - available,
  };
}

export async function filesystemUsage(path: string): Promise<{ usedBytes: number; capacityBytes: number }> {
  const s = await statfs(path);
  const capacityBytes = s.blocks * s.bsize;
  return { usedBytes: (s.blocks - s.bfree) * s.bsize, capacityBytes };
}

/**
 * Turns cumulative CPU counters into a rate (nanocores) per key from consecutive samples, as
 * kubelet's summary provider does when the runtime reports no usage_nano_cores.
 */
export class CpuRate {
  private readonly last = new Map<string, { ns: number; at: number }>();

  rate(key: string, cumulativeNs: number, atMs: number): number {
    const prev = this.last.get(key);
    this.last.set(key, { ns: cumulativeNs, at: atMs });
    if (!prev || atMs <= prev.at || cumulativeNs < prev.ns) return 0;
    return Math.round(((cumulativeNs - prev.ns) / (atMs - prev.at)) * 1e3);
  }

  /** Forget keys not in `live` (removed containers). */
  retain(live: ReadonlySet<string>): void {
    for (const k of this.last.keys()) if (k !== 'node' && !live.has(k)) this.last.delete(k);
  }
}
