import { readFile } from 'node:fs/promises';
import { parseMeminfo } from '../../runtime/stats/node-stats.ts';

/** What the node status reads of the host itself (not of the runtime, not of a filesystem). */
export interface HostReading {
  readonly memoryTotalBytes: number;
  readonly memoryAvailableBytes: number;
  /** Tasks (processes and their threads) that hold a PID now. */
  readonly pidsInUse: number;
  /** kernel.pid_max (0 when unreadable). */
  readonly pidMax: number;
}

/**
 * The task count of /proc/loadavg ("0.10 0.20 0.30 2/431 9876": running/total): every thread holds
 * a PID, so this is what pid_max limits — the kubelet's PIDPressure reads the same number
 * (sysinfo's procs, pkg/kubelet/stats/pidlimit). Counting /proc's numeric entries instead lists
 * only thread-group leaders and costs a directory read of every process on the host.
 */
export function parseLoadavgTasks(text: string): number {
  const m = /^\S+ \S+ \S+ \d+\/(\d+) /.exec(text);
  if (!m) throw new Error(`/proc/loadavg: unexpected ${JSON.stringify(text.slice(0, 60))}`);
  return Number(m[1]);
}

export async function readHost(): Promise<HostReading> {
  const [meminfo, loadavg, pidMax] = await Promise.all([
    readFile('/proc/meminfo', 'utf8'),
    readFile('/proc/loadavg', 'utf8').catch(() => ''),
    readFile('/proc/sys/kernel/pid_max', 'utf8').catch(() => '0'),
  ]);
  const mem = parseMeminfo(meminfo);
  let pidsInUse = 0;
  try {
    pidsInUse = parseLoadavgTasks(loadavg);
  } catch {
    // no /proc/loadavg (not Linux): no PID pressure can be told
  }
  return { memoryTotalBytes: mem.total, memoryAvailableBytes: mem.available, pidsInUse, pidMax: Number(pidMax.trim()) || 0 };
}

/**
 * One reading of something of the host, shared by every caller in this process within `maxAgeMs`
 * (and by concurrent callers). A device runs one agent, which samples its node every 10 s and
 * reads the host's resolv.conf per pod pass, so it reads about as before; a process that runs many
 * agents on one host (bench/fleet's hollow nodes) reads once per `maxAgeMs`, not once per agent —
 * these are the host's, the same for all of them.
 */
export class SharedReading<T> {
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #read: () => Promise<T>;
  #last: { at: number; reading: Promise<T> } | undefined;

  constructor(read: () => Promise<T>, o: { maxAgeMs: number; now?: () => number }) {
    this.#read = read;
    this.#maxAgeMs = o.maxAgeMs;
    this.#now = o.now ?? (() => performance.now());
  }

  read(): Promise<T> {
    const now = this.#now();
    if (this.#last && now - this.#last.at < this.#maxAgeMs) return this.#last.reading;
    const reading = this.#read();
    const entry = { at: now, reading };
    this.#last = entry;
    // A failed read is not kept: the next caller tries again.
    reading.catch(() => {
      if (this.#last === entry) this.#last = undefined;
    });
    return reading;
  }
}

/** The node status samples every 10 s: a reading up to 1 s old serves. */
export const hostReader = new SharedReading(readHost, { maxAgeMs: 1000 });
